"""The session store: list, rename, tag, soft-delete, restore and remix saved sessions.

The store is the saved-sessions folder (``.railtracks/`` under the working
directory, or ``$RAILTRACKS_HOME``) and nothing else: no index file that could
drift from the files. It holds

- our files, ``<home>/<name>.json``, written when a session closes;
- Railtracks' own files, ``<home>/data/sessions/*.json`` (listed, loadable,
  renamable and taggable like ours; our additions go under the payload's
  ``"railtracks_nb"`` key, which Railtracks ignores);
- soft-deleted files, moved aside to ``<home>/.deleted/<session id>.json``
  with the place they came from recorded in them, so a new session saved
  under the same name can never overwrite a deleted one.

A session is named by its id, in full or as a unique prefix (case-insensitive),
or by the :class:`SessionRecord` that :func:`sessions` returned. Every
operation that changes a file runs under the folder's inter-process lock
(:func:`railtracks_nb.locking.store_lock`), the same lock a closing session
takes to save, so two kernels or scripts working in one folder never lose an
update; every file is replaced atomically, so readers never see half a file.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import logs
from .exceptions import (
    AmbiguousSessionError,
    ConfigError,
    RemixError,
    SavedStateError,
    SessionStoreError,
    UnknownSessionError,
)
from .locking import store_lock
from .persistence import (
    SavedSession,
    atomic_write_text,
    load,
    railtracks_home,
    read_payload,
    safe_filename,
    saved_files,
    session_path,
)
from .state import EXTRAS_KEY

if TYPE_CHECKING:
    from .flow import Flow

logger = logs.get_logger("Store")

#: Where soft-deleted sessions are kept, inside the home folder.
TRASH_DIR = ".deleted"
#: Where Railtracks itself saves sessions, inside the home folder.
RAILTRACKS_DIR = ("data", "sessions")
#: The suffix a remix adds to its parent's name; later remixes count up: ``(remix 2)``.
REMIX_SUFFIX = " (remix)"
_REMIX_RE = re.compile(r" \(remix(?: (\d+))?\)$")

#: The session options a remix inherits from its parent's saved configuration.
#: ``run_identifier`` is left out on purpose: the remix is a new session with its own id.
#: ``broadcast_callback`` is saved only by name (a function cannot be saved), so it
#: cannot be inherited; pass it again if the remix needs it.
REMIX_OPTIONS: tuple[str, ...] = (
    "timeout",
    "end_on_error",
    "logging_setting",
    "log_file",
    "save_state",
    "prompt_injection",
)
_OVERRIDABLE = (*REMIX_OPTIONS, "broadcast_callback", "metadata")


# -- records ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionRecord:
    """One saved session as :func:`sessions` lists it.

    Times are Unix timestamps (seconds), as in the saved files. ``status`` is
    ``Completed``, ``Failed``, ``Open`` or ``Interrupted``; ``source`` says who
    wrote the file: ``"ours"`` (railtracks_nb) or ``"railtracks"``
    (``data/sessions/``). ``deleted`` sessions live in ``.deleted/`` until
    :func:`restore_session` brings them back.
    """

    session_id: str
    name: str | None
    start_time: float
    end_time: float | None
    status: str
    node_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    parent_id: str | None = None
    deleted: bool = False
    path: Path = field(default_factory=Path)
    source: Literal["ours", "railtracks"] = "ours"
    flow_name: str | None = None
    run_count: int = 0

    @property
    def short_id(self) -> str:
        """The first 8 characters of the id: usually enough as a unique prefix."""
        return self.session_id[:8]

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (``None`` if the file has no end time)."""
        if self.end_time is None:
            return None
        return max(0.0, self.end_time - self.start_time)

    def load(self) -> SavedSession:
        """Read the whole session back (``rt.load(record.path)``)."""
        return load(self.path)

    def __hash__(self) -> int:  # metadata is a dict: hash what identifies the record
        return hash((self.session_id, str(self.path), self.deleted))

    def __repr__(self) -> str:
        extra = ", deleted=True" if self.deleted else ""
        return (
            f"SessionRecord(name={self.name!r}, session_id={self.session_id!r}, "
            f"started={_fmt_time(self.start_time)!r}, status={self.status!r}, "
            f"nodes={self.node_count}{extra})"
        )


class SessionList(list):
    """The list :func:`sessions` returns: plain ``list`` of :class:`SessionRecord`.

    It shows itself as a table, in a notebook (``_repr_html_``, every value
    HTML-escaped) and as text (``repr``).
    """

    def __init__(self, records: Iterable[SessionRecord] = (), home: Path | None = None) -> None:
        super().__init__(records)
        self.home = home

    def _rows(self) -> list[list[str]]:
        rows = []
        for r in self:
            rows.append(
                [
                    r.name or "",
                    r.short_id,
                    _fmt_time(r.start_time),
                    _fmt_duration(r.duration),
                    r.status + (" (deleted)" if r.deleted else ""),
                    str(r.node_count),
                    (r.parent_id or "")[:8],
                    _fmt_metadata(r.metadata),
                    r.source,
                ]
            )
        return rows

    _HEADERS = (
        "name",
        "id",
        "started",
        "duration",
        "status",
        "nodes",
        "parent",
        "metadata",
        "source",
    )

    def __repr__(self) -> str:
        if not self:
            return f"No saved sessions in {self.home}" if self.home else "No saved sessions"
        rows = [[_clip(c, 40) for c in row] for row in self._rows()]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(self._HEADERS)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(self._HEADERS, widths, strict=True)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        for row in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        if not self:
            return f"<p><em>{esc(repr(self))}</em></p>"
        head = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in self._HEADERS)
        body = []
        for record, row in zip(self, self._rows(), strict=True):
            cells = []
            for header, value in zip(self._HEADERS, row, strict=True):
                full = {"id": record.session_id, "parent": record.parent_id or ""}.get(header)
                title = f" title='{esc(full)}'" if full else ""
                cells.append(f"<td style='text-align:left'{title}>{esc(value)}</td>")
            style = " style='opacity:0.55'" if record.deleted else ""
            body.append(f"<tr{style}>{''.join(cells)}</tr>")
        caption = f"<caption>{esc(str(self.home))}</caption>" if self.home else ""
        return (
            f"<table class='rt-sessions'>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
        )


def _fmt_time(ts: float | None) -> str:
    if ts is None:
        return ""
    try:
        return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return str(ts)


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _fmt_metadata(metadata: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in metadata.items())


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- reading the folder ---------------------------------------------------------------------
def _home(home: str | os.PathLike[str] | None) -> Path:
    return Path(home) if home is not None else railtracks_home()


def _extras(payload: Mapping[str, Any]) -> dict[str, Any]:
    extras = payload.get(EXTRAS_KEY)
    return extras if isinstance(extras, dict) else {}


def _runs_status(runs: list[Any]) -> str:
    # The same rule as ExecutionInfo.status, for files without our extras.
    statuses = {r.get("status") for r in runs if isinstance(r, dict)}
    if "Failed" in statuses:
        return "Failed"
    if "Open" in statuses:
        return "Open"
    return "Completed"


def _record(path: Path, payload: dict[str, Any], *, deleted: bool, source: str) -> SessionRecord:
    """A record from a payload; ``SavedStateError`` if it is not a saved session."""
    session_id = payload.get("session_id")
    start = payload.get("start_time")
    runs = payload.get("runs")
    if not isinstance(session_id, str) or not session_id:
        raise SavedStateError(f"{path} is not a saved session: no session_id")
    if not isinstance(start, (int, float)) or isinstance(start, bool):
        raise SavedStateError(f"{path} is not a saved session: start_time is not a number")
    if not isinstance(runs, list):
        raise SavedStateError(f"{path} is not a saved session: runs is not a list")
    extras = _extras(payload)
    end = payload.get("end_time")
    node_ids = {
        n.get("identifier")
        for r in runs
        if isinstance(r, dict)
        for n in (r.get("nodes") or [])
        if isinstance(n, dict)
    }
    status = extras.get("status")
    flow_name = extras.get("flow_name") or payload.get("flow_name")
    metadata = extras.get("metadata")
    parent = extras.get("parent_id")
    return SessionRecord(
        session_id=session_id,
        name=payload.get("session_name") or flow_name or None,
        start_time=float(start),
        end_time=_number(end),
        status=status if isinstance(status, str) and status else _runs_status(runs),
        node_count=len(node_ids),
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
        parent_id=parent if isinstance(parent, str) else None,
        deleted=deleted,
        path=path,
        source="railtracks" if source == "railtracks" else "ours",
        flow_name=flow_name if isinstance(flow_name, str) else None,
        run_count=len(runs),
    )


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _is_railtracks_rel(rel: str) -> bool:
    return rel.startswith("/".join(RAILTRACKS_DIR) + "/")


def _scan(home: Path) -> list[SessionRecord]:
    """Every readable saved session under ``home``, live and deleted, newest first.

    Unreadable or foreign ``.json`` files are skipped with a warning: one bad
    file must not hide the others.
    """
    railtracks_dir = home.joinpath(*RAILTRACKS_DIR)
    found: list[tuple[Path, bool]] = [(p, False) for p in saved_files(home)]
    trash = home / TRASH_DIR
    if trash.is_dir():
        found += [(p, True) for p in sorted(trash.glob("*.json")) if not p.name.startswith(".")]
    records = []
    for path, deleted in found:
        try:
            payload = read_payload(path)
            if deleted:
                rel = str(_extras(payload).get("deleted_from") or "")
                source = "railtracks" if _is_railtracks_rel(rel) else "ours"
            else:
                source = "railtracks" if path.parent == railtracks_dir else "ours"
            records.append(_record(path, payload, deleted=deleted, source=source))
        except SavedStateError as exc:
            logger.warning("Skipping %s: %s", path, exc)
    records.sort(key=lambda r: (r.start_time, r.end_time or 0.0, str(r.path)), reverse=True)
    return records


def sessions(
    include_deleted: bool = False, home: str | os.PathLike[str] | None = None
) -> SessionList:
    """The saved sessions in ``home`` (default: ``$RAILTRACKS_HOME`` or ``./.railtracks``).

    Newest first (by start time). Soft-deleted sessions are left out unless
    ``include_deleted=True``. Files that are not readable saved sessions are
    skipped with a warning. In a notebook the list shows itself as a table.
    """
    folder = _home(home)
    if not folder.is_dir():  # listing must not create the folder
        return SessionList([], folder)
    with store_lock(folder, shared=True):  # no half-done rename/delete seen twice
        records = _scan(folder)
    if not include_deleted:
        records = [r for r in records if not r.deleted]
    return SessionList(records, folder)


# -- finding one session -----------------------------------------------------------------------
def _describe(records: Iterable[SessionRecord], limit: int = 10) -> str:
    records = list(records)
    lines = [
        f"  {r.session_id}  {r.name or '(no name)'}  {_fmt_time(r.start_time)}"
        f"{'  (deleted)' if r.deleted else ''}  [{r.path}]"
        for r in records[:limit]
    ]
    if len(records) > limit:
        lines.append(f"  ... and {len(records) - limit} more")
    return "\n".join(lines)


def _resolve(
    ref: Any, records: list[SessionRecord], want: Literal["live", "deleted", "any"]
) -> SessionRecord:
    """The one record ``ref`` names among ``records``, or a clear lookup error."""
    if want == "live":
        pool = [r for r in records if not r.deleted]
    elif want == "deleted":
        pool = [r for r in records if r.deleted]
    else:
        pool = list(records)

    if isinstance(ref, (SessionRecord, os.PathLike)):
        target = Path(ref.path if isinstance(ref, SessionRecord) else ref).resolve()
        hits = [r for r in pool if r.path.resolve() == target]
        if hits:
            return hits[0]
        if isinstance(ref, SessionRecord):  # moved since it was listed: find it by id
            ref = ref.session_id
        else:
            raise UnknownSessionError(f"No {_what(want)}saved session at {target}.", str(ref), [])
    if not isinstance(ref, str):
        raise TypeError(
            f"A session is named by its id (str), a SessionRecord or a path, "
            f"not {type(ref).__name__}"
        )
    query = ref.strip()
    if not query:
        raise UnknownSessionError("An empty string names no session.", ref, [])
    q = query.casefold()
    exact = [r for r in pool if r.session_id.casefold() == q]
    hits = exact or [r for r in pool if r.session_id.casefold().startswith(q)]
    if not hits:
        others = [r for r in records if r not in pool and r.session_id.casefold().startswith(q)]
        if others and want == "live":
            hint = " It is deleted: restore it with rt.restore_session() first."
        elif others and want == "deleted":
            hint = " It is not deleted."
        else:
            hint = ""
        listing = _describe(pool)
        kind = _what(want)
        known = (
            f"\n{kind.capitalize() or 'Saved '}sessions:\n{listing}"
            if listing
            else f" There are no {kind}saved sessions."
        )
        raise UnknownSessionError(
            f"No {_what(want)}saved session has the id {query!r} or an id starting with it."
            f"{hint}{known}",
            query,
            [],
        )
    ids = {r.session_id for r in hits}
    if len(ids) > 1:
        raise AmbiguousSessionError(
            f"{query!r} matches {len(ids)} saved sessions; give more of the id:\n{_describe(hits)}",
            query,
            hits,
        )
    if len(hits) > 1 and want == "any":
        live = [r for r in hits if not r.deleted]
        hits = live or hits
    if len(hits) > 1:
        # One id in several files (e.g. a session saved again after a rename).
        raise AmbiguousSessionError(
            f"Session {hits[0].session_id} is saved in {len(hits)} files; pass the record "
            f"from rt.sessions() or the file's path instead:\n{_describe(hits)}",
            query,
            hits,
        )
    return hits[0]


def _folder_of(ref: Any) -> Path:
    """The home folder a record or a path lives in (else the default home)."""
    if isinstance(ref, (SessionRecord, os.PathLike)):
        path = Path(ref.path if isinstance(ref, SessionRecord) else ref).resolve()
        parent = path.parent
        if parent.name == TRASH_DIR:
            return parent.parent
        if (parent.parent.name, parent.name) == RAILTRACKS_DIR:
            return parent.parent.parent
        return parent
    return railtracks_home()


def _what(want: str) -> str:
    return {"live": "", "deleted": "deleted ", "any": ""}[want]


def find_session(
    session: str | SessionRecord | os.PathLike[str],
    *,
    include_deleted: bool = True,
    home: str | os.PathLike[str] | None = None,
) -> SessionRecord:
    """The record of one saved session, by full id, unique id prefix, record or path."""
    folder = _home(home)
    records = _scan(folder) if folder.is_dir() else []
    return _resolve(session, records, "any" if include_deleted else "live")


# -- changing the store --------------------------------------------------------------------
def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, allow_nan=False, indent=None)


def _reread(path: Path, *, deleted: bool, source: str) -> SessionRecord:
    return _record(path, read_payload(path), deleted=deleted, source=source)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def rename_session(
    session: str | SessionRecord | os.PathLike[str],
    name: str,
    *,
    home: str | os.PathLike[str] | None = None,
) -> SessionRecord:
    """Give a saved session a new name; returns its updated record.

    The name is the payload's ``session_name``. One of our files also moves to
    ``<home>/<new name>.json``, so a later session saved under the old name
    cannot overwrite the renamed one; if a different session is already saved
    under the new name, :class:`SessionStoreError` is raised and nothing
    changes. Railtracks' files and deleted sessions keep their place.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"A session name must be a non-empty str, got {name!r}")
    folder = _home(home)
    with store_lock(folder):
        record = _resolve(session, _scan(folder), "any")
        payload = read_payload(record.path)
        payload["session_name"] = name
        if record.deleted:
            extras = _extras(payload)
            if record.source == "ours":  # restore it under its new name
                extras["deleted_from"] = session_path(name, folder).name
                payload[EXTRAS_KEY] = extras
            atomic_write_text(record.path, _dump(payload))
            return _reread(record.path, deleted=True, source=record.source)
        if record.source == "railtracks":
            atomic_write_text(record.path, _dump(payload))
            return _reread(record.path, deleted=False, source="railtracks")
        target = session_path(name, folder)
        if target.exists() and not _same_file(target, record.path):
            raise SessionStoreError(
                f"Cannot rename session {record.session_id} to {name!r}: another saved "
                f"session is already at {target}. Rename or delete that one first."
            )
        # New file first, old one second: a crash in between leaves two copies, never none.
        atomic_write_text(target, _dump(payload))
        if not _same_file(target, record.path):
            record.path.unlink()
        return _reread(target, deleted=False, source="ours")


def tag_session(
    session: str | SessionRecord | os.PathLike[str], /, **metadata: Any
) -> SessionRecord:
    """Add metadata to a saved session, e.g. ``tag_session(id, project="Q4", score=0.9)``.

    Keys are merged into the session's ``metadata``; a value of ``None``
    removes that key. Values must be JSON (str, number, bool, list, dict);
    anything else raises ``TypeError`` naming the key, before any change.
    Every keyword is a tag (there is no ``home=`` here, so any key can be
    used): the folder is ``$RAILTRACKS_HOME`` or ``./.railtracks``, or the
    one of the record or path passed. Returns the updated record.
    """
    for key, value in metadata.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Metadata {key}={value!r} cannot be saved: values must be JSON "
                f"(str, int, float, bool, None, list, dict) - {exc}"
            ) from None
    folder = _folder_of(session)
    with store_lock(folder):
        record = _resolve(session, _scan(folder), "any")
        if not metadata:
            return record
        payload = read_payload(record.path)
        extras = _extras(payload)
        current = extras.get("metadata")
        merged = dict(current) if isinstance(current, dict) else {}
        for key, value in metadata.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        extras["metadata"] = merged
        payload[EXTRAS_KEY] = extras
        atomic_write_text(record.path, _dump(payload))
        return _reread(record.path, deleted=record.deleted, source=record.source)


def delete_session(
    session: str | SessionRecord | os.PathLike[str],
    *,
    home: str | os.PathLike[str] | None = None,
) -> SessionRecord:
    """Soft-delete a saved session: hide it from :func:`sessions`, keep it restorable.

    The file moves to ``<home>/.deleted/<session id>.json``, marked with when
    it was deleted and where it came from. ``sessions(include_deleted=True)``
    still lists it; :func:`restore_session` brings it back. Returns the
    record of the deleted file.
    """
    folder = _home(home)
    with store_lock(folder):
        record = _resolve(session, _scan(folder), "live")
        payload = read_payload(record.path)
        extras = _extras(payload)
        extras["deleted_at"] = time.time()
        extras["deleted_from"] = record.path.relative_to(folder).as_posix()
        payload[EXTRAS_KEY] = extras
        target = _free_path(folder / TRASH_DIR, safe_filename(record.session_id))
        # Copy first, remove second: a crash in between leaves it listed, never lost.
        atomic_write_text(target, _dump(payload))
        record.path.unlink()
        return _reread(target, deleted=True, source=record.source)


def restore_session(
    session: str | SessionRecord | os.PathLike[str],
    *,
    home: str | os.PathLike[str] | None = None,
) -> SessionRecord:
    """Bring a soft-deleted session back where it was; returns its record.

    If another session has been saved at that place since, the restored one
    goes next to it as ``<name>-restored.json`` (``-restored-2`` ...) instead
    of overwriting it, and a warning says so.
    """
    folder = _home(home)
    with store_lock(folder):
        record = _resolve(session, _scan(folder), "deleted")
        payload = read_payload(record.path)
        extras = _extras(payload)
        rel = extras.pop("deleted_from", None)
        extras.pop("deleted_at", None)
        if extras:
            payload[EXTRAS_KEY] = extras
        else:  # a Railtracks file we only marked: give it back exactly as it was
            payload.pop(EXTRAS_KEY, None)
        target = _restore_target(folder, record, rel)
        if target.exists():
            free = _free_path(target.parent, f"{target.stem}-restored")
            logger.warning(
                "%s is taken by another session; restoring %s as %s instead",
                target,
                record.session_id,
                free.name,
            )
            target = free
        atomic_write_text(target, _dump(payload))
        record.path.unlink()
        return _reread(target, deleted=False, source=record.source)


def _restore_target(folder: Path, record: SessionRecord, rel: Any) -> Path:
    """Where a deleted session goes back to; never outside the home folder."""
    if isinstance(rel, str):
        parts = rel.split("/")
        # Only the two shapes delete_session writes: "<file>.json" or "data/sessions/<file>.json".
        if len(parts) == 1 or (len(parts) == 3 and tuple(parts[:2]) == RAILTRACKS_DIR):
            leaf = parts[-1]
            if leaf.endswith(".json") and safe_filename(leaf) == leaf:
                return folder.joinpath(*parts)
    if record.source == "railtracks":
        return folder.joinpath(*RAILTRACKS_DIR, f"{safe_filename(record.session_id)}.json")
    return session_path(record.name or record.session_id, folder)


def _free_path(folder: Path, stem: str) -> Path:
    """``<folder>/<stem>.json``, or ``<stem>-2.json``, ``-3``... whichever is free."""
    candidate = folder / f"{stem}.json"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}.json"
        n += 1
    return candidate


# -- remix ----------------------------------------------------------------------------------
def remix_name(parent_name: str, home: str | os.PathLike[str] | None = None) -> str:
    """The name a remix of ``parent_name`` gets: ``"<name> (remix)"``, else ``(remix 2)``, ...

    A remix of a remix counts up instead of stacking suffixes; the first name
    that no saved file in ``home`` uses yet is taken, so remixing never
    overwrites an earlier remix's saved state.
    """
    folder = _home(home)
    base = _REMIX_RE.sub("", parent_name) or parent_name
    candidate = base + REMIX_SUFFIX
    n = 2
    while session_path(candidate, folder).exists():
        candidate = f"{base} (remix {n})"
        n += 1
    return candidate


def _inherited_options(config: Any, session_id: str) -> dict[str, Any]:
    """The parent's saved options that are still valid (a bad one is skipped, with a warning)."""
    from .config import make_config

    out: dict[str, Any] = {}
    if not isinstance(config, dict):
        return out
    for key in REMIX_OPTIONS:
        value = config.get(key)
        if value is None:
            continue
        if key == "timeout" and isinstance(value, str):  # inf is saved as the string "inf"
            try:
                value = float(value)
            except ValueError:
                pass
        try:
            make_config(**{key: value})
        except ConfigError as exc:
            logger.warning("Not inheriting %s from session %s: %s", key, session_id, exc)
            continue
        out[key] = value
    return out


def remix(
    session_id: str | SessionRecord | os.PathLike[str],
    entry_point: Any = None,
    name: str | None = None,
    context: Mapping[str, Any] | None = None,
    *,
    home: str | os.PathLike[str] | None = None,
    **config: Any,
) -> Flow:
    """A new :class:`~railtracks_nb.Flow` started from a saved session.

    The flow inherits, each overridable:

    - the **name**: ``"<parent name> (remix)"`` (see :func:`remix_name`), or ``name``;
    - the **context** saved with the parent, or ``context`` (which replaces it
      whole; to change a few keys use ``rt.remix(id).update_context({...})``);
    - the **configuration** (``timeout``, ``end_on_error``, ``logging_setting``,
      ``log_file``, ``save_state``, ``prompt_injection``), each replaced by a
      keyword of the same name; ``broadcast_callback=`` may be given too (a
      callback is saved only by its name, so it is never inherited);
    - the **metadata** (tags), or ``metadata={...}``;
    - the **entry point**: the node type named like the parent's first run,
      found among the node types this process has defined, or ``entry_point``.

    The flow's sessions record the parent's id (``parent_id``), which
    :func:`sessions` shows. An unknown option or an invalid value raises
    :class:`ConfigError` naming it; an entry node that cannot be found raises
    :class:`RemixError` asking for ``entry_point``.
    """
    from .flow import Flow
    from .registry import find_node_type

    unknown = sorted(set(config) - set(_OVERRIDABLE))
    if unknown:
        raise ConfigError(
            f"Unknown remix option(s) {', '.join(unknown)}; a remix accepts entry_point, "
            f"name, context and {', '.join(_OVERRIDABLE)}."
        )
    folder = _home(home)
    if folder.is_dir():
        with store_lock(folder, shared=True):
            record = _resolve(session_id, _scan(folder), "any")
    else:
        record = _resolve(session_id, [], "any")
    saved = load(record.path)
    extras = saved.extras

    if entry_point is None:
        runs = list(saved.info.runs.values())
        if not runs:
            raise RemixError(
                f"Session {record.session_id} ({record.name}) has no runs, so its entry node "
                f"is unknown: pass entry_point=..."
            )
        try:
            entry_point = find_node_type(runs[0].name)
        except RemixError as exc:
            raise RemixError(
                f"Cannot remix session {record.session_id} ({record.name}): {exc}"
            ) from None

    options = _inherited_options(extras.get("config"), record.session_id)
    metadata = config.pop("metadata", None)
    if metadata is None:
        metadata = extras.get("metadata") if isinstance(extras.get("metadata"), dict) else {}
    elif not isinstance(metadata, Mapping):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}")
    options.update(config)
    if context is None:
        saved_context = extras.get("context")
        context = saved_context if isinstance(saved_context, dict) else {}
    flow_name = name if name is not None else remix_name(record.name or record.session_id, folder)
    return Flow(
        flow_name,
        entry_point,
        context=context,
        parent_id=record.session_id,
        metadata=dict(metadata),
        **options,
    )


__all__ = [
    "REMIX_SUFFIX",
    "SessionList",
    "SessionRecord",
    "delete_session",
    "find_session",
    "remix",
    "remix_name",
    "rename_session",
    "restore_session",
    "sessions",
    "tag_session",
]

"""Saving sessions to ``.railtracks/<name>.json`` and loading them back.

Files follow the Railtracks saved-state schema, so Railtracks' own tools read
ours and :func:`load` reads theirs. Writes are atomic: the JSON goes to a
temporary file in the same folder, is flushed to disk, and replaces the target
in one ``os.replace``, so a crash or an interrupt never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import logs
from .encoding import collector_paused, dumps_payload, dumps_stdlib, payload_separator
from .exceptions import SavedStateError
from .locking import store_lock
from .payload import build_payload_head, payload_pieces, run_head
from .safe_read import read_payload
from .state import (
    EXTRAS_KEY,
    ExecutionInfo,
    LinkedNode,
    NodeForest,
    RequestForest,
    RequestTemplate,
    Run,
    SessionView,
    Stamp,
    StampManager,
)

if TYPE_CHECKING:
    import networkx

    from ._schema import _EdgeModel, _NodeModel, _StampModel
    from .session import Session

logger = logs.get_logger("Session")

HOME_ENV = "RAILTRACKS_HOME"
DEFAULT_DIR = ".railtracks"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|\ud800-\udfff]+')
#: The byte budget of a file name's stem. File systems limit a name to NAME_MAX
#: *bytes* (255 on most), and the longest name the store writes is the temporary
#: file of an atomic write, ``.<stem>.json.<32 hex>.tmp``: 43 bytes more than the
#: stem. The rest of the margin leaves room for suffixes such as ``-restored``.
MAX_STEM_BYTES = 180
_TEMP_NAME_OVERHEAD = len(".") + len(".json") + len(".") + 32 + len(".tmp")
_ID_SUFFIX_BYTES = 9  # "~" and 8 hex digits


def _name_max(folder: Path) -> int:
    """The file system's limit on one file name in ``folder``, in bytes."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # missing folder, Windows, odd file systems
        return 255


def railtracks_home() -> Path:
    """The folder saved sessions live in: ``$RAILTRACKS_HOME`` if set, else ``./.railtracks``."""
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else Path.cwd() / DEFAULT_DIR


def safe_filename(name: str, max_bytes: int = MAX_STEM_BYTES) -> str:
    """``name`` made safe as a file name (stem) inside the saved-sessions folder.

    Path separators, control and reserved characters (and lone surrogates)
    become ``_``; leading dots and spaces go (no hidden files, no ``..``); the
    result is never empty. A name longer than ``max_bytes`` in UTF-8 is cut at
    a character boundary and gets ``~`` and 8 hex digits of a hash of the
    whole name, so two long names that share their start never share a file.
    """
    cleaned = _UNSAFE.sub("_", str(name)).strip().lstrip(".").strip()
    cleaned = cleaned.replace("..", "_").rstrip(". ")
    encoded = cleaned.encode("utf-8")
    if len(encoded) > max_bytes:
        digest = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
        head = encoded[: max(1, max_bytes - _ID_SUFFIX_BYTES)].decode("utf-8", "ignore")
        cleaned = f"{head.rstrip('. ')}~{digest}"
    return cleaned or "session"


def stem_budget(home: Path) -> int:
    """How many bytes a file stem may take in ``home`` (see :data:`MAX_STEM_BYTES`)."""
    probe = home if home.is_dir() else home.parent
    return max(16, min(MAX_STEM_BYTES, _name_max(probe) - _TEMP_NAME_OVERHEAD))


def session_path(name: str, home: Path | None = None) -> Path:
    """Where a session called ``name`` is saved. Never outside the home folder."""
    home = home or railtracks_home()
    path = home / f"{safe_filename(name, stem_budget(home))}.json"
    if path.resolve().parent != home.resolve():  # belt and braces: safe_filename guarantees it
        raise SavedStateError(f"Refusing to save {name!r} outside {home}")
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all at once: readers see the old file or the new one."""
    _atomic_write(path, [text.encode("utf-8")])


def atomic_write_chunks(path: Path, pieces: Iterable[bytes]) -> None:
    """Write the concatenation of ``pieces`` to ``path`` all at once: readers see the
    old file or the new one. ``pieces`` may be a generator: it is consumed as the
    file is written, so the whole content never has to be in memory."""
    _atomic_write(path, pieces)


def _atomic_write(path: Path, pieces: Iterable[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    # os.open with 0o666 lets the umask decide the mode, like a plain open() would
    # (tempfile.mkstemp would make every saved file private, 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(pieces)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:  # including KeyboardInterrupt: never leave the temp file
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def save_payload(payload: dict[str, Any], name: str, home: Path | None = None) -> Path:
    """Save ``payload`` as ``<home>/<name>.json``, warning if it overwrites a file.

    Written by the standard library's ``json``, which refuses NaN and infinities.
    """
    return _save(payload, name, home, lambda final: [dumps_stdlib(final)])


def save_session(session: Session) -> Path:
    """Save a session under its name, else its flow's name, else its identifier.

    The file is encoded as it is written, a slice of nodes at a time (see
    :func:`~railtracks_nb.payload.payload_pieces`), by orjson when it is installed.
    What the store needs (the name, the tags, the catalog's summary) is worked
    out on a light payload: the head, the extras and each run's node ids.
    """
    name = session.name or session.flow_name or session.identifier
    info = session._info
    # As Session.to_payload: the flow's name and id first, then the Railtracks fields.
    head = {"flow_name": session.flow_name, "flow_id": session.flow_id}
    head.update(build_payload_head(info))
    light: dict[str, Any] = {
        **head,
        "runs": [
            {**run_head(info, run), "nodes": [{"identifier": n} for n in run.node_ids]}
            for run in info.runs.values()
        ],
        EXTRAS_KEY: session.extras(),  # brought up to date, as JSON
    }

    def pieces(final: dict[str, Any]) -> Iterable[bytes]:
        first = {key: final.get(key) for key in head}
        extras = final.get(EXTRAS_KEY) or None
        return payload_pieces(
            info, EXTRAS_KEY, extras, dumps_payload, payload_separator(), head=first
        )

    path = _save(light, name, None, pieces)
    logger.debug("Saved session state to %s", _display_path(path))
    return path


def _save(
    payload: dict[str, Any],
    name: str,
    home: Path | None,
    pieces: Callable[[dict[str, Any]], Iterable[bytes]],
) -> Path:
    """Write ``pieces(payload)`` as ``<home>/<name>.json`` (``payload`` given the name and
    tags the store keeps for its file first), and note it in the catalog."""
    from .catalog import note_saved, previous_save

    home = home or railtracks_home()
    path = session_path(name, home)
    # The check and the write are one step for other processes (and the store's
    # tag/rename/delete), so none of them can slip in between and be lost.
    with store_lock(home):
        session_id = payload.get("session_id")
        # A session is one file: saved again after rt.rename_session, it goes
        # back to the file it was renamed to, not to a second file of its old name.
        target, known = (
            previous_save(home, session_id, path) if isinstance(session_id, str) else (path, None)
        )
        if target.exists():
            logger.warning("File %s already exists, overwriting...", _display_path(target))
            if known is None:
                payload = _keep_store_metadata(payload, target)
            elif known.session_id == session_id and known.source == "ours":
                payload = _with_store_fields(payload, known.name, known.metadata)
        with collector_paused():  # the pieces are trees of fresh dicts: see collector_paused
            atomic_write_chunks(target, pieces(payload))
        note_saved(home, target, payload)
    return target


def _with_store_fields(payload: dict[str, Any], name: Any, metadata: Any) -> dict[str, Any]:
    """``payload`` with the name and tags the store gave its file (rename, tag)."""
    extras = payload.get(EXTRAS_KEY)
    flow_name = extras.get("flow_name") if isinstance(extras, dict) else None
    own = payload.get("session_name") or flow_name or payload.get("flow_name")
    payload = dict(payload)
    if isinstance(name, str) and name != own:  # renamed by rt.rename_session
        payload["session_name"] = name
    if isinstance(extras, dict) and isinstance(metadata, dict):
        payload[EXTRAS_KEY] = {**extras, "metadata": metadata}
    return payload


#: A file's top-level session id, in its first bytes (both encoders' spellings). The
#: first ``"session_id":`` of a file is the top-level one: it comes before the runs,
#: and a string value cannot hold an unescaped quote.
_SESSION_ID_HEAD = re.compile(rb'"session_id"\s*:\s*"([^"\\]*)"')


def _keep_store_metadata(payload: dict[str, Any], path: Path) -> dict[str, Any]:
    """A session saved again (closed, reopened, closed) keeps the tags that
    ``rt.tag_session`` put in its file meanwhile, and the name ``rt.rename_session``
    gave it: the file is their record."""
    try:
        with path.open("rb") as handle:
            start = handle.read(512)
    except OSError:
        return payload
    match = _SESSION_ID_HEAD.search(start)
    if match is not None and match.group(1).decode("utf-8", "replace") != payload.get(
        "session_id"
    ):
        return payload  # another session's file: no need to read all of it
    try:
        old = read_payload(path)
    except SavedStateError:
        return payload
    if old.get("session_id") != payload.get("session_id"):
        return payload
    old_extras, new_extras = old.get(EXTRAS_KEY), payload.get(EXTRAS_KEY)
    if isinstance(old.get("session_name"), str):
        payload = {**payload, "session_name": old["session_name"]}
    if not isinstance(old_extras, dict) or not isinstance(new_extras, dict):
        return payload
    if "metadata" in old_extras:
        payload = {**payload, EXTRAS_KEY: {**new_extras, "metadata": old_extras["metadata"]}}
    return payload


# -- loading ---------------------------------------------------------------------------
def _stamp(m: _StampModel) -> Stamp:
    return Stamp(m.step, m.time, m.identifier)


def _node_chain(m: _NodeModel, run_id: str) -> LinkedNode:
    older = _node_chain(m.parent, run_id) if m.parent is not None else None
    internals = m.details.get("internals") if isinstance(m.details, dict) else None
    return LinkedNode(
        m.identifier,
        m.name,
        m.node_type,
        _stamp(m.stamp),
        run_id,
        dict(internals or {}),
        parent=older,
    )


def _edge_chain(m: _EdgeModel, run_id: str) -> RequestTemplate:
    older = _edge_chain(m.parent, run_id) if m.parent is not None else None
    d = m.details
    status = d.status if d.status in ("Open", "Completed", "Failed") else "Open"
    return RequestTemplate(
        m.identifier,
        m.source,
        m.target,
        tuple(d.input_args),
        dict(d.input_kwargs),
        d.output,
        status,
        _stamp(m.stamp),
        run_id,
        older,  # type: ignore[arg-type]
    )


def info_from_payload(payload: dict[str, Any], source: str = "payload") -> ExecutionInfo:
    """Rebuild an :class:`ExecutionInfo` from a saved-state payload (ours or Railtracks')."""
    from pydantic import ValidationError

    from ._schema import _SessionModel

    try:
        model = _SessionModel.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise SavedStateError(
            f"{source} is not a Railtracks saved session: {where}: {first['msg']}{more}"
        ) from None
    nodes = NodeForest()
    requests = RequestForest()
    stamper = StampManager()
    runs: list[Run] = []
    seen_steps: set[int] = set()
    for r in model.runs:
        run = Run(r.run_id, r.name, r.start_time if r.start_time is not None else model.start_time)
        run.end_time = r.end_time
        run.status = r.status if r.status in ("Open", "Completed", "Failed") else "Open"  # type: ignore[assignment]
        for n in r.nodes:
            nodes.restore(_node_chain(n, r.run_id))
            run.node_ids.append(n.identifier)
        for e in sorted(r.edges, key=lambda e: _first_step(e)):
            requests.restore(_edge_chain(e, r.run_id))
            run.request_ids.append(e.identifier)
            if e.source is None:
                run.root_request_id, run.root_node_id = e.identifier, e.target
        for s in r.steps:
            stamp = _stamp(s)
            run.add_stamp(stamp)
            if s.step not in seen_steps:
                seen_steps.add(s.step)
                stamper._adopt(stamp)
        runs.append(run)
    extras = payload.get(EXTRAS_KEY)
    extras = dict(extras) if isinstance(extras, dict) else {}
    for key in ("flow_name", "flow_id"):
        if key in payload and key not in extras:
            extras[key] = payload[key]
    return ExecutionInfo(
        requests,
        nodes,
        stamper,
        runs,
        session_id=model.session_id,
        session_name=model.session_name,
        start_time=model.start_time,
        end_time=model.end_time,
        extras=extras,
    )


def _first_step(edge: _EdgeModel) -> int:
    while edge.parent is not None:
        edge = edge.parent
    return edge.stamp.step


class SavedSession(SessionView):
    """A session read back from a file by :func:`load`.

    Widgets, exports and ``rt.show`` accept it like a live session. ``info``
    is the rebuilt :class:`ExecutionInfo`; ``payload`` the file's content.
    """

    def __init__(self, path: Path, payload: dict[str, Any], info: ExecutionInfo) -> None:
        self.path = path
        self.payload = payload
        self.info = info

    @property
    def session_id(self) -> str:
        return self.info.session_id or ""

    @property
    def identifier(self) -> str:
        return self.session_id

    @property
    def name(self) -> str | None:
        return self.info.session_name or self.flow_name

    @property
    def flow_name(self) -> str | None:
        return self.payload.get("flow_name") or self.info.extras.get("flow_name")

    @property
    def start_time(self) -> float:
        return self.info.start_time

    @property
    def end_time(self) -> float | None:
        return self.info.end_time

    @property
    def status(self) -> str:
        return str(self.info.extras.get("status") or self.info.status)

    @property
    def extras(self) -> dict[str, Any]:
        return self.info.extras

    @property
    def answer(self) -> Any:
        return self.info.answer

    def to_payload(self) -> dict[str, Any]:
        return self.info.to_payload() if not self.payload else dict(self.payload)

    def graph_serialization(self) -> str:
        return json.dumps(self.to_payload())

    def to_networkx(self) -> networkx.DiGraph:
        return self.info.to_networkx()

    def __len__(self) -> int:
        return len(self.info.node_forest)

    def __repr__(self) -> str:
        return (
            f"SavedSession(name={self.name!r}, session_id={self.session_id!r}, "
            f"runs={len(self.info.runs)}, nodes={len(self)}, status={self.status!r}, "
            f"path={str(self.path)!r})"
        )


def load(path: str | os.PathLike[str]) -> SavedSession:
    """Read a saved session (written by railtracks_nb or by Railtracks itself).

    A missing, corrupt or foreign file raises :class:`SavedStateError` with the
    file's path and what is wrong.
    """
    p = Path(path)
    payload = read_payload(p)
    try:
        info = info_from_payload(payload, source=str(p))
    except RecursionError:  # a parent chain thousands of snapshots long
        raise SavedStateError(f"{p} is not a saved session: it is nested too deeply") from None
    return SavedSession(p, payload, info)


def saved_files(home: Path | None = None) -> Iterable[Path]:
    """Saved session files under ``home``: ours and Railtracks' ``data/sessions/*.json``."""
    home = home or railtracks_home()
    if not home.is_dir():
        return []
    ours = sorted(p for p in home.glob("*.json") if not p.name.startswith("."))
    theirs = sorted((home / "data" / "sessions").glob("*.json"))
    return [*ours, *theirs]


def payload_of(obj: Any) -> dict[str, Any]:
    """The Railtracks-schema payload of anything the widgets, exports and displays accept.

    Accepts a payload ``dict``, a ``str``/``Path`` of a saved session (read with
    :func:`load`), or any object with a ``to_payload()`` method (``Session``,
    ``ExecutionInfo``, ``SavedSession``, ``Flow`` — the latest run's session).
    Raises ``TypeError`` for anything else and ``ValueError`` for a flow that
    has not run yet or a dict that is not a payload.
    """
    if isinstance(obj, dict):
        if not isinstance(obj.get("runs"), list):
            raise ValueError(
                "A payload dict needs a 'runs' list (the Railtracks saved-state format); "
                f"got keys {sorted(obj)[:8]}"
            )
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return load(obj).to_payload()
    to_payload = getattr(obj, "to_payload", None)
    if callable(to_payload):
        payload = to_payload()
        if not isinstance(payload, dict):
            raise TypeError(
                f"{type(obj).__name__}.to_payload() returned {type(payload).__name__}, not a dict"
            )
        return payload
    raise TypeError(
        f"Cannot show or export a {type(obj).__name__}: expected a Session, ExecutionInfo, "
        "loaded session, Flow, payload dict, or the path of a saved session."
    )

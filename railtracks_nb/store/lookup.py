"""Finding sessions in a store: its catalog, opened and kept fresh, and one session
named by its id (in full or a unique prefix, not case-sensitive), a record, or its
file's path (a ``Path``, or a ``str`` that ends in ``.json`` or contains a path
separator: ids never do).

Lookups trust the catalog first and refresh it from the files only when it does
not know the session, so naming a session costs the same in a store of ten
sessions or ten thousand.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from ..core.exceptions import AmbiguousSessionError, SessionStoreError, UnknownSessionError
from .catalog import CATALOG_NAME, Catalog, CatalogError
from .catalog_refresh import refresh
from .files import railtracks_home
from .folder import RAILTRACKS_DIR, TRASH_DIR, relative, remove_stale_temps
from .locking import LOCK_NAME
from .records import SessionRecord, StoreProblem, fmt_time

Want = Literal["live", "deleted", "any"]
SessionRef = str | SessionRecord | os.PathLike[str]


def home_folder(home: str | os.PathLike[str] | None) -> Path:
    """``home`` as a ``Path``, or the default saved-sessions folder."""
    return Path(home) if home is not None else railtracks_home()


def open_catalog(folder: Path) -> Catalog:
    """The folder's catalog, built from the files if it is new (an in-memory one if
    none can be written)."""
    catalog = Catalog.open_or_memory(folder) if folder.is_dir() else Catalog.in_memory(folder)
    if catalog.new and folder.is_dir():
        refresh_catalog(catalog)
    return catalog


def refresh_catalog(catalog: Catalog) -> tuple[list[StoreProblem], list[tuple]]:
    """Sync the catalog with the files (an in-memory rebuild if it fails); returns the
    problems of files that are not even read and every row."""
    try:
        found, rows = refresh(catalog)
    except CatalogError:
        catalog.close()
        fresh = Catalog.in_memory(catalog.home)
        catalog.conn, catalog.persistent = fresh.conn, False
        found, rows = refresh(catalog)
    if found.temps:
        remove_stale_temps(found.temps, catalog.home)
    return found.problems, rows


def _as_ref(ref: Any) -> Any:
    """A ``str`` naming a file becomes a ``Path``; ids stay ``str``."""
    if isinstance(ref, str) and (
        ref.endswith(".json") or "/" in ref or (os.sep != "/" and os.sep in ref)
    ):
        return Path(ref)
    return ref


def _describe(records: Iterable[SessionRecord], more: int = 0) -> str:
    lines = [
        f"  {r.session_id}  {r.name or '(no name)'}  {fmt_time(r.start_time)}"
        f"{'  (deleted)' if r.deleted else ''}  [{r.path}]"
        for r in records
    ]
    if more > 0:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)


def _wanted(record: SessionRecord, want: Want) -> bool:
    return want == "any" or record.deleted == (want == "deleted")


def _what(want: Want) -> str:
    return "deleted " if want == "deleted" else ""


def _resolve(catalog: Catalog, ref: Any, want: Want) -> SessionRecord:
    """The one record ``ref`` names in ``catalog``, or a clear lookup error."""
    ref = _as_ref(ref)
    if isinstance(ref, (SessionRecord, os.PathLike)):
        path = Path(ref.path if isinstance(ref, SessionRecord) else ref)
        rel = relative(catalog.home, path)
        hit = catalog.at(rel) if rel else None
        if hit is not None and _wanted(hit, want):
            return hit
        if isinstance(ref, SessionRecord):  # moved since it was listed: find it by id
            ref = ref.session_id
        else:
            where = (
                f"in {catalog.home}" if rel else f"at {path}: it is not in the store {catalog.home}"
            )
            raise UnknownSessionError(f"No {_what(want)}saved session {where}.", str(ref), [])
    if not isinstance(ref, str):
        raise TypeError(
            "A session is named by its id (str), a SessionRecord or a path, "
            f"not {type(ref).__name__}"
        )
    query = ref.strip()
    if not query:
        raise UnknownSessionError("An empty string names no session.", ref, [])
    found = catalog.find(query)
    exact = [r for r in found if r.session_id.casefold() == query.casefold()]
    hits = [r for r in (exact or found) if _wanted(r, want)]
    if not hits:
        _unknown(catalog, query, want, others=bool(exact or found))
    ids = {r.session_id for r in hits}
    if len(ids) > 1:
        raise AmbiguousSessionError(
            f"{query!r} matches {len(ids)} saved sessions; give more of the id:\n"
            f"{_describe(hits[:10], len(hits) - 10)}",
            query,
            hits,
        )
    if len(hits) > 1 and want == "any":
        hits = [r for r in hits if not r.deleted] or hits
    if len(hits) > 1:  # one id in several files (copied by hand, say)
        raise AmbiguousSessionError(
            f"Session {hits[0].session_id} is saved in {len(hits)} files; pass the record "
            f"from rt.sessions() or the file's path instead:\n{_describe(hits)}",
            query,
            hits,
        )
    return hits[0]


def _unknown(catalog: Catalog, query: str, want: Want, *, others: bool) -> None:
    if others and want == "live":
        hint = " It is deleted: restore it with rt.restore_session() first."
    elif others and want == "deleted":
        hint = " It is not deleted."
    else:
        hint = ""
    shown, count = catalog.sample(deleted=None if want == "any" else want == "deleted", limit=10)
    kind = _what(want)
    known = (
        f"\n{kind.capitalize() or 'Saved '}sessions:\n{_describe(shown, count - len(shown))}"
        if shown
        else f" There are no {kind}saved sessions."
    )
    raise UnknownSessionError(
        f"No {kind}saved session has the id {query!r} or an id starting with it.{hint}{known}",
        query,
        [],
    )


def lookup(ref: SessionRef, want: Want, folder: Path) -> SessionRecord:
    """The record ``ref`` names in ``folder`` (see :func:`lookup_in`)."""
    with open_catalog(folder) as catalog:
        return lookup_in(catalog, ref, want)


def lookup_in(catalog: Catalog, ref: SessionRef, want: Want) -> SessionRecord:
    """The catalog is trusted first; if it does not know the session, it is
    refreshed from the files and asked again."""
    try:
        return _resolve(catalog, ref, want)
    except UnknownSessionError:
        if catalog.new or not catalog.home.is_dir():
            raise
        refresh_catalog(catalog)
        return _resolve(catalog, ref, want)


def folder_of(ref: Any) -> Path:
    """The store a record or a path belongs to (else the default home).

    A path outside the default home counts only if its folder already is a
    store (it has the lock file or a catalog): the store never creates a lock,
    a catalog or a file anywhere else (``tag_session(Path("/etc/x.json"))``).
    """
    ref = _as_ref(ref)
    if not isinstance(ref, (SessionRecord, os.PathLike)):
        return railtracks_home()
    path = Path(ref.path if isinstance(ref, SessionRecord) else ref).absolute()
    parent = path.parent
    if parent.name == TRASH_DIR:
        folder = parent.parent
    elif (parent.parent.name, parent.name) == RAILTRACKS_DIR:
        folder = parent.parent.parent
    else:
        folder = parent
    default = railtracks_home()
    if _same_place(folder, default):
        return default
    if (folder / LOCK_NAME).is_file() or (folder / CATALOG_NAME).is_file():
        return folder
    raise SessionStoreError(
        f"{path} is not in a session store ({default} or a folder where sessions were saved): "
        "the store does not write there."
    )


def _same_place(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False

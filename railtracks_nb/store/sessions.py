"""The session store: list, rename, tag, soft-delete and restore saved sessions.

The store is the saved-sessions folder (``.railtracks/`` under the working
directory, or ``$RAILTRACKS_HOME``). It holds

- our files, ``<home>/<name>.json``, written when a session closes;
- Railtracks' own files, ``<home>/data/sessions/*.json`` (listed, loadable,
  renamable and taggable like ours; our additions go under the payload's
  ``"railtracks_nb"`` key, which Railtracks ignores);
- soft-deleted files, moved aside to ``<home>/.deleted/<session id>.json``
  with when they were deleted (``deleted_at``) and the place they came from
  recorded in them, so a new session saved under the same name can never
  overwrite a deleted one;
- the catalog (:mod:`railtracks_nb.store.catalog`), an SQLite summary of all those
  files, so that listing and id lookups never parse the files themselves.

The files are the record. A session is named by its id, in full or as a
unique prefix (case-insensitive), by the :class:`SessionRecord` that
:func:`sessions` returned, or by its file's path: a ``Path``, or a ``str``
that ends in ``.json`` or contains a path separator (ids never do).

Every change runs under the folder's inter-process lock
(:func:`railtracks_nb.store.locking.store_lock`), the same lock a closing session
takes to save, but files are parsed before the lock is taken: the change is
written only if the file is still the version that was read (else it is read
again), so a huge file never keeps another process's session from saving.
Every file is replaced atomically, so readers never see half a file, and the
store never writes outside its folder.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from ..core.exceptions import (
    SessionStoreError,
)
from ..core.extras import EXTRAS_KEY, extras_of
from .catalog import Catalog
from .changes import Apply, change_session, dump_payload, note_change, write_file
from .files import safe_filename, session_path
from .folder import RAILTRACKS_DIR, TRASH_DIR, relative
from .lookup import (
    SessionRef,
    folder_of,
    home_folder,
    lookup,
    refresh_catalog,
)
from .records import SessionList, SessionRecord, StoreProblem, clip

logger = logging.getLogger("RT.Store")


def sessions(
    include_deleted: bool = False, home: str | os.PathLike[str] | None = None
) -> SessionList:
    """The saved sessions in ``home`` (default: ``$RAILTRACKS_HOME`` or ``./.railtracks``).

    Newest first (by start time). Soft-deleted sessions are left out unless
    ``include_deleted=True``. Files that are not readable saved sessions are
    skipped and reported in the list's ``problems`` (and under its table).
    The listing comes from the catalog: only files that changed since the
    catalog last saw them are read.
    """
    folder = home_folder(home)
    if not folder.is_dir():  # listing must not create the folder
        return SessionList([], folder)
    with Catalog.open_or_memory(folder) as catalog:
        unread, rows = refresh_catalog(catalog)
        records, problems = catalog.listing(rows, include_deleted=include_deleted)
    problems = sorted(unread + problems, key=lambda p: str(p.path))
    return SessionList(records, folder, problems)


def find_session(
    session: SessionRef, *, include_deleted: bool = True, home: str | os.PathLike[str] | None = None
) -> SessionRecord:
    """The record of one saved session, by full id, unique id prefix, record or path."""
    return lookup(session, "any" if include_deleted else "live", home_folder(home))


def rename_session(
    session: SessionRef, name: str, *, home: str | os.PathLike[str] | None = None
) -> SessionRecord:
    """Give a saved session a new name; returns its updated record.

    The name is the payload's ``session_name``. One of our files also moves to
    ``<home>/<new name>.json`` (a name too long for the file system is cut,
    with a part of the id added), so a later session saved under the old name
    cannot overwrite the renamed one, and the renamed session itself, saved
    again, goes back to its new file. If a different session is already saved
    under the new name, :class:`SessionStoreError` is raised and nothing
    changes. Railtracks' files and deleted sessions keep their place.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"A session name must be a non-empty str, got {name!r}")
    folder = home_folder(home)

    def prepare(record: SessionRecord, payload: dict[str, Any]) -> Apply:
        payload["session_name"] = name
        if record.deleted or record.source == "railtracks":
            target = record.path
            if record.deleted and record.source == "ours":  # restore it under its new name
                extras = extras_of(payload)
                extras["deleted_from"] = session_path(name, folder).name
                payload[EXTRAS_KEY] = extras
        else:
            target = session_path(name, folder)
        text = dump_payload(payload)

        def apply(catalog: Catalog) -> SessionRecord:
            if target != record.path and target.exists() and not _same_file(target, record.path):
                raise SessionStoreError(
                    f"Cannot rename session {record.session_id} to {name!r}: another saved "
                    f"session is already at {target}. Rename or delete that one first."
                )
            # New file first, old one second: a crash in between leaves two copies, never none.
            write_file(target, text)
            moved = not _same_file(target, record.path)
            if moved:
                record.path.unlink()
            return note_change(catalog, target, payload, removed=[record.path] if moved else [])

        return apply

    return change_session(folder, session, "any", prepare)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _check_tags(metadata: dict[str, Any]) -> None:
    for key, value in metadata.items():
        try:
            json.dumps(value, allow_nan=False)
            continue
        except (TypeError, ValueError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else clip(str(exc), 120)
        raise TypeError(
            f"Metadata {key}={_safe_repr(value)} cannot be saved: values must be JSON "
            f"(str, int, float, bool, None, list, dict) - {reason}"
        )


def _safe_repr(value: Any) -> str:
    try:
        return clip(repr(value), 80)
    except (ValueError, RecursionError):  # e.g. an int with more digits than repr allows
        return f"<{type(value).__name__}>"
    except Exception:  # a hostile __repr__ must not hide the real error
        return f"<{type(value).__name__}>"


def tag_session(session: SessionRef, /, **metadata: Any) -> SessionRecord:
    """Add metadata to a saved session, e.g. ``tag_session(id, project="Q4", score=0.9)``.

    Keys are merged into the session's ``metadata``; a value of ``None``
    removes that key. Values must be JSON (str, number, bool, list, dict);
    anything else, or a value nested too deeply or too large to save, raises
    ``TypeError`` naming the key, before any change. Every keyword is a tag
    (there is no ``home=`` here, so any key can be used): the folder is
    ``$RAILTRACKS_HOME`` or ``./.railtracks``, or the store of the record or
    path passed (a path elsewhere raises :class:`SessionStoreError`).
    Returns the updated record.
    """
    _check_tags(metadata)
    folder = folder_of(session)
    if not metadata:
        return lookup(session, "any", folder)

    def prepare(record: SessionRecord, payload: dict[str, Any]) -> Apply:
        extras = extras_of(payload)
        current = extras.get("metadata")
        merged = dict(current) if isinstance(current, dict) else {}
        for key, value in metadata.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        extras["metadata"] = merged
        payload[EXTRAS_KEY] = extras
        text = dump_payload(payload)

        def apply(catalog: Catalog) -> SessionRecord:
            write_file(record.path, text)
            return note_change(catalog, record.path, payload)

        return apply

    return change_session(folder, session, "any", prepare)


def delete_session(
    session: SessionRef, *, home: str | os.PathLike[str] | None = None
) -> SessionRecord:
    """Soft-delete a saved session: hide it from :func:`sessions`, keep it restorable.

    The file moves to ``<home>/.deleted/<session id>.json``, marked with when
    it was deleted (``deleted_at``, also in the catalog) and where it came
    from. ``sessions(include_deleted=True)`` still lists it;
    :func:`restore_session` brings it back. Returns the record of the deleted file.
    """
    folder = home_folder(home)

    def prepare(record: SessionRecord, payload: dict[str, Any]) -> Apply:
        extras = extras_of(payload)
        extras["deleted_at"] = time.time()
        extras["deleted_from"] = relative(folder, record.path) or record.path.name
        payload[EXTRAS_KEY] = extras
        text = dump_payload(payload)

        def apply(catalog: Catalog) -> SessionRecord:
            target = _free_path(folder / TRASH_DIR, safe_filename(record.session_id))
            # Copy first, remove second: a crash in between leaves it listed, never lost.
            write_file(target, text)
            record.path.unlink()
            return note_change(catalog, target, payload, removed=[record.path])

        return apply

    return change_session(folder, session, "live", prepare)


def restore_session(
    session: SessionRef, *, home: str | os.PathLike[str] | None = None
) -> SessionRecord:
    """Bring a soft-deleted session back where it was; returns its record.

    If another session has been saved at that place since, the restored one
    goes next to it as ``<name>-restored.json`` (``-restored-2`` ...) instead
    of overwriting it, and a warning says so.
    """
    folder = home_folder(home)

    def prepare(record: SessionRecord, payload: dict[str, Any]) -> Apply:
        extras = extras_of(payload)
        rel = extras.pop("deleted_from", None)
        extras.pop("deleted_at", None)
        if extras:
            payload[EXTRAS_KEY] = extras
        else:  # a Railtracks file we only marked: give it back exactly as it was
            payload.pop(EXTRAS_KEY, None)
        text = dump_payload(payload)

        def apply(catalog: Catalog) -> SessionRecord:
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
            write_file(target, text)
            record.path.unlink()
            return note_change(catalog, target, payload, removed=[record.path])

        return apply

    return change_session(folder, session, "deleted", prepare)


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


__all__ = [
    "SessionList",
    "SessionRecord",
    "StoreProblem",
    "delete_session",
    "find_session",
    "rename_session",
    "restore_session",
    "sessions",
    "tag_session",
]

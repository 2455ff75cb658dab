"""Keeping the catalog true to the files (see :mod:`.catalog` for the rules).

:func:`refresh` brings a catalog up to date with the files of its folder before
a listing; :func:`previous_save` and :func:`note_saved` are what a session's
save asks of the catalog and tells it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..core.exceptions import SavedStateError
from .catalog import Catalog, CatalogError
from .catalog_rows import row_for
from .folder import Scan, relative, scan
from .locking import store_lock
from .records import SessionRecord
from .safe_read import FileKey, file_key, read_payload_and_key

logger = logging.getLogger("RT.Store")


def _read(home: Path, rel: str) -> tuple[FileKey, dict[str, Any] | None, str | None] | None:
    """Parse one file (no lock held): its key and payload, or its key and problem; None if gone."""
    path = home / rel
    try:
        payload, key = read_payload_and_key(path)
        return key, payload, None
    except SavedStateError as exc:
        now = file_key(path)
        if now is None:
            return None
        return now, None, str(exc)


def refresh(catalog: Catalog) -> tuple[Scan, list[tuple]]:
    """Bring ``catalog`` up to date with the files (see the module docstring).

    Returns the scan and every row of the catalog as it now is.
    """
    home = catalog.home
    found = scan(home)
    rows, known = catalog.rows()
    files = found.files
    if files == known:
        return found, rows  # the usual case: nothing changed since the last look
    changed = [rel for rel, key in files.items() if known.get(rel) != key]
    gone = [rel for rel in known if rel not in files]
    parsed = {rel: _read(home, rel) for rel in changed}  # outside the lock: files may be huge
    puts, removes = [], []
    with store_lock(home, shared=True):  # no writer is half-way through a rename or delete
        for rel in gone:
            if file_key(home / rel) is None:
                removes.append(rel)
        for rel, result in parsed.items():
            now = file_key(home / rel)
            if now is None:
                removes.append(rel)
            elif result is not None and result[0] == now:  # still the version that was parsed
                key, payload, problem = result
                row = row_for(home, rel, key, payload, problem)
                if row[-1] is not None:  # once per version of a bad file, not per listing
                    logger.warning("Skipped: %s", row[-1])
                puts.append(row)
            # else: changed again meanwhile; the next listing reads that version
        catalog.apply(removes, puts)
    return found, catalog.rows()[0]


def previous_save(home: Path, session_id: str, path: Path) -> tuple[Path, SessionRecord | None]:
    """Where a session about to be saved as ``path`` goes, and the catalog's record of that
    file if it is current (so the saving session keeps its tags without parsing it).

    A session is one file: if the catalog knows one live file of ours holding
    ``session_id`` (it was renamed), that file. Called under the store lock;
    never builds a catalog (that would parse every file under the lock).
    """
    try:
        catalog = Catalog.open(home, create=False)
    except Exception:  # the catalog is only a help here
        return path, None
    if catalog is None:
        return path, None
    with catalog:
        try:
            hits = [
                r
                for r in catalog.find(session_id)
                if r.session_id == session_id and not r.deleted and r.source == "ours"
            ]
            target = hits[0].path if len(hits) == 1 else path
            rel = relative(home, target)
            record = catalog.at(rel) if rel else None
            known = catalog.key_of(rel) if rel else None
        except CatalogError:
            return path, None
    now = file_key(target)
    if now is not None and now == known:
        return target, record
    if target == path or now is None:
        return path, None
    try:  # the renamed file changed behind the catalog's back: is it still this session?
        payload, _ = read_payload_and_key(target)
    except SavedStateError:
        return path, None
    return (target if payload.get("session_id") == session_id else path), None


def note_saved(home: Path, path: Path, payload: dict[str, Any]) -> None:
    """Update the row of a file a session just saved (under the store lock), if a catalog exists."""
    try:
        catalog = Catalog.open(home, create=False)
        if catalog is not None:
            with catalog:
                catalog.note(path, payload)
    except Exception as exc:  # the file is the record; a listing repairs the row
        logger.debug("Could not update the catalog of %s: %s", home, exc)

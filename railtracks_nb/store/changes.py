"""How the store changes one saved file: optimistically, then under the store lock.

The file is parsed (and the new text made) without the lock; the change is
written under it only if the file is still the version that was read, else it
is read again (:func:`change_session`). Every write is atomic, and the catalog
is told of it while the lock is still held (:func:`note_change`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..core.exceptions import SavedStateError, SessionStoreError
from .catalog import Catalog, CatalogError
from .files import atomic_write_text
from .folder import relative
from .locking import store_lock
from .lookup import SessionRef, Want, lookup_in, open_catalog, refresh_catalog
from .records import SessionRecord
from .safe_read import FileKey, file_key, read_payload_and_key

logger = logging.getLogger("RT.Store")

#: How many times a change is prepared again when another process changed the file meanwhile.
_ATTEMPTS = 5


def dump_payload(payload: dict[str, Any]) -> str:
    # allow_nan: a file Railtracks wrote may hold NaN; a tag or rename must not refuse it.
    return json.dumps(payload, allow_nan=True)


def write_file(path: Path, text: str) -> None:
    """Write under the lock, turning a file-system failure into a ``SessionStoreError``."""
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise SessionStoreError(f"Could not write {path}: {exc.strerror or exc}") from exc


def note_change(
    catalog: Catalog, written: Path, payload: dict[str, Any], removed: Iterable[Path] = ()
) -> SessionRecord:
    """Update the catalog after a change (under the lock); returns the written file's record."""
    try:
        catalog.note(written, payload, removed=removed)
        rel = relative(catalog.home, written)
        record = catalog.at(rel) if rel else None
        if record is not None:
            return record
    except CatalogError as exc:  # the files are right; the next listing repairs the rows
        logger.debug("Could not update the catalog of %s: %s", catalog.home, exc)
    with Catalog.in_memory(catalog.home) as scratch:
        scratch.note(written, payload)
        record = scratch.at(relative(catalog.home, written) or "")
    if record is None:
        raise SessionStoreError(f"{written} was written but cannot be listed")
    return record


#: Applies a prepared change under the lock and returns the changed session's record.
Apply = Callable[[Catalog], SessionRecord]


def change_session(
    folder: Path,
    ref: SessionRef,
    want: Want,
    prepare: Callable[[SessionRecord, dict[str, Any]], Apply],
) -> SessionRecord:
    """Read, prepare and write one session's file, optimistically.

    The file is parsed (and the new text made) without the lock; the change
    is applied under it only if the file is still the version that was read.
    The last attempt reads under the lock, so a busy store cannot starve it.
    """
    with open_catalog(folder) as catalog:
        for attempt in range(_ATTEMPTS):
            record = lookup_in(catalog, ref, want)
            if attempt == _ATTEMPTS - 1:
                with store_lock(folder):
                    payload, _key = _read_current(catalog, record)
                    if payload is not None:
                        return prepare(record, payload)(catalog)
                continue
            payload, key = _read_current(catalog, record)
            if payload is None:
                continue
            apply = prepare(record, payload)
            with store_lock(folder):
                if file_key(record.path) == key:
                    return apply(catalog)
    raise SessionStoreError(
        f"Could not change {ref!r}: its file kept changing under another process; try again."
    )


def _read_current(
    catalog: Catalog, record: SessionRecord
) -> tuple[dict[str, Any] | None, FileKey | None]:
    """The payload of ``record``'s file, or ``(None, None)`` (after a refresh) if the
    file no longer holds that session."""
    try:
        payload, key = read_payload_and_key(record.path)
        if payload.get("session_id") == record.session_id:
            return payload, key
    except SavedStateError:
        if record.path.exists():
            raise
    refresh_catalog(catalog)
    return None, None

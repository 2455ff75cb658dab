"""The catalog's rows: what one saved-session file becomes in the catalog, and back.

A row is a plain tuple in the order of :data:`COLUMNS` (the table is
:mod:`.catalog`'s): the file's place and version (path, inode, size,
modification time), then the fields a listing shows, then the ``problem`` of a
file that cannot be listed. :func:`row_for` makes one from a file's payload;
:func:`record_of` turns one into a :class:`~.records.SessionRecord`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.exceptions import SavedStateError
from ..core.extras import extras_of
from .folder import TRASH_DIR, is_railtracks_rel
from .records import SessionRecord, summarize
from .safe_read import FileKey

#: The columns of the ``sessions`` table, in order: a row is a tuple of these.
COLUMNS = (
    "path",
    "inode",
    "size",
    "mtime_ns",
    "session_id",
    "id_key",
    "name",
    "flow_name",
    "status",
    "start_time",
    "end_time",
    "node_count",
    "run_count",
    "metadata",
    "parent_id",
    "deleted_at",
    "source",
    "problem",
)


def row_for(
    home: Path, rel: str, key: FileKey, payload: dict[str, Any] | None, problem: str | None = None
) -> tuple:
    """The catalog row of the file ``rel`` whose version ``key`` holds ``payload``."""
    summary: dict[str, Any] | None = None
    if problem is None and payload is not None:
        try:
            summary = summarize(payload, str(home / rel))
            metadata = json.dumps(summary["metadata"], allow_nan=True)
        except SavedStateError as exc:
            problem = str(exc)
        except (ValueError, RecursionError):
            problem = f"{home / rel} is not a saved session: its metadata cannot be listed"
    if summary is None or problem is not None:
        # A row for a file that cannot be listed: its place and key, no fields, the problem.
        return (rel, *key, *(None,) * (len(COLUMNS) - 2 - len(key)), problem or "unreadable")
    deleted = rel.startswith(f"{TRASH_DIR}/")
    if deleted:
        origin = str(extras_of(payload or {}).get("deleted_from") or "")
        source = "railtracks" if is_railtracks_rel(origin) else "ours"
        deleted_at = (
            summary["deleted_at"] if summary["deleted_at"] is not None else key.mtime_ns / 1e9
        )
    else:
        source = "railtracks" if is_railtracks_rel(rel) else "ours"
        deleted_at = None
    s = summary
    return (
        rel,
        *key,
        s["session_id"],
        s["session_id"].casefold(),
        s["name"],
        s["flow_name"],
        s["status"],
        s["start_time"],
        s["end_time"],
        s["node_count"],
        s["run_count"],
        metadata,
        s["parent_id"],
        deleted_at,
        source,
        None,
    )


# Path objects are immutable: a process listing a store again reuses them (building
# 10,000 Paths costs more than the rest of a listing).
_paths: dict[str, dict[str, Path]] = {}


def path_cache(home: Path) -> dict[str, Path]:
    if sum(len(c) for c in _paths.values()) > 200_000:
        _paths.clear()
    return _paths.setdefault(str(home), {})


def record_of(home: Path, row: tuple, paths: dict[str, Path] | None = None) -> SessionRecord:
    """The record of a row, built without the dataclass's ``__init__`` (a listing
    builds thousands; the row's values are already checked)."""
    paths = path_cache(home) if paths is None else paths
    (rel, _i, _s, _m, sid, _k, name, flow, status, start, end, nodes, runs, meta, parent) = row[:15]
    deleted_at = row[15]
    record = _new(SessionRecord)
    _set(
        record,
        "__dict__",
        {
            "session_id": sid,
            "name": name,
            "start_time": start,
            "end_time": end,
            "status": status,
            "node_count": nodes,
            "metadata": {} if meta == "{}" else json.loads(meta),
            "parent_id": parent,
            "deleted": deleted_at is not None,
            "path": paths.get(rel) or paths.setdefault(rel, home / rel),
            "source": row[16],
            "flow_name": flow,
            "run_count": runs,
            "deleted_at": deleted_at,
        },
    )
    return record


_new, _set = object.__new__, object.__setattr__

"""The layout of a saved-sessions folder, and looking at it without reading any file.

    <home>/<name>.json              our sessions
    <home>/data/sessions/<x>.json   Railtracks' own
    <home>/.deleted/<id>.json       soft-deleted ones
    <home>/.<name>.json.<hex>.tmp   a save in progress (or killed mid-write)

:func:`scan` finds the files the store lists with one ``stat`` each (no file
is opened, so a FIFO or a device cannot hang it); :func:`remove_stale_temps`
clears the leftovers of killed saves without ever touching a save in progress.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import time
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import NamedTuple

from .locking import try_store_lock
from .records import StoreProblem
from .safe_read import not_regular_reason

logger = logging.getLogger("RT.Store")

#: Where soft-deleted sessions are kept, inside the home folder.
TRASH_DIR = ".deleted"
#: Where Railtracks itself saves sessions, inside the home folder.
RAILTRACKS_DIR = ("data", "sessions")
_RAILTRACKS_PREFIX = "/".join(RAILTRACKS_DIR) + "/"
#: A temporary file of an atomic write (``files.atomic_write_text``).
_TEMP_RE = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")
#: A temporary file older than this, found while no save holds the store lock, is
#: the leftover of a save that was killed mid-write, and is removed.
STALE_TEMP_SECONDS = 60.0

_warned: set[str] = set()  # files that are not regular files, warned about once


class Scan(NamedTuple):
    """What is in a home folder: listable files by relative path, problems, temp files."""

    files: dict[str, tuple[int, int, int]]
    problems: list[StoreProblem]
    temps: list[Path]


def _folders(home: Path) -> list[tuple[str, Path]]:
    return [
        ("", home),
        (_RAILTRACKS_PREFIX, home.joinpath(*RAILTRACKS_DIR)),
        (f"{TRASH_DIR}/", home / TRASH_DIR),
    ]


_FORMAT, _REGULAR = stat.S_IFMT(0o177777), stat.S_IFREG


def _stats(folder: Path) -> list[tuple[str, os.stat_result | OSError | None]]:
    """``(name, stat)`` of the ``*.json`` files in ``folder`` (``None`` for hidden
    names, the error for a file that cannot be stat'ed). Listed through a folder
    descriptor where possible: each ``stat`` then looks up one name, not the whole
    path (a fifth less work). This runs once per saved session on every listing."""
    by_fd = os.scandir in os.supports_fd
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if by_fd else -1
    out: list[tuple[str, os.stat_result | OSError | None]] = []
    try:
        with os.scandir(fd if by_fd else folder) as entries:
            for entry in entries:
                name = entry.name
                if name[0] == ".":
                    out.append((name, None))
                elif name[-5:] == ".json":
                    try:
                        out.append((name, entry.stat()))  # follows a symlink, as a reader would
                    except OSError as exc:
                        out.append((name, exc))
    finally:
        if by_fd:
            os.close(fd)
    return out


def scan(home: Path) -> Scan:
    """Every ``*.json`` file the store lists (one ``stat`` each, no file is opened)."""
    files: dict[str, tuple[int, int, int]] = {}
    problems: list[StoreProblem] = []
    temps: list[Path] = []
    for prefix, folder in _folders(home):
        try:
            stats = _stats(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            problems.append(StoreProblem(folder, f"Could not read the folder {folder}: {exc}"))
            continue
        for name, st in stats:
            if st is None:
                if _TEMP_RE.match(name):
                    temps.append(folder / name)
            elif isinstance(st, OSError):
                path = folder / name
                problems.append(StoreProblem(path, f"{path} cannot be read: {st.strerror or st}"))
            elif st.st_mode & _FORMAT == _REGULAR:
                files[prefix + name if prefix else name] = (st.st_ino, st.st_size, st.st_mtime_ns)
            else:
                path = folder / name
                problems.append(StoreProblem(path, not_regular_reason(path, st.st_mode)))
                if str(path) not in _warned:
                    _warned.add(str(path))
                    logger.warning("Skipped: %s", problems[-1].reason)
    return Scan(files, problems, temps)  # file keys as tuples: equal to FileKey


def relative(home: Path, path: Path) -> str | None:
    """``path`` relative to ``home`` as the catalog keys it (``None``: not listed by the store)."""
    try:
        # The folder is resolved, not the file: a session file that is a symlink is still
        # the store's own entry (and a write replaces the link, never its target).
        rel = (path.parent.resolve() / path.name).relative_to(home.resolve()).as_posix()
    except (ValueError, OSError):
        return None
    parts = rel.split("/")
    if not rel.endswith(".json") or parts[-1].startswith("."):
        return None
    if len(parts) == 1 or (len(parts) == 2 and parts[0] == TRASH_DIR):
        return rel
    if len(parts) == 3 and tuple(parts[:2]) == RAILTRACKS_DIR:
        return rel
    return None


def is_railtracks_rel(rel: str) -> bool:
    return rel.startswith(_RAILTRACKS_PREFIX)


def remove_stale_temps(temps: Iterable[Path], home: Path) -> list[Path]:
    """Remove temporary files left by saves that were killed mid-write; returns them.

    Only while the store lock is free right now (every save writes under it, so
    no save is in progress; the lock is not waited for) and only files not
    touched for :data:`STALE_TEMP_SECONDS`.
    """
    now = time.time()
    old = [p for p in temps if _older_than(p, now - STALE_TEMP_SECONDS)]
    removed: list[Path] = []
    if not old:
        return removed
    with try_store_lock(home) as held:
        if not held:
            return removed
        for path in old:
            if _older_than(path, now - STALE_TEMP_SECONDS):
                with suppress(OSError):
                    path.unlink()
                    removed.append(path)
    if removed:
        logger.info(
            "Removed %d temporary file(s) left by interrupted saves in %s", len(removed), home
        )
    return removed


def _older_than(path: Path, limit: float) -> bool:
    try:
        return os.lstat(path).st_mtime < limit
    except OSError:
        return False

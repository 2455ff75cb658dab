"""An inter-process lock on a saved-sessions folder.

Every write to a file is already atomic (``files.atomic_write_text``),
but the store's read-modify-write operations (tag, rename, delete, restore)
and a session's "does the file exist? then write it" are several steps. Two
processes (two kernels, a kernel and a script) working in the same
``.railtracks/`` at once could interleave them and lose an update. So all of
them run under :func:`store_lock`: an ``fcntl.flock`` on
``<home>/.railtracks.lock``.

The lock is advisory (it only excludes other users of this lock), exclusive
for writers and shared for readers, and reentrant within a thread, so a
store operation may call a helper that takes the lock again. ``flock`` locks
belong to an open file description, so two threads of one process exclude
each other as two processes do. Where ``flock`` cannot be had (Windows, a
read-only folder, a file system without it), the lock degrades to a
per-process lock: writes stay atomic, only the cross-process exclusion is
lost.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".railtracks.lock"

# Per thread: resolved folder -> [fd, depth, exclusive]. Reentrancy must be tracked by
# hand: a second flock() on a new descriptor of the same file would wait for ourselves.
_held = threading.local()
# Used instead of flock where it cannot be had, so threads still exclude each other.
_fallback = threading.RLock()
_warned: set[str] = set()
logger = logging.getLogger("RT.Store")


def _table() -> dict[str, list]:
    table = getattr(_held, "table", None)
    if table is None:
        table = _held.table = {}
    return table


@contextmanager
def store_lock(home: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the lock of the saved-sessions folder ``home`` (created if missing).

    ``shared=True`` takes a reader's lock: many readers at once, no writer.
    Taking the lock again in the same thread (in either mode) just nests;
    asking for an exclusive lock while holding only a shared one raises
    ``RuntimeError`` (upgrading a flock can deadlock two readers).
    """
    key = str(Path(home).resolve())
    table = _table()
    entry = table.get(key)
    if entry is not None:
        if not shared and not entry[2]:
            raise RuntimeError(f"Cannot upgrade a shared lock on {key} to an exclusive one")
        entry[1] += 1
        try:
            yield
        finally:
            entry[1] -= 1
        return

    fd = _acquire(key, shared)
    table[key] = [fd, 1, not shared]
    try:
        yield
    finally:
        del table[key]
        _release(fd)


@contextmanager
def try_store_lock(home: Path) -> Iterator[bool]:
    """Take the exclusive lock of ``home`` only if it is free right now; yields whether it was.

    Never waits: for chores (removing leftovers of killed saves) that must not
    slow anyone down. Yields ``False`` where ``flock`` cannot be had, since the
    chore could then not know that no other process is saving.
    """
    key = str(Path(home).resolve())
    entry = _table().get(key)
    if entry is not None:  # held by this thread already
        yield bool(entry[2])
        return
    if fcntl is None:
        yield False
        return
    try:
        fd = os.open(os.path.join(key, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        yield False
        return
    _table()[key] = [fd, 1, True]
    try:
        yield True
    finally:
        del _table()[key]
        _release(fd)


def _acquire(folder: str, shared: bool) -> int:
    """Take the flock; ``-1`` when it cannot be had (then the per-process lock is held)."""
    if fcntl is not None:
        fd = -1
        try:
            os.makedirs(folder, exist_ok=True)
            fd = os.open(os.path.join(folder, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            return fd
        except OSError as exc:
            # A read-only folder (listing someone else's sessions) or a file system
            # without flock: go on with in-process exclusion only, rather than fail.
            if fd >= 0:
                os.close(fd)
            if folder not in _warned:
                _warned.add(folder)
                logger.debug("No inter-process lock on %s (%s): in-process only", folder, exc)
    _fallback.acquire()
    return -1


def _release(fd: int) -> None:
    if fd < 0:
        _fallback.release()
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

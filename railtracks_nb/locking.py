"""An inter-process lock on a saved-sessions folder.

Every write to a file is already atomic (``persistence.atomic_write_text``),
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
each other as two processes do. Where ``fcntl`` does not exist (Windows),
the lock degrades to a per-process lock: writes stay atomic, only the
cross-process exclusion is lost.
"""

from __future__ import annotations

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
# Used instead of flock where fcntl is missing, so threads still exclude each other.
_fallback = threading.RLock()


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

    Path(home).mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover - Windows
        with _fallback:
            table[key] = [-1, 1, True]
            try:
                yield
            finally:
                del table[key]
        return

    fd = os.open(os.path.join(key, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        table[key] = [fd, 1, not shared]
        try:
            yield
        finally:
            del table[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

"""Reading a saved-session file without trusting it.

The saved-sessions folder is shared with other processes, other tools and
other people, so any file in it may be hostile or broken: a FIFO named
``x.json`` (opening it for reading would wait forever for a writer), a symlink
to ``/dev/zero`` (endless), a huge file, JSON nested thousands of levels deep
(``RecursionError`` in the parser), numbers too long for ``int``. Everything
here turns each of those into a :class:`~railtracks_nb.core.exceptions.SavedStateError`
that names the file, and reads only regular files of bounded size, opened
non-blocking so that even a FIFO swapped in after a check cannot hang the
reader.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

from ..core.exceptions import SavedStateError

#: The largest file that is read as a saved session (bytes). Larger files are
#: reported and skipped by the store, and refused by ``rt.load``.
MAX_FILE_BYTES = 512 * 1024 * 1024
_CHUNK = 1 << 20


class FileKey(NamedTuple):
    """What identifies one version of a file: a changed file has a different key.

    Every write in the store replaces the file (a new inode), and an edit in
    place changes its size or modification time.
    """

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileKey:
        return cls(st.st_ino, st.st_size, st.st_mtime_ns)


def file_key(path: str | os.PathLike[str]) -> FileKey | None:
    """The current key of ``path`` (following symlinks), or ``None`` if it is gone."""
    try:
        return FileKey.of(os.stat(path))
    except OSError:
        return None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_regular_reason(path: Path, mode: int) -> str:
    """Why ``path`` with ``mode`` is not read (for listings and errors)."""
    return f"{path} is {_kind(mode)}, not a saved session file: not read"


def read_bytes(path: str | os.PathLike[str]) -> tuple[bytes, FileKey]:
    """The content of the regular file ``path`` (at most :data:`MAX_FILE_BYTES`) and its key."""
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise SavedStateError(f"No saved session at {p}: the file does not exist") from None
    except OSError as exc:
        raise SavedStateError(f"Could not read {p}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SavedStateError(not_regular_reason(p, st.st_mode))
        if st.st_size > MAX_FILE_BYTES:
            raise SavedStateError(_too_large(p, st.st_size))
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_FILE_BYTES:  # grew while being read
                raise SavedStateError(_too_large(p, total))
            chunks.append(chunk)
        return b"".join(chunks), FileKey.of(st)
    except OSError as exc:
        raise SavedStateError(f"Could not read {p}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _too_large(path: Path, size: int) -> str:
    return (
        f"{path} is {size:,} bytes, more than the {MAX_FILE_BYTES:,} bytes a saved session "
        f"may have (railtracks_nb.store.safe_read.MAX_FILE_BYTES): not read"
    )


def parse_payload(data: bytes, path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object in ``data`` (the content of ``path``), or a ``SavedStateError``."""
    p = Path(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SavedStateError(
            f"{p} is not a saved session: not UTF-8 text ({exc.reason})"
        ) from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SavedStateError(
            f"{p} is corrupt: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise SavedStateError(
            f"{p} is not a saved session: its JSON is nested too deeply"
        ) from None
    except ValueError as exc:  # e.g. an integer longer than Python's digit limit
        raise SavedStateError(f"{p} is not a saved session: {exc}") from None
    if not isinstance(payload, dict):
        raise SavedStateError(
            f"{p} is not a saved session: expected a JSON object, found {type(payload).__name__}"
        )
    return payload


def read_payload_and_key(path: str | os.PathLike[str]) -> tuple[dict[str, Any], FileKey]:
    """The JSON object in ``path`` and the key of the version that was read."""
    data, key = read_bytes(path)
    return parse_payload(data, path), key


def read_payload(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object in ``path``, or a :class:`SavedStateError` naming the file."""
    return read_payload_and_key(path)[0]

"""Where saved sessions live and how a file is written without ever being half written.

The store's folder is ``.railtracks/`` under the working directory, or
``$RAILTRACKS_HOME``. A session's file name is made from its name, made safe for
every filesystem (bytes, not characters, are what filesystems limit). Writes are
atomic: the JSON goes to a temporary file in the same folder, is flushed to disk
and replaces the target in one ``os.replace``, so a crash or an interrupt never
leaves half a file.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..core.exceptions import SavedStateError

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


def atomic_write_chunks(path: Path, pieces: Iterable[bytes | memoryview]) -> None:
    """Write the concatenation of ``pieces`` to ``path`` all at once: readers see the
    old file or the new one. ``pieces`` may be a generator: it is consumed as the
    file is written, so the whole content never has to be in memory."""
    _atomic_write(path, pieces)


def _atomic_write(path: Path, pieces: Iterable[bytes | memoryview]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    # os.open with 0o666 lets the umask decide the mode, like a plain open() would
    # (tempfile.mkstemp would make every saved file private, 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_early(handle, pieces)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:  # including KeyboardInterrupt: never leave the temp file
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


#: How much is written before the disk is asked to start writing it (see _write_early).
WRITEBACK_STEP = 2 << 20


def _write_early(handle: BinaryIO, pieces: Iterable[bytes | memoryview]) -> None:
    """Write ``pieces``, asking the kernel to start writing each few megabytes to disk
    while the rest is made, so the closing ``fsync`` waits for little more than the last
    of them (it was a fifth to a quarter of a 10,000-node save).

    ``POSIX_FADV_DONTNEED`` starts writeback of the range without waiting for it on
    Linux (as PostgreSQL's ``pg_flush_data`` uses it where ``sync_file_range`` is not to
    be had); a system without ``posix_fadvise``, or a file system that refuses the
    advice, is written as usual. Pages already on disk may be dropped from the cache,
    which only costs a reader of the file a disk read.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        handle.writelines(pieces)
        return
    fd = handle.fileno()
    written = started = 0
    for piece in pieces:
        written += handle.write(piece)
        if advise is not None and written - started >= WRITEBACK_STEP:
            handle.flush()
            try:
                advise(fd, started, written - started, os.POSIX_FADV_DONTNEED)
            except OSError:  # advice only: a file system that refuses it is written as usual
                advise = None
            started = written


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)

"""The store's catalog: an SQLite summary of every saved-session file, kept beside them.

The JSON files are the record; the catalog (``<home>/.railtracks-catalog.sqlite3``,
standard-library ``sqlite3`` in WAL mode) is a cache of what listing and id
lookups need, one row per file: the session's id, name, flow, status, times,
node and run counts, tags (``metadata``), parent, ``deleted_at``, and the
file's path (relative to the home folder), inode, size and modification time.
A file that cannot be listed gets a row too, with the ``problem``, so it is
not parsed again until it changes.

Keeping it true:

- every writer (a session's save, tag, rename, delete, restore) updates the
  rows of the files it wrote, under the store lock, right after writing them;
- :func:`~.catalog_refresh.refresh` (run by every listing) compares each file's inode, size and
  modification time with its row, re-reads the files that differ or are new,
  and drops rows of files that are gone: files copied, edited or removed
  behind the store's back are picked up. Parsing happens without the store
  lock; only the final check-and-write of the changed rows holds it (shared),
  so a session closing in another process never waits behind a listing;
- a missing catalog is rebuilt from the files, a corrupt one is deleted and
  rebuilt, and one of another version is rebuilt; where none can be written
  (a read-only folder) an in-memory one is built for the call.

Two processes may use one catalog at once: SQLite serialises the writes
(``BEGIN IMMEDIATE``, a 30 s busy timeout) and WAL lets readers go on.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from .catalog_rows import COLUMNS, path_cache, record_of, row_for
from .folder import relative
from .records import SessionRecord, StoreProblem
from .safe_read import FileKey, file_key

logger = logging.getLogger("RT.Store")

CATALOG_NAME = ".railtracks-catalog.sqlite3"
#: Bump when the table changes: an older catalog is then rebuilt from the files.
CATALOG_VERSION = 2
_SCHEMA = """
CREATE TABLE sessions (
    path TEXT PRIMARY KEY,      -- relative to the home folder, with '/'
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    session_id TEXT,
    id_key TEXT,                -- casefolded id, for prefix lookups
    name TEXT,
    flow_name TEXT,
    status TEXT,
    start_time REAL,
    end_time REAL,
    node_count INTEGER,
    run_count INTEGER,
    metadata TEXT,              -- the tags, as JSON
    parent_id TEXT,
    deleted_at REAL,            -- NULL while the session is live
    source TEXT,
    problem TEXT                -- why the file cannot be listed (NULL if it can)
);
CREATE INDEX sessions_by_id ON sessions (id_key);
CREATE INDEX sessions_by_start ON sessions (start_time DESC, end_time DESC, path DESC);
-- bumped by every change, so a process can tell that rows it read earlier are still current
CREATE TABLE generation (n INTEGER NOT NULL);
INSERT INTO generation VALUES (0);
"""
# Per process: catalog file -> (its inode, generation, rows, {path: file key}). Fetching
# 10,000 rows costs more than checking that nothing changed, so rows are kept while the
# generation (bumped in every writing transaction, by any process) stays the same.
_rows_cache: dict[str, tuple[int, tuple, list[tuple], dict[str, tuple]]] = {}
_ORDER = "ORDER BY start_time DESC, coalesce(end_time, 0) DESC, path DESC"


class CatalogError(Exception):
    """The catalog could not be read or written (the files are unaffected)."""


# -- the database ------------------------------------------------------------------------------
def _is_corruption(exc: sqlite3.Error) -> bool:
    # OperationalError covers "locked", "unable to open", "readonly": not the file's fault.
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _discard(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with suppress(OSError):
            os.unlink(f"{path}{suffix}")


class Catalog:
    """One open connection to a home folder's catalog (or an in-memory stand-in)."""

    def __init__(
        self, home: Path, conn: sqlite3.Connection, *, new: bool, persistent: bool
    ) -> None:
        self.home = home
        self.conn = conn
        #: True when the catalog was just created (or rebuilt): it knows no file yet.
        self.new = new
        self.persistent = persistent

    # opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, home: Path, *, create: bool = True) -> Catalog | None:
        """The catalog of ``home``; ``None`` if it does not exist and ``create`` is false,
        or if it cannot be opened (then callers fall back to :meth:`in_memory`)."""
        path = home / CATALOG_NAME
        for suffix in ("", "-wal", "-shm"):  # SQLite would follow a link out of the store
            if os.path.islink(f"{path}{suffix}"):
                logger.warning("%s%s is a symlink: removed, the catalog is rebuilt", path, suffix)
                _discard(path)
        if not create and not path.exists():
            return None
        for attempt in (1, 2):
            conn = None
            try:
                conn = sqlite3.connect(
                    path, timeout=30.0, isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA synchronous=NORMAL")
                new = cls._ensure_schema(conn)
                if new:  # persistent in the file: set once
                    conn.execute("PRAGMA journal_mode=WAL")
                return cls(home, conn, new=new, persistent=True)
            except sqlite3.Error as exc:
                if conn is not None:
                    conn.close()
                if attempt == 1 and _is_corruption(exc):
                    logger.warning(
                        "The catalog %s is corrupt (%s): rebuilding it from the files", path, exc
                    )
                    _discard(path)
                    continue
                logger.debug("No catalog in %s (%s): working from the files", home, exc)
                return None
        return None

    @classmethod
    def in_memory(cls, home: Path) -> Catalog:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        cls._ensure_schema(conn)
        return cls(home, conn, new=True, persistent=False)

    @classmethod
    def open_or_memory(cls, home: Path) -> Catalog:
        return cls.open(home) or cls.in_memory(home)

    @staticmethod
    def _ensure_schema(conn: sqlite3.Connection) -> bool:
        if conn.execute("PRAGMA user_version").fetchone()[0] == CATALOG_VERSION:
            conn.execute("SELECT 1 FROM sessions LIMIT 1").fetchall()  # readable at all?
            return False
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] != CATALOG_VERSION:
                conn.execute("DROP TABLE IF EXISTS sessions")
                conn.execute("DROP TABLE IF EXISTS generation")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {CATALOG_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return True

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            if self.persistent and _is_corruption(exc):
                logger.warning(
                    "The catalog in %s is corrupt (%s): it will be rebuilt", self.home, exc
                )
                _discard(self.home / CATALOG_NAME)
            raise CatalogError(str(exc)) from exc

    # reading -------------------------------------------------------------------------
    def key_of(self, rel: str) -> FileKey | None:
        with self._guard():
            row = self.conn.execute(
                "SELECT inode, size, mtime_ns FROM sessions WHERE path = ?", (rel,)
            ).fetchone()
        return FileKey(*row) if row else None

    def rows(self) -> tuple[list[tuple], dict[str, tuple]]:
        """Every row, newest session first, and each row's file key by path."""
        with self._guard():
            if not self.persistent:
                rows = self.conn.execute(f"SELECT * FROM sessions {_ORDER}").fetchall()
                return rows, {r[0]: r[1:4] for r in rows}
            path = str(self.home / CATALOG_NAME)
            self.conn.execute("BEGIN")  # one snapshot for the generation and the rows
            try:
                # The row count too: a catalog emptied by hand (not by us) is caught.
                generation = self.conn.execute(
                    "SELECT n, (SELECT count(*) FROM sessions) FROM generation"
                ).fetchone()
                inode = os.stat(path).st_ino
                cached = _rows_cache.get(path)
                if cached is not None and cached[:2] == (inode, generation):
                    return cached[2], cached[3]
                rows = self.conn.execute(f"SELECT * FROM sessions {_ORDER}").fetchall()
            finally:
                self.conn.execute("COMMIT")
        keys = {r[0]: r[1:4] for r in rows}
        _rows_cache[path] = (inode, generation, rows, keys)
        return rows, keys

    def listing(
        self, rows: list[tuple], *, include_deleted: bool
    ) -> tuple[list[SessionRecord], list[StoreProblem]]:
        """The records and the problems of ``rows`` (from :meth:`rows`)."""
        home = self.home
        paths = path_cache(home)
        records = [
            record_of(home, r, paths)
            for r in rows
            if r[17] is None and (include_deleted or r[15] is None)  # problem, deleted_at
        ]
        problems = [StoreProblem(home / r[0], r[17]) for r in rows if r[17] is not None]
        return records, problems

    def find(self, query: str) -> list[SessionRecord]:
        """Records whose id starts with ``query`` (not case-sensitive), newest first."""
        q = query.casefold()
        with self._guard():
            rows = self.conn.execute(
                "SELECT * FROM sessions WHERE problem IS NULL AND id_key >= ? "
                f"AND substr(id_key, 1, ?) = ? {_ORDER}",
                (q, len(q), q),
            ).fetchall()
        return [record_of(self.home, r) for r in rows]

    def at(self, rel: str) -> SessionRecord | None:
        with self._guard():
            row = self.conn.execute(
                "SELECT * FROM sessions WHERE path = ? AND problem IS NULL", (rel,)
            ).fetchone()
        return record_of(self.home, row) if row else None

    def sample(self, *, deleted: bool | None, limit: int) -> tuple[list[SessionRecord], int]:
        """Up to ``limit`` records (live, deleted or any), newest first, and how many there are."""
        where = "problem IS NULL"
        if deleted is not None:
            where += " AND deleted_at IS NOT NULL" if deleted else " AND deleted_at IS NULL"
        with self._guard():
            count = self.conn.execute(f"SELECT count(*) FROM sessions WHERE {where}").fetchone()[0]
            rows = self.conn.execute(
                f"SELECT * FROM sessions WHERE {where} {_ORDER} LIMIT ?", (limit,)
            ).fetchall()
        return [record_of(self.home, r) for r in rows], count

    # writing -------------------------------------------------------------------------
    def apply(self, remove: Iterable[str] = (), put: Iterable[tuple] = ()) -> None:
        """Remove the rows of ``remove``, insert or replace the rows ``put``: one transaction."""
        remove, put = list(remove), list(put)
        if not remove and not put:
            return
        marks = ", ".join("?" * len(COLUMNS))
        with self._guard():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany("DELETE FROM sessions WHERE path = ?", [(r,) for r in remove])
                self.conn.executemany(f"INSERT OR REPLACE INTO sessions VALUES ({marks})", put)
                self.conn.execute("UPDATE generation SET n = n + 1")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def note(
        self, path: Path, payload: dict[str, Any] | None, *, removed: Iterable[Path] = ()
    ) -> None:
        """Record that ``path`` now holds ``payload`` (just written) and ``removed`` are gone."""
        rels = [r for r in (relative(self.home, p) for p in removed) if r]
        rel = relative(self.home, path)
        key = file_key(path)
        puts = (
            [row_for(self.home, rel, key, payload)] if rel and key and payload is not None else []
        )
        self.apply(rels, puts)

"""The store's SQLite catalog, and what the store never loses: one file per session,
no leftovers of killed saves, long names."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import railtracks_nb as rt
from railtracks_nb.store import catalog_refresh as catalog_module
from railtracks_nb.store import changes as store_module
from railtracks_nb.store.catalog import CATALOG_NAME
from tests.helpers import lock_seen_from_another_process

pytestmark = pytest.mark.timeout(180)

REPO = Path(__file__).resolve().parents[2]



@rt.function_node
def catalog_leaf(x):
    return x * 2


def saved(name, **options):
    options.setdefault("logging_setting", "NONE")
    flow = rt.Flow(name, catalog_leaf, **options)
    flow.invoke(1)
    return flow.last_session


def count_reads(monkeypatch):
    """Count the files the store parses (listing and changes alike)."""
    reads: list[str] = []
    for module in (catalog_module, store_module):
        original = module.read_payload_and_key

        def counted(path, _original=original):
            reads.append(Path(path).name)
            return _original(path)

        monkeypatch.setattr(module, "read_payload_and_key", counted)
    return reads


def catalog_rows(home):
    with sqlite3.connect(home / CATALOG_NAME) as conn:
        conn.row_factory = sqlite3.Row
        return {row["path"]: dict(row) for row in conn.execute("SELECT * FROM sessions")}


# -- the catalog ------------------------------------------------------------------------------
def test_listing_and_tagging_read_only_the_files_that_changed(rt_home, monkeypatch):
    sessions = [saved(f"s{i}") for i in range(5)]
    assert len(rt.sessions()) == 5
    reads = count_reads(monkeypatch)
    assert len(rt.sessions()) == 5
    assert reads == []  # from the catalog: no file parsed
    rt.tag_session(sessions[2].identifier, project="q4")
    rt.rename_session(sessions[3].identifier, "renamed")
    assert reads == ["s2.json", "s3.json"]  # each change reads its own file only
    listed = rt.sessions()
    assert reads == ["s2.json", "s3.json"]  # and updated the catalog itself
    by_id = {r.session_id: r for r in listed}
    assert by_id[sessions[2].identifier].metadata == {"project": "q4"}
    assert by_id[sessions[3].identifier].name == "renamed"
    saved("s5")  # a closing session updates the catalog too
    assert len(rt.sessions()) == 6 and reads == ["s2.json", "s3.json"]


def test_the_catalog_holds_every_listed_field_and_the_file(rt_home):
    s = saved("fields", metadata={"k": "v"})
    rt.sessions()
    row = catalog_rows(rt_home)["fields.json"]
    assert row["session_id"] == s.identifier and row["name"] == "fields"
    assert row["flow_name"] == "fields" and row["status"] == "Completed"
    assert row["node_count"] == 1 and row["run_count"] == 1
    assert json.loads(row["metadata"]) == {"k": "v"}
    assert row["deleted_at"] is None and row["parent_id"] is None
    st = (rt_home / "fields.json").stat()
    assert (row["size"], row["mtime_ns"]) == (st.st_size, st.st_mtime_ns)
    with sqlite3.connect(rt_home / CATALOG_NAME) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_soft_delete_is_a_deleted_at_time(rt_home):
    s = saved("gone")
    before = time.time()
    record = rt.delete_session(s.identifier)
    assert record.deleted and before <= record.deleted_at <= time.time()
    row = catalog_rows(rt_home)[f".deleted/{s.identifier}.json"]
    assert row["deleted_at"] == pytest.approx(record.deleted_at)
    assert rt.sessions() == [] and rt.sessions(include_deleted=True)[0].deleted_at
    assert rt.restore_session(s.identifier).deleted_at is None


@pytest.mark.parametrize("damage", ["missing", "corrupt", "old version", "emptied"])
def test_a_missing_corrupt_or_old_catalog_is_rebuilt_from_the_files(rt_home, damage):
    for i in range(3):
        saved(f"s{i}")
    rt.tag_session(rt.sessions()[0].session_id, kept=1)
    expected = rt.sessions()
    db = rt_home / CATALOG_NAME
    if damage == "missing":
        db.unlink()
    elif damage == "corrupt":
        db.write_bytes(b"this is not a database" * 100)
    elif damage == "old version":
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA user_version = 0")
    else:
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM sessions")
    assert rt.sessions() == expected
    assert len(catalog_rows(rt_home)) == 3


def test_files_changed_behind_its_back_are_read_again(rt_home):
    a, b = saved("a"), saved("b")
    rt.sessions()
    edited = json.loads((rt_home / "a.json").read_text())
    edited["session_name"] = "edited by hand"
    (rt_home / "a.json").write_text(json.dumps(edited))  # in place: same inode
    copy = json.loads((rt_home / "b.json").read_text())
    copy["session_id"] = "copied-by-hand"
    (rt_home / "copy.json").write_text(json.dumps(copy))
    (rt_home / "b.json").unlink()
    listed = {r.session_id: r.name for r in rt.sessions()}
    assert listed == {a.identifier: "edited by hand", "copied-by-hand": "b"}
    assert rt.tag_session("copied", x=1).metadata == {"x": 1}
    with pytest.raises(rt.UnknownSessionError):
        rt.tag_session(b.identifier, x=1)


def test_a_session_copied_in_by_hand_is_found_by_id_without_a_listing(rt_home):
    saved("first")
    rt.sessions()
    payload = json.loads((rt_home / "first.json").read_text())
    payload["session_id"] = "handmade-0001"
    (rt_home / "handmade.json").write_text(json.dumps(payload))
    assert rt.tag_session("handmade", ok=True).path.name == "handmade.json"


def test_listing_parses_without_the_lock_so_a_save_never_waits_behind_it(rt_home, monkeypatch):
    saved("one")
    rt.sessions()
    (rt_home / "slow.json").write_text((rt_home / "one.json").read_text())  # to be parsed
    parsing, release = threading.Event(), threading.Event()
    original = catalog_module.read_payload_and_key

    def slow_read(path):
        parsing.set()
        assert release.wait(60)
        return original(path)

    monkeypatch.setattr(catalog_module, "read_payload_and_key", slow_read)
    listing = threading.Thread(target=rt.sessions)
    listing.start()
    try:
        assert parsing.wait(60)
        assert lock_seen_from_another_process(rt_home) == "free"
        saved("two")  # a session closes while the listing parses
    finally:
        release.set()
        listing.join(60)
    assert sorted(r.name for r in rt.sessions()) == ["one", "one", "two"]




# -- nothing lost ------------------------------------------------------------------------------
def test_a_renamed_session_saved_again_stays_one_file(rt_home):
    with rt.Session(name="draft", logging_setting="NONE") as s:
        rt.call_sync(catalog_leaf, 1)
    rt.tag_session(s.identifier, keep=1)
    rt.rename_session(s.identifier, "final")
    with s:  # the same session, closed again
        rt.call_sync(catalog_leaf, 2)
    assert sorted(p.name for p in rt_home.glob("*.json")) == ["final.json"]
    assert s.saved_path == rt_home / "final.json"
    record = rt.tag_session(s.identifier, more=2)  # no AmbiguousSessionError
    assert record.name == "final" and record.metadata == {"keep": 1, "more": 2}
    assert record.run_count == 2
    assert [r.session_id for r in rt.sessions()] == [s.identifier]


_KILLED_SAVE = textwrap.dedent(
    """
    import os, signal
    import railtracks_nb as rt

    @rt.function_node
    def work(x):
        return x

    # Die by SIGKILL in the middle of writing the saved file, as a kill -9 would.
    os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
    rt.Flow("victim", work, logging_setting="NONE").invoke(1)
    """
)


def test_temporary_files_of_killed_saves_are_removed_once_stale(rt_home, tmp_path):
    saved("alive")
    env = {**os.environ, "RAILTRACKS_HOME": str(rt_home)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_SAVE], env=env, cwd=tmp_path, timeout=120, check=False
    )
    assert proc.returncode == -9
    temps = list(rt_home.glob(".victim.json.*.tmp"))
    assert len(temps) == 1
    rt.sessions()
    assert temps[0].exists()  # fresh: it could be a save in progress
    old = time.time() - 3600
    os.utime(temps[0], (old, old))
    with _lock_held_elsewhere(rt_home):  # a save in progress in another process
        rt.sessions()
        assert temps[0].exists()
    rt.sessions()
    assert not temps[0].exists()
    assert [r.name for r in rt.sessions()] == ["alive"]


class _lock_held_elsewhere:
    """Hold the store's lock from another process for the duration of a ``with``."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __enter__(self):
        code = (
            "import fcntl, os, sys\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(self.home / ".railtracks.lock")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "locked"
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(60)


@pytest.mark.parametrize(
    "name", ["漢" * 75, "😀" * 60, "é" * 150, "名前" * 200], ids=["cjk", "emoji", "accents", "long"]
)
def test_rename_to_a_name_too_long_for_the_file_system(rt_home, name):
    s = saved("short")
    other = saved("other")
    record = rt.rename_session(s.identifier, name)
    assert record.name == name and record.path.exists()
    assert len(record.path.name.encode()) <= 255
    assert rt.load(record.path).name == name
    # A long name is one file, as a short one is: another session cannot take it...
    with pytest.raises(rt.SessionStoreError, match="already at"):
        rt.rename_session(other.identifier, name)
    # ...but a different long name that the cut would make the same gets its own file.
    twin = rt.rename_session(other.identifier, name + "!")
    assert twin.path != record.path and record.path.exists()
    assert sorted(r.name for r in rt.sessions()) == sorted([name, name + "!"])


def test_a_copied_store_keeps_working(rt_home, tmp_path):
    saved("x")
    rt.sessions()
    copy = tmp_path / "copy"
    shutil.copytree(rt_home, copy)  # the catalog's paths are relative to its folder
    listed = rt.sessions(home=copy)
    assert [r.path for r in listed] == [copy / "x.json"]

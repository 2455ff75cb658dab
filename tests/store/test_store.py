"""The session store: listing, rename, tag, soft delete, id prefixes, remix, two processes."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import railtracks_nb as rt
from railtracks_nb.core.exceptions import (
    AmbiguousSessionError,
    ConfigError,
    RemixError,
    SessionLookupError,
    SessionStoreError,
    UnknownSessionError,
)
from railtracks_nb.engine.registry import find_node_type
from railtracks_nb.engine.remix import remix_name
from railtracks_nb.store.catalog import CATALOG_NAME
from railtracks_nb.store.persistence import save_payload
from railtracks_nb.store.sessions import SessionList, SessionRecord
from tests.helpers import lock_seen_from_another_process

REPO = Path(__file__).resolve().parents[2]
_SAMPLE_NAME = "railtracks_saved_session_sample.json"
SAMPLE = REPO / "tests" / "data" / "reference" / _SAMPLE_NAME



@rt.function_node
def store_leaf(x):
    return x + 1


@rt.function_node
async def store_entry(x):
    """The entry node of most sessions here: calls a leaf, reads the context."""
    return {"value": await rt.call(store_leaf, x), "user": rt.context.get("user", None)}


@rt.function_node
async def store_other_entry(x):
    return {"other": x, "user": rt.context.get("user", None)}


@rt.function_node
async def store_fails(x):
    raise ValueError("no")


def run_flow(name, entry=store_entry, arg=1, **options):
    """Run a flow once (saving it) and return the session it ran in."""
    options.setdefault("logging_setting", "NONE")
    flow = rt.Flow(name, entry, **options)
    flow.invoke(arg)
    return flow.last_session


def fake_payload(session_id, name, start, *, runs=None, extras=None):
    """A minimal valid saved session, for tests that need exact ids or times."""
    payload = {
        "session_id": session_id,
        "session_name": name,
        "start_time": start,
        "end_time": start + 1.0,
        "runs": runs or [],
    }
    if extras is not None:
        payload["railtracks_nb"] = extras
    return payload


def read(path):
    return json.loads(Path(path).read_text())


def copy_sample(home) -> Path:
    target = home / "data" / "sessions" / SAMPLE.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE, target)
    return target


# -- listing ----------------------------------------------------------------------------------
def test_no_folder_means_no_sessions_and_nothing_created(rt_home):
    listed = rt.sessions()
    assert isinstance(listed, SessionList) and list(listed) == []
    assert "No saved sessions" in repr(listed)
    assert "No saved sessions" in listed._repr_html_()
    assert not rt_home.exists()


def test_a_saved_session_is_listed_with_its_fields(rt_home):
    session = run_flow("alpha", metadata={"project": "q4"})
    [record] = rt.sessions()
    assert isinstance(record, SessionRecord)
    assert record.session_id == session.identifier
    assert record.name == "alpha" and record.flow_name == "alpha"
    assert record.start_time <= record.end_time
    assert record.status == "Completed"
    assert record.node_count == 2 and record.run_count == 1
    assert record.metadata == {"project": "q4"}
    assert record.parent_id is None and record.deleted is False
    assert record.path == rt_home / "alpha.json" and record.source == "ours"
    assert record.load().session_id == session.identifier
    assert record in {record}  # records are hashable, though metadata is a dict


def test_failed_status_is_listed(rt_home):
    with pytest.raises(ValueError):
        run_flow("broken", entry=store_fails)
    [record] = rt.sessions()
    assert record.status == "Failed" and record.node_count == 1


def test_newest_first(rt_home):
    for sid, name, start in [("id-a", "a", 100.0), ("id-c", "c", 300.0), ("id-b", "b", 200.0)]:
        save_payload(fake_payload(sid, name, start), name)
    assert [r.name for r in rt.sessions()] == ["c", "b", "a"]
    assert [r.start_time for r in rt.sessions()] == [300.0, 200.0, 100.0]


def test_railtracks_saved_sessions_are_listed_and_load(rt_home):
    path = copy_sample(rt_home)
    run_flow("ours")
    listed = rt.sessions()
    theirs = [r for r in listed if r.source == "railtracks"]
    sample = read(SAMPLE)
    [record] = theirs
    assert record.session_id == sample["session_id"]
    assert record.name == "peer-demo"  # no session_name: the flow name
    assert record.path == path and record.status == "Completed"
    node_ids = {n["identifier"] for run in sample["runs"] for n in run["nodes"]}
    assert record.node_count == len(node_ids) == 9
    loaded = rt.load(record.path)
    assert loaded.session_id == sample["session_id"] and len(loaded) == 9
    assert len(record.load()) == 9
    assert {r.source for r in listed} == {"ours", "railtracks"}


def test_unreadable_files_are_skipped_with_a_warning(rt_home, caplog):
    run_flow("good")
    (rt_home / "corrupt.json").write_text("{not json")
    (rt_home / "foreign.json").write_text(json.dumps({"hello": "world"}))
    with caplog.at_level(logging.WARNING, logger="RT.Store"):
        listed = rt.sessions()
    assert [r.name for r in listed] == ["good"]
    text = caplog.text
    assert "corrupt.json" in text and "foreign.json" in text


def test_text_and_html_tables(rt_home):
    save_payload(
        fake_payload("id-xss", "<b>bold</b> & co", 50.0, extras={"metadata": {"k": "<i>"}}),
        "xss",
    )
    run_flow("plain", metadata={"team": "ml"})
    listed = rt.sessions()
    text = repr(listed)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["name", "id", "started"]
    assert lines[2].startswith("plain") and "Completed" in lines[2] and 'team="ml"' in lines[2]
    assert "<b>bold</b> & co" in lines[3]
    page = listed._repr_html_()
    assert page.startswith("<table") and page.count("<tr") == 3
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page and "<b>bold" not in page
    assert "&lt;i&gt;" in page and "<i>" not in page
    assert f"title='{listed[0].session_id}'" in page  # the full id on hover
    assert "plain" in repr(listed[0]) and listed[0].session_id in repr(listed[0])


# -- rename -----------------------------------------------------------------------------------
def test_rename_moves_the_file_and_sets_the_name(rt_home):
    session = run_flow("draft")
    record = rt.rename_session(session.identifier[:8], "final")
    assert record.name == "final" and record.path == rt_home / "final.json"
    assert not (rt_home / "draft.json").exists()
    assert read(rt_home / "final.json")["session_name"] == "final"
    assert [r.name for r in rt.sessions()] == ["final"]
    assert rt.load(record.path).name == "final"
    # A new session saved under the old name does not touch the renamed one.
    run_flow("draft")
    assert sorted(r.name for r in rt.sessions()) == ["draft", "final"]


def test_rename_onto_another_session_is_refused(rt_home):
    a = run_flow("one")
    run_flow("two")
    before = (rt_home / "two.json").read_text()
    with pytest.raises(SessionStoreError, match="two"):
        rt.rename_session(a.identifier, "two")
    assert (rt_home / "one.json").exists() and (rt_home / "two.json").read_text() == before


def test_rename_to_an_empty_name_is_refused(rt_home):
    a = run_flow("keep")
    with pytest.raises(ValueError, match="non-empty"):
        rt.rename_session(a.identifier, "  ")
    assert [r.name for r in rt.sessions()] == ["keep"]


def test_rename_a_railtracks_file_in_place(rt_home):
    path = copy_sample(rt_home)
    record = rt.rename_session(read(SAMPLE)["session_id"], "renamed peer")
    assert record.path == path and record.source == "railtracks"
    assert read(path)["session_name"] == "renamed peer"
    assert rt.load(path).name == "renamed peer"


# -- tag ---------------------------------------------------------------------------------------
def test_tag_merges_and_none_removes(rt_home):
    session = run_flow("tagged", metadata={"project": "q4", "owner": "ann"})
    record = rt.tag_session(session.identifier, priority="high", score=0.5, owner=None)
    assert record.metadata == {"project": "q4", "priority": "high", "score": 0.5}
    assert read(rt_home / "tagged.json")["railtracks_nb"]["metadata"] == record.metadata
    assert rt.sessions()[0].metadata == record.metadata
    # Other extras are untouched.
    assert read(rt_home / "tagged.json")["railtracks_nb"]["flow_name"] == "tagged"


def test_tag_accepts_a_record_and_any_key(rt_home):
    run_flow("rec")
    [record] = rt.sessions()
    updated = rt.tag_session(record, session="s", home="h", name="n")
    assert updated.metadata == {"session": "s", "home": "h", "name": "n"}


def test_tag_with_a_non_json_value_changes_nothing(rt_home):
    session = run_flow("strict")
    before = (rt_home / "strict.json").read_text()
    with pytest.raises(TypeError, match="when"):
        rt.tag_session(session.identifier, ok=1, when=object())
    assert (rt_home / "strict.json").read_text() == before


def test_tag_a_railtracks_file_keeps_it_loadable(rt_home):
    path = copy_sample(rt_home)
    rt.tag_session(read(SAMPLE)["session_id"][:6], reviewed=True)
    data = read(path)
    assert data["railtracks_nb"]["metadata"] == {"reviewed": True}
    assert {k: v for k, v in data.items() if k != "railtracks_nb"} == read(SAMPLE)
    assert len(rt.load(path)) == 9
    assert [r.metadata for r in rt.sessions()] == [{"reviewed": True}]


# -- soft delete / restore ---------------------------------------------------------------------
def test_delete_hides_keeps_and_restore_brings_back(rt_home):
    session = run_flow("gone", metadata={"x": 1})
    sid = session.identifier
    original = read(rt_home / "gone.json")

    deleted = rt.delete_session(sid[:10])
    assert deleted.deleted is True and deleted.session_id == sid
    assert not (rt_home / "gone.json").exists()
    assert deleted.path.parent == rt_home / ".deleted" and deleted.path.exists()
    assert rt.sessions() == []
    [listed] = rt.sessions(include_deleted=True)
    assert listed.deleted is True and listed.session_id == sid and listed.metadata == {"x": 1}
    assert "(deleted)" in repr(rt.sessions(include_deleted=True))
    assert rt.load(deleted.path).session_id == sid  # kept whole

    with pytest.raises(UnknownSessionError, match="deleted"):
        rt.delete_session(sid)

    restored = rt.restore_session(sid)
    assert restored.deleted is False and restored.path == rt_home / "gone.json"
    assert read(restored.path) == original  # the deletion marks are gone again
    assert [r.session_id for r in rt.sessions()] == [sid]
    assert not list((rt_home / ".deleted").glob("*.json"))

    with pytest.raises(UnknownSessionError, match="not deleted"):
        rt.restore_session(sid)


def test_a_new_session_never_overwrites_a_deleted_one(rt_home):
    first = run_flow("daily")
    rt.delete_session(first.identifier)
    second = run_flow("daily")
    assert [r.session_id for r in rt.sessions()] == [second.identifier]
    all_ids = {r.session_id for r in rt.sessions(include_deleted=True)}
    assert all_ids == {first.identifier, second.identifier}
    # Restoring next to the new one keeps both.
    restored = rt.restore_session(first.identifier)
    assert restored.path == rt_home / "daily-restored.json"
    assert read(rt_home / "daily.json")["session_id"] == second.identifier
    assert {r.session_id for r in rt.sessions()} == all_ids


def test_delete_and_restore_a_railtracks_file_gives_it_back_unchanged(rt_home):
    path = copy_sample(rt_home)
    sid = read(SAMPLE)["session_id"]
    deleted = rt.delete_session(sid)
    assert not path.exists() and deleted.source == "railtracks"
    assert rt.sessions() == []
    restored = rt.restore_session(sid[:4])
    assert restored.path == path and restored.source == "railtracks"
    assert read(path) == read(SAMPLE)


def test_rename_a_deleted_session_restores_under_the_new_name(rt_home):
    session = run_flow("old name")
    rt.delete_session(session.identifier)
    renamed = rt.rename_session(session.identifier, "new name")
    assert renamed.deleted is True and renamed.name == "new name"
    restored = rt.restore_session(session.identifier)
    assert restored.path == rt_home / "new name.json" and restored.name == "new name"


# -- naming a session ------------------------------------------------------------------------
def _two_close_ids():
    save_payload(fake_payload("abc111-x", "first", 1.0), "first")
    save_payload(fake_payload("abc222-y", "second", 2.0), "second")


def test_unique_prefix_full_id_and_case(rt_home):
    _two_close_ids()
    assert rt.tag_session("abc1", n=1).name == "first"
    assert rt.tag_session("ABC2", n=2).name == "second"
    assert rt.tag_session("abc111-x", n=3).metadata == {"n": 3}


def test_ambiguous_prefix_lists_the_candidates(rt_home):
    _two_close_ids()
    with pytest.raises(AmbiguousSessionError) as info:
        rt.rename_session("abc", "x")
    message = str(info.value)
    assert "abc111-x" in message and "abc222-y" in message and "first" in message
    assert isinstance(info.value, LookupError) and isinstance(info.value, SessionLookupError)
    assert {r.session_id for r in info.value.candidates} == {"abc111-x", "abc222-y"}
    assert sorted(r.name for r in rt.sessions()) == ["first", "second"]  # nothing renamed


@pytest.mark.parametrize("op", ["rename", "tag", "delete", "restore", "remix"])
def test_unknown_id_is_a_clear_error_listing_what_exists(rt_home, op):
    _two_close_ids()
    calls = {
        "rename": lambda: rt.rename_session("zzz", "x"),
        "tag": lambda: rt.tag_session("zzz", a=1),
        "delete": lambda: rt.delete_session("zzz"),
        "restore": lambda: rt.restore_session("zzz"),
        "remix": lambda: rt.remix("zzz", entry_point=store_entry),
    }
    with pytest.raises(UnknownSessionError, match="'zzz'") as info:
        calls[op]()
    assert isinstance(info.value, LookupError)
    if op != "restore":  # restore lists the deleted sessions, of which there are none
        assert "abc111-x" in str(info.value) and "abc222-y" in str(info.value)


def test_empty_id_and_empty_store(rt_home):
    with pytest.raises(UnknownSessionError, match="no saved sessions"):
        rt.tag_session("abc", a=1)
    _two_close_ids()
    with pytest.raises(UnknownSessionError, match="empty"):
        rt.delete_session("")


def test_one_id_in_two_files_needs_the_record_or_path(rt_home):
    save_payload(fake_payload("dup-id", "copy one", 1.0), "copy one")
    save_payload(fake_payload("dup-id", "copy two", 2.0), "copy two")
    with pytest.raises(AmbiguousSessionError, match="2 files"):
        rt.tag_session("dup-id", a=1)
    by_path = rt.tag_session(rt_home / "copy one.json", a=1)
    assert by_path.name == "copy one" and by_path.metadata == {"a": 1}
    record = next(r for r in rt.sessions() if r.name == "copy two")
    assert rt.delete_session(record).name == "copy two"
    assert [r.name for r in rt.sessions()] == ["copy one"]


# -- remix ----------------------------------------------------------------------------------------
def _parent(name="base"):
    return run_flow(
        name,
        context={"user": "ann", "depth": 2},
        timeout=7,
        end_on_error=True,
        logging_setting="QUIET",
        prompt_injection=False,
        metadata={"project": "p1"},
    )


def test_remix_inherits_name_context_config_metadata_and_entry(rt_home):
    parent = _parent()
    flow = rt.remix(parent.identifier[:8])
    assert isinstance(flow, rt.Flow)
    assert flow.name == "base (remix)"
    assert flow.context == {"user": "ann", "depth": 2}
    options = flow.options
    assert options["timeout"] == 7 and options["end_on_error"] is True
    assert options["logging_setting"] == "QUIET" and options["prompt_injection"] is False
    assert options["save_state"] is True
    assert flow.metadata == {"project": "p1"}
    assert flow.parent_id == parent.identifier
    assert flow.entry_point is store_entry.node_type

    assert flow.invoke(10) == {"value": 11, "user": "ann"}
    child = flow.last_session
    saved = read(rt_home / "base (remix).json")
    assert saved["railtracks_nb"]["parent_id"] == parent.identifier
    assert saved["railtracks_nb"]["config"]["timeout"] == 7
    by_id = {r.session_id: r for r in rt.sessions()}
    assert by_id[child.identifier].parent_id == parent.identifier
    assert by_id[child.identifier].name == "base (remix)"
    assert by_id[parent.identifier].parent_id is None


def test_remix_names_count_up_and_never_stack(rt_home):
    parent = _parent()
    first = rt.remix(parent.identifier)
    first.invoke(1)
    second = rt.remix(parent.identifier)
    assert second.name == "base (remix 2)"
    second.invoke(1)
    # A remix of a remix counts on from the base name.
    third = rt.remix(first.last_session.identifier)
    assert third.name == "base (remix 3)"
    assert third.parent_id == first.last_session.identifier
    assert remix_name("x (remix 7)", rt_home) == "x (remix)"


@pytest.mark.parametrize(
    ("override", "check"),
    [
        ({"name": "mine"}, lambda f: f.name == "mine"),
        ({"context": {"user": "bob"}}, lambda f: f.context == {"user": "bob"}),
        ({"timeout": 3.5}, lambda f: f.options["timeout"] == 3.5),
        ({"end_on_error": False}, lambda f: f.options["end_on_error"] is False),
        ({"logging_setting": "VERBOSE"}, lambda f: f.options["logging_setting"] == "VERBOSE"),
        ({"save_state": False}, lambda f: f.options["save_state"] is False),
        ({"prompt_injection": True}, lambda f: f.options["prompt_injection"] is True),
        ({"log_file": "remix.log"}, lambda f: f.options["log_file"] == "remix.log"),
        ({"metadata": {"k": "v"}}, lambda f: f.metadata == {"k": "v"}),
        ({"entry_point": store_other_entry}, lambda f: f.entry_point is store_other_entry),
        (
            {"broadcast_callback": print},
            lambda f: f.options["broadcast_callback"] is print,
        ),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else "",
)
def test_each_remix_override(rt_home, override, check):
    parent = _parent()
    flow = rt.remix(parent.identifier, **override)
    assert check(flow)
    assert flow.parent_id == parent.identifier
    # Everything not overridden is still inherited.
    inherited = {
        "name": ("base (remix)", lambda f: f.name),
        "context": ({"user": "ann", "depth": 2}, lambda f: f.context),
        "timeout": (7, lambda f: f.options["timeout"]),
        "end_on_error": (True, lambda f: f.options["end_on_error"]),
        "metadata": ({"project": "p1"}, lambda f: f.metadata),
        "entry_point": (store_entry.node_type, lambda f: f.entry_point),
    }
    for key, (value, get) in inherited.items():
        if key not in override:
            assert get(flow) == value, key


def test_remix_context_override_replaces_and_update_context_merges(rt_home):
    parent = _parent()
    assert rt.remix(parent.identifier, context={"user": "bob"}).context == {"user": "bob"}
    merged = rt.remix(parent.identifier).update_context({"user": "bob"})
    assert merged.context == {"user": "bob", "depth": 2}
    assert merged.parent_id == parent.identifier
    assert merged.invoke(0)["user"] == "bob"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"timeout": -1}, "timeout"),
        ({"logging_setting": "LOUD"}, "logging_setting"),
        ({"end_on_error": "maybe"}, "end_on_error"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_remix_override_names_the_field(rt_home, override, field):
    parent = _parent()
    with pytest.raises(ConfigError, match=field):
        rt.remix(parent.identifier, **override)


def test_remix_with_an_unknown_entry_node_asks_for_entry_point(rt_home):
    runs = [
        {
            "run_id": "r1",
            "name": "ghost_node_nobody_defined",
            "status": "Completed",
            "nodes": [],
            "edges": [],
            "steps": [],
        }
    ]
    save_payload(fake_payload("ghost-1", "ghost", 5.0, runs=runs), "ghost")
    with pytest.raises(RemixError, match="entry_point") as info:
        rt.remix("ghost-1")
    assert "ghost_node_nobody_defined" in str(info.value) and isinstance(info.value, LookupError)
    flow = rt.remix("ghost-1", entry_point=store_other_entry)
    assert flow.invoke(3) == {"other": 3, "user": None}


def test_remix_without_runs_asks_for_entry_point(rt_home):
    save_payload(fake_payload("empty-1", "empty", 5.0), "empty")
    with pytest.raises(RemixError, match="no runs"):
        rt.remix("empty-1")


def test_remix_a_railtracks_session(rt_home):
    copy_sample(rt_home)
    sid = read(SAMPLE)["session_id"]
    flow = rt.remix(sid, entry_point=store_entry)
    assert flow.name == "peer-demo (remix)" and flow.context == {}
    assert flow.parent_id == sid
    flow.invoke(1)
    child = next(r for r in rt.sessions() if r.source == "ours")
    assert child.parent_id == sid and child.name == "peer-demo (remix)"


def test_entry_node_lookup_takes_the_newest_redefinition_and_refuses_clashes():
    def define():
        @rt.function_node(name="store_redefined")
        def step():
            return 1

        return step

    define()
    newest = define()
    assert find_node_type("store_redefined") is newest.node_type

    @rt.function_node(name="store_clash")
    def one():
        return 1

    @rt.function_node(name="store_clash")
    def two():
        return 2

    with pytest.raises(RemixError, match="Several"):
        find_node_type("store_clash")
    with pytest.raises(RemixError, match="No node type"):
        find_node_type("store_never_defined")


# -- two processes at once ---------------------------------------------------------------------
_WORKER = textwrap.dedent(
    """
    import os, sys, time
    import railtracks_nb as rt

    tag, shared_id, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

    @rt.function_node
    def work(i):
        return i * 2

    while not os.path.exists(go):  # start together
        time.sleep(0.005)
    for i in range(count):
        rt.Flow(f"{tag}-{i}", work, logging_setting="NONE").invoke(i)
        rt.tag_session(shared_id, **{f"{tag}_{i}": i})
        # Both processes also keep overwriting one common name, and list the store.
        rt.Flow("common", work, logging_setting="NONE").invoke(i)
        assert len(rt.sessions()) >= i + 2
    print("done", tag)
    """
)


def test_two_processes_saving_and_tagging_at_once_lose_nothing(rt_home, tmp_path):
    shared = run_flow("shared")
    go = tmp_path / "go"
    count = 25
    env = {**os.environ, "RAILTRACKS_HOME": str(rt_home)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, tag, shared.identifier, str(count), str(go)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("p", "q")
    ]
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert out.startswith("done"), (out, err)

    files = sorted(
        p
        for p in rt_home.rglob("*")
        if p.is_file() and p.name != ".railtracks.lock" and not p.name.startswith(CATALOG_NAME)
    )
    leftovers = [p.name for p in files if p.suffix != ".json"]
    assert leftovers == []  # no temporary files left behind
    for path in files:
        read(path)  # every file is whole, valid JSON
    expected = {f"{t}-{i}" for t in "pq" for i in range(count)} | {"shared", "common"}
    listed = rt.sessions()
    assert {r.name for r in listed} == expected
    assert len(listed) == len(expected)
    tags = next(r for r in listed if r.session_id == shared.identifier).metadata
    assert tags == {f"{t}_{i}": i for t in "pq" for i in range(count)}  # no lost update
    # The catalog the two processes kept says what the files say.
    (rt_home / CATALOG_NAME).unlink()
    assert rt.sessions() == listed


# -- the lock ------------------------------------------------------------------------------------


def _spy_writes(monkeypatch, module, home, seen, name="atomic_write_text"):
    original = getattr(module, name)

    def write(path, data):
        seen.append(lock_seen_from_another_process(home))
        original(path, data)

    monkeypatch.setattr(module, name, write)


def test_saving_and_every_store_write_hold_the_inter_process_lock(rt_home, monkeypatch):
    from railtracks_nb.store import changes as store
    from railtracks_nb.store import persistence

    seen: list[str] = []
    _spy_writes(monkeypatch, persistence, rt_home, seen, "atomic_write_chunks")
    _spy_writes(monkeypatch, store, rt_home, seen)
    session = run_flow("locked")
    assert seen == ["held"]  # the session's own save
    rt.tag_session(session.identifier, a=1)
    rt.rename_session(session.identifier, "locked2")
    rt.delete_session(session.identifier)
    rt.restore_session(session.identifier)
    assert seen == ["held"] * 5
    assert lock_seen_from_another_process(rt_home) == "free"  # and released afterwards


def test_the_lock_nests_in_a_thread_and_refuses_upgrades(tmp_path):
    from railtracks_nb.store.locking import store_lock

    with store_lock(tmp_path):
        with store_lock(tmp_path), store_lock(tmp_path, shared=True):
            assert lock_seen_from_another_process(tmp_path) == "held"
        assert lock_seen_from_another_process(tmp_path) == "held"
    assert lock_seen_from_another_process(tmp_path) == "free"
    with store_lock(tmp_path, shared=True):
        with pytest.raises(RuntimeError, match="upgrade"), store_lock(tmp_path):
            pass

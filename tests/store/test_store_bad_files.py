"""One bad file never breaks the store: it is skipped, reported, and never hangs anything."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

import railtracks_nb as rt
from railtracks_nb.core.exceptions import SavedStateError, SessionStoreError

pytestmark = pytest.mark.timeout(120)

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
SAMPLE = REFERENCE / "railtracks_saved_session_sample.json"



@rt.function_node
def bad_files_leaf(x):
    return x + 1


def good_session(name="good", **options):
    """A saved session of ours, to check that the store still works around a bad file."""
    options.setdefault("logging_setting", "NONE")
    flow = rt.Flow(name, bad_files_leaf, **options)
    flow.invoke(1)
    return flow.last_session


def exercise_the_store(session_id):
    """Every store operation on a good session works next to the bad file."""
    assert rt.tag_session(session_id, checked=True).metadata == {"checked": True}
    assert rt.rename_session(session_id, "good renamed").name == "good renamed"
    assert rt.delete_session(session_id).deleted
    assert not rt.restore_session(session_id).deleted
    flow = rt.remix(session_id)
    assert flow.parent_id == session_id


def assert_skipped_and_reported(listed, bad: Path):
    assert [p.path.name for p in listed.problems] == [bad.name]
    assert bad.name in repr(listed) and "skipped" in repr(listed)
    assert bad.name in listed._repr_html_()


def _deep(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "content",
    [
        _deep(),
        '{"session_id": "deep", "start_time": 1.0, "end_time": 2.0, "runs": [], "x": '
        + _deep()
        + "}",
    ],
    ids=["deep-array", "deep-inside-a-session"],
)
def test_json_nested_too_deeply_is_skipped_and_load_says_why(rt_home, content):
    good = good_session()
    bad = rt_home / "deep.json"
    bad.write_text(content)
    listed = rt.sessions()
    assert [r.session_id for r in listed] == [good.identifier]
    assert_skipped_and_reported(listed, bad)
    assert "nested too deeply" in listed.problems[0].reason
    exercise_the_store(good.identifier)
    with pytest.raises(SavedStateError, match="nested too deeply"):
        rt.load(bad)


def _session_text(session_id, start="1.0", node_identifier='"n1"'):
    return (
        f'{{"session_id": "{session_id}", "session_name": "{session_id}", '
        f'"start_time": {start}, "end_time": 2.0, "runs": [{{"run_id": "r", "name": "x", '
        '"status": "Completed", "start_time": 1.0, "end_time": 2.0, "edges": [], "steps": [], '
        f'"nodes": [{{"identifier": {node_identifier}, "node_type": "Tool", "name": "x", '
        '"stamp": {"step": 0, "time": 1.0, "identifier": "s"}}]}]}'
    )


@pytest.mark.parametrize(
    "text, reason",
    [
        (_session_text("huge-time", start="1e400"), "not a finite number"),
        (_session_text("list-id", node_identifier='["a", "b"]'), "identifier is list"),
    ],
    ids=["time-1e400", "list-node-identifier"],
)
def test_impossible_values_are_skipped_and_reported(rt_home, text, reason):
    good = good_session()
    bad = rt_home / "bad.json"
    bad.write_text(text)
    listed = rt.sessions(include_deleted=True)
    assert [r.session_id for r in listed] == [good.identifier]
    assert_skipped_and_reported(listed, bad)
    assert reason in listed.problems[0].reason
    exercise_the_store(good.identifier)
    with pytest.raises(rt.UnknownSessionError):  # the bad file is not a session of the store
        rt.tag_session(bad, x=1)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.timeout(60)
def test_a_fifo_named_json_never_hangs_listing_or_load(rt_home):
    good = good_session()
    fifo = rt_home / "x.json"
    os.mkfifo(fifo)
    listed = rt.sessions()  # would wait forever for a writer if the FIFO were opened blocking
    assert [r.session_id for r in listed] == [good.identifier]
    assert_skipped_and_reported(listed, fifo)
    assert "FIFO" in listed.problems[0].reason
    with pytest.raises(SavedStateError, match="FIFO"):
        rt.load(fifo)
    exercise_the_store(good.identifier)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.timeout(60)
def test_a_symlink_to_dev_zero_is_never_read(rt_home):
    good = good_session()
    link = rt_home / "zero.json"
    link.symlink_to("/dev/zero")
    listed = rt.sessions()
    assert [r.session_id for r in listed] == [good.identifier]
    assert_skipped_and_reported(listed, link)
    with pytest.raises(SavedStateError, match="device"):
        rt.load(link)


def test_a_file_larger_than_the_limit_is_not_read(rt_home, monkeypatch):
    from railtracks_nb.store import safe_read

    good = good_session()
    big = rt_home / "big.json"
    big.write_text(_session_text("big") + " " * 5000)
    monkeypatch.setattr(safe_read, "MAX_FILE_BYTES", 4000)
    listed = rt.sessions()
    assert [r.session_id for r in listed] == [good.identifier]
    assert_skipped_and_reported(listed, big)
    assert "MAX_FILE_BYTES" in listed.problems[0].reason
    with pytest.raises(SavedStateError, match="bytes"):
        rt.load(big)


def test_a_railtracks_file_with_nan_can_be_tagged_renamed_deleted_and_restored(rt_home):
    payload = json.loads(SAMPLE.read_text())
    payload["runs"][0]["edges"][0]["details"]["output"] = float("nan")
    target = rt_home / "data" / "sessions" / SAMPLE.name
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(payload))  # Python writes NaN, as Railtracks does
    session_id = payload["session_id"]
    assert rt.tag_session(session_id, score=1).metadata == {"score": 1}
    assert rt.rename_session(session_id, "with nan").name == "with nan"
    assert rt.delete_session(session_id).deleted
    restored = rt.restore_session(session_id)
    assert restored.path == target and restored.metadata == {"score": 1}
    loaded = rt.load(target)
    assert loaded.name == "with nan"
    assert "NaN" in target.read_text()  # the data is kept as it was


def test_tagging_a_file_outside_the_store_writes_nothing_there(rt_home, tmp_path):
    good = good_session()
    outside = tmp_path / "etc"
    outside.mkdir()
    victim = outside / "passwd.json"
    shutil.copyfile(good.saved_path, victim)
    before = victim.read_bytes()
    for call in (
        lambda: rt.tag_session(victim, owned=True),
        lambda: rt.tag_session(str(victim), owned=True),
    ):
        with pytest.raises(SessionStoreError, match="not in a session store"):
            call()
    with pytest.raises(rt.UnknownSessionError, match="not in the store"):
        rt.delete_session(victim)
    assert sorted(p.name for p in outside.iterdir()) == ["passwd.json"]  # no lock, no catalog
    assert victim.read_bytes() == before


def test_remix_never_inherits_a_path_from_the_saved_configuration(rt_home, tmp_path):
    good = good_session()
    victim = tmp_path / "victim.log"
    payload = json.loads(good.saved_path.read_text())
    payload["railtracks_nb"]["config"]["log_file"] = str(victim)  # a crafted file
    good.saved_path.write_text(json.dumps(payload))
    for ref in (good.identifier, good.saved_path):
        flow = rt.remix(ref, logging_setting="REGULAR")
        assert flow.options.get("log_file") is None
        assert flow.invoke(1) == 2
    assert not victim.exists()
    chosen = tmp_path / "chosen.log"
    flow = rt.remix(good.identifier, log_file=str(chosen), logging_setting="REGULAR")
    assert flow.options["log_file"] == str(chosen)
    flow.invoke(1)
    assert chosen.exists()


def test_tag_values_too_deep_or_too_large_raise_type_error_naming_the_key(rt_home):
    good = good_session()
    deep: list = []
    for _ in range(sys.getrecursionlimit() + 100):
        deep = [deep]
    before = good.saved_path.read_bytes()
    with pytest.raises(TypeError, match=r"deep_tag.*nested too deeply"):
        rt.tag_session(good.identifier, deep_tag=deep)
    with pytest.raises(TypeError, match="big_tag"):
        rt.tag_session(good.identifier, big_tag=10**5000)
    assert good.saved_path.read_bytes() == before


def test_a_str_path_names_a_file_like_a_path(rt_home, monkeypatch, tmp_path):
    good = good_session()
    as_str = str(good.saved_path)
    assert rt.find_session(as_str).session_id == good.identifier
    assert rt.tag_session(as_str, by="str").metadata == {"by": "str"}
    monkeypatch.chdir(rt_home)
    assert rt.find_session("good.json").session_id == good.identifier  # relative, too
    deleted = rt.delete_session("./good.json")
    assert rt.restore_session(str(deleted.path)).session_id == good.identifier
    assert rt.find_session(good.identifier[:6]).session_id == good.identifier  # ids stay ids


def test_a_catalog_that_is_a_symlink_is_never_written_through(rt_home, tmp_path):
    good = good_session()
    rt.sessions()
    outside = tmp_path / "elsewhere.db"
    outside.write_bytes(b"not yours")
    catalog = rt_home / ".railtracks-catalog.sqlite3"
    catalog.unlink()
    catalog.symlink_to(outside)
    assert [r.session_id for r in rt.sessions()] == [good.identifier]
    assert rt.tag_session(good.identifier, a=1).metadata == {"a": 1}
    assert outside.read_bytes() == b"not yours"
    assert not catalog.is_symlink()


def test_a_session_file_that_is_a_symlink_is_replaced_not_followed(rt_home, tmp_path):
    good = good_session()
    outside = tmp_path / "target.json"
    shutil.move(good.saved_path, outside)
    good.saved_path.symlink_to(outside)
    before = outside.read_bytes()
    assert rt.tag_session(good.saved_path, a=1).metadata == {"a": 1}
    assert outside.read_bytes() == before  # the link was replaced by a file in the store
    assert not good.saved_path.is_symlink()

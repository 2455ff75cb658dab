"""Saving to .railtracks/<name>.json and rt.load: schema, safe names, atomicity, errors."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jsonschema
import pytest

import railtracks_nb as rt
from railtracks_nb.store import files, loading
from tests.helpers import calling_each


@rt.function_node
async def leaf(x):
    if x == 3:
        raise ValueError("three is bad")
    return x * 2


top = calling_each(leaf, "top")


def _run(name: str | None = "saved", **options) -> rt.Session:
    with rt.Session(name=name, context={"user": "ada"}, **options) as s:
        rt.call_sync(top, 5)
    return s


def test_saved_file_validates_against_the_railtracks_schema(home, state_schema):
    s = _run()
    data = json.loads((home / "saved.json").read_text())
    jsonschema.validate(data, state_schema)
    assert data["session_id"] == s.identifier and data["session_name"] == "saved"
    extras = data["railtracks_nb"]
    assert extras["state"] == "IDLE" and extras["context"] == {"user": "ada"}
    assert extras["config"]["timeout"] == 150.0
    assert [h["new"] for h in extras["state_history"]] == ["READY", "BUSY", "READY", "IDLE"]


def test_graph_serialization_validates_too(state_schema):
    s = _run(save_state=False)
    jsonschema.validate(json.loads(s.info.graph_serialization()), state_schema)


def test_name_falls_back_to_flow_name_then_identifier(home):
    rt.Flow("Flow Name", entry_point=top).invoke(1)
    assert (home / "Flow Name.json").exists()
    s = _run(name=None)
    assert (home / f"{s.identifier}.json").exists()


def test_railtracks_home_env(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    monkeypatch.setenv("RAILTRACKS_HOME", str(target))
    _run()
    assert (target / "saved.json").exists()
    assert not (tmp_path / ".railtracks").exists()


@pytest.mark.parametrize(
    "name",
    ["../../escape", "/etc/passwd", "a/b\\c", "..", ".hidden", "con:name*?", "\x00nul", "  "],
)
def test_names_can_never_write_outside_the_home(home, tmp_path, name):
    _run(name=name)
    files = [p for p in tmp_path.rglob("*.json")]
    assert len(files) == 1
    assert files[0].parent == home
    assert not files[0].name.startswith(".")


def test_safe_filename_keeps_readable_names():
    assert files.safe_filename("my-unique-run") == "my-unique-run"
    assert files.safe_filename("Daily Report") == "Daily Report"
    assert files.safe_filename("../x") == "_x"
    assert ".." not in files.safe_filename("a..b")


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text('{"old": true}')

    def broken_replace(src, dst):
        raise KeyboardInterrupt  # an interrupt between writing and renaming

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_text(target, '{"new": true}')
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise here")
def test_a_long_write_asks_for_writeback_of_each_step_and_writes_every_byte(
    tmp_path, monkeypatch
):
    """Each WRITEBACK_STEP written is handed to the disk early (contiguous ranges,
    in order); the file is still exactly the pieces."""
    monkeypatch.setattr(files, "WRITEBACK_STEP", 1000)
    advised: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def spy(fd: int, offset: int, length: int, advice: int) -> None:
        advised.append((offset, length, advice))
        real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", spy)
    pieces = [bytes([65 + i % 26]) * (300 + 37 * i) for i in range(40)]
    files.atomic_write_chunks(tmp_path / "long.json", iter(pieces))
    assert (tmp_path / "long.json").read_bytes() == b"".join(pieces)
    assert len(advised) >= 20
    assert {advice for *_, advice in advised} == {os.POSIX_FADV_DONTNEED}
    ends = [offset + length for offset, length, _ in advised]
    assert [offset for offset, _, _ in advised] == [0, *ends[:-1]]  # contiguous
    assert all(length >= 1000 for _, length, _ in advised)
    assert ends[-1] <= sum(map(len, pieces))


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise here")
def test_a_file_system_that_refuses_the_advice_still_gets_the_whole_file(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(files, "WRITEBACK_STEP", 100)
    calls = []

    def refuse(*args: object) -> None:
        calls.append(args)
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "posix_fadvise", refuse)
    pieces = [b"x" * 150 for _ in range(10)]
    files.atomic_write_chunks(tmp_path / "refused.json", pieces)
    assert (tmp_path / "refused.json").read_bytes() == b"".join(pieces)
    assert len(calls) == 1  # asked once, then left alone
    assert [p.name for p in tmp_path.iterdir()] == ["refused.json"]


def test_unserializable_outputs_never_break_a_save(home):
    @rt.function_node
    async def odd():
        return object()

    with rt.Session(name="odd"):
        rt.call_sync(odd)
    data = json.loads((home / "odd.json").read_text())
    assert data["runs"][0]["edges"][0]["details"]["output"].startswith("<object object")


def test_load_our_file_round_trips(home):
    s = _run()
    loaded = rt.load(home / "saved.json")
    assert isinstance(loaded, rt.SavedSession)
    assert loaded.session_id == s.identifier and loaded.name == "saved"
    assert loaded.answer == [0, 2, 4, "three is bad", 8]
    assert loaded.status == "Completed"
    assert len(loaded) == 6
    assert loaded.info.to_payload()["runs"] == s.to_payload()["runs"]
    assert loaded.to_networkx().number_of_edges() == 5


def test_load_a_file_railtracks_saved(railtracks_sample_path, tmp_path):
    path = tmp_path / "data" / "sessions" / "peer.json"
    path.parent.mkdir(parents=True)
    shutil.copy(railtracks_sample_path, path)
    loaded = rt.load(path)
    assert loaded.flow_name == "peer-demo"
    assert len(loaded) == 9
    assert loaded.answer == {"a": [0, 2, 4, "three is bad", 8], "b": [20, 22]}
    g = loaded.to_networkx()
    assert g.number_of_nodes() == 9 and g.number_of_edges() == 8
    failed = [n for n, d in g.nodes(data=True) if d["status"] == "Failed"]
    assert len(failed) == 1
    steps = [s.step for s in loaded.info.all_stamps]
    assert steps == list(range(18))
    sub = loaded.info.get_info([next(n for n, d in g.nodes(data=True) if d["name"] == "mid")])
    assert len(sub.node_forest) == 6


def test_a_loaded_latency_is_the_nodes_latency_as_the_engine_records_it(
    home, railtracks_sample_path
):
    """Internals that are only a latency (ours and Railtracks' own files) load as the
    node's latency, not as debug details: rows carry it, and a loaded session is in
    the engine's shape again (saved back byte for byte, drawn from rows)."""
    s = _run()
    ours = rt.load(home / "saved.json")
    theirs = rt.load(railtracks_sample_path)
    for loaded, live in ((ours, s.info), (theirs, None)):
        records = loaded.info.node_forest.records
        finished = [raw for raw in records.values() if raw[7] is not None]
        assert finished and all(raw[5] is None and raw[6] is not None for raw in finished)
        assert all(raw[7][5] is None and raw[7][6] is None for raw in finished)
        if live is not None:
            assert {k: raw[6] for k, raw in records.items()} == {
                k: raw[6] for k, raw in live.node_forest.records.items()
            }
        ends = [row for rows in loaded.info.event_rows().values() for row in rows
                if row[0] in ("s", "f")]  # fmt: skip
        assert ends and all(row[6] is not None for row in ends)
    assert ours.info.to_payload()["runs"] == s.to_payload()["runs"]
    with open(railtracks_sample_path) as handle:
        saved = json.load(handle)["runs"]

    def nodes(runs: list[dict]) -> dict[str, dict]:
        return {node["identifier"]: node for run in runs for node in run["nodes"]}

    assert nodes(theirs.info.to_payload()["runs"]) == nodes(saved)
    # A payload dict read without the schema (the views' way) reads the same.
    from railtracks_nb.store.salvage import info_of_payload

    salvaged = info_of_payload(json.loads(railtracks_sample_path.read_text()))
    assert {k: raw[5:7] for k, raw in salvaged.node_forest.records.items()} == {
        k: raw[5:7] for k, raw in theirs.info.node_forest.records.items()
    }


def test_internals_with_more_than_a_latency_stay_as_they_were_read():
    from railtracks_nb.execution.snapshots import split_internals

    assert split_internals({}) == (None, None)
    assert split_internals(None) == (None, None)
    assert split_internals({"latency": {"total_time": 0.5}}) == (None, 0.5)
    assert split_internals({"latency": {"total_time": 2}}) == (None, 2)
    more = {"latency": {"total_time": 0.5}, "llm_details": [{"model": "m"}]}
    assert split_internals(more) == (more, None)
    for odd in (
        {"latency": {"total_time": float("nan")}},
        {"latency": {"total_time": True}},
        {"latency": {"total_time": "1 s"}},
        {"latency": {"total_time": 1.0, "unit": "s"}},
        {"latency": 0.5},
    ):
        assert split_internals(odd) == (odd, None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"session_id": "x", "runs": [', "invalid JSON at line 1"),
        ("[1, 2, 3]", "expected a JSON object, found list"),
        ('{"hello": "world"}', "session_id: Field required"),
        ('{"session_id": "x", "start_time": 1, "runs": [{"run_id": "r"}]}', "runs.0.name"),
    ],
)
def test_corrupt_or_foreign_files_get_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(rt.SavedStateError) as err:
        rt.load(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(rt.SavedStateError, match="does not exist"):
        rt.load(tmp_path / "nope.json")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(rt.SavedStateError, match="not UTF-8"):
        rt.load(binary)
    with pytest.raises(rt.SavedStateError, match="is a folder"):
        rt.load(tmp_path)


def test_saved_files_lists_ours_and_railtracks(home, railtracks_sample_path):
    _run()
    (home / "data" / "sessions").mkdir(parents=True)
    shutil.copy(railtracks_sample_path, home / "data" / "sessions" / "x.json")
    names = [Path(p).name for p in loading.saved_files(home)]
    assert names == ["saved.json", "x.json"]


def test_saving_a_session_again_keeps_tags_added_to_its_file(home):
    s = rt.Session(name="again")
    with s:
        rt.call_sync(top, 1)
    rt.tag_session(s.identifier, project="Q4")
    with s:  # reopened and closed: saved again under the same name
        rt.call_sync(top, 1)
    data = json.loads((home / "again.json").read_text())
    assert data["railtracks_nb"]["metadata"] == {"project": "Q4"}
    assert len(data["runs"]) == 2

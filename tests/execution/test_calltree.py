"""The call tree made from rows gives the records the payload reading gave.

``call_records(info)`` (rows) is compared with the frozen payload reading
(:mod:`tests.execution.payload_records`) of the same session's payload: sessions
the engine recorded, files saved by railtracks_nb and by Railtracks, and the
hand-made and broken payloads the display and export tests draw.
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest

import railtracks_nb as rt
from railtracks_nb.execution._synthetic import synthetic_payload
from railtracks_nb.execution.calltree import call_records
from railtracks_nb.notebook.sources import info_of, payload_of
from tests.execution.payload_records import payload_node_records
from tests.helpers import calling_each

pytestmark = pytest.mark.timeout(120)

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


def _same(source) -> list[dict]:
    """Assert rows and payload give the same records for ``source``; return them."""
    expected = payload_node_records(copy.deepcopy(payload_of(source)))
    got = call_records(info_of(source).info)
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    for new, old in zip(got, expected, strict=True):
        assert new == old, new["id"]
    return got


# -- sessions the engine recorded ------------------------------------------------------
class Blob:
    def __repr__(self) -> str:
        return "Blob()"


@rt.function_node
def leaf(i: int) -> int:
    if i % 3 == 2:
        raise ValueError(f"{i} is bad")
    return i * 2


#: Calls ``leaf`` on 0 .. n-1, keeping the failures' messages.
fan = calling_each(leaf, "fan")


@rt.function_node
async def chain(depth: int) -> int:
    return depth if depth == 0 else await rt.call(chain, depth - 1)


@rt.function_node
async def failing_chain(depth: int) -> int:
    if depth == 0:
        raise KeyError("bottom")
    return await rt.call(failing_chain, depth - 1)


@rt.function_node
def objects(blob, data: bytes, *, extra=None) -> dict:
    return {"blob": blob, "bytes": data, "nested": [[[[{"deep": b"x"}]]]], "nan": float("nan")}


@rt.function_node
async def gather(n: int) -> list:
    return list(await asyncio.gather(*(rt.call(leaf, i) for i in range(n)), return_exceptions=True))


@rt.function_node
async def sleeper(seconds: float) -> None:
    await asyncio.sleep(seconds)


@rt.function_node
async def nested() -> list:
    return [await rt.call(fan, 4), await rt.call(gather, 5), await rt.call(chain, 3)]


def test_fan_out_failures_and_nested_calls():
    with rt.Session(save_state=False, name="mixed") as session:
        rt.call_sync(nested)
        rt.call_sync(fan, 3)  # a second run
    records = _same(session)
    assert {r["status"] for r in records} == {"Completed", "Failed"}
    assert len({r["run_id"] for r in records}) == 2
    _same(session.info)


def test_long_chain_and_failure_through_it():
    with rt.Session(save_state=False) as session:
        rt.call_sync(chain, 100)
        with pytest.raises(KeyError):
            rt.call_sync(failing_chain, 50)
    records = _same(session)
    assert max(r["depth"] for r in records) == 100
    # One traceback stored, the others point to it: the same in rows and payload.
    tracebacks = [r["error"]["traceback"] for r in records if r["error"]]
    assert sum("the same exception as request" in t for t in tracebacks) == 50


def test_objects_bytes_and_non_finite_values():
    with rt.Session(save_state=False) as session:
        rt.call_sync(objects, Blob(), b"\x00\xff", extra={1: Blob()})
    (record,) = _same(session)
    assert record["output"]["bytes"] and record["kwargs"]["extra"]


def test_cancelled_by_timeout():
    with rt.Session(save_state=False, timeout=0.2) as session:
        with pytest.raises(Exception):  # noqa: B017  # the timeout's own error
            rt.call_sync(sleeper, 5)
    (record,) = _same(session)
    assert record["status"] == "Failed"


def test_open_requests_of_a_live_session():
    async def main() -> None:
        started = asyncio.Event()

        @rt.function_node
        async def waiting() -> None:
            started.set()
            await asyncio.sleep(10)

        @rt.function_node
        async def outer() -> None:
            await rt.call(leaf, 1)
            await rt.call(waiting)

        async with rt.Session(name="live", save_state=False) as session:
            task = asyncio.ensure_future(rt.call(outer))
            await started.wait()
            records = _same(session)
            assert [r["status"] for r in records] == ["Open", "Completed", "Open"]
            assert records[2]["finished"] is None and records[2]["depth"] == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())


def test_saved_file_and_railtracks_file(tmp_path):
    with rt.Session(save_state=False, name="saved") as session:
        rt.call_sync(nested)
    path = tmp_path / "saved.json"
    rt.export(session, path)
    assert _same(path) == _same(rt.load(path))
    sample = REFERENCE / "railtracks_saved_session_sample.json"
    records = _same(sample)
    assert len(records) == 9 and all(r["latency"] is not None for r in records)
    _same(rt.load(sample))


# -- hand-made and broken payloads -------------------------------------------------------
def _stamp(step: int) -> dict:
    return {"step": step, "time": 1000.0 + step / 100, "identifier": "x"}


def _node(ident: str, step: int) -> dict:
    return {"identifier": ident, "node_type": "Tool", "name": ident, "stamp": _stamp(step),
            "details": {"internals": {}}, "parent": None}  # fmt: skip


def _edge(ident: str, source: str | None, target: str, step: int, status: str, output=None):
    opened = {"identifier": ident, "source": source, "target": target, "stamp": _stamp(step),
              "details": {"input_args": [], "input_kwargs": {}, "status": "Open", "output": None},
              "parent": None}  # fmt: skip
    if status == "Open":
        return opened
    details = {"input_args": [], "input_kwargs": {}, "status": status, "output": output}
    return {**opened, "stamp": _stamp(step + 1), "details": details, "parent": opened}


def _payload(nodes: list, edges: list) -> dict:
    run = {"session_id": "sid", "run_id": "run", "name": "root", "status": "Completed",
           "start_time": 1000.0, "end_time": 1001.0, "nodes": nodes, "edges": edges,
           "steps": []}  # fmt: skip
    return {"session_id": "sid", "session_name": "demo", "start_time": 1000.0,
            "end_time": 1001.0, "runs": [run]}  # fmt: skip


@pytest.mark.parametrize(
    "payload",
    [
        synthetic_payload((3, 2), fail={2}, hostile=True),
        synthetic_payload((4, 3, 2), fail={1, 5}, open_from=20),
        _payload(  # a chain deeper than the recursion limit
            [_node(f"n{i}", i) for i in range(3000)],
            [_edge("e0", None, "n0", 0, "Completed")]
            + [_edge(f"e{i}", f"n{i - 1}", f"n{i}", i, "Completed") for i in range(1, 3000)],
        ),
        _payload(  # a cycle (a corrupt file)
            [_node("a", 0), _node("b", 1)],
            [_edge("e1", "a", "b", 0, "Completed"), _edge("e2", "b", "a", 1, "Completed")],
        ),
        _payload(  # an edge to a node that is not there, a node no request made,
            # a failure whose output is not an error object
            [_node("a", 0), _node("lonely", 5)],
            [
                _edge("e1", None, "a", 0, "Completed", 1),
                _edge("e2", "a", "ghost", 2, "Failed", "x"),
            ],
        ),
        {"session_id": "x", "session_name": None, "start_time": 1.0, "end_time": 2, "runs": []},
        # no session fields, stamps, details or edge ids
        {"runs": [{"nodes": [{"identifier": "a", "name": "a"}], "edges": [{"target": "a"}]}]},
    ],
    ids=["hostile", "open-and-failed", "deep-chain", "cycle", "dangling", "empty", "sparse"],
)
def test_hand_made_and_broken_payloads(payload):
    _same(payload)


def test_what_a_foreign_file_holds_beyond_rows():
    """Intermediate snapshots and unknown statuses: what rows keep of them."""
    payload = _payload([_node("a", 0)], [_edge("e1", None, "a", 0, "Completed", 7)])
    edge = payload["runs"][0]["edges"][0]
    middle = {**edge["parent"], "stamp": _stamp(5)}
    edge["stamp"] = _stamp(9)
    edge["parent"] = {**middle, "parent": edge["parent"]}  # an extra snapshot at step 5
    odd = _payload([_node("b", 0)], [_edge("e2", None, "b", 0, "Cancelled")])
    (record,) = call_records(info_of(payload).info)
    (old,) = payload_node_records(payload)
    assert old["steps"] == [0, 5, 9] and record["steps"] == [0, 9]  # first and last kept
    assert {k: v for k, v in record.items() if k != "steps"} == {
        k: v for k, v in old.items() if k != "steps"
    }
    (record,) = call_records(info_of(odd).info)
    assert record["status"] == "Open" and record["finished"] is None  # as rt.load reads it


def test_a_valid_payload_is_read_as_rt_load_reads_it():
    """A payload dict is read without the schema check; it gives what ``rt.load`` gives."""
    from railtracks_nb.store.loading import info_from_payload

    with rt.Session(save_state=False, name="valid") as session:
        rt.call_sync(nested)
    sample = rt.load(REFERENCE / "railtracks_saved_session_sample.json").payload
    for payload in (session.to_payload(), sample):
        loaded = call_records(info_from_payload(copy.deepcopy(payload)))
        assert call_records(info_of(payload).info) == loaded

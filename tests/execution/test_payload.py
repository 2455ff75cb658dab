"""The one-pass payload builders and the fast encoder write what the snapshot objects did.

``reference_payload`` below is the payload as it was built before the one-pass
builders: through ``LinkedNode`` / ``RequestTemplate`` objects and a generic
``to_jsonable`` walk of every value. Every builder must give exactly that, on a
session that has every kind of value a node can take or return.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import math
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

import railtracks_nb as rt
from railtracks_nb.core import encoding
from railtracks_nb.core.serialization import to_jsonable
from railtracks_nb.engine.scope import current_session
from railtracks_nb.execution import payload as payload_module
from railtracks_nb.execution import payload_structs
from railtracks_nb.execution.payload import (
    SliceWriter,
    build_payload,
    failure_json,
    payload_pieces,
)
from railtracks_nb.execution.snapshots import LinkedNode, RequestTemplate
from railtracks_nb.execution.state import EXTRAS_KEY, ExecutionInfo
from railtracks_nb.store import persistence

pytestmark = pytest.mark.timeout(120)


# -- the payload as the snapshot objects give it --------------------------------------
def _node_reference(snap: LinkedNode | None) -> dict[str, Any] | None:
    if snap is None:
        return None
    return {
        "identifier": snap.identifier,
        "node_type": snap.node_type,
        "name": snap.name,
        "stamp": snap.stamp.to_json(),
        "details": {"internals": to_jsonable(snap.internals) if snap.extra else snap.internals},
        "parent": _node_reference(snap.parent),
    }


def _edge_reference(snap: RequestTemplate | None, owners: dict[int, str]) -> dict[str, Any] | None:
    if snap is None:
        return None
    output = snap.output
    if snap.status == "Failed" and isinstance(output, BaseException):
        # One traceback per exception, with the request that failed first.
        output = failure_json(output, snap.identifier, owners)
    return {
        "identifier": snap.identifier,
        "source": snap.source_id,
        "target": snap.sink_id,
        "stamp": snap.stamp.to_json(),
        "details": {
            "input_args": to_jsonable(list(snap.input_args)),
            "input_kwargs": to_jsonable(snap.input_kwargs),
            "status": snap.status,
            "output": to_jsonable(output),
        },
        "parent": _edge_reference(snap.parent, owners),
    }


def reference_payload(info: ExecutionInfo) -> dict[str, Any]:
    owners = info.error_owners()
    runs = []
    for run in info.runs.values():
        entry = info.run_header(run.run_id)
        entry["nodes"] = [
            _node_reference(info.node_forest[n]) for n in run.node_ids if n in info.node_forest
        ]
        entry["edges"] = [
            _edge_reference(info.request_forest[r], owners)
            for r in run.request_ids
            if r in info.request_forest
        ]
        entry["steps"] = [s.to_json() for s in run.stamps]
        runs.append(entry)
    end = info.end_time
    if end is None:
        end = max((s.time for s in info.stamper.all_stamps), default=info.start_time)
    payload: dict[str, Any] = {
        "session_id": info.session_id or "",
        "session_name": info.session_name,
        "start_time": info.start_time,
        "end_time": end,
        "runs": runs,
    }
    if info.extras:
        payload[EXTRAS_KEY] = to_jsonable(info.extras)
    return payload


# -- a session with every kind of value ------------------------------------------------
@dataclass
class Point:
    x: float
    y: float


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque thing>"


def _cycle() -> list[Any]:
    loop: list[Any] = [1, "two"]
    loop.append(loop)
    return loop


@rt.function_node
async def echo(*args: Any, **kwargs: Any) -> Any:
    return args[0] if args else kwargs


@rt.function_node
async def explode(what: Any) -> Any:
    raise ValueError(f"cannot take {what!r}")


@rt.function_node
async def relay(what: Any) -> Any:
    return await rt.call(explode, what)  # the same exception fails both requests


@rt.function_node
def sync_square(x: float) -> float:
    return x * x


@rt.function_node
async def details(x: int) -> int:
    return x


VALUES = [
    1,
    -2.5,
    'text with "quotes", commas, \n newlines and non-ASCII: é ✓ \u2028',
    None,
    True,
    2**80,
    math.nan,
    math.inf,
    -math.inf,
    b"\x00bytes",
    (1, (2, 3)),
    [1, [2, [3]]],
    {"a": 1, "b": [1.5, None]},
    {1: "int key", None: "none key", (1, 2): "tuple key"},
    {"z", "a"},
    Point(1.0, math.nan),
    Opaque(),
    _cycle(),
    ValueError("an exception as a value"),
    1e-7,
    1795353331.926434,
]


@rt.function_node
async def varied() -> str:
    for value in VALUES:
        await rt.call(echo, value)
    await rt.call(echo, key=Opaque(), other=[1, 2], number=math.nan)
    await rt.call(echo, 1, 2.0, "three", flag=False)
    await rt.call(echo)
    await asyncio.gather(*(rt.call(echo, i) for i in range(5)))
    for value in (1, Opaque(), math.nan):
        try:
            await rt.call(explode, value)
        except ValueError:
            pass
    try:
        await rt.call(relay, "through a caller")
    except ValueError:
        pass
    await rt.call(sync_square, 3.0)
    return "done"


def _varied_session(**options: Any) -> rt.Session:
    with rt.Session(name="varied", logging_setting="NONE", **options) as session:
        rt.call_sync(varied)
        rt.call_sync(echo, "a second run")
        try:
            rt.call_sync(explode, "a failed run")
        except ValueError:
            pass
    # Debug details on a node, as a loaded file or a custom node may carry.
    info = session.rt_state.info
    some_node = next(iter(info.node_forest))
    raw = info.node_forest._raw[some_node]
    info.node_forest._raw[some_node] = (*raw[:5], {"model": Opaque(), "tokens": 3}, *raw[6:])
    return session


@pytest.fixture(scope="module")
def varied_session(tmp_path_factory) -> rt.Session:
    return _varied_session(save_state=False)


def _info_reference_text(session: rt.Session) -> str:
    session.extras()
    return json.dumps(reference_payload(session.rt_state.info), allow_nan=False)


def _reference_text(session: rt.Session) -> str:
    """What a session's ``to_payload`` and saved file hold: its flow, then the rest."""
    session.extras()
    payload = {"flow_name": session.flow_name, "flow_id": session.flow_id}
    payload.update(reference_payload(session.rt_state.info))
    return json.dumps(payload, allow_nan=False)


def test_to_payload_is_byte_for_byte_the_reference(varied_session):
    expected = _reference_text(varied_session)
    assert json.dumps(varied_session.to_payload(), allow_nan=False) == expected
    assert varied_session.info.graph_serialization() == _info_reference_text(varied_session)


def _pieces(
    session: rt.Session, encode: Any, separator: bytes, fast: SliceWriter | None = None
) -> bytes:
    extras = session.extras()
    info = session.rt_state.info
    return b"".join(payload_pieces(info, EXTRAS_KEY, extras, encode, separator, fast=fast))


@pytest.mark.parametrize("slice_size", [1, 2, 7, 1000])
def test_the_pieces_are_byte_for_byte_the_reference(varied_session, monkeypatch, slice_size):
    monkeypatch.setattr(payload_module, "SLICE", slice_size)
    expected = _info_reference_text(varied_session)
    assert _pieces(varied_session, encoding.dumps_stdlib, b", ") == expected.encode()


@pytest.mark.skipif(encoding.orjson is None, reason="orjson is not installed")
@pytest.mark.parametrize("slice_size", [1, 1000])
def test_orjson_writes_the_same_document(varied_session, monkeypatch, slice_size):
    monkeypatch.setattr(payload_module, "SLICE", slice_size)
    expected = json.loads(_info_reference_text(varied_session))
    assert json.loads(_pieces(varied_session, encoding.dumps_payload, b",")) == expected


needs_msgspec = pytest.mark.skipif(
    payload_structs.msgspec is None, reason="msgspec is not installed"
)


def _counting(writer: SliceWriter, counts: dict[str, int]) -> SliceWriter:
    """``writer``, counting the records it makes (so a test knows it was used)."""

    def counted(kind: str, make: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            counts[kind] = counts.get(kind, 0) + 1
            return make(*args)

        return wrapper

    return dataclasses.replace(
        writer,
        node=counted("node", writer.node),
        request=counted("request", writer.request),
        step=counted("step", writer.step),
    )


@needs_msgspec
@pytest.mark.parametrize("slice_size", [1, 7, 1000])
def test_msgspec_structs_write_the_same_document(varied_session, monkeypatch, slice_size):
    """Engine-shaped records as structs, the others as dicts, in slices: the bytes
    msgspec writes for the whole payload as dicts, and the reference document."""
    monkeypatch.setattr(payload_module, "SLICE", slice_size)
    counts: dict[str, int] = {}
    fast = _counting(payload_structs.slice_writer(), counts)
    encode = payload_structs.msgspec.json.encode
    written = _pieces(varied_session, encode, b",", fast=fast)
    info = varied_session.rt_state.info
    assert written == encode(build_payload(info, EXTRAS_KEY))
    assert json.loads(written) == json.loads(_info_reference_text(varied_session))
    # Most records took the structs (the rest are the hard cases, as dicts).
    assert counts["node"] >= len(info.node_forest) - 2
    assert counts["request"] >= len(info.request_forest) - 4
    assert counts["step"] == sum(len(run.raw_stamps) for run in info.runs.values())


@needs_msgspec
def test_a_slice_msgspec_refuses_is_written_from_dicts(monkeypatch):
    """A lone surrogate (which msgspec will not write) in one slice: that slice is
    written by the standard library, the others by msgspec; one document."""
    monkeypatch.setattr(payload_module, "SLICE", 2)
    with rt.Session(save_state=False, logging_setting="NONE") as session:
        rt.call_sync(echo, "fine")
        rt.call_sync(echo, "lone \ud800 surrogate")
        rt.call_sync(echo, "fine again")
    counts: dict[str, int] = {}
    fast = _counting(payload_structs.slice_writer(), counts)
    written = _pieces(session, encoding.dumps_stdlib, b", ", fast=fast)
    assert json.loads(written) == json.loads(_info_reference_text(session))
    assert b"\\ud800" in written  # escaped, as the standard library writes it
    assert counts["request"] >= 3


def test_the_reference_session_has_what_it_should(varied_session):
    """The session really has the hard cases (so the comparisons above mean something)."""
    payload = varied_session.to_payload()
    text = json.dumps(payload)
    assert '"<cycle: list>"' in text and '"nan"' in text and '"inf"' in text
    assert "<Opaque thing>" in text and "tuple key" in text
    assert "(the same exception as request" in text  # one traceback for a relayed failure
    edges = [e for run in payload["runs"] for e in run["edges"]]
    failed = [e for e in edges if e["details"]["status"] == "Failed"]
    assert len(failed) == 6 and all(e["details"]["output"]["type"] == "ValueError" for e in failed)
    assert any(e["details"]["input_kwargs"] for e in edges)
    nodes = [n for run in payload["runs"] for n in run["nodes"]]
    assert any("model" in n["details"]["internals"] for n in nodes)
    assert len(payload["runs"]) == 3


@pytest.mark.parametrize("encoders", ["msgspec+orjson", "orjson", "stdlib"])
def test_the_saved_file_is_the_reference(home, monkeypatch, state_schema, encoders):
    """Saved with each encoder the package can use (the fast ones are optional)."""
    if "msgspec" in encoders and payload_structs.msgspec is None:
        pytest.skip("msgspec is not installed")
    if "orjson" in encoders and encoding.orjson is None:
        pytest.skip("orjson is not installed")
    if "msgspec" not in encoders:
        monkeypatch.setattr(payload_structs, "msgspec", None)
    if "orjson" not in encoders:
        monkeypatch.setattr(encoding, "orjson", None)
    session = _varied_session(save_state=False)
    persistence.save_session(session)
    data = (home / "varied.json").read_bytes()
    expected = _reference_text(session)
    if encoders == "stdlib":  # the standard library writes exactly what it always wrote
        assert data == expected.encode()
    else:
        assert json.loads(data) == json.loads(expected)
    jsonschema.validate(json.loads(data), state_schema)
    loaded = rt.load(home / "varied.json")
    assert len(loaded.info.node_forest) == len(session.rt_state.info.node_forest)


def test_what_orjson_refuses_the_stdlib_writes(monkeypatch):
    """A value orjson cannot write (an integer over 64 bits) falls back, not fails."""
    payload = {"big": 2**80, "text": "é"}
    assert json.loads(encoding.dumps_payload(payload)) == payload


def test_the_collector_is_paused_only_while_building_and_restored():
    assert gc.isenabled()
    with encoding.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), encoding.collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with encoding.collector_paused():
            pass
        assert not gc.isenabled()  # the user's own gc.disable() is respected
    finally:
        gc.enable()


def test_build_payload_hands_out_independent_dicts(varied_session):
    """``to_payload`` may be changed by its caller: no dict is shared inside it."""
    payload = build_payload(varied_session.rt_state.info, EXTRAS_KEY)
    seen: set[int] = set()

    def walk(value: Any) -> None:
        if isinstance(value, (dict, list)):
            assert id(value) not in seen, "a container appears twice in the payload"
            seen.add(id(value))
            for item in value.values() if isinstance(value, dict) else value:
                walk(item)

    walk(payload)


def test_an_open_session_saves_what_it_has_so_far(home, monkeypatch):
    """Nodes still running (one snapshot each) take the general path; same result."""
    monkeypatch.setattr(encoding, "orjson", None)
    seen: dict[str, bytes] = {}

    @rt.function_node
    async def peek() -> None:
        session = current_session()
        assert session is not None
        seen["built"] = _pieces(session, encoding.dumps_stdlib, b", ")
        seen["reference"] = json.dumps(
            reference_payload(session.rt_state.info), allow_nan=False
        ).encode()

    with rt.Session(save_state=False, logging_setting="NONE"):
        rt.call_sync(peek)
    assert seen["built"] == seen["reference"]


def test_a_dataclass_class_is_a_value_not_a_container():
    """A dataclass *class* (a node returning its result type, say) is stored as its
    repr; only dataclass instances are walked field by field."""

    @dataclass
    class Point:
        x: int = 1

    assert to_jsonable(Point) == repr(Point)
    assert to_jsonable([Point(), Point]) == [{"x": 1}, repr(Point)]


@pytest.mark.skipif(encoding.orjson is None, reason="orjson is not installed")
@pytest.mark.parametrize("slice_size", [1, 3, 250])
def test_orjson_pieces_are_byte_for_byte_orjson_on_the_whole_payload(monkeypatch, slice_size):
    """Records encoded in slices, sharing their constant parts, are the bytes orjson
    writes for the payload at once (on a session of values orjson takes)."""
    monkeypatch.setattr(payload_module, "SLICE", slice_size)

    @rt.function_node
    async def leaf(i: int, scale: float = 1.5, **extra: Any) -> Any:
        return [i * scale, "é", None] if i % 2 else {"i": i, "extra": extra}

    @rt.function_node
    async def chain(n: int) -> None:
        for i in range(n):
            await rt.call(leaf, i, scale=0.25, tag="t") if i % 3 else await rt.call(leaf, i)

    with rt.Session(save_state=False, logging_setting="NONE") as session:
        rt.call_sync(chain, 10)
    info = session.rt_state.info
    whole = encoding.orjson.dumps(build_payload(info, EXTRAS_KEY))
    extras = to_jsonable(info.extras) or None
    pieces = payload_pieces(info, EXTRAS_KEY, extras, encoding.dumps_payload, b",")
    assert b"".join(pieces) == whole

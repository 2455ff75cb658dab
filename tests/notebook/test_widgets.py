"""Widget models, the live delta feed (coalescing, fidelity, final flush), and rt.show."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path

import pytest

import railtracks_nb as rt
from railtracks_nb.engine import messages
from railtracks_nb.execution._synthetic import synthetic_payload
from railtracks_nb.notebook import export as export_mod
from railtracks_nb.notebook import widgets
from railtracks_nb.notebook.widgets import GraphView, SessionDashboard, StateView, TimelineView
from tests.helpers import by_id, fan_out, leaf, mixed


class Recorder:
    """Captures what a widget sends to the front end, as the front end gets it."""

    def __init__(self, widget: widgets._RTWidget) -> None:
        self.messages: list[dict] = []
        self.raw: list[tuple[dict, list[bytes]]] = []
        original = widget.send

        def send(content, buffers=None):
            # What the kernel's comm does: the content must be JSON; buffers go as bytes.
            content = json.loads(json.dumps(content, allow_nan=False))
            buffers = [bytes(b) for b in buffers or []]
            self.raw.append((content, buffers))
            if content.get("type") == "delta":
                # Rows arrive in binary buffers, one strict-JSON array per run.
                assert len(buffers) == len(content["event_buffers"])
                content["events"] = [
                    [run_id, json.loads(buf.decode("utf-8"), parse_constant=_no_nan)]
                    for run_id, buf in zip(content["event_buffers"], buffers, strict=True)
                ]
            self.messages.append(content)
            original(content, buffers)

        widget.send = send

    @property
    def deltas(self) -> list[dict]:
        return [m for m in self.messages if m.get("type") == "delta"]


def _no_nan(name: str):
    raise AssertionError(f"{name} is not JSON: the front end's JSON.parse would fail")


def apply_events(payload: dict, deltas: list[dict]) -> dict:
    """A Python port of the front end's Store.applyEvents, to check the event format.

    Returns ``{run_id: {"nodes": {id: json}, "edges": {id: json}, "steps": {step: stamp},
    "header": run fields}}``.
    """
    runs: dict[str, dict] = {}
    for run in payload.get("runs", []):
        runs[run["run_id"]] = {
            "header": {k: v for k, v in run.items() if k not in ("nodes", "edges", "steps")},
            "nodes": {n["identifier"]: n for n in run["nodes"]},
            "edges": {e["identifier"]: e for e in run["edges"]},
            "steps": {s["step"]: s for s in run["steps"]},
        }
    table: list[str] = []  # the feed's id table: each creation adds its request and node ids

    def ref(value):
        return table[value] if isinstance(value, int) else value

    def name_of(node_id):
        for rs in runs.values():
            if node_id in rs["nodes"]:
                return rs["nodes"][node_id]["name"]
        raise AssertionError(f"unknown caller {node_id}")

    for delta in deltas:
        for header in delta.get("runs", []):
            runs.setdefault(header["run_id"], {"nodes": {}, "edges": {}, "steps": {}})["header"] = (
                header
            )
        for run_id, rows in delta.get("events", []):
            rs = runs.setdefault(run_id, {"nodes": {}, "edges": {}, "steps": {}, "header": None})
            for row in rows:
                kind, step, t, text = row[:4]
                if kind == "c":
                    req, caller_ref, node, name, ntype, args, kwargs = row[4:]
                    caller = ref(caller_ref)
                    table.extend([req, node])
                    if text is None:
                        text = f"{name_of(caller) if caller else 'START'} CREATED {name}"
                    stamp = {"step": step, "time": t, "identifier": text}
                    rs["nodes"][node] = {
                        "identifier": node, "node_type": ntype, "name": name, "stamp": stamp,
                        "details": {"internals": {}}, "parent": None,
                    }  # fmt: skip
                    rs["edges"][req] = {
                        "identifier": req, "source": caller, "target": node, "stamp": stamp,
                        "details": {"input_args": args, "input_kwargs": kwargs, "status": "Open",
                                    "output": None},
                        "parent": None,
                    }  # fmt: skip
                elif kind in ("s", "f"):
                    req = ref(row[4])
                    output, latency = row[5:]
                    prev_e = rs["edges"][req]
                    node = prev_e["target"]
                    prev_n = rs["nodes"][node]
                    if text is None:
                        verb = "Finished" if kind == "s" else "Failed"
                        text = f"{verb} executing {prev_n['name']}"
                    stamp = {"step": step, "time": t, "identifier": text}
                    rs["nodes"][node] = {
                        "identifier": node, "node_type": prev_n["node_type"],
                        "name": prev_n["name"], "stamp": stamp,
                        "details": {"internals": {"latency": {"total_time": latency}}},
                        "parent": prev_n,
                    }  # fmt: skip
                    rs["edges"][req] = {
                        "identifier": req, "source": prev_e["source"], "target": node,
                        "stamp": stamp,
                        "details": {
                            "input_args": prev_e["details"]["input_args"],
                            "input_kwargs": prev_e["details"]["input_kwargs"],
                            "status": "Completed" if kind == "s" else "Failed", "output": output,
                        },
                        "parent": prev_e,
                    }  # fmt: skip
                else:
                    stamp = {"step": step, "time": t, "identifier": text}
                rs["steps"][step] = stamp
    return runs


# -- models -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "view"),
    [
        (GraphView, "graph"),
        (TimelineView, "timeline"),
        (StateView, "state"),
        (SessionDashboard, "dashboard"),
    ],
)
def test_each_class_draws_its_view_from_a_payload(cls, view):
    payload = synthetic_payload((3, 2))
    w = cls(payload)
    assert w.view == view
    assert w.live is False
    # The payload travels as compact JSON bytes that rebuild the same session.
    sent = json.loads(w.data)
    assert sent["format"] == export_mod.COMPACT_FORMAT
    assert by_id(export_mod.expand_compact(sent)) == by_id(payload)
    assert w.payload == payload
    assert w._esm.endswith(".js") or "export" in str(w._esm)
    w.close()


@pytest.mark.parametrize("cls", [GraphView, TimelineView, StateView, SessionDashboard])
def test_widget_output_carries_a_static_picture_for_viewers_without_a_kernel(cls):
    payload = synthetic_payload((3, 2))
    w = cls(payload)
    data, _metadata = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "data:image/svg+xml;base64," in data["text/html"]  # the call graph, no JavaScript
    assert "<script" not in data["text/html"]
    assert data["text/html"].startswith('<div class="railtracks-nb-widget-picture">')
    assert "needs a kernel" in data["text/plain"]
    w.close()


def test_front_end_bundle_is_shipped_in_the_package():
    static = widgets._STATIC
    for name in ("widget.js", "standalone.js", "widget.css"):
        assert (static / name).stat().st_size > 1000, name
    esm = (static / "widget.js").read_text()
    assert "export" in esm and "msg:custom" in esm
    # Node text is only ever set as text: our sources never assign HTML (the
    # bundle holds d3-selection's unused .html(), so the sources are checked).
    sources = sorted((Path(__file__).resolve().parents[2] / "widgets" / "src").glob("*.ts"))
    assert len(sources) >= 6
    for src in sources:
        text = src.read_text()
        for forbidden in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            ".html(",
        ):
            assert forbidden not in text, (src.name, forbidden)


def test_show_accepts_every_kind_of_source(railtracks_sample_path):
    with rt.Session(save_state=False, name="shown") as session:
        rt.call_sync(leaf, 3)
    for source in (session, session.info, railtracks_sample_path, str(railtracks_sample_path),
                   rt.load(railtracks_sample_path), synthetic_payload((2,))):  # fmt: skip
        w = rt.show(source)
        assert isinstance(w, SessionDashboard)
        assert w.live is False
        assert w.payload["runs"], source
        w.close()
    with pytest.raises(TypeError, match="Cannot show or export"):
        rt.show(3.5)


def test_show_a_flow_shows_its_latest_run():
    flow = rt.Flow("doubler", leaf, save_state=False)
    flow.invoke(4)
    w = rt.show(flow, height=300)
    assert w.height == 300
    assert [n["name"] for n in w.payload["runs"][0]["nodes"]] == ["leaf"]
    assert w.payload["runs"][0]["edges"][0]["details"]["output"] == 8
    w.close()


def test_step_and_selection_are_model_state():
    w = SessionDashboard(synthetic_payload((2,)), step=3, selected="abc")
    assert (w.step, w.selected) == (3, "abc")
    w.step = None
    assert w.step is None
    w.close()


# -- live feed ----------------------------------------------------------------------------
def test_live_dashboard_10000_node_fan_out_sends_a_bounded_number_of_deltas():
    n = 10_000
    session = rt.Session(save_state=False, logging_setting="NONE", name="fan")
    with session:
        w = SessionDashboard(session)
        rec = Recorder(w)
        assert w.live is True
        started = time.monotonic()
        rt.call_sync(fan_out, n)
        elapsed = time.monotonic() - started
    deltas = rec.deltas
    # At most one delta per MIN_INTERVAL while running, plus the first and the final one:
    # a bound derived from how long the run took, not an assertion about that time.
    assert len(deltas) <= math.ceil(elapsed / widgets._LiveFeed.MIN_INTERVAL) + 3
    assert len(deltas) < 200  # versus 20,000 node messages
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    rows = [row for d in deltas for _, rs in d["events"] for row in rs]
    assert sum(r[0] == "c" for r in rows) == n + 1
    # About 150 bytes a node on the wire (the saved-state JSON is ~1.4 kB a node).
    wire = sum(len(b) for _, bufs in rec.raw for b in bufs)
    assert wire < 200 * (n + 1)
    assert sum(r[0] == "s" for r in rows) == n + 1
    assert w.live is False and w.seq == len(deltas) == w.updates_sent
    # The widget's view of the session is complete.
    assert sum(len(r["nodes"]) for r in w.payload["runs"]) == n + 1
    w.close()


def test_events_rebuild_exactly_what_the_engine_saves():
    session = rt.Session(save_state=False, logging_setting="NONE", name="mixed", context={"k": "v"})
    with session:
        w = SessionDashboard(session)
        start = json.loads(w.data)
        rec = Recorder(w)
        rt.call_sync(mixed, 5)
        rt.call_sync(leaf, 7)  # a second run
    rebuilt = apply_events(export_mod.expand_compact(start), rec.deltas)
    truth = json.loads(json.dumps(session.to_payload()))
    # A traceback grows while the error propagates: the widget may have sent it before
    # the caller caught it. Compare where it was raised (the last line) instead.
    for snapshots in [
        *(r["edges"] for r in truth["runs"]),
        *(rs["edges"].values() for rs in rebuilt.values()),
    ]:
        for edge in snapshots:
            output = edge["details"]["output"]
            if edge["details"]["status"] == "Failed":
                output["traceback"] = output["traceback"].strip().splitlines()[-1]
    assert set(rebuilt) == {r["run_id"] for r in truth["runs"]}
    for run in truth["runs"]:
        got = rebuilt[run["run_id"]]
        assert got["nodes"] == {n["identifier"]: n for n in run["nodes"]}
        assert got["edges"] == {e["identifier"]: e for e in run["edges"]}
        assert sorted(got["steps"].values(), key=lambda s: s["step"]) == run["steps"]
        assert got["header"]["status"] == run["status"]
    failures = [row for d in rec.deltas for _, rs in d["events"] for row in rs if row[0] == "f"]
    assert len(failures) == 2
    assert failures[0][5]["type"] == "ValueError" and failures[0][5]["message"] == "odd <b>1</b>"
    # Ids are sent once: a finished node names its request by its index in the id table.
    assert all(isinstance(row[4], int) for row in failures)
    last_extras = [d["extras"] for d in rec.deltas if "extras" in d][-1]
    assert last_extras["state"] == "IDLE"
    assert last_extras["context"] == {"k": "v"}
    assert last_extras["error_count"] == 2
    # Once the session ended, the widget's own data holds all of it: what a
    # refreshed view, a second display, a reloaded page or saved widget state draw.
    final = json.loads(w.data)
    assert final["format"] == export_mod.FEED_FORMAT
    assert w.payload_seq == w.seq == rec.deltas[-1]["seq"] and not w.live
    held = export_mod.expand_feed(final)
    for run in held["runs"]:
        for edge in run["edges"]:
            if edge["details"]["status"] == "Failed":
                edge["details"]["output"]["traceback"] = (
                    edge["details"]["output"]["traceback"].strip().splitlines()[-1]
                )
    assert [r["run_id"] for r in held["runs"]] == [r["run_id"] for r in truth["runs"]]
    for got, run in zip(held["runs"], truth["runs"], strict=True):
        key = lambda x: x["identifier"]  # noqa: E731
        assert sorted(got["nodes"], key=key) == sorted(run["nodes"], key=key)
        assert sorted(got["edges"], key=key) == sorted(run["edges"], key=key)
        assert got["steps"] == run["steps"]
        assert {k: got[k] for k in ("name", "status", "start_time", "end_time")} == {
            k: run[k] for k in ("name", "status", "start_time", "end_time")
        }
    assert held["railtracks_nb"]["state"] == "IDLE"
    assert held["railtracks_nb"]["error_count"] == 2
    assert held["session_name"] == "mixed" and held["end_time"] is not None
    w.close()


def test_coalescing_holds_everything_until_the_interval_or_the_close(monkeypatch):
    monkeypatch.setattr(widgets._LiveFeed, "MIN_INTERVAL", 3600.0)
    session = rt.Session(save_state=False, logging_setting="NONE")
    with session:
        w = GraphView(session)
        rec = Recorder(w)
        rt.call_sync(fan_out, 50)
        rt.call_sync(fan_out, 50)
        # The first message (the session going BUSY) is sent at once; then nothing
        # more within the interval, however many nodes ran.
        assert len(rec.deltas) == 1
        assert rec.deltas[0]["events"] == []
    # ...and the close sends it all in one final delta.
    assert len(rec.deltas) == 2
    rows = [row for _, rs in rec.deltas[1]["events"] for row in rs]
    assert len(rows) == 2 * 2 * 51
    w.close()


def test_a_dashboard_follows_a_long_run_by_its_own_clock(monkeypatch):
    """The feed ignores node messages (the session then records calls without them)
    and reads new calls on a timer of its own while a run goes on: rows arrive
    during the run, not only when the session closes."""
    monkeypatch.setattr(widgets._LiveFeed, "MIN_INTERVAL", 0.02)

    @rt.function_node
    async def slow(i: int) -> int:
        await asyncio.sleep(0.01)
        return i

    @rt.function_node
    async def steps(n: int) -> int:
        return sum([await rt.call(slow, i) for i in range(n)])

    session = rt.Session(save_state=False, logging_setting="NONE")
    with session:
        w = SessionDashboard(session)
        rec = Recorder(w)
        publisher = session.publisher
        assert publisher.delivers_only_to(
            session.rt_state, messages.RequestCreation, messages.RequestSuccess
        )
        assert rt.call_sync(steps, 20) == sum(range(20))
        during = [row for d in rec.deltas for _, rows in d["events"] for row in rows]
    assert len(rec.deltas) >= 3
    assert sum(row[0] == "c" for row in during) >= 10  # sent while the run went on
    truth = json.loads(json.dumps(session.to_payload()))
    held = export_mod.expand_feed(json.loads(w.data))
    key = lambda x: x["identifier"]  # noqa: E731
    for got, run in zip(held["runs"], truth["runs"], strict=True):
        assert sorted(got["nodes"], key=key) == sorted(run["nodes"], key=key)
        assert sorted(got["edges"], key=key) == sorted(run["edges"], key=key)
    w.close()


def test_a_front_end_that_asks_gets_a_full_snapshot():
    session = rt.Session(save_state=False, logging_setting="NONE")
    with session:
        w = SessionDashboard(session)
        rec = Recorder(w)
        rt.call_sync(fan_out, 3)
        w._on_front_end_msg(w, {"type": "sync"}, [])
        reset, buffers = rec.raw[-1]
        assert reset == {"type": "reset", "seq": w._feed.seq}
        # Everything so far, in one buffer, in the form of a finished widget's data.
        (everything,) = buffers
        assert len(export_mod.expand_feed(json.loads(everything))["runs"][0]["nodes"]) == 4
    # After the close too (a reloaded page): the widget's final data, as it is.
    w._on_front_end_msg(w, {"type": "sync"}, [])
    reset, buffers = rec.raw[-1]
    assert reset == {"type": "reset", "seq": w.seq} and buffers == [w.data]
    # Anything else from the front end is ignored.
    before = len(rec.messages)
    w._on_front_end_msg(w, {"type": "hello"}, [])
    assert len(rec.messages) == before
    w.close()


def test_stop_unsubscribes_and_keeps_what_was_shown():
    session = rt.Session(save_state=False, logging_setting="NONE")
    with session:
        w = TimelineView(session)
        names = [s.name for s in session.publisher.subscribers]
        assert any(n.startswith("railtracks_nb.notebook.widgets") for n in names)
        w.stop()
        assert w.live is False
        assert not any(
            s.name.startswith("railtracks_nb.notebook.widgets")
            for s in session.publisher.subscribers
        )
        rec = Recorder(w)
        rt.call_sync(leaf, 1)
    assert rec.deltas == []
    w.close()


def test_a_live_feed_holds_nothing_per_node(monkeypatch):
    """The feed keeps no Python object per node: rows are built at a flush, sent and
    kept only as the encoded bytes the model's data is made of; besides those it
    tracks only the requests still open (which the engine holds too)."""
    monkeypatch.setattr(widgets._LiveFeed, "MIN_INTERVAL", 0.0)  # a delta per message
    seen: list[int] = []

    @rt.function_node
    async def chain(n: int) -> int:
        for i in range(n):
            await rt.call(leaf, i)
            feed = holder["w"]._feed
            reader, encoder = feed._reader, feed._encoder
            seen.append(len(reader.open) + len(encoder._running) + len(reader._read))
        return n

    holder: dict = {}
    session = rt.Session(save_state=False, logging_setting="NONE")
    with session:
        w = holder["w"] = SessionDashboard(session)
        rec = Recorder(w)
        rt.call_sync(chain, 3_000)
        rt.call_sync(fan_out, 3_000)
    assert len(seen) == 3_000 and max(seen) <= 3  # the caller and its run, not 3,000 nodes
    feed = w._final
    assert (feed._reader.open, feed._encoder._running, feed._encoder._requests, feed._fatal) == (
        {}, {}, {}, []
    )
    assert feed.id_table_size == 2 * (3_001 + 3_001)  # what the front end's table holds
    rows = [row for d in rec.deltas for _, rs in d["events"] for row in rs]
    assert sum(r[0] == "c" for r in rows) == sum(r[0] == "s" for r in rows) == 6_002
    w.close()


def test_finished_session_is_not_followed():
    with rt.Session(save_state=False) as session:
        rt.call_sync(leaf, 1)
    w = SessionDashboard(session)
    assert w.live is False
    assert len(w.payload["runs"]) == 1
    w.close()


def test_widget_shown_mid_session_starts_from_the_state_so_far():
    session = rt.Session(save_state=False, logging_setting="NONE")
    with session:
        rt.call_sync(leaf, 1)
        w = SessionDashboard(session)
        rec = Recorder(w)
        assert len(w.payload["runs"]) == 1  # the first run is in the starting payload
        rt.call_sync(leaf, 2)
    # The finished data starts from the snapshot the widget was given.
    rebuilt = apply_events(export_mod.expand_compact(json.loads(w.data)["base"]), rec.deltas)
    assert sum(len(r["nodes"]) for r in rebuilt.values()) == 2
    assert sum(len(r["nodes"]) for r in w.payload["runs"]) == 2
    held = export_mod.expand_feed(json.loads(w.data))
    assert [len(r["nodes"]) for r in held["runs"]] == [1, 1]
    w.close()


def test_widget_attached_inside_a_running_node_rebuilds_exactly():
    # The caller exists before the feed does: its id is sent as a string, not an index.
    holder: dict = {}

    @rt.function_node
    async def attach_then_call(n: int) -> list:
        holder["w"] = SessionDashboard(holder["session"])
        holder["rec"] = Recorder(holder["w"])
        return [await rt.call(leaf, i) for i in range(n)]

    session = holder["session"] = rt.Session(save_state=False, logging_setting="NONE")
    with session:
        rt.call_sync(attach_then_call, 3)
    w, rec = holder["w"], holder["rec"]
    start = export_mod.expand_compact(json.loads(w.data)["base"])
    assert [n["name"] for n in start["runs"][0]["nodes"]] == ["attach_then_call"]
    creations = [row for d in rec.deltas for _, rs in d["events"] for row in rs if row[0] == "c"]
    assert {row[5] for row in creations} == {start["runs"][0]["nodes"][0]["identifier"]}
    rebuilt = apply_events(start, rec.deltas)
    truth = json.loads(json.dumps(session.to_payload()))["runs"][0]
    got = rebuilt[truth["run_id"]]
    assert got["nodes"] == {n["identifier"]: n for n in truth["nodes"]}
    assert got["edges"] == {e["identifier"]: e for e in truth["edges"]}
    held = export_mod.expand_feed(json.loads(w.data))["runs"][0]
    assert {n["identifier"]: n for n in held["nodes"]} == got["nodes"]
    assert {e["identifier"]: e for e in held["edges"]} == got["edges"]
    w.close()


def test_live_feed_with_async_session_and_sync_nodes():
    @rt.function_node
    def slow(x: int) -> int:
        time.sleep(0.01)
        return x

    @rt.function_node
    async def many(n: int) -> list:
        return await asyncio.gather(*(rt.call(slow, i) for i in range(n)))

    async def main():
        async with rt.Session(save_state=False, logging_setting="NONE") as session:
            w = StateView(session)
            rec = Recorder(w)
            await rt.call(many, 8)
        return w, rec

    w, rec = asyncio.run(main())
    rows = [row for d in rec.deltas for _, rs in d["events"] for row in rs]
    assert sorted(r[0] for r in rows) == ["c"] * 9 + ["s"] * 9
    assert w.live is False
    w.close()

"""Execution state: stamps, forests with temporal history, ExecutionInfo and its graph."""

from __future__ import annotations

import asyncio
import json

import pytest

import railtracks_nb as rt
from railtracks_nb.execution.stamps import StampManager
from railtracks_nb.execution.state import ExecutionInfo


@rt.function_node
async def leaf(x):
    return x * 2


@rt.function_node
async def mid(n):
    return [await rt.call(leaf, i) for i in range(n)]


@rt.function_node
async def top(n):
    a = await rt.call(mid, n)
    b = await asyncio.gather(rt.call(leaf, 10), rt.call(leaf, 11))
    return {"a": a, "b": b}


@pytest.fixture
def info() -> ExecutionInfo:
    with rt.Session(save_state=False, name="state-test") as s:
        rt.call_sync(top, 3)
    return s.info


def test_stamp_manager_hands_out_steps_in_order():
    sm = StampManager()
    stamps = [sm.create_stamp(f"s{i}") for i in range(5)]
    assert [s.step for s in stamps] == [0, 1, 2, 3, 4]
    assert [s.identifier for s in sm.all_stamps] == ["s0", "s1", "s2", "s3", "s4"]
    assert sm.stamp_creator()("x").step == 5


def test_create_new_is_empty():
    info = ExecutionInfo.create_new()
    assert len(info.node_forest) == 0 and info.answer is None and info.all_stamps == []
    vertices, edges = info.to_graph()
    assert vertices == [] and edges == []


def test_forests_keep_temporal_history(info):
    node = next(n for n in info.node_forest.values() if n.name == "top")
    history = node.history()
    assert len(history) == 2
    assert history[0].stamp.identifier == "START CREATED top"
    assert history[1].stamp.identifier == "Finished executing top"
    assert history[1].parent is history[0]
    assert "latency" in history[1].internals and history[0].internals == {}
    req = info.request_forest.by_sink(node.identifier)
    assert [r.status for r in req.history()] == ["Open", "Completed"]


def test_answer_stamps_name(info):
    assert info.answer == {"a": [0, 2, 4], "b": [20, 22]}
    assert info.name == "state-test"
    steps = [s.step for s in info.all_stamps]
    assert steps == sorted(steps) and len(steps) == len(set(steps))
    assert len(info.node_forest) == 7 and len(info.request_forest) == 7


def test_to_graph_vertices_and_edges(info):
    vertices, edges = info.to_graph()
    assert len(vertices) == 7
    assert sum(1 for e in edges if e.source_id is None) == 1


def test_get_info_returns_the_subtree(info):
    mid_id = next(n.identifier for n in info.node_forest.values() if n.name == "mid")
    sub = info.get_info([mid_id])
    assert sorted(n.name for n in sub.node_forest.values()) == ["leaf", "leaf", "leaf", "mid"]
    assert len(sub.request_forest) == 4
    assert all(s.step in {x.step for x in info.all_stamps} for s in sub.all_stamps)
    assert sub.get_info(mid_id).node_forest.heap().keys() == sub.node_forest.heap().keys()


def test_get_info_unknown_id_is_a_value_error(info):
    with pytest.raises(ValueError, match=r"Unknown node id.*'nope'"):
        info.get_info(["nope"])


def test_to_networkx_has_attributes(info):
    g = info.to_networkx()
    assert g.number_of_nodes() == 7 and g.number_of_edges() == 6
    root = next(n for n, d in g.nodes(data=True) if d["root"])
    assert g.nodes[root]["name"] == "top" and g.nodes[root]["status"] == "Completed"
    assert g.nodes[root]["latency"] > 0
    edge = next(iter(g.edges(data=True)))[2]
    assert edge["status"] == "Completed" and "input_args" in edge


def test_graph_serialization_is_json_and_has_runs(info):
    data = json.loads(info.graph_serialization())
    assert data["session_name"] == "state-test"
    (run,) = data["runs"]
    assert run["name"] == "top" and run["status"] == "Completed"
    assert len(run["nodes"]) == 7 and len(run["edges"]) == 7
    assert [s["step"] for s in run["steps"]] == sorted(s["step"] for s in run["steps"])


def test_non_json_outputs_are_encoded_as_readable_strings():
    class Thing:
        def __repr__(self):
            return "<Thing 1>"

    cyclic: list = []
    cyclic.append(cyclic)

    @rt.function_node
    async def weird():
        return {
            "obj": Thing(),
            "bytes": b"\x00\x01",
            "nan": float("nan"),
            "cycle": cyclic,
            "set": {3, 1},
            "exc": ValueError("inside"),
            1: "int key",
        }

    with rt.Session(save_state=False) as s:
        rt.call_sync(weird)
    out = json.loads(s.info.graph_serialization())["runs"][0]["edges"][0]["details"]["output"]
    assert out["obj"] == "<Thing 1>"
    assert out["bytes"] == "b'\\x00\\x01'"
    assert out["nan"] == "nan"
    assert out["cycle"] == ["<cycle: list>"]
    assert out["set"] == [1, 3]
    assert out["exc"]["type"] == "ValueError" and out["exc"]["message"] == "inside"
    assert out["1"] == "int key"


def test_failed_edge_output_has_type_message_traceback():
    @rt.function_node
    async def bad():
        raise KeyError("k")

    with rt.Session(save_state=False) as s:
        with pytest.raises(KeyError):
            rt.call_sync(bad)
    edge = json.loads(s.info.graph_serialization())["runs"][0]["edges"][0]
    assert edge["details"]["status"] == "Failed"
    assert edge["details"]["output"]["type"] == "KeyError"
    assert "Traceback" in edge["details"]["output"]["traceback"]


def test_forest_update_links_the_previous_snapshot():
    from railtracks_nb.execution.forest import NodeForest
    from railtracks_nb.execution.snapshots import LinkedNode
    from railtracks_nb.execution.stamps import Stamp

    forest = NodeForest()
    first = LinkedNode("n1", "a", "Tool", Stamp(0, 1.0, "made"), "r")
    forest.update(first)
    forest.update(LinkedNode("n1", "a", "Tool", Stamp(1, 2.0, "done"), "r", latency=1.0))
    latest = forest["n1"]
    assert latest.parent == first and latest.internals == {"latency": {"total_time": 1.0}}
    assert [s.stamp.step for s in latest.history()] == [0, 1]
    assert forest.get("missing") is None and "n1" in forest and len(forest) == 1


def test_session_state_is_not_tracked_by_the_garbage_collector():
    # Retained snapshots are plain tuples the collector stops tracking, so a large
    # session does not make every collection walk all of its nodes.
    import gc

    @rt.function_node
    async def many(n):
        for i in range(n):
            await rt.call(leaf, i)

    with rt.Session(save_state=False) as s:
        gc.collect()
        gc.collect()
        before = len(gc.get_objects())
        rt.call_sync(many, 2000)
        gc.collect()
        gc.collect()
        grown = len(gc.get_objects()) - before
    assert len(s.info.node_forest) == 2001
    assert grown < 200, f"{grown} new tracked objects for 2,001 nodes"


def test_every_session_view_offers_plotly_figures(info, tmp_path):
    import plotly.graph_objects as go

    saved = tmp_path / "s.json"
    saved.write_text(info.graph_serialization())
    for view in (info, rt.load(saved)):
        graph = view.plot_graph(title="calls")
        timeline = view.plot_timeline()
        assert isinstance(graph, go.Figure) and isinstance(timeline, go.Figure)
        assert graph.layout.title.text == "calls"


def test_snapshot_stamper_never_reuses_a_step(info):
    last = max(s.step for s in info.all_stamps)
    assert info.snapshot().stamper.create_stamp("later").step == last + 1
    sub = info.get_info([next(iter(info.node_forest))])
    assert {s.step for s in sub.all_stamps} <= {s.step for s in info.all_stamps}


def test_get_node_type_keeps_each_nodes_own_class():
    """Two node classes of one name in one session (a cell run again): each node's
    class is its own. Snapshots, subtrees (get_info) and saved files say the same,
    as far as they know (a file keeps no classes)."""

    def make(factor):
        class Scale(rt.nodes.Node):
            @classmethod
            def name(cls):
                return "Scale"

            async def invoke(self, x):
                return x * factor

        return Scale

    first, second = make(2), make(3)

    @rt.function_node
    async def both(x):
        return [await rt.call(first, x), await rt.call(second, x)]

    async def main():
        async with rt.Session(save_state=False, logging_setting="NONE") as s:
            assert await rt.call(both, 5) == [10, 15]
        return s

    info = asyncio.run(main()).info
    forest = info.node_forest
    scales = sorted(
        (n for n in forest.values() if n.name == "Scale"), key=lambda n: n.stamp.step
    )
    assert [forest.get_node_type(n.identifier) for n in scales] == [first, second]
    root = info.request_forest.insertion_request[0].sink_id
    assert forest.get_node_type(root).name() == "both"
    assert forest.get_node_type("unknown") is None
    for copy in (info.snapshot().node_forest, info.get_info(root).node_forest):
        assert [copy.get_node_type(n.identifier) for n in scales] == [first, second]
    node = scales[0].node
    assert (node.uuid, node.name(), node.type()) == (scales[0].identifier, "Scale", "Other")
    from railtracks_nb.store.loading import info_from_payload

    loaded = info_from_payload(json.loads(json.dumps(info.to_payload(), default=str)))
    assert scales[0].identifier in loaded.node_forest
    assert loaded.node_forest.get_node_type(scales[0].identifier) is None

"""plot_graph / plot_timeline return plotly figures that show the session."""

from __future__ import annotations

import sys

import plotly.graph_objects as go
import pytest

import railtracks_nb as rt
from railtracks_nb.execution._synthetic import HOSTILE, synthetic_payload
from railtracks_nb.notebook import figures


def _status_traces(fig: go.Figure) -> dict[str, int]:
    out = {}
    for trace in fig.data:
        name = trace.name or ""
        for status in ("Open", "Completed", "Failed"):
            if name.startswith(status):
                out[status] = len(trace.customdata)
    return out


def test_plot_graph_has_one_marker_per_node_by_status():
    payload = synthetic_payload((3, 2), fail={2, 5})
    fig = rt.plot_graph(payload)
    assert isinstance(fig, go.Figure)
    assert _status_traces(fig) == {"Open": 0, "Completed": 8, "Failed": 2}
    edges = fig.data[0]
    # Nine calls, each drawn as (caller, callee, gap).
    assert len(edges.x) == 27 and edges.x[2] is None
    markers = next(t for t in fig.data if t.name and t.name.startswith("Completed"))
    assert set(markers.x) == {0.0, 1.0, 2.0}  # three levels of depth


def test_plot_timeline_bars_span_creation_to_completion():
    payload = synthetic_payload((2,), fail={1})
    fig = rt.plot_timeline(payload)
    assert isinstance(fig, go.Figure)
    bars = {t.name.split()[0]: t for t in fig.data if isinstance(t, go.Bar)}
    assert set(bars) == {"Completed", "Failed"}
    # synthetic stamps are 1 ms apart: node 1 is created at step 1 and fails at step 2.
    failed = bars["Failed"]
    assert failed.base[0] == pytest.approx(1.0, abs=1e-3)
    assert failed.x[0] == pytest.approx(1.0, abs=1e-3)
    top = bars["Completed"]
    assert top.base[0] == pytest.approx(0.0) and top.x[0] == pytest.approx(5.0, abs=1e-3)
    stamps = next(t for t in fig.data if t.name == "stamps")
    assert len(stamps.x) == 6  # created + finished for each of 3 nodes


def test_open_nodes_are_drawn_up_to_the_last_stamp():
    payload = synthetic_payload((3,), open_from=3)
    fig = figures.plot_timeline(payload)
    bars = {t.name.split()[0]: t for t in fig.data if isinstance(t, go.Bar)}
    assert "Open" in bars
    # Steps 0-2: entry created, child 1 created and finished; then children 2 and 3
    # are created and nothing finishes: three open nodes.
    assert len(bars["Open"].x) == 3
    assert all(x > 0 for x in bars["Open"].x)


def test_hover_text_escapes_node_text():
    fig = rt.plot_graph(synthetic_payload((2,), hostile=True))
    hover = " ".join(h for t in fig.data if t.hovertext for h in t.hovertext)
    assert HOSTILE not in hover
    assert "&lt;img src=x onerror=alert(1)&gt;" in hover


def test_big_sessions_use_webgl(monkeypatch):
    monkeypatch.setattr(figures, "WEBGL_THRESHOLD", 5)
    fig = figures.plot_graph(synthetic_payload((10,)))
    assert any(isinstance(t, go.Scattergl) for t in fig.data)


def test_figures_of_a_real_session_and_the_railtracks_sample(railtracks_sample_path):
    @rt.function_node
    def leaf(x: int) -> int:
        return x

    with rt.Session(save_state=False) as session:
        rt.call_sync(leaf, 1)
    assert _status_traces(rt.plot_graph(session)) == {"Open": 0, "Completed": 1, "Failed": 0}
    fig = rt.plot_graph(railtracks_sample_path)
    assert _status_traces(fig) == {"Open": 0, "Completed": 8, "Failed": 1}
    assert isinstance(rt.plot_timeline(rt.load(railtracks_sample_path)), go.Figure)


def test_deep_call_chains_do_not_recurse():
    # A sequential chain deeper than Python's recursion limit (the generator
    # itself recurses, so it gets a higher limit; the figure code does not).
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        payload = synthetic_payload([1] * 1500)
    finally:
        sys.setrecursionlimit(limit)
    assert limit < 1500
    fig = figures.plot_graph(payload)
    assert _status_traces(fig)["Completed"] == 1501

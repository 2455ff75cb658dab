"""Plotly figures of a session, for users who want to style, embed or save them.

``plot_graph(obj)`` draws the call tree (callers on the left, callees to the
right, one marker per node coloured by status); ``plot_timeline(obj)`` draws
one horizontal bar per node from creation to completion, with its stamps as
marks. Both draw the session's call tree, made from its rows
(:mod:`railtracks_nb.execution.calltree`), accept anything
:func:`railtracks_nb.notebook.sources.info_of` accepts and return a
``plotly.graph_objects.Figure``. Past ``WEBGL_THRESHOLD`` nodes the
scatter traces switch to WebGL (``Scattergl``) to stay responsive.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..core.vocabulary import STATUS_COLOURS as STATUS_COLORS
from ..core.vocabulary import format_duration, session_title
from ..execution.calltree import call_records
from .sources import SessionSource, info_of
from .tree_layout import leaf_rows

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["plot_graph", "plot_timeline"]

WEBGL_THRESHOLD = 2000


def _title(payload: dict[str, Any], what: str) -> str:
    return f"{session_title(payload)}: {what}"


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _hover(rec: dict[str, Any], t0: float) -> str:
    # Plotly renders hover text as (a subset of) HTML: escape what came from the session.
    import html

    end = rec["finished"]
    lines = [
        f"<b>{html.escape(rec['name'])}</b> ({html.escape(rec['type'])})",
        f"status: {rec['status']}",
        f"start: +{format_duration(rec['created'] - t0)}",
        "running" if end is None else f"duration: {format_duration(end - rec['created'])}",
        f"inputs: {html.escape(_short(rec['args']))} {html.escape(_short(rec['kwargs']))}",
    ]
    if rec["error"]:
        err = rec["error"]
        kind, message = str(err.get("type")), _short(err.get("message", ""))
        lines.append(f"error: {html.escape(kind)}: {html.escape(message)}")
    elif rec["status"] == "Completed":
        lines.append(f"output: {html.escape(_short(rec['output']))}")
    return "<br>".join(lines)


def _tree_positions(records: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """x = depth, y = order of leaves (parents centred on their children)."""
    by_id = {r["id"]: r for r in records}
    children: dict[str | None, list[str]] = {}
    for r in records:
        caller = r["caller"] if r["caller"] in by_id and r["caller"] != r["id"] else None
        children.setdefault(caller, []).append(r["id"])
    rows = leaf_rows(children.get(None, []), lambda rid: children.get(rid, []))
    return {rid: (float(by_id[rid]["depth"]), row) for rid, row in rows}


def plot_graph(obj: SessionSource) -> go.Figure:
    """The call tree of ``obj`` as a plotly figure (edges caller → callee, markers by status)."""
    import plotly.graph_objects as go

    info, payload = info_of(obj)
    records = call_records(info)
    pos = _tree_positions(records)
    t0 = min((r["created"] for r in records), default=0.0)
    scatter = go.Scattergl if len(records) > WEBGL_THRESHOLD else go.Scatter
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for r in records:
        if r["caller"] in pos and r["id"] in pos:
            (x0, y0), (x1, y1) = pos[r["caller"]], pos[r["id"]]
            edge_x += [x0, x1, None]
            edge_y += [y0, y1, None]
    fig = go.Figure()
    fig.add_trace(
        scatter(x=edge_x, y=edge_y, mode="lines", line={"color": "#9aa3ad", "width": 1},
                hoverinfo="skip", name="calls", showlegend=False)
    )  # fmt: skip
    for status, color in STATUS_COLORS.items():
        group = [r for r in records if r["status"] == status and r["id"] in pos]
        fig.add_trace(
            scatter(
                x=[pos[r["id"]][0] for r in group],
                y=[pos[r["id"]][1] for r in group],
                mode="markers+text" if len(records) <= 60 else "markers",
                text=[r["name"] for r in group],
                textposition="middle right",
                marker={"color": color, "size": 12, "line": {"color": "#333", "width": 1}},
                hovertext=[_hover(r, t0) for r in group],
                hoverinfo="text",
                customdata=[r["id"] for r in group],
                name=f"{status} ({len(group)})",
            )
        )
    fig.update_layout(
        title=_title(payload, "call graph"),
        xaxis={"title": "call depth", "dtick": 1, "zeroline": False},
        yaxis={"visible": False, "autorange": "reversed"},
        plot_bgcolor="#ffffff",
        hovermode="closest",
        legend={"orientation": "h"},
    )
    return fig


def plot_timeline(obj: SessionSource) -> go.Figure:
    """One bar per node from creation to completion (ms since the session's first
    stamp), coloured by status, rows in call order, stamps as tick marks."""
    import plotly.graph_objects as go

    info, payload = info_of(obj)
    records = call_records(info)
    all_times = [raw[1] for run in info.runs.values() for raw in run.raw_stamps]
    t0 = min([r["created"] for r in records] + all_times, default=0.0)
    t_end = max([r["finished"] or r["created"] for r in records] + all_times, default=t0)
    # Rows in depth-first call order, like the widget's timeline.
    pos = _tree_positions(records)
    order = sorted(records, key=lambda r: pos.get(r["id"], (0, 0))[1])
    row_of = {r["id"]: i for i, r in enumerate(order)}
    labels = [f"{'  ' * min(r['depth'], 8)}{r['name']} #{i}" for i, r in enumerate(order)]
    fig = go.Figure()
    for status, color in STATUS_COLORS.items():
        group = [r for r in order if r["status"] == status]
        if not group:
            continue
        fig.add_trace(
            go.Bar(
                orientation="h",
                base=[(r["created"] - t0) * 1e3 for r in group],
                x=[max(((r["finished"] or t_end) - r["created"]) * 1e3, 1e-3) for r in group],
                y=[row_of[r["id"]] for r in group],
                marker={"color": color},
                hovertext=[_hover(r, t0) for r in group],
                hoverinfo="text",
                customdata=[r["id"] for r in group],
                name=f"{status} ({len(group)})",
            )
        )
    # Stamps: the creation and completion marks of each node.
    sx, sy = [], []
    for r in order:
        sx.append((r["created"] - t0) * 1e3)
        sy.append(row_of[r["id"]])
        if r["finished"] is not None:
            sx.append((r["finished"] - t0) * 1e3)
            sy.append(row_of[r["id"]])
    scatter = go.Scattergl if len(records) > WEBGL_THRESHOLD else go.Scatter
    fig.add_trace(
        scatter(x=sx, y=sy, mode="markers", name="stamps",
                marker={"symbol": "line-ns-open", "size": 10, "color": "#222"}, hoverinfo="skip")
    )  # fmt: skip
    fig.update_layout(
        title=_title(payload, "timeline"),
        barmode="overlay",
        xaxis={"title": "time since start (ms)"},
        yaxis={
            "autorange": "reversed",
            "tickmode": "array",
            "tickvals": list(range(len(order))) if len(order) <= 80 else [],
            "ticktext": labels if len(order) <= 80 else [],
        },
        plot_bgcolor="#ffffff",
        legend={"orientation": "h"},
    )
    return fig

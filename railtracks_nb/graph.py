"""The call graph of a saved-state payload as a ``networkx.DiGraph``.

One vertex per node (keyed by node id), one edge per request from caller to
callee. Vertex attributes: ``name``, ``node_type``, ``status``, ``run_id``,
``run_name``, ``created`` / ``finished`` (times), ``latency``, ``steps`` (the
node's stamps' steps), ``root`` (whether a run's top-level request created it).
Edge attributes: ``request_id``, ``status``, ``input_args``, ``input_kwargs``,
``output`` (JSON values), ``step``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx


def _chain(snapshot: dict[str, Any] | None) -> list[dict[str, Any]]:
    out = []
    while snapshot is not None:
        out.append(snapshot)
        snapshot = snapshot.get("parent")
    return out[::-1]


def payload_to_networkx(payload: dict[str, Any]) -> networkx.DiGraph:
    """Build the call graph of ``payload`` (see the module docstring for attributes)."""
    import networkx as nx

    graph = nx.DiGraph(
        session_id=payload.get("session_id"),
        session_name=payload.get("session_name"),
        start_time=payload.get("start_time"),
        end_time=payload.get("end_time"),
    )
    for run in payload.get("runs", []):
        edges = run.get("edges", [])
        by_target = {e["target"]: e for e in edges}
        for node in run.get("nodes", []):
            history = _chain(node)
            edge = by_target.get(node["identifier"])
            status = edge["details"].get("status", "Open") if edge else "Open"
            latency = (node.get("details", {}).get("internals") or {}).get("latency", {})
            graph.add_node(
                node["identifier"],
                name=node.get("name"),
                node_type=node.get("node_type"),
                status=status,
                run_id=run.get("run_id"),
                run_name=run.get("name"),
                created=history[0]["stamp"]["time"],
                finished=history[-1]["stamp"]["time"] if status != "Open" else None,
                latency=latency.get("total_time"),
                steps=[h["stamp"]["step"] for h in history],
                root=bool(edge is not None and edge.get("source") is None),
            )
        for edge in edges:
            if edge.get("source") is None:
                continue
            details = edge.get("details", {})
            graph.add_edge(
                edge["source"],
                edge["target"],
                request_id=edge["identifier"],
                status=details.get("status"),
                input_args=details.get("input_args"),
                input_kwargs=details.get("input_kwargs"),
                output=details.get("output"),
                step=_chain(edge)[0]["stamp"]["step"],
            )
    return graph

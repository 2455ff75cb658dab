"""A session's call graph as a ``networkx.DiGraph``, made from its call tree
(:func:`railtracks_nb.execution.calltree.call_records`).

One vertex per node (keyed by node id), one edge per request from caller to
callee. Vertex attributes: ``name``, ``node_type``, ``status``, ``run_id``,
``run_name``, ``created`` / ``finished`` (times), ``latency``, ``steps`` (the
node's stamps' steps), ``root`` (whether a run's top-level request created it).
Edge attributes: ``request_id``, ``status``, ``input_args``, ``input_kwargs``,
``output`` (JSON values), ``step``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .calltree import CallRecord, call_records
from .payload import build_payload_head

if TYPE_CHECKING:
    import networkx

    from .state import ExecutionInfo

__all__ = ["call_graph", "to_networkx"]


def to_networkx(info: ExecutionInfo) -> networkx.DiGraph:
    """The call graph of ``info`` (see the module docstring for its attributes)."""
    return call_graph(call_records(info), build_payload_head(info))


def call_graph(records: list[CallRecord], head: dict[str, Any]) -> networkx.DiGraph:
    """The call graph of these records; the graph's attributes are ``session_id``,
    ``session_name``, ``start_time`` and ``end_time`` of ``head`` (a saved-state
    payload, or its first fields)."""
    import networkx as nx

    graph: networkx.DiGraph[str] = nx.DiGraph(
        session_id=head.get("session_id"),
        session_name=head.get("session_name"),
        start_time=head.get("start_time"),
        end_time=head.get("end_time"),
    )
    for rec in records:
        graph.add_node(
            rec["id"],
            name=rec["name"],
            node_type=rec["type"],
            status=rec["status"],
            run_id=rec["run_id"],
            run_name=rec["run_name"],
            created=rec["created"],
            finished=rec["finished"],
            latency=rec["latency"],
            steps=rec["steps"],
            root=rec["caller"] is None and rec["request_id"] is not None,
        )
    for rec in records:
        if rec["caller"] is None or rec["caller"] not in graph:
            continue
        graph.add_edge(
            rec["caller"],
            rec["id"],
            request_id=rec["request_id"],
            status=rec["status"],
            input_args=rec["args"],
            input_kwargs=rec["kwargs"],
            output=rec["error"] if rec["status"] == "Failed" else rec["output"],
            step=rec["created_step"],
        )
    return graph

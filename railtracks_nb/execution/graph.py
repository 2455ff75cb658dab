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
    out: list[dict[str, Any]] = []
    while snapshot is not None:
        out.append(snapshot)
        snapshot = snapshot.get("parent")
    return out[::-1]


def node_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat record per node, in creation order, derived from ``payload``.

    Keys: ``id``, ``name``, ``type``, ``status`` (of the request that created
    the node), ``caller`` (the calling node's id, ``None`` for a run's entry
    node), ``run_id``, ``run_name``, ``created`` / ``finished`` (epoch seconds;
    ``finished`` is ``None`` while open), ``latency``, ``steps`` (every stamp
    step of the node and its request), ``args``, ``kwargs``, ``output``,
    ``error`` (``{type, message, traceback}`` when failed), ``depth``,
    ``request_id`` (the request that created the node).

    This is the one reading of a payload's call graph that exports, figures and
    ``to_networkx`` share. (The static display keeps its own, more forgiving
    reading: it must draw hand-made and broken payloads without failing.)
    """
    records: dict[str, dict[str, Any]] = {}
    for run in payload.get("runs", []):
        for node in run.get("nodes", []):
            history = _chain(node)
            internals = (history[-1].get("details") or {}).get("internals") or {}
            latency = (internals.get("latency") or {}).get("total_time")
            records[node["identifier"]] = {
                "id": node["identifier"],
                "name": str(history[-1].get("name", "")),
                "type": str(history[-1].get("node_type", "Other")),
                "status": "Open",
                "caller": None,
                "run_id": run.get("run_id"),
                "run_name": run.get("name"),
                "created": history[0]["stamp"]["time"],
                "created_step": history[0]["stamp"]["step"],
                "finished": None,
                "latency": latency,
                "steps": sorted({h["stamp"]["step"] for h in history}),
                "args": [],
                "kwargs": {},
                "output": None,
                "error": None,
                "depth": 0,
                "request_id": None,
            }
        for edge in run.get("edges", []):
            snaps = _chain(edge)
            rec = records.get(edge["target"])
            if rec is None:  # an edge whose node is missing: keep it visible anyway
                rec = records[edge["target"]] = {
                    "id": edge["target"], "name": edge["target"], "type": "Other",
                    "status": "Open", "caller": None, "run_id": run.get("run_id"),
                    "run_name": run.get("name"), "created": snaps[0]["stamp"]["time"],
                    "created_step": snaps[0]["stamp"]["step"], "finished": None,
                    "latency": None, "steps": [], "args": [], "kwargs": {},
                    "output": None, "error": None, "depth": 0, "request_id": None,
                }  # fmt: skip
            details = edge.get("details") or {}
            status = details.get("status") or "Open"
            rec["status"] = status
            rec["caller"] = edge.get("source")
            rec["request_id"] = edge.get("identifier")
            rec["args"] = details.get("input_args") or []
            rec["kwargs"] = details.get("input_kwargs") or {}
            rec["steps"] = sorted(set(rec["steps"]) | {s["stamp"]["step"] for s in snaps})
            if snaps[0]["stamp"]["step"] < rec["created_step"]:
                rec["created"] = snaps[0]["stamp"]["time"]
                rec["created_step"] = snaps[0]["stamp"]["step"]
            if status != "Open":
                rec["finished"] = snaps[-1]["stamp"]["time"]
            if status == "Failed":
                out = details.get("output")
                rec["error"] = (
                    out if isinstance(out, dict) else {"type": "Error", "message": str(out)}
                )
            elif status == "Completed":
                rec["output"] = details.get("output")
    ordered = sorted(records.values(), key=lambda r: r["created_step"])
    # Depths without recursion: callers are always created before their callees.
    for rec in ordered:
        caller = records.get(rec["caller"]) if rec["caller"] else None
        rec["depth"] = caller["depth"] + 1 if caller is not None and caller is not rec else 0
    return ordered


def payload_to_networkx(payload: dict[str, Any]) -> networkx.DiGraph:
    """Build the call graph of ``payload`` (see the module docstring for attributes)."""
    import networkx as nx

    graph: networkx.DiGraph[str] = nx.DiGraph(
        session_id=payload.get("session_id"),
        session_name=payload.get("session_name"),
        start_time=payload.get("start_time"),
        end_time=payload.get("end_time"),
    )
    records = node_records(payload)
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

"""The call-tree reading of a saved-state payload the views used before they read rows.

A frozen copy of ``node_records(payload)`` as it was when the static display,
figures, ``to_networkx`` and the diagram exports read the Railtracks-schema
payload: :mod:`tests.execution.test_calltree` checks that the call tree made
from rows (:func:`railtracks_nb.execution.calltree.call_records`) gives the same
records. Not used by the package.
"""

from __future__ import annotations

from typing import Any


def _chain(snapshot: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A snapshot's history, oldest first (walked iteratively: chains can be long)."""
    out: list[dict[str, Any]] = []
    while isinstance(snapshot, dict):
        out.append(snapshot)
        snapshot = snapshot.get("parent")
    return out[::-1]


def _stamp_of(snapshot: dict[str, Any]) -> tuple[int, Any]:
    """A snapshot's (step, time); a hand-made file may leave either out (0, None)."""
    stamp = snapshot.get("stamp")
    stamp = stamp if isinstance(stamp, dict) else {}
    step, when = stamp.get("step"), stamp.get("time")
    return (step if isinstance(step, int) else 0, when if isinstance(when, (int, float)) else None)


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in items or () if isinstance(item, dict)]


def _record(node_id: Any, name: Any, kind: Any, run: dict[str, Any], first: tuple) -> dict:
    return {
        "id": node_id, "name": str(name), "type": str(kind), "status": "Open",
        "caller": None, "run_id": run.get("run_id"), "run_name": run.get("name"),
        "created": first[1], "created_step": first[0], "finished": None, "latency": None,
        "steps": [], "args": [], "kwargs": {}, "output": None, "error": None, "depth": 0,
        "request_id": None,
    }  # fmt: skip


def payload_node_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat record per node, in creation order, derived from ``payload``.

    Keys: ``id``, ``name``, ``type``, ``status`` (of the request that created
    the node), ``caller`` (the calling node's id, ``None`` for a run's entry
    node), ``run_id``, ``run_name``, ``created`` / ``finished`` (epoch seconds;
    ``finished`` is ``None`` while open), ``latency``, ``steps`` (every stamp
    step of the node and its request), ``args``, ``kwargs``, ``output``,
    ``error`` (``{type, message, traceback}`` when failed), ``depth``,
    ``request_id`` (the request that created the node).

    It was forgiving on purpose (hand-made and broken payloads: missing stamps,
    details or ids, edges to nowhere), so every view could still draw what a file holds.
    """
    records: dict[Any, dict[str, Any]] = {}
    for run in _dicts(payload.get("runs")):
        for node in _dicts(run.get("nodes")):
            if "identifier" not in node:
                continue
            history = _chain(node)
            node_details = history[-1].get("details")
            internals = (node_details if isinstance(node_details, dict) else {}).get(
                "internals"
            ) or {}
            latency = (internals.get("latency") or {}) if isinstance(internals, dict) else {}
            rec = records[node["identifier"]] = _record(
                node["identifier"], history[-1].get("name", ""),
                history[-1].get("node_type", "Other"), run, _stamp_of(history[0]),
            )  # fmt: skip
            rec["latency"] = latency.get("total_time") if isinstance(latency, dict) else None
            rec["steps"] = sorted({_stamp_of(h)[0] for h in history})
        for edge in _dicts(run.get("edges")):
            snaps = _chain(edge)
            first = _stamp_of(snaps[0])
            target = edge.get("target")
            rec = records.get(target) or _record(target, target, "Other", run, first)
            records[target] = rec  # an edge whose node is missing: kept visible anyway
            raw_details = edge.get("details")
            details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
            status = details.get("status") or "Open"
            rec["status"] = status
            rec["caller"] = edge.get("source")
            rec["request_id"] = edge.get("identifier")
            rec["args"] = details.get("input_args") or []
            rec["kwargs"] = details.get("input_kwargs") or {}
            rec["steps"] = sorted(set(rec["steps"]) | {_stamp_of(s)[0] for s in snaps})
            if first[0] < rec["created_step"]:
                rec["created_step"], rec["created"] = first
            if status != "Open":
                rec["finished"] = _stamp_of(snaps[-1])[1]
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
        caller = records.get(rec["caller"]) if rec["caller"] is not None else None
        rec["depth"] = caller["depth"] + 1 if caller is not None and caller is not rec else 0
    return ordered

"""A payload that is not a valid saved session, read as far as it goes.

:func:`info_of_payload` is how the views (static display, figures, diagrams,
``to_networkx``) read a payload ``dict``: a valid one exactly as ``rt.load`` reads a
file (:func:`~railtracks_nb.store.loading.info_from_payload`); a hand-made or broken
one (missing stamps, details, ids or session fields, edges to nowhere) is salvaged
instead of refused, so every view can still draw what it holds.

What salvaging assumes where the payload says nothing: a missing stamp is step 0
at no time, a missing name is ``""``, a missing type ``"Other"``, missing details
are an open request with no arguments, a status other than Open, Completed or
Failed is Open (as ``rt.load`` reads it). A node without an ``identifier`` and a
snapshot that is not an object are skipped. Two edges with the same identifier
(or none) are one request: the one listed last.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..core.exceptions import SavedStateError
from ..core.extras import extras_of
from ..execution.forest import NodeForest, RequestForest
from ..execution.snapshots import LinkedNode, RequestTemplate
from ..execution.stamps import Stamp, StampManager
from ..execution.state import ExecutionInfo, Run
from .loading import info_from_payload

__all__ = ["info_of_payload", "salvaged_info", "snapshot_chain"]

_STATUSES = ("Open", "Completed", "Failed")


def info_of_payload(payload: dict[str, Any]) -> ExecutionInfo:
    """The execution state of a payload dict: as ``rt.load`` reads it when it is a
    valid saved session, else salvaged (see the module docstring)."""
    try:
        return info_from_payload(payload)
    except (SavedStateError, RecursionError):
        return salvaged_info(payload)


def snapshot_chain(snapshot: Any) -> list[dict[str, Any]]:
    """A snapshot's history, oldest first (iterative: a file may nest deeply)."""
    out: list[dict[str, Any]] = []
    while isinstance(snapshot, dict):
        out.append(snapshot)
        snapshot = snapshot.get("parent")
    return out[::-1]


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _stamp(snapshot: dict[str, Any]) -> Stamp:
    stamp = snapshot.get("stamp")
    stamp = stamp if isinstance(stamp, dict) else {}
    step, text = stamp.get("step"), stamp.get("identifier")
    return Stamp(
        step if isinstance(step, int) and not isinstance(step, bool) else 0,
        _number(stamp.get("time")),  # type: ignore[arg-type]  # unknown: no time
        text if isinstance(text, str) else "",
    )


def _key(value: Any) -> Any:
    """An id as the file has it, or its text when it cannot be a key."""
    return value if isinstance(value, Hashable) else str(value)


def _node(history: list[dict[str, Any]], run_id: str) -> LinkedNode | None:
    node = None
    for snap in history:
        details = snap.get("details")
        internals = details.get("internals") if isinstance(details, dict) else None
        node = LinkedNode(
            _key(history[-1]["identifier"]),
            str(snap.get("name", "")),
            str(snap.get("node_type", "Other")),
            _stamp(snap),
            run_id,
            dict(internals) if isinstance(internals, dict) and internals else None,
            parent=node,
        )
    return node


def _request(history: list[dict[str, Any]], run_id: str) -> RequestTemplate | None:
    request = None
    last = history[-1]
    for snap in history:
        details = snap.get("details")
        details = details if isinstance(details, dict) else {}
        args = details.get("input_args") or []
        kwargs = details.get("input_kwargs") or {}
        status = details.get("status") or "Open"
        request = RequestTemplate(
            _key(last.get("identifier")),
            _key(last.get("source")),
            _key(last.get("target")),
            tuple(args) if isinstance(args, (list, tuple)) else (args,),
            dict(kwargs) if isinstance(kwargs, dict) else {},
            details.get("output"),
            status if status in _STATUSES else "Open",  # type: ignore[arg-type]
            _stamp(snap),
            run_id,
            request,
        )
    return request


def salvaged_info(payload: dict[str, Any]) -> ExecutionInfo:
    """An :class:`ExecutionInfo` of whatever ``payload`` holds, however incomplete."""
    nodes, requests, stamper = NodeForest(), RequestForest(), StampManager()
    runs: dict[Any, Run] = {}
    seen_steps: set[int] = set()
    start = _number(payload.get("start_time"))
    raw_runs = payload.get("runs")
    for index, raw in enumerate(raw_runs if isinstance(raw_runs, list) else []):
        if not isinstance(raw, dict):
            continue
        run_id = _key(raw.get("run_id"))
        if run_id in runs:  # a second run with the same id (or none): keep both
            run_id = f"{run_id}#{index}"
        run = runs[run_id] = Run(run_id, raw.get("name"), _number(raw.get("start_time")) or start)  # type: ignore[arg-type]
        run.end_time = _number(raw.get("end_time"))
        run.status = raw.get("status") if raw.get("status") in _STATUSES else "Open"  # type: ignore[assignment]
        for snap in raw.get("nodes") or ():
            if isinstance(snap, dict) and "identifier" in snap:
                node = _node(snapshot_chain(snap), run_id)
                if node is not None:
                    nodes.restore(node)
                    run.node_ids.append(node.identifier)
        edges = [snapshot_chain(e) for e in raw.get("edges") or () if isinstance(e, dict)]
        for history in sorted(edges, key=lambda h: _stamp(h[0]).step):
            request = _request(history, run_id)
            if request is None:
                continue
            if request.identifier in run.request_ids:  # listed twice: the last one stands
                run.request_ids.remove(request.identifier)
            requests.restore(request)
            run.request_ids.append(request.identifier)
            if request.source_id is None:
                run.root_request_id, run.root_node_id = request.identifier, request.sink_id
        for step in raw.get("steps") or ():
            stamp = _stamp(step) if isinstance(step, dict) else None
            if stamp is None or stamp.time is None:
                continue
            run.add_stamp(stamp)
            if stamp.step not in seen_steps:
                seen_steps.add(stamp.step)
                stamper.adopt(stamp)
    return ExecutionInfo(
        requests,
        nodes,
        stamper,
        runs.values(),
        session_id=payload.get("session_id")
        if isinstance(payload.get("session_id"), str)
        else None,
        session_name=payload.get("session_name")
        if isinstance(payload.get("session_name"), str)
        else None,
        start_time=start,
        end_time=_number(payload.get("end_time")),
        extras=extras_of(payload),
    )

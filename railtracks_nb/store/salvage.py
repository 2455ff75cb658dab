"""A payload dict read into an :class:`ExecutionInfo` as far as it goes.

:func:`info_of_payload` is how the views that draw a call tree (static display,
figures, diagrams, ``to_networkx``) read a payload ``dict``: a valid one gives
what ``rt.load`` would give; a hand-made or broken one (missing stamps, details,
ids or session fields, edges to nowhere) is salvaged instead of refused, so
every view can still draw what it holds.

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

from ..core.encoding import collector_paused
from ..core.extras import extras_of
from ..execution.forest import NodeForest, RequestForest
from ..execution.snapshots import split_internals
from ..execution.stamps import Stamp, StampManager
from ..execution.state import ExecutionInfo, Run

__all__ = ["info_of_payload", "salvaged_info", "snapshot_chain"]

_STATUSES = ("Open", "Completed", "Failed")


def info_of_payload(payload: dict[str, Any]) -> ExecutionInfo:
    """The execution state of a payload dict, for the views that draw its call tree.

    Read as ``rt.load`` reads a file (:func:`~railtracks_nb.store.loading.info_from_payload`
    gives the same call tree of a valid payload) but without validating it first:
    a valid payload costs no schema check (that took five times as long as
    drawing it), and a hand-made or broken one is salvaged instead of refused
    (see the module docstring).
    """
    with collector_paused():  # thousands of fresh tuples, no cycles: see collector_paused
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


def _stamp(snapshot: dict[str, Any]) -> tuple[int, float | None, str]:
    """A snapshot's stamp as a record holds it: ``(step, time, text)``."""
    stamp = snapshot.get("stamp")
    if type(stamp) is dict:
        step, at, text = stamp.get("step"), stamp.get("time"), stamp.get("identifier")
        if type(step) is int and type(at) is float and type(text) is str:
            return (step, at, text)  # what every saved file holds
    else:
        stamp = {}
    step, text = stamp.get("step"), stamp.get("identifier")
    return (
        step if isinstance(step, int) and not isinstance(step, bool) else 0,
        _number(stamp.get("time")),  # unknown: no time
        text if isinstance(text, str) else "",
    )


def _key(value: Any) -> Any:
    """An id as the file has it, or its text when it cannot be a key."""
    return value if isinstance(value, Hashable) else str(value)


def _node(history: list[dict[str, Any]], run_id: Any) -> tuple:
    """A node's record (``NODE_FIELDS``), its history oldest first."""
    identifier = _key(history[-1]["identifier"])
    raw: tuple | None = None
    for snap in history:
        details = snap.get("details")
        internals = details.get("internals") if type(details) is dict else None
        extra, latency = split_internals(internals)
        name, kind = snap.get("name", ""), snap.get("node_type", "Other")
        name = name if type(name) is str else str(name)
        kind = kind if type(kind) is str else str(kind)
        raw = (identifier, name, kind, _stamp(snap), run_id, extra, latency, raw)
    return raw  # type: ignore[return-value]  # a history is never empty


def _request(history: list[dict[str, Any]], run_id: Any) -> tuple:
    """A request's record (``REQUEST_FIELDS``), its history oldest first."""
    last = history[-1]
    identifier, source, target = (_key(last.get(k)) for k in ("identifier", "source", "target"))
    raw: tuple | None = None
    for snap in history:
        details = snap.get("details")
        details = details if type(details) is dict else {}
        args = details.get("input_args") or ()
        kwargs = details.get("input_kwargs") or None
        status = details.get("status") or "Open"
        raw = (
            identifier, source, target,
            tuple(args) if isinstance(args, (list, tuple)) else (args,),
            dict(kwargs) if isinstance(kwargs, dict) else None,
            details.get("output"), status if status in _STATUSES else "Open",
            _stamp(snap), run_id, raw,
        )  # fmt: skip
    return raw  # type: ignore[return-value]  # a history is never empty


def salvaged_info(payload: dict[str, Any]) -> ExecutionInfo:
    """An :class:`ExecutionInfo` of whatever ``payload`` holds, however incomplete."""
    nodes, requests, stamper = NodeForest(), RequestForest(), StampManager()
    runs: dict[Any, Run] = {}
    seen_steps: set[int] = set()
    start = _number(payload.get("start_time"))
    session_id, session_name = payload.get("session_id"), payload.get("session_name")
    raw_runs = payload.get("runs")
    for index, raw in enumerate(raw_runs if isinstance(raw_runs, list) else []):
        if not isinstance(raw, dict):
            continue
        run_id = _key(raw.get("run_id"))
        if run_id in runs:  # a second run with the same id (or none): keep both
            run_id = f"{run_id}#{index}"
        run_start = _number(raw.get("start_time")) or start
        run = runs[run_id] = Run(run_id, raw.get("name"), run_start)  # type: ignore[arg-type]
        run.end_time = _number(raw.get("end_time"))
        run.status = raw.get("status") if raw.get("status") in _STATUSES else "Open"  # type: ignore[assignment]
        for snap in raw.get("nodes") or ():
            if type(snap) is dict and "identifier" in snap:
                node = _node(snapshot_chain(snap), run_id)
                nodes.restore_record(node)
                run.node_ids.append(node[0])
        edges = [snapshot_chain(e) for e in raw.get("edges") or () if type(e) is dict]
        listed: set[Any] = set()
        for history in sorted(edges, key=lambda h: _stamp(h[0])[0]):
            request = _request(history, run_id)
            identifier = request[0]
            if identifier in listed:  # listed twice: the last one stands
                run.request_ids.remove(identifier)
            listed.add(identifier)
            requests.restore_record(request)
            run.request_ids.append(identifier)
            if request[1] is None:
                run.root_request_id, run.root_node_id = identifier, request[2]
        for step in raw.get("steps") or ():
            stamp = _stamp(step) if type(step) is dict else None
            if stamp is None or stamp[1] is None:
                continue
            run.add_stamp(stamp)  # type: ignore[arg-type]  # its time is known here
            if stamp[0] not in seen_steps:
                seen_steps.add(stamp[0])
                stamper.adopt(Stamp._make(stamp))
    return ExecutionInfo(
        requests,
        nodes,
        stamper,
        runs.values(),
        session_id=session_id if isinstance(session_id, str) else None,
        session_name=session_name if isinstance(session_name, str) else None,
        start_time=start,
        end_time=_number(payload.get("end_time")),
        extras=extras_of(payload),
    )

"""A session's call tree, made from its event rows: one flat record per node.

The static display, the figures, ``to_networkx`` and the Mermaid, DOT and GraphML
exports all draw this one tree, and it is read from the rows
(:mod:`railtracks_nb.execution.rows`), the one form a session's calls leave the
execution state in: each request's ``"c"`` row makes (or updates) the record of
the node it created, its ``"s"`` or ``"f"`` row ends it. Nothing is walked
recursively and no snapshot chain is followed: a 100,000-deep chain is one pass.

Everything the engine records is in its rows, so for a session (live or
finished) and a file saved by railtracks_nb or Railtracks the records are the
whole story. A hand-made or foreign file may hold more than rows express; then:

* ``steps`` holds the steps of each request's first and last snapshots (and of
  every snapshot of its node): a request's intermediate snapshots are left out;
* a status other than Open, Completed or Failed is read as Open (as ``rt.load``
  reads it);
* a node that no request created gets a record from its own snapshots (status
  Open, no caller).

The JSON export keeps such a file as it is (the saved-state payload is the file
boundary).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..core.encoding import collector_paused
from .rows import RowReader

if TYPE_CHECKING:
    from .state import ExecutionInfo

__all__ = ["CallRecord", "call_records"]

#: One node of the call tree (see :func:`call_records` for its keys).
CallRecord = dict[str, Any]


def _latency(node: tuple | None, ended: Any) -> Any:
    """A node's latency: its end row's, else what a loaded file keeps in the node's
    ``details.internals`` beside other debug details (``rt.load`` leaves such
    internals as they are; a latency alone is the node's latency)."""
    if ended is not None or node is None or not isinstance(node[5], dict):
        return ended
    latency = node[5].get("latency")
    return latency.get("total_time") if isinstance(latency, dict) else None


def _add_node_stamps(rec: CallRecord, node: tuple) -> None:
    """Add the steps of ``node``'s snapshots to ``rec``'s, and take its creation from
    the node's first snapshot unless its request's is earlier (they are the same
    stamp but in a hand-made file)."""
    steps = rec["steps"]
    while True:
        stamp = node[3]
        steps.add(stamp[0])
        if node[7] is None:
            break
        node = node[7]
    if stamp[0] <= rec["created_step"]:
        rec["created_step"], rec["created"] = stamp[0], stamp[1]


def call_records(info: ExecutionInfo) -> list[CallRecord]:
    """One record per node of ``info``, in creation order (ties: the order of the runs'
    node lists), made from the session's rows in one pass.

    Keys: ``id``, ``name``, ``type``, ``status`` (of the request that created the
    node: ``Open``, ``Completed`` or ``Failed``), ``caller`` (the calling node's id,
    ``None`` for a run's entry node), ``run_id``, ``run_name``, ``created`` /
    ``finished`` (epoch seconds; ``finished`` is ``None`` while open),
    ``created_step``, ``latency``, ``steps`` (the node's steps, sorted), ``args``
    (a list), ``kwargs``, ``output``, ``error`` (``{type, message, traceback}``
    when failed), ``depth``, ``request_id`` (the request that created the node).

    When several requests name one node (only in a corrupt file) the last one
    made gives its call; its creation is the earliest. What a foreign file holds
    beyond rows is listed in the module docstring.
    """
    with collector_paused():  # a tree of fresh dicts and lists: see collector_paused
        return _records(info)


def _records(info: ExecutionInfo) -> list[CallRecord]:
    nodes = info.node_forest.records
    reader = RowReader(info, owners=info.error_owners())
    records: dict[Any, CallRecord] = {}
    order: dict[Any, int] = {}  # the position of each node before sorting by creation
    for run_id, run in info.runs.items():
        run_name = run.name
        for node_id in run.node_ids:
            order.setdefault(node_id, len(order))
        rec: CallRecord = {}
        for row in reader.new(run_id):
            kind = row[0]
            if kind == "c":
                _, step, at, _, request_id, caller, node_id, name, node_type, args, kwargs = row
                order.setdefault(node_id, len(order))
                rec = records.get(node_id) or {}
                if not rec:
                    node = nodes.get(node_id)
                    records[node_id] = rec = {
                        "id": node_id, "name": str(name), "type": str(node_type),
                        "status": "Open", "caller": None, "run_id": run_id,
                        "run_name": run_name, "created": at, "created_step": step,
                        "finished": None, "latency": _latency(node, None), "steps": {step},
                        "args": [], "kwargs": {}, "output": None, "error": None, "depth": 0,
                        "request_id": None,
                    }  # fmt: skip
                    if node is not None:  # the node's own stamps (a file may stamp it earlier)
                        _add_node_stamps(rec, node)
                elif step < rec["created_step"]:
                    rec["created_step"], rec["created"] = step, at
                rec["status"], rec["caller"], rec["request_id"] = "Open", caller, request_id
                rec["args"], rec["kwargs"] = list(args), kwargs
                rec["finished"], rec["output"], rec["error"] = None, None, None
                rec["steps"].add(step)
            elif kind == "s" or kind == "f":  # its request's end: the row just before
                step, at, latency = row[1], row[2], row[6]
                rec["finished"] = at
                rec["latency"] = _latency(nodes.get(rec["id"]), latency)
                rec["steps"].add(step)
                if kind == "s":
                    rec["status"], rec["output"] = "Completed", row[5]
                else:
                    error = row[5]
                    rec["status"] = "Failed"
                    rec["error"] = (
                        error
                        if isinstance(error, dict)
                        else {"type": "Error", "message": str(error)}
                    )
        for node_id in run.node_ids:  # nodes no request created (only in a hand-made file)
            node = nodes.get(node_id)
            if node_id in records or node is None:
                continue
            rec = records[node_id] = {
                "id": node_id, "name": str(node[1]), "type": str(node[2]), "status": "Open",
                "caller": None, "run_id": run_id, "run_name": run_name, "created": None,
                "created_step": math.inf, "finished": None, "latency": _latency(node, node[6]),
                "steps": set(), "args": [], "kwargs": {}, "output": None, "error": None,
                "depth": 0, "request_id": None,
            }  # fmt: skip
            _add_node_stamps(rec, node)
    ordered = sorted(records.values(), key=lambda r: (r["created_step"], order[r["id"]]))
    # Depths without recursion: callers are created before their callees.
    for rec in ordered:
        rec["steps"] = sorted(rec["steps"])
        caller = records.get(rec["caller"]) if rec["caller"] is not None else None
        rec["depth"] = caller["depth"] + 1 if caller is not None and caller is not rec else 0
    return ordered

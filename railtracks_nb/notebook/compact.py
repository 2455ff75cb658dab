"""The compact form of a saved-state payload that did not come from an execution state.

A session we hold (live, finished, or loaded into an ``ExecutionInfo``) is sent
as its own rows (:func:`railtracks_nb.notebook.wire.snapshot`). A payload *dict*
(a file saved by Railtracks, a hand-made or hostile one) is kept lossless here:
each node and the request that created it become the rows they stand for when
their snapshots have the engine's shape, and stay verbatim otherwise. The rows
are then encoded by the one :class:`~railtracks_nb.notebook.wire.RowEncoder`.
"""

from __future__ import annotations

from typing import Any

from ..store.salvage import snapshot_chain as _chain
from .wire import COMPACT_FORMAT, RowEncoder

__all__ = ["compact_payload"]

_NODE_KEYS = {"identifier", "node_type", "name", "stamp", "details", "parent"}
_EDGE_KEYS = {"identifier", "source", "target", "stamp", "details", "parent"}
_EDGE_DETAIL_KEYS = {"input_args", "input_kwargs", "status", "output"}
_STAMP_KEYS = {"step", "time", "identifier"}


def _opened(n0: dict[str, Any], e0: dict[str, Any]) -> list[Any] | None:
    """The "c" row of a node's and its request's first snapshots, if they have the
    engine's shape (node internals ``{}``, an open request, one stamp for both)."""
    d0 = e0.get("details")
    stamp = n0["stamp"]
    if (
        set(n0) != _NODE_KEYS
        or set(e0) != _EDGE_KEYS
        or n0["stamp"] != e0["stamp"]
        or n0["details"] != {"internals": {}}
        or not isinstance(d0, dict)
        or set(d0) != _EDGE_DETAIL_KEYS
        or d0["status"] != "Open"
        or d0["output"] is not None
        or e0["target"] != n0["identifier"]
        or not isinstance(d0["input_args"], list)
        or not isinstance(d0["input_kwargs"], dict)
        or not isinstance(stamp, dict)
        or set(stamp) != _STAMP_KEYS
    ):
        return None
    return ["c", stamp["step"], stamp["time"], stamp["identifier"], e0["identifier"],
            e0["source"], n0["identifier"], n0["name"], n0["node_type"], d0["input_args"],
            d0["input_kwargs"]]  # fmt: skip


def _ended(n0: dict, e0: dict, n1: dict, e1: dict) -> list[Any] | None:
    """The "s" or "f" row of the finished snapshots, if they have the engine's shape
    (node internals exactly ``{"latency": {"total_time": t}}``, same arguments)."""
    d0, d1 = e0["details"], e1.get("details")
    internals = (n1.get("details") or {}).get("internals")
    latency = (internals or {}).get("latency") if isinstance(internals, dict) else None
    if (
        n1["stamp"] != e1["stamp"]
        or not isinstance(d1, dict)
        or set(d1) != _EDGE_DETAIL_KEYS
        or d1["status"] not in ("Completed", "Failed")
        or n1["details"] != {"internals": {"latency": latency}}
        or not isinstance(latency, dict)
        or set(latency) != {"total_time"}
        or (n1["name"], n1["node_type"]) != (n0["name"], n0["node_type"])
        or (e1["source"], e1["target"]) != (e0["source"], e0["target"])
        or (d1["input_args"], d1["input_kwargs"]) != (d0["input_args"], d0["input_kwargs"])
        or not isinstance(n1["stamp"], dict)
        or set(n1["stamp"]) != _STAMP_KEYS
    ):
        return None
    st = n1["stamp"]
    kind = "s" if d1["status"] == "Completed" else "f"
    return [kind, st["step"], st["time"], st["identifier"], e1["identifier"], d1["output"],
            latency["total_time"]]  # fmt: skip


def _as_rows(node: dict[str, Any] | None, edge: dict[str, Any]) -> list[list[Any]] | None:
    """The explicit rows that rebuild ``node`` and ``edge`` exactly, or None if none can:
    more snapshots, agent internals, extra keys are kept verbatim instead."""
    if node is None or set(node) != _NODE_KEYS or set(edge) != _EDGE_KEYS:
        return None
    nodes, edges = _chain(node), _chain(edge)
    if len(nodes) != len(edges) or len(edges) not in (1, 2):
        return None
    opened = _opened(nodes[0], edges[0])
    if opened is None or len(edges) == 1:
        return None if opened is None else [opened]
    ended = _ended(nodes[0], edges[0], nodes[1], edges[1])
    return None if ended is None else [opened, ended]


def _implied(stamp: Any, implied: dict[int, list[Any]]) -> bool:
    row = implied.get(stamp.get("step", -1)) if isinstance(stamp, dict) else None
    return (
        row is not None
        and set(stamp) == _STAMP_KEYS
        and [stamp["time"], stamp["identifier"]] == row[2:4]
    )


def compact_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A lossless, smaller form of ``payload`` for the front end (:data:`COMPACT_FORMAT`).

    Nodes whose history has the engine's shape become rows (about a fifth of the
    JSON); the others stay verbatim. :func:`~railtracks_nb.notebook.wire.expand_compact`
    and the front end rebuild the exact payload, up to the order of the ``nodes`` and
    ``edges`` lists (which the schema does not fix).
    """
    runs = []
    for run in payload.get("runs", []):
        header = {k: v for k, v in run.items() if k not in ("nodes", "edges", "steps")}
        nodes = {n["identifier"]: n for n in run.get("nodes", [])}
        rows: list[list[Any]] = []
        raw_edges = []
        used: set[str] = set()
        for edge in run.get("edges", []):
            found = (
                _as_rows(nodes.get(edge.get("target")), edge)
                if edge.get("target") not in used
                else None
            )
            if found is None:
                raw_edges.append(edge)
            else:
                used.add(edge["target"])
                rows.extend(found)
        rows.sort(key=lambda row: row[1])
        implied = {row[1]: row[:4] for row in rows}  # before the encoder rewrites texts
        steps = run.get("steps", [])
        listed = {s.get("step") for s in steps}
        runs.append(
            {
                "header": header,
                "events": RowEncoder().encode(rows),
                "nodes": [n for i, n in nodes.items() if i not in used],
                "edges": raw_edges,
                # Steps the rows do not imply, and row stamps the run does not list.
                "steps": [s for s in steps if not _implied(s, implied)],
                "unlisted_steps": sorted(step for step in implied if step not in listed),
            }
        )
    meta = {k: v for k, v in payload.items() if k != "runs"}
    return {"format": COMPACT_FORMAT, "meta": meta, "runs": runs}

"""Synthetic payloads in the Railtracks saved-state format, for tests, demos and
benchmarks of the widgets and exports (no session needed).

``synthetic_payload((3, 2))`` is a run whose entry node calls 3 nodes that each
call 2, executed depth-first one after another, with the stamps, temporal
``parent`` snapshots and latencies a real session records.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

HOSTILE = "<img src=x onerror=alert(1)>"


def synthetic_payload(
    shape: Iterable[int] = (3, 2),
    *,
    fail: Iterable[int] = (),
    open_from: int | None = None,
    hostile: bool = False,
    name: str = "synthetic",
    names: Sequence[str] | None = None,
    start_time: float = 1_700_000_000.0,
    seed: int = 0,
) -> dict[str, Any]:
    """A one-run payload whose call tree has ``shape`` (children per level).

    ``fail``: indices (creation order, the entry node is 0) of nodes that fail.
    ``open_from``: the step from which nothing finishes any more (an open run).
    ``hostile``: node 1 gets the name and output ``HOSTILE`` (an HTML injection
    attempt) and failures carry ``<script>`` in their message.
    ``names``: one node name per level (``("crawl_all", "crawl", "fetch")``), so
    siblings share a name as in a real fan-out; each node's first argument is
    then ``"<name> <index>"`` (``"fetch 17"``), which tells siblings apart.
    Without it every node has its own name (``node_<level>_<index>``) and the
    argument ``<index>``.
    """
    shape = list(shape)
    if names is not None and len(names) != len(shape) + 1:
        raise ValueError(f"names needs one name per level ({len(shape) + 1}), got {len(names)}")
    fail = set(fail)
    rng = uuid.UUID(int=seed)  # deterministic ids: uuid5 over a fixed namespace
    counter = itertools.count()
    steps: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    run_id = str(uuid.uuid5(rng, "run"))

    def stamp(text: str) -> dict[str, Any]:
        step = next(counter)
        s = {"step": step, "time": start_time + step * 0.001, "identifier": text}
        steps.append(s)
        return s

    index = itertools.count()

    def visit(level: int, parent_id: str | None, parent_name: str) -> tuple[str, bool]:
        i = next(index)
        node_id = str(uuid.uuid5(rng, f"node-{i}"))
        if names is not None:
            node_name = names[level]
        else:
            node_name = "top" if i == 0 else f"node_{level}_{i}"
        first_arg: Any = i if names is None else f"{node_name} {i}"
        if hostile and i == 1:
            node_name = HOSTILE
        created = stamp(f"{parent_name if parent_id else 'START'} CREATED {node_name}")
        request_id = run_id if parent_id is None else str(uuid.uuid5(rng, f"req-{i}"))
        open_node: dict[str, Any] = {
            "identifier": node_id, "node_type": "Tool", "name": node_name,
            "stamp": created, "details": {"internals": {}}, "parent": None,
        }  # fmt: skip
        open_edge = {
            "identifier": request_id, "source": parent_id, "target": node_id, "stamp": created,
            "details": {
                "input_args": [first_arg], "input_kwargs": {"level": level},
                "status": "Open", "output": None,
            },
            "parent": None,
        }  # fmt: skip
        child_failed = False
        if level < len(shape):
            for _ in range(shape[level]):
                _, failed = visit(level + 1, node_id, node_name)
                child_failed = child_failed or failed
        if open_from is not None and len(steps) >= open_from:
            nodes.append(open_node)
            edges.append(open_edge)
            return node_id, False
        failed = i in fail
        done = stamp(f"Finished executing {node_name}")
        if failed:
            message = f"node {i} failed" + (" <script>alert(2)</script>" if hostile else "")
            output: Any = {
                "type": "ValueError",
                "message": message,
                "traceback": f"Traceback (most recent call last):\nValueError: {message}\n",
            }
        elif hostile and i == 1:
            output = HOSTILE
        else:
            output = i * 2
        nodes.append({
            "identifier": node_id, "node_type": "Tool", "name": node_name, "stamp": done,
            "details": {"internals": {"latency": {"total_time": done["time"] - created["time"]}}},
            "parent": open_node,
        })  # fmt: skip
        edges.append({
            "identifier": request_id, "source": parent_id, "target": node_id, "stamp": done,
            "details": {
                "input_args": [first_arg], "input_kwargs": {"level": level},
                "status": "Failed" if failed else "Completed", "output": output,
            },
            "parent": open_edge,
        })  # fmt: skip
        return node_id, failed

    visit(0, None, "START")
    root_edge = next(e for e in edges if e["source"] is None)
    status = root_edge["details"]["status"]
    last = steps[-1]["time"]
    return {
        "session_id": str(uuid.uuid5(rng, "session")),
        "session_name": name,
        "start_time": start_time,
        "end_time": last,
        "runs": [
            {
                "session_id": str(uuid.uuid5(rng, "session")),
                "run_id": run_id,
                "name": "top",
                "status": status,
                "start_time": start_time,
                "end_time": None if status == "Open" else last,
                "nodes": nodes,
                "edges": edges,
                "steps": steps,
            }
        ],
        "railtracks_nb": {
            "state": "IDLE",
            "timeout": 150.0,
            "context": {"user": "ada", "note": HOSTILE if hostile else "plain"},
            "errors": [
                {
                    "node_id": None,
                    "node_name": "x",
                    "type": "ValueError",
                    "message": f"node {i} failed",
                }
                for i in sorted(fail)
            ],
            "error_count": len(fail),
            "status": status,
        },
    }

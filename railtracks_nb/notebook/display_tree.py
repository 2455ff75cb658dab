"""The call forest the static picture draws, read from a saved-state payload.

Forgiving on purpose: hand-made, broken or hostile payloads (missing keys, cycles,
edges to nowhere) still give a forest, so the picture is always drawn. Walks are
iterative: a call chain deeper than Python's recursion limit must not fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: How bad each status is (the worst colours a group of siblings).
SEVERITY = {"Failed": 3, "Cancelled": 2, "Open": 1, "Completed": 0}


# -- reading a payload ---------------------------------------------------------------
@dataclass
class _Node:
    identifier: str
    name: str
    node_type: str
    status: str = "Open"
    start: float | None = None
    end: float | None = None
    error: str | None = None
    inputs: str = ""
    output: str = ""
    first_step: int = 0
    children: list[_Node] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None or self.status == "Open":
            return None
        return max(0.0, self.end - self.start)

    def size(self) -> int:
        """This node and everything under it."""
        total, stack = 0, [self]
        while stack:
            node = stack.pop()
            total += 1
            stack.extend(node.children)
        return total


def _oldest(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The first snapshot of a ``parent`` chain (walked iteratively: chains can be long)."""
    while isinstance(snapshot.get("parent"), dict):
        snapshot = snapshot["parent"]
    return snapshot


def _stamp_of(snapshot: dict[str, Any]) -> tuple[int, float | None]:
    stamp = snapshot.get("stamp") or {}
    step = stamp.get("step")
    when = stamp.get("time")
    return (step if isinstance(step, int) else 0, when if isinstance(when, (int, float)) else None)


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _build_forest(payload: dict[str, Any]) -> list[_Node]:
    """The call trees of every run, roots in run order, children in call order."""
    roots: list[_Node] = []
    for run in payload.get("runs") or []:
        if not isinstance(run, dict):
            continue
        nodes: dict[str, _Node] = {}
        for raw in run.get("nodes") or []:
            if not isinstance(raw, dict) or "identifier" not in raw:
                continue
            first = _oldest(raw)
            step, start = _stamp_of(first)
            nodes[str(raw["identifier"])] = _Node(
                str(raw["identifier"]),
                str(raw.get("name", "?")),
                str(raw.get("node_type", "")),
                start=start,
                first_step=step,
            )
        edges = [e for e in run.get("edges") or [] if isinstance(e, dict)]
        edges.sort(key=lambda e: _stamp_of(_oldest(e))[0])
        has_parent: set[str] = set()
        for edge in edges:
            target = nodes.get(str(edge.get("target")))
            if target is None:
                continue
            details = edge.get("details") or {}
            status = details.get("status") if details.get("status") in SEVERITY else "Open"
            output = details.get("output")
            if status == "Failed" and isinstance(output, dict):
                if output.get("type") == "CancelledError":
                    status = "Cancelled"
                    target.error = "cancelled (timeout or interrupt)"
                else:
                    target.error = f"{output.get('type', 'Error')}: {output.get('message', '')}"
            elif status == "Failed":
                target.error = _short(output)
            elif status == "Completed":
                target.output = _short(output)
            target.status = status
            target.inputs = _short(
                {"args": details.get("input_args", []), "kwargs": details.get("input_kwargs", {})}
            )
            _, target.end = _stamp_of(edge)
            source = nodes.get(str(edge.get("source")))
            if source is not None and source is not target and target.identifier not in has_parent:
                source.children.append(target)
                has_parent.add(target.identifier)
        roots.extend(_as_tree(nodes, has_parent))
    return roots


def _as_tree(nodes: dict[str, _Node], has_parent: set[str]) -> list[_Node]:
    """The roots of a run, with every node reachable exactly once.

    A well-formed file is a forest already; a corrupt or hand-edited one may
    have cycles (a -> b -> a). Those edges are dropped, and a cycle nobody
    calls gets its earliest node as a root, so drawing always terminates.
    """
    by_step = sorted(nodes.values(), key=lambda n: n.first_step)
    candidates = [n for n in by_step if n.identifier not in has_parent]
    candidates += [n for n in by_step if n.identifier in has_parent]
    seen: set[str] = set()
    roots: list[_Node] = []
    for root in candidates:
        if root.identifier in seen:
            continue
        roots.append(root)
        seen.add(root.identifier)
        stack = [root]
        while stack:
            node = stack.pop()
            kept = []
            for child in node.children:
                if child.identifier not in seen:
                    seen.add(child.identifier)
                    kept.append(child)
            node.children = kept
            stack.extend(kept)
    return roots


def _walk(roots: Iterable[_Node]) -> Iterable[_Node]:
    stack = list(roots)[::-1]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))



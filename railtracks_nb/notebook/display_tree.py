"""The call forest the static picture draws, read from a session's execution state.

Made from the session's call tree (:func:`~railtracks_nb.execution.calltree.call_records`,
built from its rows); a hand-made or broken payload reaches it salvaged
(:mod:`railtracks_nb.store.salvage`), so it still gives records. Cycles (only in
a corrupt file) are cut here, so the picture is always drawn. Walks are
iterative: a call chain deeper than Python's recursion limit must not fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.vocabulary import node_outcome
from ..execution.calltree import call_records

if TYPE_CHECKING:
    from ..execution.state import ExecutionInfo

#: How bad each status is (the worst colours a group of siblings).
SEVERITY = {"Failed": 3, "Cancelled": 2, "Open": 1, "Completed": 0}


# -- reading the call tree ----------------------------------------------------------
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


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _build_forest(info: ExecutionInfo) -> list[_Node]:
    """The call trees of every run (from the session's call tree,
    :func:`~railtracks_nb.execution.calltree.call_records`): roots in creation
    order, children in call order."""
    nodes: dict[Any, _Node] = {}
    records = call_records(info)
    for rec in records:
        status = rec["status"] if rec["status"] in SEVERITY else "Open"
        node = nodes[rec["id"]] = _Node(
            str(rec["id"]), rec["name"], rec["type"], status, start=rec["created"],
            end=rec["finished"], first_step=rec["created_step"],
            inputs=_short({"args": rec["args"], "kwargs": rec["kwargs"]}),
        )  # fmt: skip
        error = rec["error"]
        if status == "Completed":
            node.output = _short(rec["output"])
        elif error is not None and node_outcome(status, error) == "cancelled":
            node.status = "Cancelled"
            node.error = "cancelled (timeout or interrupt)"
        elif error is not None:
            node.error = f"{error.get('type', 'Error')}: {error.get('message', '')}"
    has_parent: set[str] = set()
    for rec in records:
        caller = nodes.get(rec["caller"]) if rec["caller"] is not None else None
        node = nodes[rec["id"]]
        if caller is not None and caller is not node:
            caller.children.append(node)
            has_parent.add(node.identifier)
    return _as_tree(nodes, has_parent)


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



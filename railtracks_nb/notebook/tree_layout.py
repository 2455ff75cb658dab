"""The one tree layout every drawing of a call tree uses: leaves one row apart in
call order, each parent centred on its first and last child's rows.

Computed in post-order without recursion: call trees can be deeper than Python's
stack. The column is the caller of this module's business (a depth, a level).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["leaf_rows"]

T = TypeVar("T")


def leaf_rows(roots: Sequence[T], children: Callable[[T], Sequence[T]]) -> list[tuple[T, float]]:
    """Every node under ``roots`` with its row, in post-order (children before parents).

    ``children(node)`` lists a node's children in order; every node must be reachable
    once (cut cycles first). Leaves get rows 0, 1, 2, ... in order; a parent gets the
    middle of its first and last child's rows.
    """
    out: list[tuple[T, float]] = []
    row_of: dict[int, float] = {}
    next_leaf = 0
    stack: list[tuple[T, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        kids = children(node)
        if not expanded and kids:
            stack.append((node, True))
            stack.extend((kid, False) for kid in reversed(kids))
            continue
        if kids:
            row = (row_of[id(kids[0])] + row_of[id(kids[-1])]) / 2
        else:
            row = float(next_leaf)
            next_leaf += 1
        row_of[id(node)] = row
        out.append((node, row))
    return out

"""The static call-graph picture: the call forest cut to a bounded set of boxes,
laid out (leaves in order, parents centred on their children) and drawn as SVG.

Siblings that share a name are drawn as one aggregate box once there are more
than :data:`GROUP_MIN` of them; at most :data:`MAX_BOXES` boxes and
:data:`MAX_DEPTH` levels are drawn, the rest summarised in "… more" boxes.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..core.vocabulary import (
    NEUTRAL_COLOUR,
    OUTCOME_COLOURS,
    OUTCOME_SYMBOLS,
    TEXT_ON_FILL,
    format_duration,
)
from .display_tree import SEVERITY, _Node, _short, _walk
from .tree_layout import leaf_rows

#: Siblings with one name are aggregated into one box when there are more than this many.
GROUP_MIN = 5
#: The most boxes one picture draws (keeps notebooks small whatever the session size).
MAX_BOXES = 200
#: The deepest level drawn; deeper calls are summarised in one box per cut branch.
MAX_DEPTH = 12


# Box geometry (pixels).
_BOX_W = 176
_BOX_H = 34
_COL_W = 214
_ROW_H = 44
_PAD = 12
_LABEL_CHARS = 24

#: Fill per status, from the shared vocabulary; "Cancelled" is a failure caused by a
#: timeout or an interrupt. Boxes are outlined and lettered in ``TEXT_ON_FILL``.
COLOURS: dict[str, str] = {
    "Completed": OUTCOME_COLOURS["completed"],
    "Failed": OUTCOME_COLOURS["failed"],
    "Open": OUTCOME_COLOURS["open"],
    "Cancelled": OUTCOME_COLOURS["cancelled"],
    "More": NEUTRAL_COLOUR,
}
#: One character per status, for counts ("900✓ 100✗").
SYMBOL = {s: OUTCOME_SYMBOLS[s.lower()] for s in ("Completed", "Failed", "Open", "Cancelled")}


# -- what to draw ------------------------------------------------------------------
@dataclass
class _Box:
    """One drawn box: a node, an aggregate of same-named siblings, or a '… more' summary."""

    kind: str  # "node" | "group" | "more"
    label: str
    status: str
    detail: str
    title: str
    children: list[_Box] = field(default_factory=list)
    depth: int = 0
    row: float = 0.0


def _node_title(node: _Node) -> str:
    lines = [f"{node.name} ({node.node_type or 'node'})", f"status: {node.status}"]
    if node.duration is not None:
        lines.append(f"time: {format_duration(node.duration)}")
    if node.inputs:
        lines.append(f"input: {node.inputs}")
    if node.output:
        lines.append(f"output: {node.output}")
    if node.error:
        lines.append(f"error: {_short(node.error)}")
    lines.append(f"id: {node.identifier}")
    return "\n".join(lines)


def _node_box(node: _Node, depth: int) -> _Box:
    detail = node.status.lower()  # the outcome's word, as every view says it
    if node.duration is not None:
        detail += f" · {format_duration(node.duration)}"
    return _Box("node", node.name, node.status, detail, _node_title(node), depth=depth)


def _counts_text(counter: Counter[str]) -> str:
    return " ".join(
        f"{counter[s]}{SYMBOL[s]}"
        for s in ("Completed", "Failed", "Cancelled", "Open")
        if counter[s]
    )


def _worst(counter: Counter[str]) -> str:
    return max(counter, key=lambda s: SEVERITY.get(s, 0)) if counter else "Completed"


def _group_box(name: str, members: list[_Node], depth: int) -> _Box:
    statuses = Counter(m.status for m in members)
    hidden = sum(m.size() for m in members) - len(members)
    title = [f"{len(members)} calls of {name}", _counts_text(statuses)]
    if hidden:
        title.append(f"{hidden} nested call(s) not drawn")
    errors = [m.error for m in members if m.error][:3]
    title.extend(f"error: {_short(e, 120)}" for e in errors)
    return _Box(
        "group",
        f"{name} ×{len(members)}",  # noqa: RUF001
        _worst(statuses),
        _counts_text(statuses),
        "\n".join(title),
        depth=depth,
    )


def _more_box(nodes: list[_Node], depth: int, why: str) -> _Box:
    total = sum(n.size() for n in nodes)
    statuses = Counter(n.status for root in nodes for n in _walk([root]))
    label = f"… {total} more"
    return _Box(
        "more", label, "More", _counts_text(statuses), f"{total} call(s) {why}", depth=depth
    )


def _plan(roots: list[_Node]) -> tuple[list[_Box], int]:
    """Turn the call forest into boxes within the size bounds; also count the nodes drawn."""
    top: list[_Box] = []
    budget = MAX_BOXES
    drawn = 0
    # Breadth first, so a cut keeps the top of every tree rather than one deep branch.
    queue: list[tuple[list[_Node], list[_Box], int]] = [(roots, top, 0)]
    head = 0
    while head < len(queue):
        siblings, into, depth = queue[head]
        head += 1
        if depth > MAX_DEPTH:
            into.append(_more_box(siblings, depth, f"deeper than {MAX_DEPTH} levels are not drawn"))
            continue
        by_name: dict[str, list[_Node]] = {}
        for node in siblings:
            by_name.setdefault(node.name, []).append(node)
        emitted: set[str] = set()
        left_out: list[_Node] = []
        for node in siblings:
            group = by_name[node.name]
            if len(group) > GROUP_MIN:
                if node.name in emitted:
                    continue
                emitted.add(node.name)
                if budget <= 0:
                    left_out.extend(group)
                    continue
                into.append(_group_box(node.name, group, depth))
                budget -= 1
                drawn += len(group)
                continue
            if budget <= 0:
                left_out.append(node)
                continue
            box = _node_box(node, depth)
            into.append(box)
            budget -= 1
            drawn += 1
            if node.children:
                queue.append((node.children, box.children, depth + 1))
        if left_out:
            # Over budget: one summary box per cut sibling list, never more boxes than that.
            into.append(_more_box(left_out, depth, "not drawn (size limit)"))
    return top, drawn


def _layout(top: list[_Box]) -> tuple[list[_Box], int, int]:
    """Give every box a row (see :func:`~railtracks_nb.notebook.tree_layout.leaf_rows`);
    its column is its depth. Returns the boxes in post-order, the rows and the depth."""
    ordered = []
    for box, row in leaf_rows(top, lambda box: box.children):
        box.row = row
        ordered.append(box)
    rows = sum(1 for box in ordered if not box.children)
    return ordered, max(rows, 1), max((box.depth for box in ordered), default=0)


# -- drawing --------------------------------------------------------------------------
def _clip(text: str, limit: int = _LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _svg(top: list[_Box]) -> str:
    boxes, rows, max_depth = _layout(top)
    width = _PAD * 2 + max_depth * _COL_W + _BOX_W
    height = _PAD * 2 + rows * _ROW_H - (_ROW_H - _BOX_H)

    def x_of(box: _Box) -> float:
        return _PAD + box.depth * _COL_W

    def y_of(box: _Box) -> float:
        return _PAD + box.row * _ROW_H

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="call graph" '
        'style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif">'
        # Every box is outlined and lettered alike: on each vocabulary fill, dark text reads.
        f"<style>rect{{stroke:{TEXT_ON_FILL};stroke-opacity:.5}}text{{fill:{TEXT_ON_FILL}}}</style>"
    ]
    for box in boxes:  # edges first, so boxes are drawn over them
        for child in box.children:
            x1, y1 = x_of(box) + _BOX_W, y_of(box) + _BOX_H / 2
            x2, y2 = x_of(child), y_of(child) + _BOX_H / 2
            mid = (x1 + x2) / 2
            parts.append(
                f'<path d="M{x1:.0f},{y1:.1f} C{mid:.0f},{y1:.1f} '
                f'{mid:.0f},{y2:.1f} {x2:.0f},{y2:.1f}" '
                'fill="none" stroke="#9e9e9e" stroke-width="1.2"/>'
            )
    for box in boxes:
        fill = COLOURS.get(box.status, COLOURS["Open"])
        x, y = x_of(box), y_of(box)
        dash = ' stroke-dasharray="4 3"' if box.kind == "more" else ""
        double = box.kind == "group"
        parts.append(f'<g class="rt-{box.kind} rt-{_e(box.status.lower())}">')
        parts.append(f"<title>{_e(box.title)}</title>")
        if double:  # a stacked look for aggregated siblings
            parts.append(
                f'<rect x="{x + 4:.0f}" y="{y + 4:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="6" '
                f'fill="{fill}" stroke-width="1"/>'
            )
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="6" '
            f'fill="{fill}" stroke-width="1.4"{dash}/>'
        )
        parts.append(
            f'<text x="{x + 8:.0f}" y="{y + 14:.0f}" font-size="12" font-weight="600" '
            f">{_e(_clip(box.label))}</text>"
        )
        parts.append(
            f'<text x="{x + 8:.0f}" y="{y + 28:.0f}" font-size="10">'
            f"{_e(_clip(box.detail, 32))}</text>"
        )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)



"""Static rich display of sessions: a text summary and an HTML/SVG call graph.

``Session``, ``ExecutionInfo`` and ``SavedSession`` delegate their
``_repr_mimebundle_`` to :func:`mimebundle`. The HTML is self-contained, with
no JavaScript: the graph is laid out here, in Python, and drawn as inline SVG,
so a saved notebook, nbconvert's HTML or a viewer without a kernel still shows
the call tree. Every piece of text that comes from a node (names, inputs,
outputs, errors) goes through :func:`html.escape` before it reaches the page.
The picture is embedded as an ``<img>`` with an SVG data URL, which survives
the HTML sanitizer JupyterLab applies to untrusted notebooks.

Sessions can be huge (10,000+ nodes), so the drawing is bounded:

* siblings that share a name are drawn as one aggregate box ("fetch x1000")
  once there are more than :data:`GROUP_MIN` of them;
* at most :data:`MAX_BOXES` boxes are drawn (breadth first) and at most
  :data:`MAX_DEPTH` levels deep; what is left out is summarised in "… more"
  boxes and a note above the picture.

:func:`static_html` takes a saved-state payload (the Railtracks schema, with
or without our ``"railtracks_nb"`` extras), so it works for live, saved and
foreign sessions alike; the widgets reuse it for their offline fallback.
"""

from __future__ import annotations

import base64
import html
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.vocabulary import (
    EXTRAS_KEY,
    LIFECYCLE_COLOURS,
    LIFECYCLE_LABEL,
    NEUTRAL_COLOUR,
    OUTCOME_COLOURS,
    OUTCOME_LABEL,
    TEXT_ON_FILL,
    format_duration,
    roll_up,
    session_outcome,
)
from .sources import payload_of

__all__ = [
    "GROUP_MIN",
    "MAX_BOXES",
    "MAX_DEPTH",
    "mimebundle",
    "static_html",
    "static_svg",
    "text_summary",
]

#: Siblings with one name are aggregated into one box when there are more than this many.
GROUP_MIN = 5
#: The most boxes one picture draws (keeps notebooks small whatever the session size).
MAX_BOXES = 200
#: The deepest level drawn; deeper calls are summarised in one box per cut branch.
MAX_DEPTH = 12
#: The most lines of call tree in the ``text/plain`` summary.
MAX_TEXT_LINES = 25


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
#: The page's text colours where the front end defines them (JupyterLab, Notebook 7,
#: nbconvert's templates, light or dark), else dark on the card's own light background.
_FG = "var(--jp-ui-font-color1, #1f2328)"
_MUTED = "var(--jp-ui-font-color2, #4f5b66)"
_BG = "var(--jp-layout-color1, #ffffff)"
_BORDER = "var(--jp-border-color2, #d5dae0)"
#: Errors: the page's own text colour beside a bar of the failed colour (no red
#: reads well on both light and dark backgrounds).
_ERROR = f"{_FG};border-left:3px solid {OUTCOME_COLOURS['failed']};padding-left:6px"
_SYMBOL = {"Completed": "✓", "Failed": "✗", "Open": "…", "Cancelled": "⊘"}
_SEVERITY = {"Failed": 3, "Cancelled": 2, "Open": 1, "Completed": 0}


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
            status = details.get("status") if details.get("status") in _SEVERITY else "Open"
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
        f"{counter[s]}{_SYMBOL[s]}"
        for s in ("Completed", "Failed", "Cancelled", "Open")
        if counter[s]
    )


def _worst(counter: Counter[str]) -> str:
    return max(counter, key=lambda s: _SEVERITY.get(s, 0)) if counter else "Completed"


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
    """Give every box a column (depth) and a row: leaves in order, parents centred on children."""
    ordered: list[_Box] = []
    next_row = 0
    max_depth = 0

    # Iterative post-order: a deep call chain must not hit the recursion limit.
    stack: list[tuple[_Box, bool]] = [(b, False) for b in reversed(top)]
    while stack:
        box, expanded = stack.pop()
        if not expanded and box.children:
            stack.append((box, True))
            stack.extend((c, False) for c in reversed(box.children))
            continue
        if box.children:
            box.row = (box.children[0].row + box.children[-1].row) / 2
        else:
            box.row = next_row
            next_row += 1
        max_depth = max(max_depth, box.depth)
        ordered.append(box)
    return ordered, max(next_row, 1), max_depth


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


def _extras(payload: dict[str, Any]) -> dict[str, Any]:
    extras = payload.get(EXTRAS_KEY)
    return extras if isinstance(extras, dict) else {}


def _session_status(payload: dict[str, Any], nodes: list[_Node]) -> str:
    status = _extras(payload).get("status")
    if isinstance(status, str) and status:
        return status
    return roll_up(r.get("status") for r in payload.get("runs") or [] if isinstance(r, dict))


def _summary_facts(payload: dict[str, Any], roots: list[_Node]) -> dict[str, Any]:
    nodes = list(_walk(roots))
    extras = _extras(payload)
    start, end = payload.get("start_time"), payload.get("end_time")
    elapsed = None
    if isinstance(start, (int, float)) and isinstance(end, (int, float)):
        elapsed = max(0.0, end - start)
    elif isinstance(start, (int, float)):
        elapsed = max(0.0, time.time() - start)
    return {
        "name": payload.get("session_name") or extras.get("flow_name") or payload.get("flow_name"),
        "id": payload.get("session_id") or "",
        "state": extras.get("state"),
        "status": _session_status(payload, nodes),
        "runs": len([r for r in payload.get("runs") or [] if isinstance(r, dict)]),
        "nodes": len(nodes),
        "counts": Counter(n.status for n in nodes),
        "elapsed": elapsed if elapsed is None or math.isfinite(elapsed) else None,
        "timeout": extras.get("timeout"),
        "errors": _errors(extras, nodes),
        "context": extras.get("context") if isinstance(extras.get("context"), dict) else {},
    }


def _errors(extras: dict[str, Any], nodes: list[_Node]) -> list[dict[str, Any]]:
    """Our recorded errors; for a file with no record of them (saved by Railtracks),
    the failed nodes' errors, so the picture never says "no errors" beside a failure."""
    if isinstance(extras.get("errors"), list):
        return [e for e in extras["errors"] if isinstance(e, dict)]
    failed = sorted((n for n in nodes if n.status == "Failed"), key=lambda n: n.first_step)
    out = []
    for node in failed:
        kind, _, message = (node.error or "Error: ").partition(": ")
        out.append({"node_name": node.name, "type": kind, "message": message})
    return out


def _badge(label: str, word: str, fill: str) -> str:
    """``label`` in the page's muted text, then ``word`` on its vocabulary fill."""
    return (
        f'<span style="color:{_MUTED};font-size:11px;margin-left:8px">{_e(label)} </span>'
        f'<span class="rt-badge" data-value="{_e(word)}" style="background:{fill};'
        f"color:{TEXT_ON_FILL};border-radius:8px;padding:0 6px;font-size:11px;"
        f'font-weight:600">{_e(word)}</span>'
    )


def _lifecycle(payload: dict[str, Any], facts: dict[str, Any]) -> str:
    """The saved lifecycle state; a file without one (saved by Railtracks) was saved
    when its session closed: IDLE."""
    if isinstance(facts["state"], str) and facts["state"]:
        return facts["state"]
    return "IDLE" if isinstance(payload.get("end_time"), (int, float)) else "INIT"


def static_svg(payload: dict[str, Any]) -> str:
    """The call graph of a session payload as a standalone SVG document (no script).

    The same bounded picture :func:`static_html` embeds; each box carries a
    ``<title>`` with the node's type, status, timing, input, output and error.
    Empty string when the payload has no nodes.
    """
    top, _ = _plan(_build_forest(payload))
    return _svg(top) if top else ""


def static_html(payload: dict[str, Any]) -> str:
    """A self-contained HTML fragment (an SVG image, no JavaScript) picturing a session.

    ``payload`` is a saved-state dict in the Railtracks schema, as returned by
    ``to_payload()`` of a session, an ``ExecutionInfo`` or a loaded session, or
    read from a Railtracks file. Node text is escaped; the picture stays small
    however large the session is (see the module docstring).
    """
    roots = _build_forest(payload)
    facts = _summary_facts(payload, roots)
    top, drawn = _plan(roots)
    total = facts["nodes"]
    name = facts["name"] or "(unnamed)"
    status = facts["status"]
    bits = [
        f"{facts['runs']} run{'s' if facts['runs'] != 1 else ''}",
        f"{total} node{'s' if total != 1 else ''}",
    ]
    counts = _counts_text(facts["counts"])
    if counts:
        bits.append(counts)
    if facts["elapsed"] is not None:
        bits.append(format_duration(facts["elapsed"]))
    if isinstance(facts["timeout"], (int, float)) and math.isfinite(facts["timeout"]):
        bits.append(f"timeout {facts['timeout']:g} s")
    life = _lifecycle(payload, facts)
    outcome = session_outcome(status, facts["runs"])

    out = [
        # Its own background and the front end's text colours (with light fallbacks):
        # readable on light and dark themes, and where no theme is defined at all.
        '<div class="railtracks-nb-session" style="font-family:-apple-system,Segoe UI,'
        f"Helvetica,Arial,sans-serif;font-size:13px;line-height:1.4;color:{_FG};"
        f'background:{_BG};padding:6px 8px;border-radius:4px">',
        f"<div><b>Session {_e(name)}</b>"
        f"{_badge(LIFECYCLE_LABEL, life, LIFECYCLE_COLOURS.get(life, NEUTRAL_COLOUR))}"
        f"{_badge(OUTCOME_LABEL, outcome, OUTCOME_COLOURS[outcome])}</div>",
        f'<div style="color:{_MUTED}">{_e(" · ".join(bits))} · '
        f'id <code style="color:{_FG}">{_e(facts["id"])}</code></div>',
    ]
    if facts["context"]:
        ctx = ", ".join(f"{k}={_short(v, 60)}" for k, v in list(facts["context"].items())[:8])
        more = " …" if len(facts["context"]) > 8 else ""
        out.append(f'<div style="color:{_MUTED}">context: {_e(_short(ctx, 400))}{more}</div>')
    for err in facts["errors"][-3:]:
        who = err.get("node_name") or "session"
        out.append(
            f'<div style="color:{_ERROR}">{_e(who)}: '
            f"{_e(err.get('type', 'Error'))}: {_e(_short(err.get('message', ''), 200))}</div>"
        )
    if drawn < total:
        out.append(
            f'<div style="color:{_MUTED};font-style:italic">Showing {drawn} of {total} nodes: '
            f"same-named siblings beyond {GROUP_MIN} are grouped, at most {MAX_BOXES} boxes "
            f"and {MAX_DEPTH} levels are drawn. Open the dashboard or export the session "
            "for every node.</div>"
        )
    if top:
        out.append(
            f'<div style="max-height:520px;overflow:auto;border:1px solid {_BORDER};'
            'border-radius:4px;margin-top:4px">'
        )
        svg = _svg(top)
        # An <img> with a data URL, not inline <svg>: JupyterLab's sanitizer strips inline
        # SVG from untrusted notebooks (anything opened from elsewhere) but keeps images.
        # The node tooltips (<title>) live in the SVG and show when it is opened on its own.
        data = base64.b64encode(svg.encode()).decode()
        out.append(
            f'<img src="data:image/svg+xml;base64,{data}" alt="call graph of {_e(name)}" '
            'style="max-width:none"/>'
        )
        out.append("</div>")
    else:
        out.append(f'<div style="color:{_MUTED};font-style:italic">No nodes yet.</div>')
    legend = " ".join(
        f'<span><span style="display:inline-block;width:9px;height:9px;border-radius:2px;'
        f'background:{OUTCOME_COLOURS[outcome]}"></span> {outcome}</span>'
        for outcome in ("completed", "failed", "open", "cancelled")
    )
    out.append(f'<div style="font-size:11px;margin-top:2px">{legend}</div>')
    out.append("</div>")
    return "".join(out)


def text_summary(payload: dict[str, Any], header: str | None = None) -> str:
    """A plain-text summary: one header line, counts, recent errors and the top of the call tree."""
    roots = _build_forest(payload)
    facts = _summary_facts(payload, roots)
    name = facts["name"] or "(unnamed)"
    lines = [header or f"Session {name!r}"]
    first = [
        f"{OUTCOME_LABEL} {session_outcome(facts['status'], facts['runs'])}",
        f"{LIFECYCLE_LABEL} {_lifecycle(payload, facts)}",
    ]
    first.append(f"{facts['runs']} run(s), {facts['nodes']} node(s)")
    counts = _counts_text(facts["counts"])
    if counts:
        first.append(counts)
    if facts["elapsed"] is not None:
        first.append(format_duration(facts["elapsed"]))
    lines.append("  " + " · ".join(first))
    for err in facts["errors"][-3:]:
        who = err.get("node_name") or "session"
        lines.append(
            f"  error in {who}: {err.get('type', 'Error')}: {_short(err.get('message', ''), 120)}"
        )
    tree: list[str] = []
    stack: list[tuple[_Node, int]] = [(r, 0) for r in reversed(roots)]
    while stack and len(tree) < MAX_TEXT_LINES:
        node, depth = stack.pop()
        time_text = f" {format_duration(node.duration)}" if node.duration is not None else ""
        tree.append(f"  {'  ' * depth}{_SYMBOL.get(node.status, '?')} {node.name}{time_text}")
        stack.extend((c, depth + 1) for c in reversed(node.children))
    lines.extend(tree)
    if facts["nodes"] > len(tree) and tree:
        lines.append(f"  … {facts['nodes'] - len(tree)} more node(s)")
    return "\n".join(lines)


def mimebundle(obj: Any) -> dict[str, str]:
    """The ``_repr_mimebundle_`` of a Session, ExecutionInfo, SavedSession (or a payload dict).

    ``text/plain`` is a short summary with the top of the call tree;
    ``text/html`` is :func:`static_html` of the object's payload.
    """
    payload = payload_of(obj)
    kind = type(obj).__name__
    if kind == "SavedSession":
        header = f"Saved session {getattr(obj, 'name', None)!r} from {getattr(obj, 'path', '?')}"
    elif kind == "ExecutionInfo":
        header = (
            f"ExecutionInfo of session {payload.get('session_name') or payload.get('session_id')!r}"
        )
    else:
        header = None
    return {"text/plain": text_summary(payload, header), "text/html": static_html(payload)}

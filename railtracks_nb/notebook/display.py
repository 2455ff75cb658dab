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

:func:`static_html` takes anything the widgets take (a session, its
``ExecutionInfo``, a loaded file, a path, or a saved-state payload in the
Railtracks schema, with or without our ``"railtracks_nb"`` extras), so it works
for live, saved and foreign sessions alike; the widgets reuse it for their
offline fallback. The picture is the session's call tree, made from its rows
(:mod:`railtracks_nb.execution.calltree`); the header reads the payload's head
(:class:`~railtracks_nb.notebook.sources.ShownSession`).
"""
from __future__ import annotations

import base64
import math
import time
from collections import Counter
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
    session_title,
)
from .display_tree import _build_forest, _Node, _short, _walk
from .sources import SessionSource, info_of
from .svg import GROUP_MIN, MAX_BOXES, MAX_DEPTH, SYMBOL, _counts_text, _e, _plan, _svg

__all__ = [
    "GROUP_MIN",
    "MAX_BOXES",
    "MAX_DEPTH",
    "mimebundle",
    "static_html",
    "static_svg",
    "text_summary",
]

#: The most lines of call tree in the ``text/plain`` summary.
MAX_TEXT_LINES = 25

#: The page's text colours where the front end defines them (JupyterLab, Notebook 7,
#: nbconvert's templates, light or dark), else dark on the card's own light background.
_FG = "var(--jp-ui-font-color1, #1f2328)"
_MUTED = "var(--jp-ui-font-color2, #4f5b66)"
_BG = "var(--jp-layout-color1, #ffffff)"
_BORDER = "var(--jp-border-color2, #d5dae0)"
#: Errors: the page's own text colour beside a bar of the failed colour (no red
#: reads well on both light and dark backgrounds).
_ERROR = f"{_FG};border-left:3px solid {OUTCOME_COLOURS['failed']};padding-left:6px"



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
        # Beside its id, which the summary shows anyway.
        "name": session_title(payload, default="(unnamed)", by_id=False),
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


def static_svg(obj: SessionSource) -> str:
    """The call graph of a session as a standalone SVG document (no script).

    The same bounded picture :func:`static_html` embeds; each box carries a
    ``<title>`` with the node's type, status, timing, input, output and error.
    Empty string when the session has no nodes. ``obj``: anything
    :func:`~railtracks_nb.notebook.sources.info_of` accepts.
    """
    top, _ = _plan(_build_forest(info_of(obj).info))
    return _svg(top) if top else ""


def static_html(obj: SessionSource) -> str:
    """A self-contained HTML fragment (an SVG image, no JavaScript) picturing a session.

    ``obj`` is a session, an ``ExecutionInfo``, a loaded session, a path, or a
    saved-state dict in the Railtracks schema (as ``to_payload()`` returns it, or
    read from a Railtracks file): anything
    :func:`~railtracks_nb.notebook.sources.info_of` accepts. Node text is escaped;
    the picture stays small however large the session is (see the module docstring).
    """
    shown = info_of(obj)
    return _html(shown.head, _build_forest(shown.info))


def _html(payload: dict[str, Any], roots: list[_Node]) -> str:
    """:func:`static_html` of the session whose payload head is ``payload``."""
    facts = _summary_facts(payload, roots)
    top, drawn = _plan(roots)
    total = facts["nodes"]
    name = facts["name"]
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


def text_summary(obj: SessionSource, header: str | None = None) -> str:
    """A plain-text summary: one header line, counts, recent errors and the top of the
    call tree (``obj``: as :func:`static_html`)."""
    shown = info_of(obj)
    return _text(shown.head, _build_forest(shown.info), header)


def _text(payload: dict[str, Any], roots: list[_Node], header: str | None) -> str:
    """:func:`text_summary` of the session whose payload head is ``payload``."""
    facts = _summary_facts(payload, roots)
    name = facts["name"]
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
        tree.append(f"  {'  ' * depth}{SYMBOL.get(node.status, '?')} {node.name}{time_text}")
        stack.extend((c, depth + 1) for c in reversed(node.children))
    lines.extend(tree)
    if facts["nodes"] > len(tree) and tree:
        lines.append(f"  … {facts['nodes'] - len(tree)} more node(s)")
    return "\n".join(lines)


def mimebundle(obj: SessionSource) -> dict[str, str]:
    """The ``_repr_mimebundle_`` of a Session, ExecutionInfo, SavedSession (or a payload dict).

    ``text/plain`` is a short summary with the top of the call tree;
    ``text/html`` is :func:`static_html` of the object.
    """
    shown = info_of(obj)
    payload, roots = shown.head, _build_forest(shown.info)
    kind = type(obj).__name__
    if kind == "SavedSession":
        header = f"Saved session {getattr(obj, 'name', None)!r} from {getattr(obj, 'path', '?')}"
    elif kind == "ExecutionInfo":
        header = (
            f"ExecutionInfo of session {payload.get('session_name') or payload.get('session_id')!r}"
        )
    else:
        header = None
    return {"text/plain": _text(payload, roots, header), "text/html": _html(payload, roots)}

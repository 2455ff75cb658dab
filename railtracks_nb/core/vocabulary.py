"""The words and colours every view uses for what a session and its nodes are doing.

Two different things, never mixed:

* the **lifecycle state** of a session (``INIT``, ``READY``, ``BUSY``, ``IDLE``,
  ``ERROR``: see :mod:`railtracks_nb.engine.lifecycle`), which says what the session is
  doing now;
* the **outcome** of a node (``open``, ``completed``, ``failed``, ``cancelled``)
  or of a session (``no runs``, ``open``, ``completed``, ``failed``,
  ``interrupted``), which says how its work went.

The widgets, the static picture, the plotly figures and the exports all take
their labels and colours from here; the front end's copy is
``widgets/src/vocabulary.ts``, which a test keeps identical. Every colour is a
fill that dark text (:data:`TEXT_ON_FILL`) reads on at a contrast of at least
4.5:1, so boxes and badges are readable on light and dark themes alike.

Saved files keep the Railtracks schema's own words (a request's ``status`` is
``"Open"``, ``"Completed"`` or ``"Failed"``; our ``status`` extra is
``"Completed"``, ``"Failed"``, ``"Open"`` or ``"Interrupted"``): these functions
turn them into outcomes for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: The key under which our own additions live in a saved-state payload (Railtracks
#: readers ignore it): the session's state, context, config, errors, flow name...
EXTRAS_KEY = "railtracks_nb"

LIFECYCLE_STATES = ("INIT", "READY", "BUSY", "IDLE", "ERROR")
NODE_OUTCOMES = ("open", "completed", "failed", "cancelled")
SESSION_OUTCOMES = ("no runs", "open", "completed", "failed", "interrupted")

#: Fill colour of each lifecycle state's badge.
LIFECYCLE_COLOURS = {
    "INIT": "#c3cad4",
    "READY": "#7fb3e6",
    "BUSY": "#f5b83d",
    "IDLE": "#c3cad4",
    "ERROR": "#e06a66",
}
#: Fill colour of each outcome (node boxes, bars, markers, badges).
OUTCOME_COLOURS = {
    "open": "#f5b83d",
    "completed": "#3fa66a",
    "failed": "#e06a66",
    "cancelled": "#a98bd6",
    "interrupted": "#a98bd6",
    "no runs": "#c3cad4",
}
#: Fill of each saved request status (the Railtracks schema's words), for views that
#: group by it.
STATUS_COLOURS = {
    "Open": OUTCOME_COLOURS["open"],
    "Completed": OUTCOME_COLOURS["completed"],
    "Failed": OUTCOME_COLOURS["failed"],
}
#: Fill of boxes that stand for no single node (the session root, a group of siblings).
NEUTRAL_COLOUR = "#8e9aab"
#: Text drawn on any of the fills above.
TEXT_ON_FILL = "#1d1d1d"
#: One character per node outcome, for plain text.
OUTCOME_SYMBOLS = {"open": "…", "completed": "✓", "failed": "✗", "cancelled": "⊘"}

#: What a state or an outcome is called where it is labelled.
LIFECYCLE_LABEL = "lifecycle"
OUTCOME_LABEL = "outcome"


def node_outcome(status: Any, output: Any = None) -> str:
    """The outcome of a node from its request's saved ``status`` and ``output``:
    a failure whose error is a ``CancelledError`` (a timeout or an interrupt
    stopped it) is ``cancelled``."""
    if status == "Completed":
        return "completed"
    if status == "Failed":
        if isinstance(output, dict) and output.get("type") == "CancelledError":
            return "cancelled"
        return "failed"
    return "open"


def session_outcome(status: Any, runs: int) -> str:
    """The outcome of a session from our saved ``status`` extra (or a roll-up of
    its runs' statuses) and how many runs it has: a session that never ran a
    request has ``no runs``, whatever else it says."""
    if runs == 0:
        return "no runs"
    word = str(status or "").lower()
    return word if word in SESSION_OUTCOMES else "open"


def session_title(payload: dict[str, Any], default: str = "session", by_id: bool = True) -> str:
    """What a session is called in titles: its name, else its flow's name, else (with
    ``by_id``) its id, else ``default`` (``payload``: a saved-state dict, or its head)."""
    extras = payload.get(EXTRAS_KEY)
    extras = extras if isinstance(extras, dict) else {}
    return str(
        payload.get("session_name")
        or extras.get("flow_name")
        or payload.get("flow_name")
        or (payload.get("session_id") if by_id else None)
        or default
    )


def format_duration(seconds: float) -> str:
    """A duration as every view writes it: ``12.3 ms``, ``4.56 s``, ``7.8 min``."""
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


def roll_up(statuses: Iterable[Any]) -> str:
    """A session's status from its runs' saved statuses: ``Failed`` if any failed,
    ``Open`` if any is still running, else ``Completed``."""
    seen = set(statuses)
    if "Failed" in seen:
        return "Failed"
    if "Open" in seen:
        return "Open"
    return "Completed"

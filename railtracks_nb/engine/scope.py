"""Where code is running: the current session and the node being executed.

Two context variables carry this. asyncio copies them into every task and
``run_in_executor`` calls are given a copy too, so a node sees its own session
(and its context) whether it runs on the loop, in a gathered task, or in a
worker thread, and two sessions in one loop never see each other.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..execution.state import Run
    from .running import RunExecution
    from .session import Session


@dataclass(slots=True)
class Frame:
    """The node a piece of code runs inside: its session, run, id and name."""

    #: The session (its running half, which makes frames).
    session: RunExecution
    run: Run
    node_id: str | None
    node_name: str


session_var: ContextVar[Session | None] = ContextVar("railtracks_nb_session", default=None)
frame_var: ContextVar[Frame | None] = ContextVar("railtracks_nb_frame", default=None)


def current_session() -> Session | None:
    """The session this code runs in, or ``None``."""
    return session_var.get()


def current_frame() -> Frame | None:
    """The node this code runs inside, or ``None`` outside any node."""
    return frame_var.get()


def session_id() -> str | None:
    """The identifier of the session this code runs in, or ``None`` outside any
    session (``rt.session_id()``, as in Railtracks)."""
    session = session_var.get()
    return session.identifier if session is not None else None

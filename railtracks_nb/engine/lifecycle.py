"""The session lifecycle: the five states of Raworc's session lifecycle and only its transitions.

``INIT`` (created) → ``READY`` (open, nothing running) ⇄ ``BUSY`` (a request in
flight); ``READY`` → ``IDLE`` (closed, state kept) → ``READY`` (reopened); any
state but ``INIT`` may fall to ``ERROR`` (a fatal failure or a timeout), from
which a session goes back to ``READY`` (it goes on) or ``INIT`` (it starts over).
"""

from __future__ import annotations

import enum

from ..core.exceptions import SessionStateError


class SessionState(str, enum.Enum):
    INIT = "INIT"
    READY = "READY"
    BUSY = "BUSY"
    IDLE = "IDLE"
    ERROR = "ERROR"

    def __str__(self) -> str:
        return self.value


S = SessionState

#: Allowed transitions, exactly as the Raworc state diagram draws them.
TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    S.INIT: frozenset({S.READY, S.ERROR}),
    S.READY: frozenset({S.IDLE, S.BUSY, S.ERROR}),
    S.IDLE: frozenset({S.READY, S.ERROR}),
    S.BUSY: frozenset({S.READY, S.ERROR}),
    S.ERROR: frozenset({S.INIT, S.READY}),
}


def can_transition(old: SessionState, new: SessionState) -> bool:
    """Whether the state machine allows going from ``old`` to ``new``."""
    return SessionState(new) in TRANSITIONS[SessionState(old)]


def check_transition(old: SessionState, new: SessionState) -> SessionState:
    """Return ``new`` as a :class:`SessionState`, or raise if the move is illegal."""
    old, new = SessionState(old), SessionState(new)
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[old]))
        raise SessionStateError(
            f"Illegal session state transition {old.value} -> {new.value}; "
            f"from {old.value} a session may go to {allowed}."
        )
    return new

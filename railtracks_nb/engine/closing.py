"""What a session hands on when it closes: its saved file and its ``payload_callback``.

A save that fails never only logs: the error is kept on the session
(``save_error``) and raised to the code that closed it, once the rest of the
exit is done (:func:`raise_save_error`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.exceptions import SessionSaveError
from ..core.serialization import safe_str
from . import logs

if TYPE_CHECKING:
    from .session import Session

__all__ = ["deliver_payload", "raise_save_error", "save_on_close"]

logger = logs.get_logger("Session")


def save_on_close(session: Session) -> SessionSaveError | None:
    """Save ``session`` (its ``saved_path`` and ``save_error`` say how it went); on
    failure, the error to raise (never only a log line)."""
    from ..store.persistence import save_session

    session.save_error = None
    try:
        session.saved_path = save_session(session)
    except Exception as exc:
        label = session.name or session.identifier
        error = SessionSaveError(
            f"Could not save session {label!r}: {type(exc).__name__}: {safe_str(exc)}. "
            "Its state is still in memory: rt.export(session, path) writes it elsewhere."
        )
        error.__cause__ = exc
        session.save_error = error
        logger.error("%s", error)
        return error
    return None


def raise_save_error(error: SessionSaveError | None, exc: BaseException | None) -> None:
    """Tell the caller a save failed: raise ``error`` chained to the session's own
    exception ``exc``; an interrupt or cancellation keeps propagating instead,
    with the save failure added as a note (``session.save_error`` has it too)."""
    if error is None:
        return
    if exc is None or isinstance(exc, Exception):
        error.__context__ = exc
        raise error
    if hasattr(exc, "add_note"):
        exc.add_note(str(error))


def deliver_payload(session: Session, callback: Callable[[dict[str, Any]], Any]) -> None:
    """Call the session's ``payload_callback``; what it raises is logged, not raised."""
    try:
        callback(session.payload())
    except Exception:
        logger.exception(
            "payload_callback %r of session %s raised",
            callback,
            session.name or session.identifier,
        )

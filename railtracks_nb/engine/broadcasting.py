"""``rt.broadcast`` in a session: the message's stamp, and the session's ``broadcast_callback``.

A broadcast is published as a :class:`~.messages.Broadcast` message with a
lifecycle stamp of its own, made on the session's loop so that messages stay in
stamp order (``Session.send_broadcast`` hands it there from a worker thread).
The session's ``broadcast_callback``, sync or async, subscribes to its
publisher through :func:`forward_broadcasts` and gets the message itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .messages import Broadcast

if TYPE_CHECKING:
    from .running import RunExecution

__all__ = ["forward_broadcasts", "stamp_broadcast"]


def stamp_broadcast(session: RunExecution, message: Any, node_id: str | None) -> None:
    """Publish ``message`` as a :class:`Broadcast` of ``session`` from ``node_id``
    (``None``: from session-level code). Call it on the session's loop only."""
    stamp = session.rt_state.info.stamper.create_lifecycle_stamp("Broadcast")
    session.publisher.publish(Broadcast(session.identifier, stamp, message, node_id))


def forward_broadcasts(callback: Callable[..., Any]) -> Callable[[Any], Any]:
    """A publisher subscriber that calls ``callback`` with each broadcast message
    (and ignores every other message); async if ``callback`` is."""
    if inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
        getattr(callback, "__call__", None)  # noqa: B004
    ):

        async def forward_async(message: Any) -> None:
            if isinstance(message, Broadcast):
                await callback(message.message)

        return forward_async

    def forward(message: Any) -> Any:
        if isinstance(message, Broadcast):
            return callback(message.message)
        return None

    return forward

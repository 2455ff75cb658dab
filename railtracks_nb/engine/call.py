"""``rt.call``, ``rt.call_sync``, ``rt.call_batch`` and ``rt.broadcast``."""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterable
from typing import Any

from ..core.exceptions import ContextError
from ._sync import run_sync
from .nodes import resolve_node_type
from .scope import current_frame, current_session, frame_var, session_var

__all__ = ["broadcast", "call", "call_batch", "call_sync"]


async def call(node: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``node`` with these arguments and return its result.

    Inside a node: a child call (an edge from the calling node). Inside a
    session but outside any node: a new top-level run of that session.
    Outside any session: a temporary session is opened for the call.
    """
    session = session_var.get()  # current_session() and current_frame(), inlined: hot path
    if session is None:
        from .session import Session

        async with Session() as temporary:
            return await temporary.call_top_level(node, args, kwargs)
    frame = frame_var.get()
    if frame is None or frame.session is not session:
        return await session.call_top_level(node, args, kwargs)
    node_type = resolve_node_type(node)
    return await session.call_node(frame, node_type, node_type.prepare(args, kwargs), args, kwargs)


def call_sync(node: Any, *args: Any, **kwargs: Any) -> Any:
    """``call`` from sync code: plain scripts, sync nodes, and notebook cells alike."""
    return run_sync(lambda: call(node, *args, **kwargs))


async def call_batch(
    node: Any, *iterables: Iterable[Any], return_exceptions: bool = True
) -> list[Any]:
    """Call ``node`` once per input, all in parallel; results come back in input order.

    With several iterables they are zipped: ``call_batch(add, [1, 2], [10, 20])``
    calls ``add(1, 10)`` and ``add(2, 20)``. With ``return_exceptions=True`` (the
    Railtracks default) a failed call puts its exception in its place; with
    ``False`` the first failure is raised.
    """
    if not iterables:
        raise TypeError("call_batch() needs at least one iterable of inputs")
    inputs = list(zip(*iterables, strict=True))
    return await asyncio.gather(
        *(call(node, *item) for item in inputs), return_exceptions=return_exceptions
    )


class _Sent:
    """What ``rt.broadcast`` returns: already sent, and awaitable for Railtracks code."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        yield from ()


def broadcast(message: Any) -> _Sent:
    """Send ``message`` to the session's ``broadcast_callback`` and subscribers.

    Works from async nodes, sync nodes (worker threads) and session-level code;
    ``await rt.broadcast(...)`` and a plain call are both fine.
    """
    session = current_session()
    if session is None:
        raise ContextError("rt.broadcast() needs a session: call it inside a node or a session.")
    frame = current_frame()
    node_id = frame.node_id if frame is not None and frame.session is session else None
    session.send_broadcast(message, node_id)
    return _Sent()

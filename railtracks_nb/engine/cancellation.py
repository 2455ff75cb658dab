"""Bounding a run's task: wait for it at most its timeout; stop it (cancel it, give it
a grace period, leave it behind if it will not stop).

A node may catch ``CancelledError`` and keep going; Python cannot force it to
stop. A run that times out or is interrupted cancels its task repeatedly for
:data:`CANCEL_GRACE` seconds, then gives up on it: the caller gets its error,
and the task is taken off its loop's task list so nothing waits for it forever.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any

from . import logs

logger = logs.get_logger("Session")

#: How long a cancelled node (at a timeout or an interrupt) gets to stop, in
#: seconds. A node that catches ``CancelledError`` and keeps going is left
#: running after that: the caller gets its error anyway, and a warning names it.
CANCEL_GRACE = 1.0


async def wait_at_most(task: asyncio.Task[Any], timeout: float | None) -> bool:
    """Wait until ``task`` is done or ``timeout`` seconds (``None``: no limit) have
    passed; returns whether it is done. Being cancelled stops the wait, not the task.

    Unlike ``asyncio.wait``, the timer runs in an empty context. A cancelled timer
    stays in its loop's queue until its time comes (on a kernel's long-lived loop
    with earlier timers pending, the whole timeout), and a timer holds a copy of
    the context it was made in: every context variable's value would stay alive
    that long, among them the session and all it recorded.
    """
    if timeout is None:
        await asyncio.wait({task})
        return True
    loop = asyncio.get_running_loop()
    woken = loop.create_future()

    def wake(_: object = None) -> None:
        if not woken.done():
            woken.set_result(None)

    timer = loop.call_later(timeout, wake, context=contextvars.Context())
    task.add_done_callback(wake, context=contextvars.Context())
    try:
        await woken
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    return task.done()


async def cancel_within(task: asyncio.Task[Any], grace: float) -> bool:
    """Cancel ``task`` and wait up to ``grace`` seconds for it to finish unwinding,
    cancelling it again every 50 ms (a node may catch one ``CancelledError``).
    Returns whether it finished. Being cancelled meanwhile does not cut the wait
    short; it is re-raised at the end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    interrupted = False
    while not task.done():
        task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            await asyncio.wait({task}, timeout=min(remaining, 0.05))
        except asyncio.CancelledError:
            interrupted = True
    if task.done() and not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log "never retrieved"
    if interrupted:
        raise asyncio.CancelledError
    return task.done()


def detach_from_loop(task: asyncio.Task[Any]) -> None:
    """Take a task that ignores cancellation off its loop's task list.

    ``asyncio.run`` (and ``Runner.close``) cancel every task of the loop and
    wait for all of them, unbounded: one task that never stops would hang the
    program at the end of its run. The task keeps running while the loop does.
    """
    unregister = getattr(asyncio, "_unregister_task", None)
    if unregister is not None:
        unregister(task)
    try:
        task._log_destroy_pending = False  # type: ignore[attr-defined]  # dropped with its loop
    except AttributeError:
        pass


def abandon(
    task: asyncio.Task[Any],
    names: list[str],
    why: str,
    forget: Callable[[asyncio.Task[Any]], None],
) -> None:
    """Leave behind a run's task that is still running :data:`CANCEL_GRACE` seconds
    after it was cancelled at ``why`` (a timeout, an interrupt): a warning names its
    running nodes (``names``), it is taken off its loop's task list
    (:func:`detach_from_loop`), and ``forget(task)`` is called when it ends at last
    (its outcome is then retrieved: it has no caller any more)."""
    logger.warning(
        "Node(s) %s ignored cancellation at %s and are still running %g s later; "
        "the caller gets its error now, and their results will be dropped.",
        ", ".join(repr(n) for n in names),
        why,
        CANCEL_GRACE,
    )

    def finished(done: asyncio.Task[Any]) -> None:
        forget(done)
        if not done.cancelled():
            done.exception()  # retrieved: it has no caller any more

    task.add_done_callback(finished)
    detach_from_loop(task)

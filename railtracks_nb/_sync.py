"""Running a coroutine to completion from sync code, wherever that code is.

Three places call sync entry points (``rt.call_sync``, ``flow.invoke``,
``session.run_sync``):

* plain sync code with no loop: ``asyncio.run``;
* a sync node in a session's worker thread while the session's loop runs in
  another thread: the coroutine is handed to that loop, so it joins the same
  session, run and stamps;
* code already running inside a loop in this thread (a notebook cell, where
  the kernel's loop is running): the loop is re-entered with ``nest_asyncio``,
  applied to that loop only at that moment, so the flow runs on the kernel's
  own loop and everything subscribed there sees its messages live.
"""

from __future__ import annotations

import asyncio
import selectors
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .scope import current_session

T = TypeVar("T")


def _reentrant(loop: asyncio.AbstractEventLoop) -> None:
    if getattr(loop, "_nest_patched", False):
        return
    import nest_asyncio

    nest_asyncio.apply(loop)


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``factory()`` makes, and return its result."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        session = current_session()
        target = session._loop_elsewhere() if session is not None else None
        if target is not None:
            return asyncio.run_coroutine_threadsafe(factory(), target).result()
        return asyncio.run(factory())
    return run_in_loop(loop, factory())


@contextmanager
def _sigint_cancels(
    loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], hits: list[int]
) -> Iterator[None]:
    """While ``task`` is driven in this (main) thread, SIGINT stops it cleanly.

    When the signal finds the loop idle (waiting in its selector for I/O or a
    timer), the task is cancelled: every node gets ``CancelledError`` at its
    ``await`` and the task unwinds through its ``async with Session`` blocks,
    so the session closes (saved marked interrupted). When Python code is
    running (a node or a cell body blocking in sync code, ``time.sleep``), a
    cancellation would only land at its next ``await``, maybe never, so
    ``KeyboardInterrupt`` is raised there and then, as Python's own handler
    would; :func:`run_in_loop` then cancels what is left. Handlers nest: the
    innermost driven task gets the interrupt; the outer handler is restored
    on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only delivered to the main thread
        return

    def handler(signum: int, frame: Any) -> None:
        idle = frame is not None and frame.f_code.co_filename == selectors.__file__
        if hits or not idle or task.done():
            hits.append(signum)
            raise KeyboardInterrupt
        hits.append(signum)
        loop.call_soon_threadsafe(task.cancel)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_in_loop(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on ``loop`` from sync code in the loop's thread.

    ``loop`` may be running already (a notebook cell on the kernel's loop):
    it is then re-entered with ``nest_asyncio``, applied to that loop only.
    An interrupt (SIGINT) cancels the coroutine's task, waits for it to
    unwind, and raises ``KeyboardInterrupt`` to the caller.
    """
    if loop.is_running():
        _reentrant(loop)
    task = loop.create_task(coro)
    hits: list[int] = []
    with _sigint_cancels(loop, task, hits):
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            if hits and task.cancelled():  # our interrupt handler cancelled it
                raise KeyboardInterrupt from None
            raise
        except BaseException:
            # KeyboardInterrupt (or SystemExit) escaped the loop before the task ended:
            # cancel it and let it unwind, so it neither runs on in the background nor
            # leaves its session open.
            if not task.done():
                task.cancel()
                try:
                    loop.run_until_complete(task)
                except BaseException:
                    pass
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: the original exception is what we raise
            raise
    return task.result()

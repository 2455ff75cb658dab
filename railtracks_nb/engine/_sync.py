"""Driving a coroutine to completion from a notebook cell or from sync code, interruptibly.

Two ways in, one interrupt policy.

:func:`drive` is awaited: ``%%rt_session`` bodies use it. IPython awaits the
cell natively on the kernel's running loop (its own autoawait), exactly as
it awaits a cell with a top-level ``await``, so nothing re-enters the loop:
the kernel keeps queueing the messages that arrive meanwhile (the next cell
of Run All, a completion request, a widget's comm message) and handles them,
in order, when the cell ends.

:func:`run_sync` is called from sync code. Three places call sync entry
points (``rt.call_sync``, ``flow.invoke``, ``session.run_sync``):

* plain sync code with no loop: ``asyncio.run``;
* a sync node in a session's worker thread while the session's loop runs in
  another thread: the coroutine is handed to that loop, so it joins the same
  session, run and stamps;
* code already running inside a loop in this thread (a notebook cell, where
  the kernel's loop is running): a sync call cannot ``await``, so the loop is
  re-entered with ``nest_asyncio2`` and the flow runs on the kernel's own loop,
  where everything subscribed sees its messages live. ``nest_asyncio2`` is the
  maintained fork of ``nest_asyncio`` that ipykernel 7 itself depends on; the
  original does not know ipykernel 7's tasks and loses the kernel's queued
  messages ("cannot enter context ... is already entered"). It patches
  ``asyncio`` for the whole process once applied (pure-Python tasks), which is
  why it is only applied when a sync form first runs inside a running loop.

Interrupts (SIGINT: the notebook's stop button) while a coroutine is driven
in the main thread: see :func:`_sigint_cancels`.
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .scope import current_session
from .workers import blocking

T = TypeVar("T")

#: Set inside every task :func:`drive` or :func:`run_in_loop` starts (and so
#: inherited by the tasks it creates): which driven coroutine the code running
#: now belongs to, as the SIGINT handler sees it.
_DRIVEN: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "railtracks_nb_driven", default=None
)


class _Interrupted(Exception):
    """Carries a ``KeyboardInterrupt`` out of a driven task.

    A ``KeyboardInterrupt`` leaving a task's coroutine is re-raised by asyncio
    out of the event loop itself, which would stop the kernel's loop; as an
    ordinary exception it ends the task, and the driver raises the original.
    """

    def __init__(self, interrupt: KeyboardInterrupt) -> None:
        super().__init__(str(interrupt))
        self.interrupt = interrupt


async def _marked(coro: Coroutine[Any, Any, T], marker: object) -> T:
    _DRIVEN.set(marker)  # in this task's own context: it and its child tasks carry the mark
    try:
        return await coro
    except KeyboardInterrupt as interrupt:  # from a nested sync form's own driver
        raise _Interrupted(interrupt) from None


def _reentrant(loop: asyncio.AbstractEventLoop) -> None:
    if getattr(loop, "_nest_asyncio2", None) is not None:
        return
    import nest_asyncio2

    nest_asyncio2.apply(loop)


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``factory()`` makes, and return its result."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        session = current_session()
        target = session.loop_elsewhere() if session is not None else None
        if target is not None:
            future = asyncio.run_coroutine_threadsafe(factory(), target)
            # This worker waits for its child: another may start meanwhile, so sync
            # nodes calling sync nodes (fanned out or recursive) never deadlock.
            with blocking():
                return future.result()
        return asyncio.run(factory())
    return run_in_loop(loop, factory())


@contextmanager
def _sigint_cancels(
    loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], marker: object, hits: list[int]
) -> Iterator[None]:
    """While ``task`` is driven in this (main) thread, SIGINT stops it cleanly.

    The handler looks at what the interrupt found running:

    * the loop waiting for I/O or a timer, or code that is not ``task``'s (the
      kernel's own tasks and callbacks): ``task`` is cancelled from the loop,
      so every node gets ``CancelledError`` at its ``await`` and the task
      unwinds through its ``async with Session`` blocks (the session closes,
      saved marked interrupted). Nothing of the kernel's is touched.
    * ``task``'s own code or a task it started, blocking the loop in sync code
      (``time.sleep`` in a cell body or in an async node): a cancellation would
      only land at its next ``await``, maybe never, so ``CancelledError`` is
      raised there and then, as Python raises ``KeyboardInterrupt``. It ends
      that task as a cancellation; a ``KeyboardInterrupt`` would escape the
      task into the event loop and stop the kernel's loop.

    The driver then raises ``KeyboardInterrupt`` to the caller. Handlers
    nest: the innermost driven task gets the interrupt; the outer handler is
    restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only delivered to the main thread
        return

    def handler(signum: int, frame: Any) -> None:
        hits.append(signum)
        if task.done():
            return
        loop.call_soon_threadsafe(task.cancel)
        running = asyncio.current_task(loop)
        if running is not None and not running.done() and _DRIVEN.get() is marker:
            raise asyncio.CancelledError("interrupted")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _outcome(task: asyncio.Task[T], hits: list[int]) -> T:
    """``task``'s result, with an interrupt reported as ``KeyboardInterrupt``."""
    if task.cancelled():
        if hits:  # our interrupt handler cancelled it
            raise KeyboardInterrupt
        raise asyncio.CancelledError
    error = task.exception()
    if isinstance(error, _Interrupted):
        raise error.interrupt
    return task.result()


async def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` in a task of its own on the running loop, interruptibly.

    For notebook cells awaited natively by IPython: SIGINT cancels the
    coroutine (see :func:`_sigint_cancels`), waits for it to unwind, and
    raises ``KeyboardInterrupt``. If the awaiting cell is itself cancelled,
    the coroutine is cancelled with it.
    """
    loop = asyncio.get_running_loop()
    marker = object()
    task = loop.create_task(_marked(coro, marker))
    hits: list[int] = []
    with _sigint_cancels(loop, task, marker, hits):
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()
            while not task.done():  # unwind it before we go: no task left running
                try:
                    await asyncio.wait({task})
                except asyncio.CancelledError:
                    task.cancel()
            if not task.cancelled():
                task.exception()  # retrieved: the cancellation is what we raise
            raise
    return _outcome(task, hits)


def run_in_loop(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on ``loop`` from sync code in the loop's thread.

    ``loop`` may be running already (a sync call in a notebook cell, on the
    kernel's loop): it is then re-entered with ``nest_asyncio2``. An interrupt
    (SIGINT) cancels the coroutine's task, waits for it to unwind, and raises
    ``KeyboardInterrupt`` to the caller.
    """
    if loop.is_running():
        _reentrant(loop)
    marker = object()
    task = loop.create_task(_marked(coro, marker))
    hits: list[int] = []
    with _sigint_cancels(loop, task, marker, hits):
        try:
            loop.run_until_complete(asyncio.wait({task}))
        except BaseException:
            # KeyboardInterrupt (or SystemExit) escaped the loop before the task ended:
            # cancel it and let it unwind, so it neither runs on in the background nor
            # leaves its session open.
            if not task.done():
                task.cancel()
                try:
                    loop.run_until_complete(asyncio.wait({task}))
                except BaseException:
                    pass
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: the original exception is what we raise
            raise
    return _outcome(task, hits)

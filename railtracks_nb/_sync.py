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
import threading
from collections.abc import Callable, Coroutine
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
        target = session._loop if session is not None else None
        if (
            target is not None
            and target.is_running()
            and session.publisher._loop_thread != threading.get_ident()
        ):
            return asyncio.run_coroutine_threadsafe(factory(), target).result()
        return asyncio.run(factory())
    _reentrant(loop)
    return loop.run_until_complete(factory())

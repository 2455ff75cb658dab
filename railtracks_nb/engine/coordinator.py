"""Running nodes: execution strategies, the :class:`Coordinator`, and :class:`RTState`.

Async nodes are awaited in the caller's task (no extra task: a call costs
little more than the coroutine itself). Sync nodes run in the session's
thread pool with a copy of the caller's context, so they see their session
and never block the event loop. :class:`RTState` is the session's first
subscriber: it turns published messages into the :class:`ExecutionInfo`.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from types import CoroutineType
from typing import Any

from ..core.serialization import safe_str, to_jsonable
from ..execution.stamps import Stamp
from ..execution.stamps import _raw_stamp as _plain_stamp
from ..execution.state import ExecutionInfo, Run
from .messages import (
    FatalFailure,
    RequestCreation,
    RequestFailure,
    RequestSuccess,
    RTMessage,
    RunFinished,
    RunStarted,
    SessionStateChanged,
)
from .nodes import Work
from .workers import WorkerPool

logger = logging.getLogger("RT.Coordinator")

#: How many recent errors a session keeps for display (all are in the node forest).
MAX_RECENT_ERRORS = 50


class AsyncioExecutionStrategy:
    """Async work runs in the calling task: the coroutine is awaited as it is."""

    name = "asyncio"

    def execute(self, work: Coroutine[Any, Any, Any], name: str) -> Awaitable[Any]:
        return work

    def shutdown(self) -> list[str]:
        return []


class ThreadPoolExecutionStrategy:
    """Runs sync work in a :class:`~railtracks_nb.engine.workers.WorkerPool` owned by the
    session (daemon threads, never joined at exit), with the caller's context."""

    name = "threads"

    def __init__(self, max_workers: int = 32) -> None:
        self.max_workers = max_workers
        self._executor: WorkerPool | None = None
        self._running: dict[Future[Any], str] = {}

    def _pool(self) -> WorkerPool:
        if self._executor is None:
            self._executor = WorkerPool(self.max_workers, name="rt-node")
        return self._executor

    async def execute(self, work: Callable[[], Any], name: str) -> Any:
        # A copy of the caller's context: the node sees its session, frame and context.
        job = self._pool().submit(contextvars.copy_context().run, work)
        # Tracked until the *thread* is done, not until the awaiting task gives up:
        # a cancelled caller leaves the thread running, and shutdown() must know.
        self._running[job] = name
        job.add_done_callback(self._forget)
        result = await asyncio.wrap_future(job)
        if inspect.isawaitable(result):  # a sync function that returned a coroutine
            result = await result
        return result

    def _forget(self, job: Future[Any]) -> None:
        self._running.pop(job, None)

    def shutdown(self) -> list[str]:
        """Stop the pool. Returns the names of sync nodes still running in it.

        Python cannot stop a running thread: those nodes finish on their own
        and their results are dropped. Queued ones never start.
        """
        still = [name for job, name in list(self._running.items()) if job.running()]
        if self._executor is not None:
            self._executor.shutdown()  # never waits: a stuck node must not hold the caller
            self._executor = None
        return still


class Coordinator:
    """Sends each piece of work to its strategy: coroutines to the loop, callables to threads."""

    def __init__(self, max_workers: int = 32) -> None:
        self.async_strategy = AsyncioExecutionStrategy()
        self.thread_strategy = ThreadPoolExecutionStrategy(max_workers)

    def execute(self, work: Work, name: str) -> Awaitable[Any]:
        """The awaitable that runs ``work`` (what ``Node.prepare`` returned)."""
        if type(work) is CoroutineType:
            return self.async_strategy.execute(work, name)
        if inspect.isawaitable(work):
            return work
        return self.thread_strategy.execute(work, name)

    def shutdown(self) -> list[str]:
        """Shut the strategies down; returns sync nodes that were still running."""
        self.async_strategy.shutdown()
        return self.thread_strategy.shutdown()


class RTState:
    """Keeps a session's :class:`ExecutionInfo` up to date from its messages."""

    def __init__(self, info: ExecutionInfo) -> None:
        self.info = info
        self._handlers: dict[type, Callable[[Any], None]] = {
            RequestCreation: self._created,
            RequestSuccess: self._succeeded,
            RequestFailure: self._failed,
            RunStarted: self._run_started,
            RunFinished: self._run_finished,
            FatalFailure: self._fatal,
            SessionStateChanged: self._state_changed,
        }
        info.extras.setdefault("errors", [])
        info.extras.setdefault("error_count", 0)
        info.extras.setdefault("state_history", [])

    def handle(self, message: RTMessage) -> None:
        handler = self._handlers.get(type(message))
        if handler is not None:  # broadcasts and foreign messages change no state
            handler(message)

    __call__ = handle

    def _created(self, m: RequestCreation) -> None:
        info = self.info
        run = info.runs[m.run_id]
        stamp = _plain_stamp(m.stamp)  # one tuple for its three records (see _raw_stamp)
        info.node_forest.add_created(
            m.node_id, m.node_name, m.node_type, stamp, m.run_id, m.node_class
        )
        info.request_forest.add_created(
            m.request_id, m.parent_node_id, m.node_id, m.args, m.kwargs, stamp, m.run_id
        )
        if m.parent_node_id is None:
            run.root_request_id = m.request_id
            run.root_node_id = m.node_id
        run.node_ids.append(m.node_id)
        run.request_ids.append(m.request_id)
        run.add_stamp(stamp)

    def _finished(self, m: RequestSuccess | RequestFailure, status: str, output: Any) -> None:
        info = self.info
        stamp = _plain_stamp(m.stamp)
        info.node_forest.add_finished(m.node_id, stamp, m.latency)
        info.request_forest.add_finished(m.request_id, output, status, stamp)  # type: ignore[arg-type]
        info.runs[m.run_id].add_stamp(stamp)

    def _succeeded(self, m: RequestSuccess) -> None:
        self._finished(m, "Completed", m.result)

    def _failed(self, m: RequestFailure) -> None:
        self._finished(m, "Failed", m.error)
        if not isinstance(m.error, asyncio.CancelledError):
            self._record_error(m.node_id, m.node_name, m.error, m.stamp)

    def _record_error(
        self, node_id: str | None, node_name: str | None, error: BaseException, stamp: Stamp
    ) -> None:
        extras = self.info.extras
        extras["error_count"] += 1
        errors = extras["errors"]
        errors.append(
            {
                "node_id": node_id,
                "node_name": node_name,
                "type": type(error).__name__,
                "message": safe_str(error),
                "step": stamp.step,
                "time": stamp.time,
            }
        )
        if len(errors) > MAX_RECENT_ERRORS:
            del errors[0]

    def _run_started(self, m: RunStarted) -> None:
        self.info.runs[m.run_id] = Run(m.run_id, m.name, m.stamp.time)

    def _run_finished(self, m: RunFinished) -> None:
        run = self.info.runs[m.run_id]
        run.status = m.status  # type: ignore[assignment]
        run.end_time = m.stamp.time

    def _fatal(self, m: FatalFailure) -> None:
        self.info.runs[m.run_id].add_stamp(m.stamp)
        self._record_error(None, None, m.error, m.stamp)
        if isinstance(m.error, TimeoutError):  # the run is Failed; this says why
            self.info.extras.setdefault("timed_out_runs", []).append(m.run_id)

    def _state_changed(self, m: SessionStateChanged) -> None:
        extras = self.info.extras
        extras["state"] = m.new
        extras["state_history"].append(
            {"old": m.old, "new": m.new, "step": m.stamp.step, "time": m.stamp.time}
        )


def config_summary(config: Any) -> dict[str, Any]:
    """The JSON-able part of an :class:`ExecutorConfig` (callables become their names)."""
    out = {}
    for key in type(config).model_fields:
        value = getattr(config, key)
        if callable(value):
            value = getattr(value, "__qualname__", repr(value))
        out[key] = to_jsonable(value if not hasattr(value, "__fspath__") else str(value))
    return out

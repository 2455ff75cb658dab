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
from typing import Any, ClassVar

from ..core.serialization import safe_str, to_jsonable
from ..execution.stamps import RawStamp, Stamp
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
    """Keeps a session's :class:`ExecutionInfo` up to date from its messages.

    Its handlers are looked up in a class-level table of plain functions, not
    kept as bound methods on the instance: ``self -> dict -> bound method ->
    self`` would be a reference cycle, and a cycle keeps the whole execution
    state (every record of every node) alive after its session is gone, until
    the collector's next full collection of the process's heap.
    """

    _HANDLERS: ClassVar[dict[type, Callable[[RTState, Any], None]]]

    def __init__(self, info: ExecutionInfo) -> None:
        self.info = info
        info.extras.setdefault("errors", [])
        info.extras.setdefault("error_count", 0)
        info.extras.setdefault("state_history", [])

    def handle(self, message: RTMessage) -> None:
        handler = self._HANDLERS.get(type(message))
        if handler is not None:  # broadcasts and foreign messages change no state
            handler(self, message)

    __call__ = handle

    def _created(self, m: RequestCreation) -> None:
        self.record_created(
            m.run_id, m.request_id, m.parent_node_id, m.node_id, m.node_name, m.node_type,
            m.args, m.kwargs, m.node_class, self.info.stamper.kept(m.stamp),
        )  # fmt: skip

    def record_created(
        self,
        run_id: str,
        request_id: str,
        parent_node_id: str | None,
        node_id: str,
        node_name: str,
        node_type: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        node_class: type | None,
        stamp: RawStamp,
    ) -> None:
        """Record a node call: what a :class:`RequestCreation` with these fields does.

        ``stamp`` is the plain tuple its stamper keeps (one tuple for the two
        records and the run's stamp list). The session calls this directly when
        no other subscriber would see the message (see ``RTPublisher.delivers_only_to``).
        """
        info = self.info
        run = info.runs[run_id]
        info.node_forest.add_created(node_id, node_name, node_type, stamp, run_id, node_class)
        info.request_forest.add_created(
            request_id, parent_node_id, node_id, args, kwargs, stamp, run_id
        )
        if parent_node_id is None:
            run.root_request_id = request_id
            run.root_node_id = node_id
        run.node_ids.append(node_id)
        run.request_ids.append(request_id)
        run.raw_stamps.append(stamp)

    def record_finished(
        self,
        run_id: str,
        request_id: str,
        node_id: str,
        status: str,
        output: Any,
        latency: float,
        stamp: RawStamp,
    ) -> None:
        """Record a node's end: what a :class:`RequestSuccess` (``status="Completed"``,
        ``output`` its result) or :class:`RequestFailure` (``"Failed"``, its error)
        does to the state, with the stamper's plain ``stamp`` (see :meth:`record_created`)."""
        info = self.info
        info.node_forest.add_finished(node_id, stamp, latency)
        info.request_forest.add_finished(request_id, output, status, stamp)  # type: ignore[arg-type]
        info.runs[run_id].raw_stamps.append(stamp)

    def _finished(self, m: RequestSuccess | RequestFailure, status: str, output: Any) -> None:
        self.record_finished(
            m.run_id, m.request_id, m.node_id, status, output, m.latency,
            self.info.stamper.kept(m.stamp),
        )  # fmt: skip

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


RTState._HANDLERS = {
    RequestCreation: RTState._created,
    RequestSuccess: RTState._succeeded,
    RequestFailure: RTState._failed,
    RunStarted: RTState._run_started,
    RunFinished: RTState._run_finished,
    FatalFailure: RTState._fatal,
    SessionStateChanged: RTState._state_changed,
}


def config_summary(config: Any) -> dict[str, Any]:
    """The JSON-able part of an :class:`ExecutorConfig` (callables become their names)."""
    out = {}
    for key in type(config).model_fields:
        value = getattr(config, key)
        if callable(value):
            value = getattr(value, "__qualname__", repr(value))
        out[key] = to_jsonable(value if not hasattr(value, "__fspath__") else str(value))
    return out

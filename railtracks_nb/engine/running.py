"""How a session runs its requests: top-level runs and the node calls inside them.

:class:`RunExecution` is the half of :class:`~railtracks_nb.engine.session.Session`
that executes: a top-level request becomes a *run* in its own task, bounded by
the session's ``timeout`` (:meth:`~RunExecution.call_top_level`); every node call
inside it is stamped, published, executed and stamped again
(:meth:`~RunExecution.call_node`, the hot path). A run that times out, is
interrupted or is ended by an error (``end_on_error``) has its task cancelled
and its late results dropped. ``rt.call`` and ``rt.broadcast`` (:mod:`.call`)
drive a session only through the public methods here.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from random import getrandbits as _getrandbits
from time import perf_counter
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from ..core.exceptions import GlobalTimeOutError, SessionSaveError
from ..core.serialization import safe_str
from ..execution.state import Run
from . import logs
from .broadcasting import stamp_broadcast
from .cancellation import CANCEL_GRACE, abandon, cancel_within, wait_at_most
from .closing import raise_save_error
from .lifecycle import SessionState
from .messages import (
    FatalFailure,
    RequestCreation,
    RequestFailure,
    RequestSuccess,
    RunFinished,
    RunStarted,
)
from .nodes import Node, Work, resolve_node_type
from .scope import Frame, frame_var

if TYPE_CHECKING:
    from ..core.config import ExecutorConfig
    from .coordinator import Coordinator, RTState
    from .publisher import RTPublisher

logger = logs.get_logger("Session")

_new_id = uuid.uuid4


def _discard(work: Work) -> None:
    """Close a node coroutine that will never be awaited (no "never awaited" warning)."""
    close = getattr(work, "close", None)
    if close is not None:
        close()


class RunExecution:
    """The running half of a session (see the module docstring); the rest of
    :class:`~railtracks_nb.engine.session.Session` owns the state used here."""

    # Set by Session.__init__.
    identifier: str
    executor_config: ExecutorConfig
    coordinator: Coordinator
    rt_state: RTState
    publisher: RTPublisher
    state: SessionState
    _debug: bool
    _in_flight: int
    #: run id -> its open requests: request id -> (node id, node name, caller node id).
    _open_requests: dict[str, dict[str, tuple[str, str, str | None]]]
    _root_tasks: dict[str, asyncio.Task[Any]]
    #: run id -> the error that ended it (a timeout, or a failure with end_on_error).
    _fatal: dict[str, BaseException]
    _tokens: list[Any]
    _interrupted: bool
    _loop: asyncio.AbstractEventLoop | None
    _ended_runs: dict[str, BaseException]
    _stubborn: dict[str, list[str]]
    _abandoned: set[asyncio.Task[Any]]
    _implicit: bool

    # The session's lifecycle, which Session defines.
    @property
    def is_open(self) -> bool:
        raise NotImplementedError

    def _set_state(self, new: SessionState) -> None:
        raise NotImplementedError

    def _open(self) -> None:
        raise NotImplementedError

    def _close(self, exc: BaseException | None) -> SessionSaveError | None:
        raise NotImplementedError

    def _publish(self, message: Any) -> None:
        self.publisher.publish(message)

    def _begin_request(self) -> None:
        if self.state is SessionState.ERROR:
            self._set_state(SessionState.READY)
        self._in_flight += 1
        if self.state is not SessionState.BUSY:
            self._set_state(SessionState.BUSY)

    def _end_request(self, failed: bool) -> None:
        self._in_flight -= 1
        if failed and self.state is SessionState.BUSY:
            self._set_state(SessionState.ERROR)
        elif self._in_flight == 0 and self.state is SessionState.BUSY:
            self._set_state(SessionState.READY)

    async def call_top_level(
        self,
        node: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        started: list[Run] | None = None,
    ) -> Any:
        """Run ``node(*args, **kwargs)`` as a top-level request: a new run, in its own
        task, bounded by the timeout; returns its result or raises its error. The
        run is appended to ``started``, if given. What ``rt.call`` does outside a node."""
        node_type = resolve_node_type(node)
        work = node_type.prepare(args, kwargs)
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.publisher.bind_loop(loop)
        if not self.is_open and not self._tokens:
            self._implicit = True  # no `with`: the last request to end closes it again
        self._open()
        self._begin_request()

        name = node_type.name()
        run = Run(str(_new_id()), name, time.time())
        self._open_requests[run.run_id] = {}
        self._publish(
            RunStarted(
                self.identifier,
                self.rt_state.info.stamper.create_lifecycle_stamp(f"Run {name} started"),
                run.run_id,
                name,
            )
        )
        run = self.rt_state.info.runs[run.run_id]
        if started is not None:
            started.append(run)
        root = Frame(self, run, None, "START")
        task = loop.create_task(self.call_node(root, node_type, work, args, kwargs))
        self._root_tasks[run.run_id] = task
        timeout = self.executor_config.timeout
        failed = True
        outcome: BaseException | None = None
        try:
            try:
                done = await wait_at_most(
                    task, None if timeout is None or timeout == float("inf") else timeout
                )
            except asyncio.CancelledError:
                self._interrupted = True
                self._ended_runs[run.run_id] = asyncio.CancelledError(
                    f"run {name!r} was interrupted: this result came too late"
                )
                await self._stop(task, run.run_id, "the interrupt")
                raise
            if not done:
                assert timeout is not None  # with no timeout the wait ends with the task
                running = self._running_names(run.run_id)
                error = GlobalTimeOutError(timeout, running)
                self._fatal[run.run_id] = error
                self._ended_runs[run.run_id] = error  # whatever finishes now is not an answer
                await self._stop(task, run.run_id, f"the {timeout:g} s timeout")
                self._publish_fatal(run.run_id, error, f"Session timed out after {timeout:g}s")
                logger.error("%s", error)
                raise error
            fatal = self._fatal.get(run.run_id)
            if fatal is not None:
                if not task.cancelled():
                    task.exception()  # mark retrieved: the fatal error is what we raise
                raise fatal
            result = task.result()  # raises the node's exception, or CancelledError
            failed = False
            return result
        except BaseException as error:
            outcome = error
            raise
        finally:
            status = "Failed" if failed else "Completed"
            self._publish(
                RunFinished(
                    self.identifier,
                    self.rt_state.info.stamper.create_lifecycle_stamp(
                        f"Run {name} {status.lower()}"
                    ),
                    run.run_id,
                    status,
                )
            )
            self._end_request(failed=failed and run.run_id in self._fatal)
            self._open_requests.pop(run.run_id, None)
            self._root_tasks.pop(run.run_id, None)
            self._fatal.pop(run.run_id, None)
            await self.publisher.flush()
            if self._implicit and self._in_flight == 0 and not self._tokens:
                raise_save_error(self._close(outcome), outcome)

    async def _stop(self, task: asyncio.Task[Any], run_id: str, why: str) -> None:
        """Cancel a run's task and give it :data:`CANCEL_GRACE` seconds to unwind.

        A node that swallows ``CancelledError`` is cancelled again (it may only
        have caught the first one); one still running after the grace period is
        left behind, named in a warning and in ``stubborn_nodes``. It is taken
        off the loop's task list so nothing (``asyncio.run`` closing its loop)
        waits for it forever, and what it returns later is dropped.
        """
        if await cancel_within(task, CANCEL_GRACE):
            self._ended_runs.pop(run_id, None)
            return
        names = self._running_names(run_id) or [self.rt_state.info.runs[run_id].name]
        self._stubborn[run_id] = names
        self.rt_state.info.extras.setdefault("ignored_cancellation", []).extend(names)
        self._abandoned.add(task)

        def forget(done: asyncio.Task[Any]) -> None:
            self._abandoned.discard(done)
            self._stubborn.pop(run_id, None)
            self._ended_runs.pop(run_id, None)

        abandon(task, names, why, forget)

    async def call_node(
        self,
        frame: Frame,
        node_type: type[Node],
        work: Work,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Run one node under ``frame`` (its caller): stamp, publish, execute, stamp,
        publish. What ``rt.call`` does inside a node; ``work`` is what
        ``node_type.prepare(args, kwargs)`` returned.

        This is the hot path of every call; it avoids extra tasks and
        coroutine layers (the node's own coroutine is awaited directly).
        """
        name = node_type.name()
        run = frame.run
        run_id = run.run_id
        if run_id in self._fatal:
            # The run already ended (end_on_error). Its cancellation reaches a task
            # only when it next suspends, which a node that never awaits would not
            # do: refuse to start anything new instead.
            _discard(work)
            raise asyncio.CancelledError(f"run {run.name!r} has ended: {name!r} not started")
        # Random 128-bit hex ids: str(uuid4()) costs ~5 us, and two a call add up. The
        # module-level random generator is reseeded in forked children: no shared ids.
        node_id = f"{_getrandbits(128):032x}"
        request_id = f"{_getrandbits(128):032x}"
        state = self.rt_state
        stamper = state.info.stamper
        publisher = self.publisher
        publish = publisher.publish
        sid = self.identifier
        # Whether the session's state is the only subscriber that wants node messages
        # (a live dashboard ignores them): its records are then made without message
        # objects (see RTPublisher.delivers_only_to). Asked once: one that subscribes
        # while this node runs sees its later calls, as it would anyway.
        direct = publisher.delivers_only_to(state, RequestCreation, RequestSuccess)
        try:
            if direct:
                state.record_created(
                    run_id, request_id, frame.node_id, node_id, name, node_type.type(), args,
                    kwargs, node_type, stamper.create_raw(f"{frame.node_name} CREATED {name}"),
                )  # fmt: skip
            else:
                publish(
                    RequestCreation(
                        sid,
                        stamper.create_stamp(f"{frame.node_name} CREATED {name}"),
                        run_id,
                        request_id,
                        frame.node_id,
                        frame.node_name,
                        node_id,
                        name,
                        node_type.type(),
                        args,
                        kwargs,
                        node_type,
                    )
                )
        except BaseException:
            _discard(work)
            raise
        open_requests = self._open_requests.get(run_id)
        if open_requests is not None:
            open_requests[request_id] = (node_id, name, frame.node_id)
        token = frame_var.set(Frame(self, run, node_id, name))
        if self._debug:
            logger.debug("%s CREATED %s", frame.node_name, name)
        start = perf_counter()
        try:
            if type(work) is CoroutineType:  # an async node: awaited right here, in this task
                result = await work
            else:
                result = await self.coordinator.execute(work, name)
            if run_id in self._ended_runs:  # finished after its run ended: not an answer
                raise self._ended_runs[run_id]
        except BaseException as error:
            if isinstance(error, GeneratorExit):  # an abandoned node closed by the GC
                raise
            latency = perf_counter() - start
            publish(
                RequestFailure(
                    sid,
                    stamper.create_stamp(f"Failed executing {name}"),
                    run_id,
                    request_id,
                    node_id,
                    name,
                    error,
                    latency,
                )
            )
            if not isinstance(error, asyncio.CancelledError) and error is not self._ended_runs.get(
                run_id
            ):
                logger.warning(
                    "Node %r failed: %s: %s", name, type(error).__name__, safe_str(error)
                )
                if self.executor_config.end_on_error and run_id not in self._fatal:
                    self._end_run_on_error(run_id, error)
            raise
        else:
            latency = perf_counter() - start
            if direct:
                state.record_finished(
                    run_id, request_id, node_id, "Completed", result, latency,
                    stamper.create_raw(f"Finished executing {name}"),
                )  # fmt: skip
            else:
                publish(
                    RequestSuccess(
                        sid,
                        stamper.create_stamp(f"Finished executing {name}"),
                        run_id,
                        request_id,
                        node_id,
                        name,
                        result,
                        latency,
                    )
                )
            return result
        finally:
            try:
                frame_var.reset(token)
            except ValueError:  # closed from another context (an abandoned node, at GC)
                pass
            if open_requests is not None:
                open_requests.pop(request_id, None)

    def _end_run_on_error(self, run_id: str, error: BaseException) -> None:
        self._fatal[run_id] = error
        self._publish_fatal(run_id, error, f"Run ended by {type(error).__name__}")
        task = self._root_tasks.get(run_id)
        if task is not None:  # also when it is the current task: it stops at its next await
            task.cancel()

    def _publish_fatal(self, run_id: str, error: BaseException, description: str) -> None:
        """Publish that ``error`` ended the run, stamped with ``description``."""
        stamp = self.rt_state.info.stamper.create_stamp(description)
        self._publish(FatalFailure(self.identifier, stamp, run_id, error))

    def _running_names(self, run_id: str) -> list[str]:
        """Names of the innermost nodes still running in a run (the ones a timeout interrupts)."""
        open_requests = self._open_requests.get(run_id, {})
        parents = {parent for (_, _, parent) in open_requests.values()}
        names = [name for (node_id, name, _) in open_requests.values() if node_id not in parents]
        return list(dict.fromkeys(names))

    def loop_elsewhere(self) -> asyncio.AbstractEventLoop | None:
        """The session's loop, if it is running in another thread than the caller's
        (the caller is then a sync node in a worker thread); else ``None``."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return None
        return loop if self.publisher._loop_thread != threading.get_ident() else None

    def send_broadcast(self, message: Any, node_id: str | None) -> None:
        """Publish ``message`` as a :class:`Broadcast` from ``node_id`` (``None``: from
        session-level code), from any thread: stamps are only made on the session's
        loop, so messages stay in stamp order."""
        loop = self.loop_elsewhere()
        if loop is not None:
            loop.call_soon_threadsafe(stamp_broadcast, self, message, node_id)
        else:
            stamp_broadcast(self, message, node_id)

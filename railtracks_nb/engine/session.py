"""``rt.Session`` and the ``@rt.session`` decorator.

A session owns a publisher, a coordinator, an :class:`RTState` and a context
dictionary. Entering it (``with`` or ``async with``) makes it current for the
code inside; every top-level ``rt.call`` there starts a new *run*, bounded by
the session's ``timeout``. Leaving it saves the state (if asked), shuts the
strategies and subscribers down and removes it from the context, whatever the
body did.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from random import getrandbits as _getrandbits
from time import perf_counter
from typing import TYPE_CHECKING, Any

from ..core.exceptions import GlobalTimeOutError, SessionSaveError
from ..core.serialization import safe_str, to_jsonable
from ..execution.state import ExecutionInfo, Run
from ..execution.views import SessionView
from . import logs
from ._sync import run_sync
from .coordinator import Coordinator, RTState, config_summary
from .lifecycle import SessionState, check_transition
from .messages import (
    Broadcast,
    FatalFailure,
    RequestCreation,
    RequestFailure,
    RequestSuccess,
    RunFinished,
    RunStarted,
    SessionStateChanged,
)
from .nodes import Node, Work, resolve_node_type
from .publisher import RTPublisher
from .scope import Frame, current_session, frame_var, session_var

if TYPE_CHECKING:
    from ..core.config import ExecutorConfig

logger = logs.get_logger("Session")

_new_id = uuid.uuid4


class _NotGiven:
    """The default of ``Session(timeout=...)``: ``None`` is a value there (no timeout)."""

    def __repr__(self) -> str:
        return "<from rt.set_config, else 150.0>"


NOT_GIVEN = _NotGiven()

#: How long a cancelled node (at a timeout or an interrupt) gets to stop, in
#: seconds. A node that catches ``CancelledError`` and keeps going is left
#: running after that: the caller gets its error anyway, and a warning names it.
CANCEL_GRACE = 1.0


def _fast_id() -> str:
    """A random 128-bit hex id. ``str(uuid4())`` costs ~5 us; two per call add up.

    The module-level ``random`` generator is reseeded in forked children, so
    processes never share ids.
    """
    return f"{_getrandbits(128):032x}"


def _discard(work: Work) -> None:
    """Close a node coroutine that will never be awaited (no "never awaited" warning)."""
    close = getattr(work, "close", None)
    if close is not None:
        close()


def _copy_context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """Context is passed by value: a run that mutates it changes nobody else's."""
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise TypeError(f"context must be a dict, got {type(context).__name__}")
    try:
        return copy.deepcopy(dict(context))
    except Exception:  # locks, clients, sockets: share the values, copy the dict
        return dict(context)


class Session(SessionView):
    """The execution environment of one or more runs.

    ``Session(context=None, *, timeout=150.0, end_on_error=False,
    logging_setting="REGULAR", log_file=None, broadcast_callback=None,
    name=None, run_identifier=None, prompt_injection=True, save_state=True,
    flow_name=None, flow_id=None, payload_callback=None)``, or
    ``Session(executor_config)``. Options left out (``None``) come from
    ``rt.set_config`` and then from these defaults, except ``timeout=None``,
    which means no timeout (as in Railtracks 1.7). ``payload_callback`` is
    called once with :meth:`payload` each time the session closes, also when
    its block raised.
    """

    def __init__(
        self,
        context: Mapping[str, Any] | ExecutorConfig | None = None,
        *,
        timeout: float | _NotGiven | None = NOT_GIVEN,
        end_on_error: bool | None = None,
        logging_setting: str | None = None,
        log_file: Any = None,
        broadcast_callback: Callable[..., Any] | None = None,
        name: str | None = None,
        run_identifier: str | None = None,
        prompt_injection: bool | None = None,
        save_state: bool | None = None,
        executor_config: ExecutorConfig | None = None,
        subscriber: Callable[..., Any] | None = None,
        flow_name: str | None = None,
        flow_id: str | None = None,
        payload_callback: Callable[[dict[str, Any]], Any] | None = None,
        _flow_name: str | None = None,
        _parent_id: str | None = None,
        _metadata: Mapping[str, Any] | None = None,
    ) -> None:
        # pydantic is imported here, not at `import railtracks_nb`, to keep that fast.
        from ..core.config import ExecutorConfig, resolve_config

        if isinstance(context, ExecutorConfig):
            executor_config, context = context, None
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Session name must be a str, got {type(name).__name__}")
        self.executor_config: ExecutorConfig = resolve_config(
            executor_config,
            timeout=None if isinstance(timeout, _NotGiven) else timeout,
            end_on_error=end_on_error,
            logging_setting=logging_setting,
            log_file=log_file,
            broadcast_callback=broadcast_callback if broadcast_callback is not None else subscriber,
            run_identifier=run_identifier,
            prompt_injection=prompt_injection,
            save_state=save_state,
            payload_callback=payload_callback,
        )
        if timeout is None:  # given as None: no timeout, as in Railtracks 1.7
            self.executor_config.timeout = None
        self._context: dict[str, Any] = _copy_context(context)
        self.name = name
        for label, value in (("flow_name", flow_name), ("flow_id", flow_id)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"Session {label} must be a str, got {type(value).__name__}")
        self.flow_name = flow_name if flow_name is not None else _flow_name
        self.flow_id = flow_id
        self.identifier: str = self.executor_config.run_identifier or str(_new_id())
        self._log_level = logs.LEVELS[self.executor_config.logging_setting]
        self._debug = self._log_level <= logging.DEBUG

        self.coordinator = Coordinator()
        self._info = ExecutionInfo.create_new(self.identifier, name)
        self.rt_state = RTState(self._info)
        self.publisher: RTPublisher = self._new_publisher()

        self._info.extras.update(
            {
                "format": 1,
                "flow_name": self.flow_name,
                "flow_id": flow_id,
                "parent_id": _parent_id,
                "metadata": dict(_metadata or {}),
                "timeout": self.executor_config.timeout,
                "config": config_summary(self.executor_config),
            }
        )
        self.state = SessionState.INIT
        self._info.extras["state"] = self.state.value
        self._in_flight = 0
        self._open_requests: dict[str, dict[str, tuple[str, str, str | None]]] = {}
        self._root_tasks: dict[str, asyncio.Task[Any]] = {}
        self._fatal: dict[str, BaseException] = {}
        self._tokens: list[Any] = []
        self._log_handler: logging.Handler | None = None
        self._logging = False
        self._interrupted = False
        self._loop: asyncio.AbstractEventLoop | None = None
        # Runs that ended (timed out or interrupted) while nodes still ran: what those
        # nodes return later is recorded as this error, never as a result or answer.
        self._ended_runs: dict[str, BaseException] = {}
        self._stubborn: dict[str, list[str]] = {}  # run id -> nodes that ignored cancellation
        self._abandoned: set[asyncio.Task[Any]] = set()
        self._implicit = False  # opened by a request rather than by `with`
        self.saved_path = None
        #: The :class:`SessionSaveError` of the last close, if saving failed.
        self.save_error: SessionSaveError | None = None

    # -- Railtracks-compatible names ---------------------------------------------
    @property
    def _identifier(self) -> str:
        return self.identifier

    @property
    def rc_state(self) -> RTState:
        return self.rt_state

    @property
    def info(self) -> ExecutionInfo:
        """A snapshot of the session's execution state (later runs do not change it)."""
        return self._info.snapshot()

    @property
    def context(self) -> dict[str, Any]:
        """The session's context variables (a copy)."""
        return dict(self._context)

    @property
    def is_open(self) -> bool:
        return self.state not in (SessionState.INIT, SessionState.IDLE)

    @property
    def stubborn_nodes(self) -> list[str]:
        """Nodes that ignored cancellation (at a timeout or an interrupt) and still run."""
        return list(dict.fromkeys(n for names in self._stubborn.values() for n in names))

    @property
    def interrupted(self) -> bool:
        """Whether a cancellation or ``KeyboardInterrupt`` ended a request or the session."""
        return self._interrupted

    @classmethod
    def global_config_precedence(cls, **explicit: Any) -> ExecutorConfig:
        """The configuration ``Session(**explicit)`` would use (Railtracks API)."""
        from ..core.config import resolve_config

        return resolve_config(None, **explicit)

    def _new_publisher(self) -> RTPublisher:
        """A publisher wired to the session's own subscribers (state, broadcast callback)."""
        publisher: RTPublisher = RTPublisher(f"session {self.identifier}")
        publisher.subscribe(self.rt_state.handle, "RTState", inline=True)
        callback = self.executor_config.broadcast_callback
        if callback is not None:
            publisher.subscribe(_broadcast_forwarder(callback), "broadcast_callback")
        return publisher

    # -- lifecycle -----------------------------------------------------------------
    def _set_state(self, new: SessionState) -> None:
        old = self.state
        if old == new:
            return
        self.state = check_transition(old, new)
        self._publish(
            SessionStateChanged(
                self.identifier,
                self._info.stamper.create_lifecycle_stamp(f"Session {old.value} -> {new.value}"),
                old.value,
                new.value,
            )
        )

    def _open(self) -> None:
        if self.is_open:
            return
        if self.publisher.is_closed:  # reopened after a close: subscribers were shut down
            self.publisher = self._new_publisher()
        self._set_state(SessionState.READY)
        self._log_handler = logs.attach(self)
        self._logging = True
        self._info.end_time = None
        logger.debug("Session %s opened", self.name or self.identifier)

    def _close(self, exc: BaseException | None) -> SessionSaveError | None:
        """Everything leaving a session does, except flushing async subscribers.

        Returns the :class:`SessionSaveError` if the state could not be saved
        (the caller raises it once the rest of the exit is done).
        """
        self._implicit = False
        if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
            self._interrupted = True
        if self.state is SessionState.BUSY:  # left while requests were in flight
            self._set_state(SessionState.READY)
        if self.state is SessionState.ERROR:
            self._set_state(SessionState.READY)
        if self.state is SessionState.INIT:
            self._set_state(SessionState.READY)
        self._set_state(SessionState.IDLE)
        self._info.end_time = time.time()
        still_running = self.coordinator.shutdown()
        if still_running:
            logger.warning(
                "Sync node(s) %s still running in worker threads at session exit: "
                "Python cannot stop a thread, so they finish on their own and their "
                "results are dropped.",
                ", ".join(repr(n) for n in still_running),
            )
        if self.stubborn_nodes:
            logger.warning(
                "Node(s) %s ignored cancellation and are still running at session exit; "
                "their results are dropped.",
                ", ".join(repr(n) for n in self.stubborn_nodes),
            )
        save_error = self._save() if self.executor_config.save_state else None
        if self.executor_config.payload_callback is not None:
            self._deliver_payload(self.executor_config.payload_callback)
        if self._logging:
            logs.detach(self, self._log_handler)
            self._log_handler = None
            self._logging = False
        return save_error

    def _save(self) -> SessionSaveError | None:
        """Save the session; on failure, the error to raise (never only a log line)."""
        from ..store.persistence import save_session

        self.save_error = None
        try:
            self.saved_path = save_session(self)
        except Exception as exc:
            label = self.name or self.identifier
            error = SessionSaveError(
                f"Could not save session {label!r}: {type(exc).__name__}: {safe_str(exc)}. "
                "Its state is still in memory: rt.export(session, path) writes it elsewhere."
            )
            error.__cause__ = exc
            self.save_error = error
            logger.error("%s", error)
            return error
        return None

    @staticmethod
    def _raise_save_error(error: SessionSaveError | None, exc: BaseException | None) -> None:
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

    def _deliver_payload(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        try:
            callback(self.payload())
        except Exception:
            logger.exception(
                "payload_callback %r of session %s raised",
                callback,
                self.name or self.identifier,
            )

    def __enter__(self) -> Session:
        self._open()
        self._tokens.append(session_var.set(self))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        save_error = None
        try:
            save_error = self._close(exc)
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                self.publisher.flush_sync()
        finally:
            self.publisher.shutdown()
            self._reset_scope()
        self._raise_save_error(save_error, exc)

    async def __aenter__(self) -> Session:
        return self.__enter__()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        save_error = None
        try:
            save_error = self._close(exc)
            await asyncio.shield(self.publisher.flush())
        finally:
            self.publisher.shutdown()
            self._reset_scope()
        self._raise_save_error(save_error, exc)

    def _reset_scope(self) -> None:
        token = self._tokens.pop() if self._tokens else None
        if token is None:
            return
        try:
            session_var.reset(token)
        except ValueError:  # exited in another context than entered (e.g. across cells)
            if session_var.get() is self:
                session_var.set(None)

    # -- running -------------------------------------------------------------------
    async def run(self, node: Any, *args: Any, **kwargs: Any) -> ExecutionInfo:
        """Run ``node`` as a new top-level request; returns the ``ExecutionInfo`` of
        that run (its nodes, requests and stamps; ``answer`` is its result)."""
        token = session_var.set(self)
        started: list[Run] = []
        try:
            await self._call_top(node, args, kwargs, started)
        finally:
            session_var.reset(token)
        info = self.info
        root = started[0].root_node_id if started else None
        return info.get_info([root]) if root is not None else info

    def run_sync(self, node: Any, *args: Any, **kwargs: Any) -> ExecutionInfo:
        """``run`` from sync code, including from inside a running loop (a notebook cell)."""
        return run_sync(lambda: self.run(node, *args, **kwargs))

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

    async def _call_top(
        self,
        node: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        started: list[Run] | None = None,
    ) -> Any:
        """A top-level request: a new run, in its own task, bounded by the timeout.
        The run is appended to ``started``, if given."""
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
                self._info.stamper.create_lifecycle_stamp(f"Run {name} started"),
                run.run_id,
                name,
            )
        )
        run = self._info.runs[run.run_id]
        if started is not None:
            started.append(run)
        root = Frame(self, run, None, "START")
        task = loop.create_task(self._invoke(root, node_type, work, args, kwargs))
        self._root_tasks[run.run_id] = task
        timeout = self.executor_config.timeout
        failed = True
        outcome: BaseException | None = None
        try:
            try:
                done, _ = await asyncio.wait(
                    {task}, timeout=None if timeout is None or timeout == float("inf") else timeout
                )
            except asyncio.CancelledError:
                self._interrupted = True
                self._ended_runs[run.run_id] = asyncio.CancelledError(
                    f"run {name!r} was interrupted: this result came too late"
                )
                await self._stop(task, run.run_id, "the interrupt")
                raise
            if not done:
                running = self._running_names(run.run_id)
                error = GlobalTimeOutError(timeout, running)
                self._fatal[run.run_id] = error
                self._ended_runs[run.run_id] = error  # whatever finishes now is not an answer
                await self._stop(task, run.run_id, f"the {timeout:g} s timeout")
                self._publish(
                    FatalFailure(
                        self.identifier,
                        self._info.stamper.create_stamp(f"Session timed out after {timeout:g}s"),
                        run.run_id,
                        error,
                    )
                )
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
                    self._info.stamper.create_lifecycle_stamp(f"Run {name} {status.lower()}"),
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
                self._raise_save_error(self._close(outcome), outcome)

    async def _stop(self, task: asyncio.Task[Any], run_id: str, why: str) -> None:
        """Cancel a run's task and give it :data:`CANCEL_GRACE` seconds to unwind.

        A node that swallows ``CancelledError`` is cancelled again (it may only
        have caught the first one); one still running after the grace period is
        left behind, named in a warning and in ``stubborn_nodes``. It is taken
        off the loop's task list so nothing (``asyncio.run`` closing its loop)
        waits for it forever, and what it returns later is dropped.
        """
        if await _cancel_within(task, CANCEL_GRACE):
            self._ended_runs.pop(run_id, None)
            return
        names = self._running_names(run_id) or [self._info.runs[run_id].name]
        self._stubborn[run_id] = names
        self._info.extras.setdefault("ignored_cancellation", []).extend(names)
        self._abandoned.add(task)
        logger.warning(
            "Node(s) %s ignored cancellation at %s and are still running %g s later; "
            "the caller gets its error now, and their results will be dropped.",
            ", ".join(repr(n) for n in names),
            why,
            CANCEL_GRACE,
        )

        def finished(done: asyncio.Task[Any]) -> None:
            self._abandoned.discard(done)
            self._stubborn.pop(run_id, None)
            self._ended_runs.pop(run_id, None)
            if not done.cancelled():
                done.exception()  # retrieved: it has no caller any more

        task.add_done_callback(finished)
        _detach_from_loop(task)

    async def _invoke(
        self,
        frame: Frame,
        node_type: type[Node],
        work: Work,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Run one node under ``frame``: stamp, publish, execute, stamp, publish.

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
        node_id = _fast_id()
        request_id = _fast_id()
        stamper = self._info.stamper
        publish = self.publisher.publish
        sid = self.identifier
        try:
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
        self._publish(
            FatalFailure(
                self.identifier,
                self._info.stamper.create_stamp(f"Run ended by {type(error).__name__}"),
                run_id,
                error,
            )
        )
        task = self._root_tasks.get(run_id)
        if task is not None:  # also when it is the current task: it stops at its next await
            task.cancel()

    def _running_names(self, run_id: str) -> list[str]:
        """Names of the innermost nodes still running in a run (the ones a timeout interrupts)."""
        open_requests = self._open_requests.get(run_id, {})
        parents = {parent for (_, _, parent) in open_requests.values()}
        names = [name for (node_id, name, _) in open_requests.values() if node_id not in parents]
        return list(dict.fromkeys(names))

    def _loop_elsewhere(self) -> asyncio.AbstractEventLoop | None:
        """The session's loop, if it is running in another thread than the caller's
        (the caller is then a sync node in a worker thread); else ``None``."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return None
        return loop if self.publisher._loop_thread != threading.get_ident() else None

    def _broadcast(self, message: Any, node_id: str | None) -> None:
        stamp = self._info.stamper.create_lifecycle_stamp("Broadcast")
        self._publish(Broadcast(self.identifier, stamp, message, node_id))

    # -- export ----------------------------------------------------------------------
    def extras(self) -> dict[str, Any]:
        """What the session adds to the Railtracks format (the ``"railtracks_nb"`` key),
        up to date: lifecycle state and history, status, context, configuration,
        recent errors, flow name, parent and metadata."""
        extras = self._info.extras
        extras["state"] = self.state.value
        extras["context"] = to_jsonable(self._context)
        extras["interrupted"] = self._interrupted
        extras["status"] = "Interrupted" if self._interrupted else self._info.status
        return to_jsonable(extras)

    def to_payload(self) -> dict[str, Any]:
        """The session in the Railtracks saved-state format, with our extras."""
        self.extras()  # brings the live extras up to date before serializing
        return {"flow_name": self.flow_name, "flow_id": self.flow_id, **self._info.to_payload()}

    def payload(self) -> dict[str, Any]:
        """What the saved file holds (the Railtracks 1.7 name of :meth:`to_payload`)."""
        return self.to_payload()

    def __repr__(self) -> str:
        return (
            f"Session(name={self.name!r}, identifier={self.identifier!r}, "
            f"state={self.state.value}, nodes={len(self._info.node_forest)})"
        )


async def _cancel_within(task: asyncio.Task[Any], grace: float) -> bool:
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


def _detach_from_loop(task: asyncio.Task[Any]) -> None:
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


def _broadcast_forwarder(callback: Callable[..., Any]) -> Callable[[Any], Any]:
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


def session(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Wrap an async function in a fresh :class:`Session`; calling it returns ``(result, session)``.

    Use as ``@rt.session`` or ``@rt.session(timeout=30, name="run", ...)`` with
    the options of :class:`Session`.
    """
    if func is None:
        Session(**options)  # validate the options now, not at the first call
        return lambda f: session(f, **options)
    if not inspect.iscoroutinefunction(func):
        what = getattr(func, "__name__", repr(func))
        raise TypeError(
            f"@rt.session works only on async functions; {what!r} is not one. "
            f"Define it with `async def`, or use `with rt.Session(): ...` in sync code."
        )

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> tuple[Any, Session]:
        async with Session(**options) as sess:
            result = await func(*args, **kwargs)
        return result, sess

    return wrapper


__all__ = ["Session", "current_session", "session"]

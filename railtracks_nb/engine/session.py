"""``rt.Session``: its configuration, lifecycle, scope and exported state.

A session owns a publisher, a coordinator, an :class:`RTState` and a context
dictionary. Entering it (``with`` or ``async with``) makes it current for the
code inside; every top-level ``rt.call`` there starts a new *run*, bounded by
the session's ``timeout`` (how runs execute is :mod:`.running`). Leaving it
saves the state (if asked, :mod:`.closing`), shuts the strategies and
subscribers down and removes it from the context, whatever the body did.
``@rt.session`` is :mod:`.session_decorator`; the options it shares with
``rt.Flow`` are :mod:`.session_options`; ``rt.broadcast`` is :mod:`.broadcasting`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from ..core.aliases import Alias
from ..core.exceptions import SessionSaveError
from ..core.extras import SessionExtras
from ..core.serialization import to_jsonable
from ..execution.state import ExecutionInfo, Run
from ..execution.views import SessionView
from . import logs
from ._sync import run_sync
from .broadcasting import forward_broadcasts
from .closing import deliver_payload, raise_save_error, save_on_close
from .coordinator import Coordinator, RTState, config_summary
from .lifecycle import SessionState, check_transition
from .messages import SessionStateChanged
from .publisher import RTPublisher
from .running import RunExecution
from .scope import current_session, session_var
from .session_options import NOT_GIVEN, NotGiven, copy_context

if TYPE_CHECKING:
    from ..core.config import ExecutorConfig

logger = logs.get_logger("Session")

_new_id = uuid.uuid4


class Session(RunExecution, SessionView):
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
        timeout: float | NotGiven | None = NOT_GIVEN,
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
            timeout=None if isinstance(timeout, NotGiven) else timeout,
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
        self._context: dict[str, Any] = copy_context(context)
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
        #: Keeps the session's :class:`ExecutionInfo` up to date from its messages;
        #: ``rt_state.info`` is the one live copy (``info`` hands out snapshots).
        self.rt_state = RTState(ExecutionInfo.create_new(self.identifier, name))
        self.publisher: RTPublisher = self._new_publisher()

        self.rt_state.info.extras.update(
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
        self.rt_state.info.extras["state"] = self.state.value
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
        #: Where the last close saved the session (``None``: not saved).
        self.saved_path: Path | None = None
        #: The :class:`SessionSaveError` of the last close, if saving failed.
        self.save_error: SessionSaveError | None = None

    # -- Railtracks-compatible names ---------------------------------------------
    _identifier = Alias[str]("identifier")
    rc_state = Alias[RTState]("rt_state")

    @property
    def info(self) -> ExecutionInfo:
        """A snapshot of the session's execution state (later runs do not change it)."""
        return self.rt_state.info.snapshot()

    @property
    def context(self) -> dict[str, Any]:
        """The session's context variables (a copy)."""
        return dict(self._context)

    @property
    def live_context(self) -> dict[str, Any]:
        """The session's context variables themselves, which ``rt.context`` reads and
        changes from every node of the session (:attr:`context` is a copy)."""
        return self._context

    @property
    def log_level(self) -> int:
        """The ``logging`` level of the session's ``logging_setting``."""
        return self._log_level

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
        publisher.subscribe(self.rt_state, "RTState", inline=True)
        callback = self.executor_config.broadcast_callback
        if callback is not None:
            publisher.subscribe(forward_broadcasts(callback), "broadcast_callback")
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
                self.rt_state.info.stamper.create_lifecycle_stamp(
                    f"Session {old.value} -> {new.value}"
                ),
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
        self.rt_state.info.end_time = None
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
        self.rt_state.info.end_time = time.time()
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
        save_error = save_on_close(self) if self.executor_config.save_state else None
        if self.executor_config.payload_callback is not None:
            deliver_payload(self, self.executor_config.payload_callback)
        if self._logging:
            logs.detach(self, self._log_handler)
            self._log_handler = None
            self._logging = False
        return save_error

    def __enter__(self) -> Session:
        self._open()
        self._tokens.append(session_var.set(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._leaving(exc):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                self.publisher.flush_sync()

    async def __aenter__(self) -> Session:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._leaving(exc):
            await asyncio.shield(self.publisher.flush())

    @contextmanager
    def _leaving(self, exc: BaseException | None) -> Iterator[None]:
        """Leave the session (``exc``: what its block raised): close it, let the caller
        flush the subscribers in the body, then, whatever happened, shut the publisher
        down and leave the session's scope; last, raise a failed save."""
        save_error = None
        try:
            save_error = self._close(exc)
            yield
        finally:
            self.publisher.shutdown()
            self._reset_scope()
        raise_save_error(save_error, exc)

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
            await self.call_top_level(node, args, kwargs, started)
        finally:
            session_var.reset(token)
        info = self.info
        root = started[0].root_node_id if started else None
        return info.get_info([root]) if root is not None else info

    def run_sync(self, node: Any, *args: Any, **kwargs: Any) -> ExecutionInfo:
        """``run`` from sync code, including from inside a running loop (a notebook cell)."""
        return run_sync(lambda: self.run(node, *args, **kwargs))

    # -- export ----------------------------------------------------------------------
    def extras(self) -> SessionExtras:
        """What the session adds to the Railtracks format (the ``"railtracks_nb"`` key),
        up to date: lifecycle state and history, status, context, configuration,
        recent errors, flow name, parent and metadata."""
        extras = self.rt_state.info.extras
        extras["state"] = self.state.value
        extras["context"] = to_jsonable(self._context)
        extras["interrupted"] = self._interrupted
        extras["status"] = "Interrupted" if self._interrupted else self.rt_state.info.status
        return cast(SessionExtras, to_jsonable(extras))

    def to_payload(self) -> dict[str, Any]:
        """The session in the Railtracks saved-state format, with our extras."""
        self.extras()  # brings the live extras up to date before serializing
        return {
            "flow_name": self.flow_name,
            "flow_id": self.flow_id,
            **self.rt_state.info.to_payload(),
        }

    def payload(self) -> dict[str, Any]:
        """What the saved file holds (the Railtracks 1.7 name of :meth:`to_payload`)."""
        return self.to_payload()

    def __repr__(self) -> str:
        return (
            f"Session(name={self.name!r}, identifier={self.identifier!r}, "
            f"state={self.state.value}, nodes={len(self.rt_state.info.node_forest)})"
        )


__all__ = ["Session", "current_session"]

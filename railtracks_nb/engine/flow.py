"""``rt.Flow``: a named, reusable workflow; each invocation gets its own session."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._sync import run_sync
from .call import call
from .nodes import resolve_node_type
from .session import Session
from .session_options import NOT_GIVEN, NotGiven, copy_context

if TYPE_CHECKING:
    from .cluster import BatchResult
    from .connection import FlowConnection


class Flow:
    """A workflow: an entry-point node plus the session options to run it with.

    ``Flow(name, entry_point, *, context=None, timeout=None, end_on_error=None,
    logging_setting=None, log_file=None, broadcast_callback=None,
    save_state=None, prompt_injection=None, payload_callback=None)``. Options left as ``None`` come
    from ``rt.set_config`` and then from the session defaults; ``timeout=None``
    given explicitly means no timeout (as in Railtracks 1.7). The context is
    copied into every run, so a run that changes its context changes neither
    the flow nor other runs.
    """

    def __init__(
        self,
        name: str,
        entry_point: Any,
        *,
        context: Mapping[str, Any] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        end_on_error: bool | None = None,
        logging_setting: str | None = None,
        log_file: Any = None,
        broadcast_callback: Callable[..., Any] | None = None,
        save_state: bool | None = None,
        prompt_injection: bool | None = None,
        payload_callback: Callable[[dict[str, Any]], Any] | None = None,
        parent_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"Flow name must be a non-empty str, got {name!r}")
        resolve_node_type(entry_point)  # a bad entry point fails here, not at invoke
        self.name = name
        self.entry_point = entry_point
        self._context = copy_context(context)
        #: timeout=None given: no timeout (``options`` shows None, as for "not set")
        self._no_timeout = timeout is None
        self._options: dict[str, Any] = {
            "timeout": None if isinstance(timeout, NotGiven) else timeout,
            "end_on_error": end_on_error,
            "logging_setting": logging_setting,
            "log_file": log_file,
            "broadcast_callback": broadcast_callback,
            "save_state": save_state,
            "prompt_injection": prompt_injection,
            "payload_callback": payload_callback,
        }
        from ..core.config import make_config

        given = {k: v for k, v in self._options.items() if v is not None}
        make_config(**given)  # validate now: a bad option names its field at construction
        self.parent_id = parent_id
        self.metadata = dict(metadata or {})
        #: The session of the latest ``invoke``/``ainvoke`` (for ``rt.show`` and exports).
        self.last_session: Session | None = None

    @property
    def context(self) -> dict[str, Any]:
        """A copy of the flow's context."""
        return copy_context(self._context)

    @property
    def options(self) -> dict[str, Any]:
        """The session options this flow sets (``None``: not set by the flow)."""
        return dict(self._options)

    def _session(self) -> Session:
        return Session(
            self._context,  # Session copies it again: each run gets its own
            name=self.name,
            flow_name=self.name,
            flow_id=self.equality_hash(),
            _parent_id=self.parent_id,
            _metadata=self.metadata,
            # None: not set by the flow (Session(timeout=None) would mean no timeout)
            **{k: v for k, v in self._options.items() if v is not None},
            **({"timeout": None} if self._no_timeout else {}),
        )

    async def ainvoke(self, *args: Any, **kwargs: Any) -> Any:
        """Run the entry point in a new session and return its result."""
        async with self._session() as session:
            self.last_session = session
            return await call(self.entry_point, *args, **kwargs)

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        """``ainvoke`` from sync code (scripts, and notebook cells on the kernel's loop)."""
        return run_sync(lambda: self.ainvoke(*args, **kwargs))

    async def amap(
        self,
        *iterables: Iterable[Any],
        client: Any = None,
        return_exceptions: bool = True,
        retry_lost: bool = True,
        save_state: bool | None = None,
        display: Any = None,
        live_interval: float = 0.25,
        cluster_options: Mapping[str, Any] | None = None,
    ) -> BatchResult:
        """Run one session of this flow per input on a Dask cluster; results in input order.

        With several iterables they are zipped, as in ``rt.call_batch``:
        ``flow.amap(xs, ys)`` runs ``entry_point(x, y)`` for each pair. Runs on
        ``client`` (a ``distributed.Client``) or, without one, on a
        ``LocalCluster`` of worker processes started now and closed after
        (``cluster_options`` go to ``LocalCluster``). Needs the ``dask`` extra.

        - ``return_exceptions=True``: a failed input's exception takes its place
          in the results; ``False``: the first failure (by input order) is raised
          once every session has ended and been saved.
        - Each session is saved into this notebook's store (unless
          ``save_state=False``, or the flow's or ``rt.set_config``'s says so),
          named ``<flow>-<batch>-<index>``, with ``batch_id``, ``input_index`` and
          ``worker`` in its metadata.
        - A worker that dies mid-session: that session is saved ``Interrupted``
          and Dask runs the input again on another worker (``retry_lost=False``:
          the input fails with ``WorkerLostError`` instead).
        - ``display``: the live batch dashboard in a notebook (default), a log
          line under ``RT.Batch`` elsewhere, ``False`` for none, or an object
          with ``refresh(state, changed)``.
        - Cancelling (interrupting the cell) cancels every task; each session
          that had started is closed and saved as ``Interrupted``.

        The flow, its nodes, context and options must be picklable by
        cloudpickle: a part that is not raises ``ShippingError`` before anything
        runs. Options set with ``rt.set_config`` travel with the flow.
        """
        from .cluster import amap_flow

        return await amap_flow(
            self,
            *iterables,
            client=client,
            return_exceptions=return_exceptions,
            retry_lost=retry_lost,
            save_state=save_state,
            display=display,
            live_interval=live_interval,
            cluster_options=dict(cluster_options or {}),
        )

    def map(self, *iterables: Iterable[Any], **options: Any) -> BatchResult:
        """``amap`` from sync code (scripts, and notebook cells on the kernel's loop)."""
        return run_sync(lambda: self.amap(*iterables, **options))

    def connect(self) -> FlowConnection:
        """A :class:`~railtracks_nb.engine.connection.FlowConnection` to invoke this flow through
        and read its latest session's context afterwards."""
        from .connection import FlowConnection

        return FlowConnection(self)

    def equality_hash(self) -> str:
        """A stable hash of the flow's identity: its name, and nothing else (as in
        Railtracks 1.7, so the same name gives the same ``flow_id`` there and here)."""
        content = json.dumps({"name": self.name}, sort_keys=True)
        return hashlib.sha256(content.encode()).hexdigest()

    def update_context(self, context: Mapping[str, Any]) -> Flow:
        """A new Flow with ``context`` merged over this flow's context."""
        if not isinstance(context, Mapping):
            raise TypeError(f"update_context() needs a dict, got {type(context).__name__}")
        return self._replace(context={**self._context, **context})

    def _replace(self, **changes: Any) -> Flow:
        values: dict[str, Any] = {
            "context": self._context,
            **self._options,
            # None stays "no timeout"; not set stays not set
            "timeout": None if self._no_timeout else self._options["timeout"] or NOT_GIVEN,
            "parent_id": self.parent_id,
            "metadata": self.metadata,
        }
        values.update(changes)
        name = values.pop("name", self.name)
        entry_point = values.pop("entry_point", self.entry_point)
        return Flow(name, entry_point, **values)

    def to_payload(self) -> dict[str, Any]:
        """The saved-state payload of the latest run (``ValueError`` if never run)."""
        if self.last_session is None:
            raise ValueError(f"Flow {self.name!r} has not been invoked yet: nothing to show")
        return self.last_session.to_payload()

    def __repr__(self) -> str:
        entry = resolve_node_type(self.entry_point).name()
        return f"Flow(name={self.name!r}, entry_point={entry}, context={self._context!r})"

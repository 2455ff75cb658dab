"""``flow.connect()``: a :class:`FlowConnection`, through which a flow is invoked and
whose last session (and its context) stays reachable afterwards (Railtracks 1.7)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._sync import run_sync
from .call import call

if TYPE_CHECKING:
    from .flow import Flow
    from .session import Session


class FlowConnection:
    """Invokes a flow exactly as ``flow.invoke``/``ainvoke`` do and keeps the session
    of the latest invocation: ``connection.context``, ``.session``, ``.session_id``.

    One invocation at a time: use another ``flow.connect()`` for concurrent ones.
    """

    def __init__(self, flow: Flow) -> None:
        self._flow = flow
        self._session: Session | None = None
        self._in_flight = False

    async def ainvoke(self, *args: Any, **kwargs: Any) -> Any:
        """Run the flow in a new session; its context stays reachable here afterwards."""
        if self._in_flight:
            raise RuntimeError(
                "This connection is already running an invocation; a connection handles "
                "one at a time: use a separate flow.connect()."
            )
        flow = self._flow
        self._in_flight = True
        try:
            async with flow._session() as session:
                # bound before the entry point runs: a failed run's context stays readable
                self._session = session
                flow.last_session = session
                return await call(flow.entry_point, *args, **kwargs)
        finally:
            self._in_flight = False

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        """``ainvoke`` from sync code (scripts, and notebook cells on the kernel's loop)."""
        return run_sync(lambda: self.ainvoke(*args, **kwargs))

    @property
    def connected(self) -> bool:
        """Whether an invocation has begun on this connection."""
        return self._session is not None

    def _require_session(self) -> Session:
        if self._session is None:
            raise RuntimeError(
                "Nothing has run on this connection yet, so it has no context to read: "
                "invoke it first (conn = flow.connect(); conn.invoke(...); conn.context)."
            )
        return self._session

    @property
    def context(self) -> Mapping[str, Any]:
        """The context of the latest invocation: a live, read-only view."""
        return MappingProxyType(self._require_session()._context)

    @property
    def session_id(self) -> str:
        """The identifier of the latest invocation's session."""
        return self._require_session().identifier

    @property
    def session(self) -> Session:
        """The latest invocation's session (already closed)."""
        return self._require_session()

    def message_histories(self) -> list[Any]:
        """The model conversations of the latest invocation: always empty here, since
        railtracks_nb runs no LLM nodes (they are outside its scope)."""
        self._require_session()
        return []

    def __repr__(self) -> str:
        if self._session is None:
            return f"FlowConnection(flow={self._flow.name!r}, not yet invoked)"
        return f"FlowConnection(flow={self._flow.name!r}, session_id={self.session_id!r})"


__all__ = ["FlowConnection"]

"""The typed messages a session publishes. Every message carries its :class:`Stamp`.

They are slotted dataclasses rather than pydantic models because one is made
for every node start and finish: validation would cost more than the node.
They are not ``frozen`` for the same reason (a frozen dataclass pays an
``object.__setattr__`` per field); treat them as read-only all the same.
``to_json()`` gives a JSON-compatible dict for widgets and logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..core.serialization import error_to_json, to_jsonable
from ..execution.stamps import Stamp


@dataclass(slots=True)
class RTMessage:
    """Base of every message: which session, and when (the stamp)."""

    session_id: str
    stamp: Stamp

    @property
    def kind(self) -> str:
        return type(self).__name__

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            if f.metadata.get("internal"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, Stamp):
                out[f.name] = value.to_json()
            elif isinstance(value, BaseException):
                out[f.name] = error_to_json(value)
            else:
                out[f.name] = to_jsonable(value)
        return out


@dataclass(slots=True)
class RequestCreation(RTMessage):
    """A node was called: a new request from ``parent_node_id`` to ``node_id``."""

    run_id: str
    request_id: str
    parent_node_id: str | None
    parent_node_name: str
    node_id: str
    node_name: str
    node_type: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    #: The node's class (for ``NodeForest.get_node_type``); left out of ``to_json``.
    node_class: type | None = field(default=None, repr=False, metadata={"internal": True})


@dataclass(slots=True)
class RequestEnded(RTMessage):
    """A request's node finished: the base of :class:`RequestSuccess` and
    :class:`RequestFailure`, which add its outcome and ``latency`` (seconds)."""

    run_id: str
    request_id: str
    node_id: str
    node_name: str


@dataclass(slots=True)
class RequestSuccess(RequestEnded):
    """A node returned ``result``."""

    result: Any
    latency: float


@dataclass(slots=True)
class RequestFailure(RequestEnded):
    """A node raised ``error`` (or was cancelled: ``error`` is then a ``CancelledError``)."""

    error: BaseException
    latency: float


@dataclass(slots=True)
class FatalFailure(RTMessage):
    """A run was ended by ``error``: a node failure with ``end_on_error=True``, or a timeout."""

    run_id: str
    error: BaseException


@dataclass(slots=True)
class Broadcast(RTMessage):
    """A message sent with ``rt.broadcast`` from node ``node_id`` (``None``: outside a node)."""

    message: Any
    node_id: str | None


@dataclass(slots=True)
class SessionStateChanged(RTMessage):
    """The session's lifecycle state went from ``old`` to ``new`` (values of ``SessionState``)."""

    old: str
    new: str


@dataclass(slots=True)
class RunStarted(RTMessage):
    """A top-level request started run ``run_id`` with entry node ``name``."""

    run_id: str
    name: str


@dataclass(slots=True)
class RunFinished(RTMessage):
    """Run ``run_id`` ended with ``status`` (``Completed`` or ``Failed``)."""

    run_id: str
    status: str

"""Snapshots of nodes and requests (:class:`LinkedNode`, :class:`RequestTemplate`) and
the plain-tuple records the forests keep them as.

Every change to a node or a request is a new immutable snapshot whose ``parent``
is the snapshot it replaces, so the full temporal history of a session can be
replayed stamp by stamp.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Final, Literal, NamedTuple

from .stamps import Stamp, _raw_stamp

Status = Literal["Open", "Completed", "Failed"]
NodeType = Literal["Tool", "Agent", "Other"]

# A forest keeps each item as a *record*, a plain tuple (see the note above
# StampManager) whose fields are those of its snapshot class, in order: a node's
# are NODE_FIELDS, a request's REQUEST_FIELDS. ``stamp`` is a plain stamp tuple and
# ``parent`` the previous record of the same item (None for the first). Code that
# reads records unpacks them (as fast as indexing, and named) or uses the positions
# below; nothing else relies on the layout.
NODE_FIELDS = (
    "identifier", "name", "node_type", "stamp", "run_id", "extra", "latency", "parent",
)  # fmt: skip
REQUEST_FIELDS = (
    "identifier", "source_id", "sink_id", "input_args", "input_kwargs", "output", "status",
    "stamp", "run_id", "parent",
)  # fmt: skip
#: Positions of the fields read one at a time.
RECORD_ID: Final = 0
REQUEST_SOURCE: Final = 1
REQUEST_SINK: Final = 2
REQUEST_OUTPUT: Final = 5
REQUEST_STATUS: Final = 6
REQUEST_STAMP: Final = 7


class LinkedNode(NamedTuple):
    """A snapshot of a node. ``parent`` is the previous snapshot of the same node.

    ``latency`` (seconds) is set on the snapshot taken when the node finished;
    ``extra`` holds any other debug details. ``internals`` combines them in the
    saved-state form (built on demand: most snapshots have nothing to store).

    Snapshots are immutable named tuples, built on access from the forest's
    plain tuples (see the note above :class:`StampManager`).
    """

    identifier: str
    name: str
    node_type: str
    stamp: Stamp
    run_id: str
    extra: dict[str, Any] | None = None
    latency: float | None = None
    parent: LinkedNode | None = None

    @property
    def internals(self) -> dict[str, Any]:
        """``details.internals`` of the saved-state format (``{}`` when empty)."""
        out = dict(self.extra) if self.extra else {}
        if self.latency is not None:
            out["latency"] = {"total_time": self.latency}
        return out

    @property
    def node(self) -> RecordedNode:
        """The node as recorded: its ``uuid``, ``name()`` and ``type()`` (Railtracks
        1.7's ``LinkedNode.node`` is a copy of the node object, which is not kept
        here; ``NodeForest.get_node_type(identifier)`` gives its class)."""
        return RecordedNode(self.identifier, self.name, self.node_type)

    def history(self) -> list[LinkedNode]:
        """Every snapshot of this node, oldest first."""
        return _oldest_first(self)


def split_internals(internals: Any) -> tuple[dict[str, Any] | None, float | None]:
    """A saved node snapshot's ``details.internals`` as a snapshot holds it:
    ``(extra, latency)``.

    Internals that are only a latency (``{"latency": {"total_time": t}}``, what a
    finished node of the engine's, or Railtracks' own tools', saves) are that
    latency, as the engine records it; empty internals are nothing. Anything more
    stays ``extra`` as it is (latency included), so it is saved again as it was read.
    """
    if not isinstance(internals, dict) or not internals:
        return None, None
    if len(internals) == 1:
        latency = internals.get("latency")
        if isinstance(latency, dict) and len(latency) == 1:
            total = latency.get("total_time")
            if (type(total) is float or type(total) is int) and total - total == 0:
                return None, total  # finite (NaN and infinities stay as they were read)
    return dict(internals), None


def _oldest_first(snapshot: Any) -> list[Any]:
    """``snapshot`` and every earlier one (its ``parent`` chain), oldest first; walked
    iteratively, since a long-lived item's chain can be long."""
    out = []
    while snapshot is not None:
        out.append(snapshot)
        snapshot = snapshot.parent
    out.reverse()
    return out


class RecordedNode(NamedTuple):
    """What ``LinkedNode.node`` gives: the node's id and the two class methods of a
    Railtracks node that describe it."""

    uuid: str
    node_name: str
    node_kind: str

    def name(self) -> str:
        return self.node_name

    def type(self) -> str:
        return self.node_kind


class RequestTemplate(NamedTuple):
    """A snapshot of a request: the edge from a caller (``source``) to a callee (``sink``).

    ``source_id`` is ``None`` for the top-level request of a run. ``output`` is
    the callee's result, or the exception it raised when ``status`` is ``"Failed"``.
    An immutable named tuple, like :class:`LinkedNode`.
    """

    identifier: str
    source_id: str | None
    sink_id: str
    input_args: tuple[Any, ...]
    input_kwargs: dict[str, Any]
    output: Any
    status: Status
    stamp: Stamp
    run_id: str
    parent: RequestTemplate | None = None

    def history(self) -> list[RequestTemplate]:
        """Every snapshot of this request, oldest first."""
        return _oldest_first(self)

    # -- Railtracks-compatible names ---------------------------------------------
    @property
    def input(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """``(args, kwargs)`` of the call."""
        return self.input_args, self.input_kwargs

    @property
    def closed(self) -> bool:
        """Whether the request has finished (completed or failed)."""
        return self.status != "Open"

    @property
    def is_insertion(self) -> bool:
        """Whether this is a run's top-level request (no caller).

        Railtracks 1.7 returns the opposite, against its own docstring.
        """
        return self.source_id is None

    def get_all_parents(self) -> list[RequestTemplate]:
        """This snapshot and every earlier one, newest first."""
        return self.history()[::-1]

    @property
    def get_terminal_parent(self) -> RequestTemplate:
        """The first snapshot of this request (a property, as in Railtracks)."""
        snap = self
        while snap.parent is not None:
            snap = snap.parent
        return snap

    @property
    def duration_detail(self) -> float:
        """Seconds between the request's first snapshot and this one."""
        return self.stamp.time - self.get_terminal_parent.stamp.time

    # Railtracks 1.7's helpers over any collection of requests (e.g. ``heap().values()``).
    @classmethod
    def generate_id(cls) -> str:
        """A new random request id."""
        return str(uuid.uuid4())

    @classmethod
    def downstream(
        cls, requests: Iterable[RequestTemplate], source_id: str | None
    ) -> list[RequestTemplate]:
        """The requests made by node ``source_id`` (``None``: the top-level ones)."""
        return [r for r in requests if r.source_id == source_id]

    @classmethod
    def upstream(
        cls, requests: Iterable[RequestTemplate], sink_id: str | None
    ) -> list[RequestTemplate]:
        """The requests that created node ``sink_id`` (one, in a consistent state; none
        for ``None``)."""
        return [r for r in requests if r.sink_id == sink_id]

    @classmethod
    def all_downstream(
        cls, requests: Iterable[RequestTemplate], source_id: str | None
    ) -> list[RequestTemplate]:
        """Every request below node ``source_id``: its own, then theirs, level by level
        within each branch (Railtracks' order)."""
        requests = list(requests)
        direct = cls.downstream(requests, source_id)
        return direct + [r for d in direct for r in cls.all_downstream(requests, d.sink_id)]

    @classmethod
    def open_tails(
        cls, requests: Iterable[RequestTemplate], source_id: str | None
    ) -> list[RequestTemplate]:
        """The open requests below ``source_id`` with no open request beneath them."""
        requests = list(requests)
        open_below = [r for r in cls.downstream(requests, source_id) if not r.closed]
        if not open_below:
            return [r for r in cls.upstream(requests, source_id) if not r.closed]
        return [t for r in open_below for t in cls.open_tails(requests, r.sink_id)]

    @classmethod
    def children_complete(cls, requests: Iterable[RequestTemplate], source_node_id: str) -> bool:
        """Whether every request node ``source_node_id`` made has finished."""
        return all(r.closed for r in cls.downstream(requests, source_node_id))


def _node_from_raw(raw: tuple | None) -> LinkedNode | None:
    if raw is None:
        return None
    i, name, kind, stamp, run_id, extra, latency, parent = raw
    return LinkedNode(
        i, name, kind, Stamp._make(stamp), run_id, extra, latency, _node_from_raw(parent)
    )


def _node_to_raw(node: LinkedNode | None) -> tuple | None:
    if node is None:
        return None
    return (
        node.identifier, node.name, node.node_type, _raw_stamp(node.stamp), node.run_id,
        node.extra, node.latency, _node_to_raw(node.parent),
    )  # fmt: skip


def _request_from_raw(raw: tuple | None) -> RequestTemplate | None:
    if raw is None:
        return None
    i, source, sink, args, kwargs, output, status, stamp, run_id, parent = raw
    return RequestTemplate(
        i, source, sink, args, kwargs or {}, output, status, Stamp._make(stamp), run_id,
        _request_from_raw(parent),
    )  # fmt: skip


def _request_to_raw(request: RequestTemplate | None) -> tuple | None:
    if request is None:
        return None
    return (
        request.identifier, request.source_id, request.sink_id, request.input_args,
        request.input_kwargs or None, request.output, request.status, _raw_stamp(request.stamp),
        request.run_id, _request_to_raw(request.parent),
    )  # fmt: skip

"""The node and request forests: every snapshot of every node and request.

The forests store plain tuple records (:mod:`.snapshots`) and hand out
:class:`~.snapshots.LinkedNode` and :class:`~.snapshots.RequestTemplate`
snapshots when read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar, cast

from .snapshots import (
    RECORD_ID,
    REQUEST_OUTPUT,
    REQUEST_SINK,
    REQUEST_SOURCE,
    REQUEST_STAMP,
    REQUEST_STATUS,
    LinkedNode,
    RequestTemplate,
    Status,
    _node_from_raw,
    _node_to_raw,
    _request_from_raw,
    _request_to_raw,
)
from .stamps import STAMP_STEP, RawStamp, _raw_stamp

T = TypeVar("T", LinkedNode, RequestTemplate)
F = TypeVar("F", bound="_Forest[Any]")


class _Forest(Generic[T]):
    """Latest snapshot per identifier; older ones hang off ``.parent``.

    Stored as plain tuples; reading returns snapshot objects.
    """

    # Snapshot <-> record, set by each subclass.
    _from_raw: Callable[[tuple | None], Any]
    _to_raw: Callable[[Any], tuple | None]
    _stamp_at: int

    def __init__(self, heap: dict[str, T] | None = None) -> None:
        self._raw: dict[str, tuple] = {}
        for item in (heap or {}).values():
            self.restore(item)

    def update(self, item: T) -> None:
        """Add ``item`` as the newest snapshot of its identifier (its ``parent`` is
        set to the snapshot it replaces)."""
        record: tuple[Any, ...] = cast(tuple, self._to_raw(item))  # only None for no item
        self._put_raw((*record[:-1], self._raw.get(item.identifier)))

    def restore(self, item: T) -> None:
        """Put back a snapshot that already carries its history (loading a saved file)."""
        self._put_raw(cast(tuple, self._to_raw(item)))  # only None for no item

    def restore_record(self, raw: tuple) -> None:
        """Put back a record (see :attr:`records`) that already carries its history:
        :meth:`restore` without building the snapshot objects first."""
        self._put_raw(raw)

    def _put_raw(self, raw: tuple) -> None:
        self._raw[raw[RECORD_ID]] = raw

    @property
    def records(self) -> Mapping[str, tuple]:
        """The latest record of every item by identifier (not a copy: do not change it).

        For encoders that turn thousands of items into JSON or rows without building
        a snapshot object for each; the layout is ``NODE_FIELDS`` or ``REQUEST_FIELDS``.
        """
        return self._raw

    def record(self, identifier: str) -> tuple:
        """The latest record of ``identifier`` (``KeyError`` if unknown); see :attr:`records`."""
        return self._raw[identifier]

    def __getitem__(self, identifier: str) -> T:
        return self._from_raw(self._raw[identifier])

    def get(self, identifier: str, default: T | None = None) -> T | None:
        raw = self._raw.get(identifier)
        return default if raw is None else self._from_raw(raw)

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def values(self) -> list[T]:
        return [self._from_raw(raw) for raw in self._raw.values()]

    def heap(self) -> dict[str, T]:
        """The identifier → latest snapshot mapping (a new dict)."""
        return {i: self._from_raw(raw) for i, raw in self._raw.items()}

    def full_data(self, at_step: int | None = None) -> list[T]:
        """Every snapshot of every item (only those up to ``at_step``, if given)."""
        out = [snap for item in self.values() for snap in item.history()]
        return out if at_step is None else [x for x in out if x.stamp.step <= at_step]

    def time_machine(self, step: int | None, item_list: Iterable[str] | None = None) -> None:
        """Turn the items (all of them, or those of ``item_list``) back to their state
        at ``step`` (inclusive), as Railtracks 1.7 does; an item that did not exist
        yet is removed. ``None``: no change.

        This changes the forest itself: on a running session's state, use it on a
        copy (``info.snapshot()``), never on the live forests the engine updates.
        """
        if step is None:
            return
        at = self._stamp_at
        for identifier in list(self._raw) if item_list is None else list(item_list):
            raw = self._raw[identifier]
            while raw is not None and raw[at][0] > step:
                raw = raw[-1]
            if raw is None:
                del self._raw[identifier]
            else:
                self._raw[identifier] = raw
        self._reindex()

    def _reindex(self) -> None:
        """Rebuild any index kept beside the snapshots (after items were removed)."""

    def copy(self: F) -> F:
        """A copy that later updates to this forest do not change."""
        twin = type(self).__new__(type(self))
        twin._raw = dict(self._raw)
        return twin


class NodeForest(_Forest[LinkedNode]):
    """Every node of a session with its temporal history."""

    _from_raw = staticmethod(_node_from_raw)
    _to_raw = staticmethod(_node_to_raw)
    _stamp_at = 3  # where a raw node snapshot holds its stamp

    def __init__(self, heap: dict[str, LinkedNode] | None = None) -> None:
        # The node classes, for get_node_type: one entry per node name, and one per
        # node only when two classes of a session share a name (kept out of the
        # snapshot tuples, which must hold plain values; see the note above).
        self._class_by_name: dict[str, type] = {}
        self._class_by_id: dict[str, type] = {}
        super().__init__(heap)

    def add_created(
        self,
        identifier: str,
        name: str,
        node_type: str,
        stamp: RawStamp,
        run_id: str,
        node_class: type | None = None,
    ) -> None:
        """Record a node's first snapshot (the engine's fast path: no object built)."""
        self._raw[identifier] = (
            identifier, name, node_type, _raw_stamp(stamp), run_id, None, None,
            self._raw.get(identifier),
        )  # fmt: skip
        if node_class is not None and self._class_by_name.get(name) is not node_class:
            if name in self._class_by_name:
                self._class_by_id[identifier] = node_class
            else:
                self._class_by_name[name] = node_class

    @property
    def id_type_mapping(self) -> dict[str, type]:
        """Node id -> node class, for the nodes whose class is known (a new dict)."""
        out = {}
        for identifier in self._raw:
            cls = self.get_node_type(identifier)
            if cls is not None:
                out[identifier] = cls
        return out

    def get_node_type(self, identifier: str) -> type | None:
        """The class of node ``identifier``, as in Railtracks 1.7; ``None`` for an
        unknown identifier or a session loaded from a file (classes are not saved)."""
        cls = self._class_by_id.get(identifier)
        if cls is not None:
            return cls
        raw = self._raw.get(identifier)
        return None if raw is None else self._class_by_name.get(raw[1])

    def copy(self) -> NodeForest:
        twin = super().copy()
        assert isinstance(twin, NodeForest)
        twin._class_by_name = dict(self._class_by_name)
        twin._class_by_id = dict(self._class_by_id)
        return twin

    def add_finished(self, identifier: str, stamp: RawStamp, latency: float) -> None:
        """Record that a node finished: a new snapshot with its latency."""
        prev = self._raw[identifier]
        _, name, node_type, _, run_id, _, _, _ = prev
        self._raw[identifier] = (
            identifier, name, node_type, _raw_stamp(stamp), run_id, None, latency, prev,
        )  # fmt: skip


class RequestForest(_Forest[RequestTemplate]):
    """Every request of a session, indexed by caller so subtrees are cheap to walk."""

    _from_raw = staticmethod(_request_from_raw)
    _to_raw = staticmethod(_request_to_raw)
    _stamp_at = 7  # where a raw request snapshot holds its stamp

    def __init__(self, heap: dict[str, RequestTemplate] | None = None) -> None:
        self._children: dict[str | None, list[str]] = {}
        self._by_sink: dict[str, str] = {}
        super().__init__(heap)

    def _reindex(self) -> None:
        self._children, self._by_sink = {}, {}
        for raw in self._raw.values():
            self._children.setdefault(raw[1], []).append(raw[0])
            self._by_sink[raw[2]] = raw[0]

    def _put_raw(self, raw: tuple) -> None:
        identifier = raw[RECORD_ID]
        if identifier not in self._raw:
            self._children.setdefault(raw[REQUEST_SOURCE], []).append(identifier)
            self._by_sink[raw[REQUEST_SINK]] = identifier
        self._raw[identifier] = raw

    def add_created(
        self,
        identifier: str,
        source_id: str | None,
        sink_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        stamp: RawStamp,
        run_id: str,
    ) -> None:
        """Record a new (``Open``) request (the engine's fast path: no object built)."""
        # An empty kwargs dict is stored as None: any dict, even an empty untracked
        # one, stops the collector from untracking the tuple that holds it.
        self._put_raw(
            (identifier, source_id, sink_id, args, kwargs or None, None, "Open",
             _raw_stamp(stamp), run_id, self._raw.get(identifier))
        )  # fmt: skip

    def add_finished(
        self, identifier: str, output: Any, status: Status, stamp: RawStamp
    ) -> None:
        """Record a request's end: a new snapshot with its output (or error) and status."""
        prev = self._raw[identifier]
        _, source_id, sink_id, args, kwargs, _, _, _, run_id, _ = prev
        self._raw[identifier] = (
            identifier, source_id, sink_id, args, kwargs, output, status, _raw_stamp(stamp),
            run_id, prev,
        )  # fmt: skip

    def children(self, node_id: str | None) -> list[RequestTemplate]:
        """Requests made by ``node_id`` (``None``: the top-level requests), in call order."""
        return [self[r] for r in self._children.get(node_id, ())]

    def child_node_ids(self, node_id: str | None) -> list[str]:
        """The ids of the nodes ``node_id`` called, in call order (no snapshot built)."""
        return [self._raw[r][REQUEST_SINK] for r in self._children.get(node_id, ())]

    def request_id_of(self, node_id: str) -> str | None:
        """The id of the request that created ``node_id`` (``None``: not a node of this forest)."""
        return self._by_sink.get(node_id)

    def by_sink(self, node_id: str) -> RequestTemplate | None:
        """The request that created ``node_id``."""
        rid = self._by_sink.get(node_id)
        return self[rid] if rid is not None else None

    def failures(self) -> list[tuple[int, str, BaseException]]:
        """``(step, request id, exception)`` of every request that failed with an
        exception, from the raw records (no snapshot built)."""
        return [
            (raw[REQUEST_STAMP][STAMP_STEP], raw[RECORD_ID], raw[REQUEST_OUTPUT])
            for raw in self._raw.values()
            if raw[REQUEST_STATUS] == "Failed" and isinstance(raw[REQUEST_OUTPUT], BaseException)
        ]

    def status_of(self, node_id: str) -> Status | None:
        """The status of the request that created ``node_id`` (no snapshot built)."""
        rid = self._by_sink.get(node_id)
        return self._raw[rid][REQUEST_STATUS] if rid is not None else None

    @property
    def insertion_requests(self) -> list[RequestTemplate]:
        return self.children(None)

    @property
    def insertion_request(self) -> list[RequestTemplate]:
        """The top-level requests, in the order they were made (the Railtracks name)."""
        return self.children(None)

    def get_request_from_child_id(self, child_id: str) -> RequestTemplate:
        """The request that created node ``child_id`` (``KeyError`` if there is none)."""
        request = self.by_sink(child_id)
        if request is None:
            raise KeyError(f"No request created node {child_id!r}")
        return request

    def open_tails(self) -> list[RequestTemplate]:
        """The open requests with no open request beneath them (Railtracks 1.7's name):
        the innermost calls still running."""
        return [
            r
            for r in self.values()
            if r.status == "Open" and all(c.closed for c in self.children(r.sink_id))
        ]

    def children_requests_complete(self, parent_node_id: str) -> str | None:
        """The id of the request that created ``parent_node_id`` if every request that
        node made has finished, else ``None`` (as in Railtracks 1.7)."""
        if not all(c.closed for c in self.children(parent_node_id)):
            return None
        return self.get_request_from_child_id(parent_node_id).identifier

    @property
    def answer(self) -> Any:
        """The output of the top-level request; with several, the list of their outputs
        (``None`` for one that did not complete), as in Railtracks."""
        outputs = [r.output if r.status == "Completed" else None for r in self.children(None)]
        if not outputs:
            return None
        return outputs[0] if len(outputs) == 1 else outputs

    def copy(self) -> RequestForest:
        twin = super().copy()
        twin._children = {k: list(v) for k, v in self._children.items()}
        twin._by_sink = dict(self._by_sink)
        return twin



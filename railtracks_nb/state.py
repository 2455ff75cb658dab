"""Execution state: stamps, the node and request forests, runs and ``ExecutionInfo``.

Every change to a node or a request is a new immutable snapshot whose
``parent`` is the snapshot it replaces, so the full temporal history of a
session can be replayed stamp by stamp. :class:`ExecutionInfo` bundles the
forests of one session and serializes them in the Railtracks saved-state
format (``shared/reference/railtracks_state_schema.json``).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, TypeVar

from .serialization import error_to_json, to_jsonable

if TYPE_CHECKING:
    import networkx

Status = Literal["Open", "Completed", "Failed"]
NodeType = Literal["Tool", "Agent", "Other"]

#: The key under which our own additions live in a payload. Railtracks readers ignore it.
EXTRAS_KEY = "railtracks_nb"


class Stamp(NamedTuple):
    """One step of a session: its order, its wall-clock time and what happened.

    A named tuple, not a dataclass: two are made per node call and kept for the
    session's life, and the garbage collector stops tracking tuples of plain
    values, so a 100,000-node session does not slow every collection down.
    """

    step: int
    time: float
    identifier: str

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "time": self.time, "identifier": self.identifier}


class StampManager:
    """Hands out stamps with strictly increasing steps and remembers them all."""

    def __init__(self, start: int = 0) -> None:
        self._steps = itertools.count(start)
        self._stamps: list[Stamp] = []

    def create_stamp(self, message: str) -> Stamp:
        stamp = Stamp(next(self._steps), time.time(), message)
        self._stamps.append(stamp)
        return stamp

    def stamp_creator(self):
        """A function ``message -> Stamp`` bound to this manager (the Railtracks API)."""
        return self.create_stamp

    def _adopt(self, stamp: Stamp) -> None:
        """Record a stamp made elsewhere (used when rebuilding a saved session)."""
        self._stamps.append(stamp)

    @property
    def all_stamps(self) -> list[Stamp]:
        return sorted(self._stamps, key=lambda s: s.step)

    def __len__(self) -> int:
        return len(self._stamps)


@dataclass(slots=True)
class LinkedNode:
    """A snapshot of a node. ``parent`` is the previous snapshot of the same node.

    ``latency`` (seconds) is set on the snapshot taken when the node finished;
    ``extra`` holds any other debug details. ``internals`` combines them in the
    saved-state form (built on demand: most snapshots have nothing to store).
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

    def history(self) -> list[LinkedNode]:
        """Every snapshot of this node, oldest first."""
        out: list[LinkedNode] = []
        snap: LinkedNode | None = self
        while snap is not None:
            out.append(snap)
            snap = snap.parent
        return out[::-1]


@dataclass(slots=True)
class RequestTemplate:
    """A snapshot of a request: the edge from a caller (``source``) to a callee (``sink``).

    ``source_id`` is ``None`` for the top-level request of a run. ``output`` is
    the callee's result, or the exception it raised when ``status`` is ``"Failed"``.
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
        out: list[RequestTemplate] = []
        snap: RequestTemplate | None = self
        while snap is not None:
            out.append(snap)
            snap = snap.parent
        return out[::-1]


T = TypeVar("T", LinkedNode, RequestTemplate)


class _Forest(Generic[T]):
    """Latest snapshot per identifier; older ones hang off ``.parent``."""

    def __init__(self, heap: dict[str, T] | None = None) -> None:
        self._heap: dict[str, T] = dict(heap or {})

    def update(self, item: T) -> None:
        """Add ``item`` as the newest snapshot of its identifier."""
        item.parent = self._heap.get(item.identifier)
        self._heap[item.identifier] = item

    def restore(self, item: T) -> None:
        """Put back a snapshot that already carries its history (loading a saved file)."""
        self._heap[item.identifier] = item

    def __getitem__(self, identifier: str) -> T:
        return self._heap[identifier]

    def get(self, identifier: str, default: T | None = None) -> T | None:
        return self._heap.get(identifier, default)

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._heap

    def __iter__(self) -> Iterator[str]:
        return iter(self._heap)

    def __len__(self) -> int:
        return len(self._heap)

    def values(self) -> list[T]:
        return list(self._heap.values())

    def heap(self) -> dict[str, T]:
        """A shallow copy of the identifier → latest snapshot mapping."""
        return dict(self._heap)


class NodeForest(_Forest[LinkedNode]):
    """Every node of a session with its temporal history."""


class RequestForest(_Forest[RequestTemplate]):
    """Every request of a session, indexed by caller so subtrees are cheap to walk."""

    def __init__(self, heap: dict[str, RequestTemplate] | None = None) -> None:
        super().__init__()
        self._children: dict[str | None, list[str]] = {}
        self._by_sink: dict[str, str] = {}
        for item in (heap or {}).values():
            self.restore(item)

    def _index(self, item: RequestTemplate) -> None:
        if item.identifier not in self._heap:
            self._children.setdefault(item.source_id, []).append(item.identifier)
            self._by_sink[item.sink_id] = item.identifier

    def update(self, item: RequestTemplate) -> None:
        self._index(item)
        super().update(item)

    def restore(self, item: RequestTemplate) -> None:
        self._index(item)
        super().restore(item)

    def children(self, node_id: str | None) -> list[RequestTemplate]:
        """Requests made by ``node_id`` (``None``: the top-level requests), in call order."""
        return [self._heap[r] for r in self._children.get(node_id, ())]

    def by_sink(self, node_id: str) -> RequestTemplate | None:
        """The request that created ``node_id``."""
        rid = self._by_sink.get(node_id)
        return self._heap[rid] if rid is not None else None

    @property
    def insertion_requests(self) -> list[RequestTemplate]:
        return self.children(None)


@dataclass(slots=True)
class Run:
    """One top-level request of a session and everything under it."""

    run_id: str
    name: str
    start_time: float
    root_request_id: str | None = None
    root_node_id: str | None = None
    end_time: float | None = None
    status: Status = "Open"
    node_ids: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    stamps: list[Stamp] = field(default_factory=list)

    def copy(self) -> Run:
        return replace(
            self,
            node_ids=list(self.node_ids),
            request_ids=list(self.request_ids),
            stamps=list(self.stamps),
        )


class ExecutionInfo:
    """The complete state of a session's runs: nodes, requests, stamps and runs.

    Built live by the session's :class:`~railtracks_nb.coordinator.RTState`,
    snapshotted by ``session.info``, rebuilt from saved files by ``rt.load``.
    """

    def __init__(
        self,
        request_forest: RequestForest | None = None,
        node_forest: NodeForest | None = None,
        stamper: StampManager | None = None,
        runs: Iterable[Run] = (),
        *,
        session_id: str | None = None,
        session_name: str | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
        extras: dict[str, Any] | None = None,
    ) -> None:
        self.request_forest = request_forest if request_forest is not None else RequestForest()
        self.node_forest = node_forest if node_forest is not None else NodeForest()
        self.stamper = stamper if stamper is not None else StampManager()
        self.runs: dict[str, Run] = {r.run_id: r for r in runs}
        self.session_id = session_id
        self.session_name = session_name
        self.start_time = start_time if start_time is not None else time.time()
        self.end_time = end_time
        #: What a session adds beyond the Railtracks schema (state, context, config, ...).
        self.extras: dict[str, Any] = dict(extras or {})

    # -- construction -------------------------------------------------------------
    @classmethod
    def create_new(
        cls, session_id: str | None = None, session_name: str | None = None
    ) -> ExecutionInfo:
        """An empty ``ExecutionInfo``, ready to be filled by a session."""
        return cls(session_id=session_id, session_name=session_name)

    def snapshot(self) -> ExecutionInfo:
        """A copy that later changes to this session do not affect."""
        stamper = StampManager()
        stamper._stamps = list(self.stamper._stamps)
        return ExecutionInfo(
            RequestForest(self.request_forest.heap()),
            NodeForest(self.node_forest.heap()),
            stamper,
            (r.copy() for r in self.runs.values()),
            session_id=self.session_id,
            session_name=self.session_name,
            start_time=self.start_time,
            end_time=self.end_time,
            extras=dict(self.extras),
        )

    # -- Railtracks-compatible accessors -----------------------------------------
    @property
    def request_heap(self) -> RequestForest:
        return self.request_forest

    @property
    def node_heap(self) -> NodeForest:
        return self.node_forest

    @property
    def name(self) -> str | None:
        return self.session_name

    @property
    def all_stamps(self) -> list[Stamp]:
        """Every stamp of the session, in step order."""
        return self.stamper.all_stamps

    @property
    def answer(self) -> Any:
        """The result of the latest run's top-level request (``None`` if it did not complete)."""
        for run in reversed(list(self.runs.values())):
            if run.root_request_id is None:
                continue
            req = self.request_forest.get(run.root_request_id)
            if req is not None:
                return req.output if req.status == "Completed" else None
        return None

    @property
    def status(self) -> Status:
        """``Failed`` if any run failed, ``Open`` if any is still running, else ``Completed``."""
        statuses = {r.status for r in self.runs.values()}
        if "Failed" in statuses:
            return "Failed"
        if "Open" in statuses:
            return "Open"
        return "Completed"

    def node_status(self, node_id: str) -> Status:
        req = self.request_forest.by_sink(node_id)
        return req.status if req is not None else "Open"

    def to_graph(self) -> tuple[list[LinkedNode], list[RequestTemplate]]:
        """The latest snapshot of every node (vertices) and every request (edges)."""
        return self.node_forest.values(), self.request_forest.values()

    def get_info(self, ids: str | Iterable[str]) -> ExecutionInfo:
        """The part of this session under the given node ids (the nodes included).

        Raises ``ValueError`` naming any id that is not a node of this session.
        """
        wanted = [ids] if isinstance(ids, str) else list(ids)
        unknown = [i for i in wanted if i not in self.node_forest]
        if unknown:
            raise ValueError(
                f"Unknown node id(s) {', '.join(map(repr, unknown))}: "
                f"not part of session {self.session_id!r}."
            )
        node_ids: dict[str, None] = {}
        request_ids: dict[str, None] = {}
        stack = list(reversed(wanted))
        while stack:
            nid = stack.pop()
            if nid in node_ids:
                continue
            node_ids[nid] = None
            req = self.request_forest.by_sink(nid)
            if req is not None:
                request_ids[req.identifier] = None
            stack.extend(reversed([r.sink_id for r in self.request_forest.children(nid)]))

        nodes = NodeForest({i: self.node_forest[i] for i in node_ids})
        requests = RequestForest({i: self.request_forest[i] for i in request_ids})
        steps = {
            s.step
            for i in node_ids
            for snap in self.node_forest[i].history()
            for s in (snap.stamp,)
        }
        steps |= {
            s.step
            for i in request_ids
            for snap in self.request_forest[i].history()
            for s in (snap.stamp,)
        }
        stamper = StampManager()
        stamper._stamps = [s for s in self.stamper._stamps if s.step in steps]
        runs = []
        for run in self.runs.values():
            kept = [n for n in run.node_ids if n in node_ids]
            if kept:
                sub = run.copy()
                sub.node_ids = kept
                sub.request_ids = [r for r in run.request_ids if r in request_ids]
                sub.stamps = [s for s in run.stamps if s.step in steps]
                runs.append(sub)
        return ExecutionInfo(
            requests,
            nodes,
            stamper,
            runs,
            session_id=self.session_id,
            session_name=self.session_name,
            start_time=self.start_time,
            end_time=self.end_time,
            extras=dict(self.extras),
        )

    # -- serialization -----------------------------------------------------------
    def serialize_node(self, node_id: str) -> dict[str, Any]:
        """One node in the saved-state form, with its temporal ``parent`` chain."""
        return _node_json(self.node_forest[node_id])

    def serialize_edge(self, request_id: str) -> dict[str, Any]:
        """One request (edge) in the saved-state form, with its temporal ``parent`` chain."""
        return _edge_json(self.request_forest[request_id])

    def run_header(self, run_id: str) -> dict[str, Any]:
        """A run's fields without its nodes, edges and steps (used for live deltas)."""
        run = self.runs[run_id]
        return {
            "session_id": self.session_id,
            "run_id": run.run_id,
            "name": run.name,
            "status": run.status,
            "start_time": run.start_time,
            "end_time": run.end_time,
        }

    def to_payload(self) -> dict[str, Any]:
        """The session as a JSON-compatible dict following the Railtracks schema."""
        runs = []
        for run in self.runs.values():
            entry = self.run_header(run.run_id)
            entry["nodes"] = [
                _node_json(self.node_forest[n]) for n in run.node_ids if n in self.node_forest
            ]
            entry["edges"] = [
                _edge_json(self.request_forest[r])
                for r in run.request_ids
                if r in self.request_forest
            ]
            entry["steps"] = [s.to_json() for s in run.stamps]
            runs.append(entry)
        end = self.end_time
        if end is None:  # still open: the schema wants a number, so use "so far"
            end = max((s.time for s in self.stamper._stamps), default=self.start_time)
        payload: dict[str, Any] = {
            "session_id": self.session_id or "",
            "session_name": self.session_name,
            "start_time": self.start_time,
            "end_time": end,
            "runs": runs,
        }
        if self.extras:
            payload[EXTRAS_KEY] = to_jsonable(self.extras)
        return payload

    def graph_serialization(self) -> str:
        """The session as a JSON string in the Railtracks saved-state format."""
        return json.dumps(self.to_payload(), allow_nan=False)

    def to_networkx(self) -> networkx.DiGraph:
        """A ``networkx.DiGraph``: one vertex per node, one edge per caller → callee request."""
        from .graph import payload_to_networkx

        return payload_to_networkx(self.to_payload())

    def plot_graph(self, **layout: Any) -> Any:
        """The call graph as a ``plotly.graph_objects.Figure`` (plotly is imported here)."""
        from .figures import plot_graph

        figure = plot_graph(self)
        return figure.update_layout(**layout) if layout else figure

    def plot_timeline(self, **layout: Any) -> Any:
        """One bar per node on a time axis, as a ``plotly.graph_objects.Figure``."""
        from .figures import plot_timeline

        figure = plot_timeline(self)
        return figure.update_layout(**layout) if layout else figure

    # -- display -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.node_forest)

    def __repr__(self) -> str:
        return (
            f"ExecutionInfo(session={self.session_name or self.session_id!r}, "
            f"runs={len(self.runs)}, nodes={len(self.node_forest)}, "
            f"stamps={len(self.stamper)}, status={self.status!r})"
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        from .display import mimebundle

        return mimebundle(self)


def _node_json(snap: LinkedNode | None) -> dict[str, Any] | None:
    if snap is None:
        return None
    return {
        "identifier": snap.identifier,
        "node_type": snap.node_type,
        "name": snap.name,
        "stamp": snap.stamp.to_json(),
        "details": {"internals": to_jsonable(snap.internals) if snap.extra else snap.internals},
        "parent": _node_json(snap.parent),
    }


def _edge_json(snap: RequestTemplate | None) -> dict[str, Any] | None:
    if snap is None:
        return None
    output = snap.output
    if snap.status == "Failed" and isinstance(output, BaseException):
        output = error_to_json(output)
    return {
        "identifier": snap.identifier,
        "source": snap.source_id,
        "target": snap.sink_id,
        "stamp": snap.stamp.to_json(),
        "details": {
            "input_args": to_jsonable(list(snap.input_args)),
            "input_kwargs": to_jsonable(snap.input_kwargs),
            "status": snap.status,
            "output": to_jsonable(output),
        },
        "parent": _edge_json(snap.parent),
    }

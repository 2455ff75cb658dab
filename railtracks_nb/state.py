"""Execution state: stamps, the node and request forests, runs and ``ExecutionInfo``.

Every change to a node or a request is a new immutable snapshot whose
``parent`` is the snapshot it replaces, so the full temporal history of a
session can be replayed stamp by stamp. :class:`ExecutionInfo` bundles the
forests of one session and serializes them in the Railtracks saved-state
format (a copy of its schema is ``tests/data/reference/railtracks_state_schema.json``).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, TypeVar

from .encoding import collector_paused
from .payload import build_payload, edge_json, node_json

if TYPE_CHECKING:
    import networkx

Status = Literal["Open", "Completed", "Failed"]
NodeType = Literal["Tool", "Agent", "Other"]

#: The key under which our own additions live in a payload. Railtracks readers ignore it.
EXTRAS_KEY = "railtracks_nb"


class Stamp(NamedTuple):
    """One step of a session: its order, its wall-clock time and what happened."""

    step: int
    time: float
    identifier: str

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "time": self.time, "identifier": self.identifier}

    encode = to_json  # the Railtracks name


# How the state is kept. A session of 100,000 nodes keeps 400,000 snapshots and
# stamps. Kept as objects, every one of them is tracked by the garbage collector,
# and each full collection walks them all: the cost per call then grows with the
# size of the session. Plain tuples of plain values (ids, names, numbers, None,
# other such tuples) are different: the collector stops tracking them. So the
# forests and stamp lists store plain tuples and hand out Stamp / LinkedNode /
# RequestTemplate objects, built on access.
_RawStamp = tuple  # (step, time, identifier)


def _raw_stamp(stamp: Stamp | _RawStamp) -> _RawStamp:
    """A stamp as a plain tuple; one that already is one is returned as it is, so a
    stamp recorded in several places (its node, its request, its run) is one tuple."""
    if type(stamp) is tuple:
        return stamp
    return (stamp[0], stamp[1], stamp[2])


class StampManager:
    """Hands out stamps with strictly increasing steps and remembers them all.

    Node stamps (a node created, finished or failed) number 0, 1, 2, ... exactly
    as Railtracks numbers them. Lifecycle stamps (session state changes, runs
    starting and ending, broadcasts) are kept apart, in their own list, and take
    no step of their own: their ``step`` is that of the next node stamp, so a
    lifecycle stamp with step ``k`` happened after node step ``k - 1`` and before
    node step ``k`` (ties keep the order they were made in). Replay interleaves
    both by comparing steps.
    """

    def __init__(self, start: int = 0) -> None:
        self._start = start
        self._steps = itertools.count(start)
        self._stamps: list[_RawStamp] = []
        self._lifecycle: list[_RawStamp] = []

    def create_stamp(self, message: str) -> Stamp:
        raw = (next(self._steps), time.time(), message)
        self._stamps.append(raw)
        return Stamp._make(raw)

    def create_lifecycle_stamp(self, message: str) -> Stamp:
        """A stamp for a lifecycle event: no step of its own (see the class docstring)."""
        # Node stamps are made in step order, so the last one holds the highest step.
        step = self._stamps[-1][0] + 1 if self._stamps else self._start
        raw = (step, time.time(), message)
        self._lifecycle.append(raw)
        return Stamp._make(raw)

    def stamp_creator(self):
        """A function ``message -> Stamp`` bound to this manager (the Railtracks API)."""
        return self.create_stamp

    def _adopt(self, stamp: Stamp) -> None:
        """Record a stamp made elsewhere (used when rebuilding a saved session)."""
        self._stamps.append(_raw_stamp(stamp))

    @property
    def all_stamps(self) -> list[Stamp]:
        """Every node stamp, in step order (what Railtracks' ``all_stamps`` holds)."""
        return [Stamp._make(raw) for raw in sorted(self._stamps)]

    @property
    def lifecycle_stamps(self) -> list[Stamp]:
        """The lifecycle stamps, in the order they were made."""
        return [Stamp._make(raw) for raw in self._lifecycle]

    @property
    def step_logs(self) -> dict[int, list[str]]:
        """The messages of the node stamps, by step (the Railtracks API)."""
        logs: dict[int, list[str]] = {}
        for step, _, message in sorted(self._stamps):
            logs.setdefault(step, []).append(message)
        return logs

    def copy(self, keep: Iterable[int] | None = None) -> StampManager:
        """A copy (only the node steps in ``keep``, if given) that goes on numbering after
        the last step, so stamps made on it never reuse a step."""
        wanted = None if keep is None else set(keep)
        twin = StampManager(max((raw[0] for raw in self._stamps), default=-1) + 1)
        twin._stamps = [r for r in self._stamps if wanted is None or r[0] in wanted]
        if wanted is None:
            twin._lifecycle = list(self._lifecycle)
        return twin

    def __len__(self) -> int:
        return len(self._stamps)


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

    def history(self) -> list[LinkedNode]:
        """Every snapshot of this node, oldest first."""
        out: list[LinkedNode] = []
        snap: LinkedNode | None = self
        while snap is not None:
            out.append(snap)
            snap = snap.parent
        return out[::-1]


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
        out: list[RequestTemplate] = []
        snap: RequestTemplate | None = self
        while snap is not None:
            out.append(snap)
            snap = snap.parent
        return out[::-1]

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


T = TypeVar("T", LinkedNode, RequestTemplate)


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


class _Forest(Generic[T]):
    """Latest snapshot per identifier; older ones hang off ``.parent``.

    Stored as plain tuples; reading returns snapshot objects.
    """

    _from_raw: Any
    _to_raw: Any

    def __init__(self, heap: dict[str, T] | None = None) -> None:
        self._raw: dict[str, tuple] = {}
        for item in (heap or {}).values():
            self.restore(item)

    def update(self, item: T) -> None:
        """Add ``item`` as the newest snapshot of its identifier (its ``parent`` is
        set to the snapshot it replaces)."""
        raw = self._to_raw(item)
        self._put_raw((*raw[:-1], self._raw.get(item.identifier)))

    def restore(self, item: T) -> None:
        """Put back a snapshot that already carries its history (loading a saved file)."""
        self._put_raw(self._to_raw(item))

    def _put_raw(self, raw: tuple) -> None:
        self._raw[raw[0]] = raw

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

    def copy(self) -> _Forest[T]:
        """A copy that later updates to this forest do not change."""
        twin = type(self).__new__(type(self))
        twin._raw = dict(self._raw)
        return twin


class NodeForest(_Forest[LinkedNode]):
    """Every node of a session with its temporal history."""

    _from_raw = staticmethod(_node_from_raw)
    _to_raw = staticmethod(_node_to_raw)

    def add_created(
        self, identifier: str, name: str, node_type: str, stamp: Stamp, run_id: str
    ) -> None:
        """Record a node's first snapshot (the engine's fast path: no object built)."""
        raw = (identifier, name, node_type, _raw_stamp(stamp), run_id, None, None)
        self._raw[identifier] = (*raw, self._raw.get(identifier))

    def add_finished(self, identifier: str, stamp: Stamp, latency: float) -> None:
        """Record that a node finished: a new snapshot with its latency."""
        prev = self._raw[identifier]
        self._raw[identifier] = (
            identifier, prev[1], prev[2], _raw_stamp(stamp), prev[4], None, latency, prev,
        )  # fmt: skip


class RequestForest(_Forest[RequestTemplate]):
    """Every request of a session, indexed by caller so subtrees are cheap to walk."""

    _from_raw = staticmethod(_request_from_raw)
    _to_raw = staticmethod(_request_to_raw)

    def __init__(self, heap: dict[str, RequestTemplate] | None = None) -> None:
        self._children: dict[str | None, list[str]] = {}
        self._by_sink: dict[str, str] = {}
        super().__init__(heap)

    def _put_raw(self, raw: tuple) -> None:
        identifier = raw[0]
        if identifier not in self._raw:
            self._children.setdefault(raw[1], []).append(identifier)
            self._by_sink[raw[2]] = identifier
        self._raw[identifier] = raw

    def add_created(
        self,
        identifier: str,
        source_id: str | None,
        sink_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        stamp: Stamp,
        run_id: str,
    ) -> None:
        """Record a new (``Open``) request (the engine's fast path: no object built)."""
        # An empty kwargs dict is stored as None: any dict, even an empty untracked
        # one, stops the collector from untracking the tuple that holds it.
        self._put_raw(
            (identifier, source_id, sink_id, args, kwargs or None, None, "Open",
             _raw_stamp(stamp), run_id, self._raw.get(identifier))
        )  # fmt: skip

    def add_finished(self, identifier: str, output: Any, status: Status, stamp: Stamp) -> None:
        """Record a request's end: a new snapshot with its output (or error) and status."""
        prev = self._raw[identifier]
        self._raw[identifier] = (*prev[:5], output, status, _raw_stamp(stamp), prev[8], prev)

    def children(self, node_id: str | None) -> list[RequestTemplate]:
        """Requests made by ``node_id`` (``None``: the top-level requests), in call order."""
        return [self[r] for r in self._children.get(node_id, ())]

    def child_node_ids(self, node_id: str | None) -> list[str]:
        """The ids of the nodes ``node_id`` called, in call order (no snapshot built)."""
        return [self._raw[r][2] for r in self._children.get(node_id, ())]

    def by_sink(self, node_id: str) -> RequestTemplate | None:
        """The request that created ``node_id``."""
        rid = self._by_sink.get(node_id)
        return self[rid] if rid is not None else None

    def failures(self) -> list[tuple[int, str, BaseException]]:
        """``(step, request id, exception)`` of every request that failed with an
        exception, from the raw records (no snapshot built)."""
        return [
            (raw[7][0], raw[0], raw[5])
            for raw in self._raw.values()
            if raw[6] == "Failed" and isinstance(raw[5], BaseException)
        ]

    def status_of(self, node_id: str) -> Status | None:
        """The status of the request that created ``node_id`` (no snapshot built)."""
        rid = self._by_sink.get(node_id)
        return self._raw[rid][6] if rid is not None else None

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
        assert isinstance(twin, RequestForest)
        twin._children = {k: list(v) for k, v in self._children.items()}
        twin._by_sink = dict(self._by_sink)
        return twin


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
    #: The run's stamps as plain ``(step, time, identifier)`` tuples; see ``stamps``.
    raw_stamps: list[tuple[int, float, str]] = field(default_factory=list)

    @property
    def stamps(self) -> list[Stamp]:
        """The run's stamps (its steps), in the order they were made."""
        return [Stamp._make(raw) for raw in self.raw_stamps]

    def add_stamp(self, stamp: Stamp) -> None:
        self.raw_stamps.append(_raw_stamp(stamp))

    def copy(self) -> Run:
        return replace(
            self,
            node_ids=list(self.node_ids),
            request_ids=list(self.request_ids),
            raw_stamps=list(self.raw_stamps),
        )


class SessionView:
    """What every session-like object offers (``ExecutionInfo``, ``Session``,
    ``SavedSession``): plotly figures and a rich notebook display.

    Plotting and display code is imported only when used, so the engine keeps
    importing no plotting or IPython code.
    """

    def plot_graph(self, **layout: Any) -> Any:
        """The call graph as a ``plotly.graph_objects.Figure``; ``layout`` goes to
        ``update_layout``."""
        from .figures import plot_graph

        figure = plot_graph(self)
        return figure.update_layout(**layout) if layout else figure

    def plot_timeline(self, **layout: Any) -> Any:
        """One bar per node on a time axis, as a ``plotly.graph_objects.Figure``."""
        from .figures import plot_timeline

        figure = plot_timeline(self)
        return figure.update_layout(**layout) if layout else figure

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        """A text summary and a static HTML/SVG picture of the call graph."""
        from .display import mimebundle

        return mimebundle(self)


class ExecutionInfo(SessionView):
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
        stamper = self.stamper.copy()
        return ExecutionInfo(
            self.request_forest.copy(),
            self.node_forest.copy(),
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
        """The result of the top-level request (``None`` if it did not complete); with
        several runs, the list of every run's result in order, as in Railtracks."""
        outputs = []
        for run in self.runs.values():
            if run.root_request_id is None:
                continue
            req = self.request_forest.get(run.root_request_id)
            if req is not None:
                outputs.append(req.output if req.status == "Completed" else None)
        if not outputs:
            return None
        return outputs[0] if len(outputs) == 1 else outputs

    @property
    def insertion_requests(self) -> list[RequestTemplate]:
        """The top-level request of every run, in order (the Railtracks name)."""
        return self.request_forest.insertion_request

    @classmethod
    def default(cls) -> ExecutionInfo:
        """An empty ``ExecutionInfo`` (the Railtracks name of ``create_new()``)."""
        return cls.create_new()

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
        """The status of a node: that of the request that created it."""
        return self.request_forest.status_of(node_id) or "Open"

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
        forest = self.request_forest
        stack = list(reversed(wanted))
        while stack:
            nid = stack.pop()
            if nid in node_ids:
                continue
            node_ids[nid] = None
            rid = forest._by_sink.get(nid)
            if rid is not None:
                request_ids[rid] = None
            stack.extend(reversed(forest.child_node_ids(nid)))

        nodes = NodeForest({i: self.node_forest[i] for i in node_ids})
        requests = RequestForest({i: forest[i] for i in request_ids})
        steps = {snap.stamp.step for i in node_ids for snap in nodes[i].history()}
        steps |= {snap.stamp.step for i in request_ids for snap in requests[i].history()}
        stamper = self.stamper.copy(keep=steps)
        runs = []
        for run in self.runs.values():
            kept = [n for n in run.node_ids if n in node_ids]
            if kept:
                sub = run.copy()
                sub.node_ids = kept
                sub.request_ids = [r for r in run.request_ids if r in request_ids]
                sub.raw_stamps = [raw for raw in run.raw_stamps if raw[0] in steps]
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
        return node_json(self.node_forest._raw[node_id])

    def serialize_edge(self, request_id: str) -> dict[str, Any]:
        """One request (edge) in the saved-state form, with its temporal ``parent`` chain."""
        return edge_json(self.request_forest._raw[request_id])

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
        with collector_paused():  # a tree of fresh dicts: see collector_paused
            return build_payload(self, EXTRAS_KEY)

    def _error_owners(self) -> dict[int, str]:
        """For each exception some request failed with: the request that stores its traceback.

        An exception that propagates through a call chain is the same object at
        every level; its traceback (which grows at each level) is written once,
        with the request that failed first (the innermost), and the others point
        to it. Without this a 200-level chain writes 200 ever longer tracebacks.
        """
        failed = self.request_forest.failures()
        owners: dict[int, str] = {}
        for _, identifier, error in sorted(failed, key=lambda f: f[0]):
            owners.setdefault(id(error), identifier)
        return owners

    def graph_serialization(self) -> str:
        """The session as a JSON string in the Railtracks saved-state format."""
        return json.dumps(self.to_payload(), allow_nan=False)

    def to_networkx(self) -> networkx.DiGraph:
        """A ``networkx.DiGraph``: one vertex per node, one edge per caller → callee request."""
        from .graph import payload_to_networkx

        return payload_to_networkx(self.to_payload())

    # -- display -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.node_forest)

    def __repr__(self) -> str:
        return (
            f"ExecutionInfo(session={self.session_name or self.session_id!r}, "
            f"runs={len(self.runs)}, nodes={len(self.node_forest)}, "
            f"stamps={len(self.stamper)}, status={self.status!r})"
        )

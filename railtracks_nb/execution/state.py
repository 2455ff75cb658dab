"""A session's execution state: its runs and :class:`ExecutionInfo`.

:class:`ExecutionInfo` bundles the stamps and the node and request forests of one
session and serializes them in the Railtracks saved-state format (a copy of its
schema is ``tests/data/reference/railtracks_state_schema.json``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from ..core.aliases import Alias
from ..core.encoding import collector_paused
from ..core.extras import EXTRAS_KEY, SessionExtras
from ..core.vocabulary import roll_up
from .payload import build_payload, edge_json, node_json

if TYPE_CHECKING:
    import networkx
from .forest import NodeForest, RequestForest
from .snapshots import LinkedNode, RequestTemplate, Status
from .stamps import STAMP_STEP, RawStamp, Stamp, StampManager, _raw_stamp
from .views import SessionView

__all__ = ["EXTRAS_KEY", "ExecutionInfo", "Run"]


class SessionHeader(Protocol):
    """What names and times a session, apart from its contents."""

    @property
    def session_id(self) -> str | None: ...
    @property
    def session_name(self) -> str | None: ...
    @property
    def start_time(self) -> float | None: ...
    @property
    def end_time(self) -> float | None: ...


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
    raw_stamps: list[RawStamp] = field(default_factory=list)

    @property
    def stamps(self) -> list[Stamp]:
        """The run's stamps (its steps), in the order they were made."""
        return [Stamp._make(raw) for raw in self.raw_stamps]

    def add_stamp(self, stamp: RawStamp) -> None:
        self.raw_stamps.append(_raw_stamp(stamp))

    def copy(self) -> Run:
        return replace(
            self,
            node_ids=list(self.node_ids),
            request_ids=list(self.request_ids),
            raw_stamps=list(self.raw_stamps),
        )


class ExecutionInfo(SessionView):
    """The complete state of a session's runs: nodes, requests, stamps and runs.

    Built live by the session's :class:`~railtracks_nb.engine.coordinator.RTState`,
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
        extras: SessionExtras | None = None,
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
        self.extras: SessionExtras = extras.copy() if extras else {}

    # -- construction -------------------------------------------------------------
    @classmethod
    def create_new(
        cls, session_id: str | None = None, session_name: str | None = None
    ) -> ExecutionInfo:
        """An empty ``ExecutionInfo``, ready to be filled by a session."""
        return cls(session_id=session_id, session_name=session_name)

    @classmethod
    def headed_like(
        cls,
        header: SessionHeader,
        request_forest: RequestForest,
        node_forest: NodeForest,
        stamper: StampManager,
        runs: Iterable[Run],
        extras: SessionExtras,
    ) -> ExecutionInfo:
        """These forests, stamps and runs as a session with the id, name and times
        of ``header`` (another ``ExecutionInfo``, or a saved session read back)."""
        return cls(
            request_forest,
            node_forest,
            stamper,
            runs,
            session_id=header.session_id,
            session_name=header.session_name,
            start_time=header.start_time,
            end_time=header.end_time,
            extras=extras,
        )

    def snapshot(self) -> ExecutionInfo:
        """A copy that later changes to this session do not affect."""
        stamper = self.stamper.copy()
        return ExecutionInfo.headed_like(
            self,
            self.request_forest.copy(),
            self.node_forest.copy(),
            stamper,
            (r.copy() for r in self.runs.values()),
            self.extras.copy(),
        )

    # -- Railtracks-compatible accessors -----------------------------------------
    request_heap = Alias[RequestForest]("request_forest")
    node_heap = Alias[NodeForest]("node_forest")
    name = Alias[str | None]("session_name")

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
        return roll_up(r.status for r in self.runs.values())  # type: ignore[return-value]

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
            rid = forest.request_id_of(nid)
            if rid is not None:
                request_ids[rid] = None
            stack.extend(reversed(forest.child_node_ids(nid)))

        nodes = NodeForest({i: self.node_forest[i] for i in node_ids})
        nodes._class_by_name = dict(self.node_forest._class_by_name)
        nodes._class_by_id = dict(self.node_forest._class_by_id)
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
                sub.raw_stamps = [raw for raw in run.raw_stamps if raw[STAMP_STEP] in steps]
                runs.append(sub)
        return ExecutionInfo.headed_like(self, requests, nodes, stamper, runs, self.extras.copy())

    # -- serialization -----------------------------------------------------------
    def serialize_node(self, node_id: str) -> dict[str, Any]:
        """One node in the saved-state form, with its temporal ``parent`` chain."""
        return node_json(self.node_forest.record(node_id)) or {}

    def serialize_edge(self, request_id: str) -> dict[str, Any]:
        """One request (edge) in the saved-state form, with its temporal ``parent`` chain."""
        return edge_json(self.request_forest.record(request_id)) or {}

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

    def event_rows(self) -> dict[str, list[list[Any]]]:
        """The session as event rows, per run: what the live widgets are sent.

        Per run, in step order: each request's ``"c"`` (created) row, its ``"s"``
        (succeeded) or ``"f"`` (failed) row once it ended, and ``"x"`` rows for the
        run's stamps no request made, laid out as :mod:`railtracks_nb.execution.rows` says.
        """
        from .rows import event_rows

        return event_rows(self)

    def error_owners(self) -> dict[int, str]:
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
        from .graph import to_networkx

        return to_networkx(self)

    # -- display -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.node_forest)

    def __repr__(self) -> str:
        return (
            f"ExecutionInfo(session={self.session_name or self.session_id!r}, "
            f"runs={len(self.runs)}, nodes={len(self.node_forest)}, "
            f"stamps={len(self.stamper)}, status={self.status!r})"
        )

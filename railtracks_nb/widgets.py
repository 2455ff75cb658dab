"""Live notebook widgets (anywidget): the call graph, the stamp timeline, the
session state, and a dashboard of all three with a replay slider.

Every widget draws a *payload* (the Railtracks saved-state format, see
``shared/reference/railtracks_state_schema.json``). The whole payload is sent
once, as JSON bytes in the ``data`` trait (``widget.payload`` reads it as a
dict); after that, for a live :class:`Session`, a
:class:`_LiveFeed` subscribed to the session's publisher sends *deltas*
(custom messages with only the nodes, requests, stamps and run headers that
changed), coalesced to at most one per ``MIN_INTERVAL`` (0.1 s) plus a final
one when the session closes. When the session closes ``payload`` is set to the
complete payload, so a notebook saved with widget state holds the final picture.

Everything after the data arrives (pan, zoom, folding, clicks, replay) runs in
the browser, so it keeps working while the kernel is busy.

The front-end code is ``widgets/src`` bundled into ``railtracks_nb/static``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .export import payload_of
from .serialization import error_to_json, to_jsonable
from .state import EXTRAS_KEY

__all__ = [
    "GraphView",
    "SessionDashboard",
    "StateView",
    "TimelineView",
    "show",
]

_STATIC = Path(__file__).with_name("static")


def _live_session(obj: Any) -> Any | None:
    """The session to follow live, if ``obj`` is (or wraps) one that is still open."""
    from .session import Session

    if not isinstance(obj, Session) and hasattr(obj, "last_session") and not hasattr(obj, "to_payload"):
        obj = obj.last_session
    if isinstance(obj, Session) and not obj.publisher.is_closed:
        return obj
    return None


_SCALARS = (str, int, bool, type(None))


def _fast_json(value: Any, depth: int = 0) -> Any:
    """``to_jsonable`` with a fast path for the plain values nodes usually carry.

    Exact-type checks (no ABCs) for str/int/bool/None/finite floats and small
    nests of dicts (str keys) and lists; anything else goes to the engine's
    ``to_jsonable``, which handles objects, cycles and non-finite floats. Same
    output either way; this only skips the general walk where it is not needed.
    """
    t = type(value)
    if t in _SCALARS:
        return value
    if t is float:
        return value if math.isfinite(value) else to_jsonable(value)
    if depth < 4:
        if t is dict:
            if all(type(k) is str for k in value):
                return {k: _fast_json(v, depth + 1) for k, v in value.items()}
        elif t is list or t is tuple:
            return [_fast_json(v, depth + 1) for v in value]
    return to_jsonable(value)


class _SnapshotJSON:
    """Serialises node and request snapshots as ``ExecutionInfo.serialize_node`` /
    ``serialize_edge`` do, reusing the JSON of a snapshot's ``parent`` when it
    was already sent (a node is usually sent open, then finished: the finished
    snapshot's parent is the open one), so each snapshot is encoded once.
    """

    def __init__(self) -> None:
        self._nodes: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._edges: dict[str, tuple[Any, dict[str, Any]]] = {}

    def node(self, snap: Any) -> dict[str, Any] | None:
        if snap is None:
            return None
        cached = self._nodes.get(snap.identifier)
        if cached is not None and cached[0] is snap:
            return cached[1]
        parent = cached[1] if cached is not None and cached[0] is snap.parent else None
        out = {
            "identifier": snap.identifier,
            "node_type": snap.node_type,
            "name": snap.name,
            "stamp": snap.stamp.to_json(),
            "details": {"internals": _fast_json(snap.internals)},
            "parent": parent if parent is not None or snap.parent is None else self._node_uncached(snap.parent),
        }
        self._nodes[snap.identifier] = (snap, out)
        return out

    def _node_uncached(self, snap: Any) -> dict[str, Any]:
        return {
            "identifier": snap.identifier,
            "node_type": snap.node_type,
            "name": snap.name,
            "stamp": snap.stamp.to_json(),
            "details": {"internals": _fast_json(snap.internals)},
            "parent": None if snap.parent is None else self._node_uncached(snap.parent),
        }

    def edge(self, snap: Any) -> dict[str, Any] | None:
        if snap is None:
            return None
        cached = self._edges.get(snap.identifier)
        if cached is not None and cached[0] is snap:
            return cached[1]
        parent = cached[1] if cached is not None and cached[0] is snap.parent else None
        out = self._edge_body(snap)
        out["parent"] = parent if parent is not None or snap.parent is None else self._edge_uncached(snap.parent)
        self._edges[snap.identifier] = (snap, out)
        return out

    def _edge_uncached(self, snap: Any) -> dict[str, Any]:
        out = self._edge_body(snap)
        out["parent"] = None if snap.parent is None else self._edge_uncached(snap.parent)
        return out

    @staticmethod
    def _edge_body(snap: Any) -> dict[str, Any]:
        output = snap.output
        if snap.status == "Failed" and isinstance(output, BaseException):
            output = error_to_json(output)
        return {
            "identifier": snap.identifier,
            "source": snap.source_id,
            "target": snap.sink_id,
            "stamp": snap.stamp.to_json(),
            "details": {
                "input_args": _fast_json(list(snap.input_args)),
                "input_kwargs": _fast_json(snap.input_kwargs),
                "status": snap.status,
                "output": _fast_json(output),
            },
        }

    def cached_node(self, node_id: str) -> dict[str, Any] | None:
        entry = self._nodes.get(node_id)
        return entry[1] if entry is not None else None

    def cached_edge(self, request_id: str) -> dict[str, Any] | None:
        entry = self._edges.get(request_id)
        return entry[1] if entry is not None else None


class _LiveFeed:
    """Turns a session's messages into coalesced, incremental deltas for one widget.

    The publisher calls it inline, on the thread that runs the session's loop,
    for every message. It only records *which* nodes, requests and runs
    changed; serialising happens in :meth:`flush`, at most once per
    ``MIN_INTERVAL`` (a timer on the running loop), so a fan-out of 10,000
    nodes produces a handful of deltas, each carrying every node changed since
    the previous one. The session closing (``SessionStateChanged`` to
    ``IDLE``) forces a final flush and then resets the widget's ``payload``
    (assembled from the JSON already made for the deltas, not re-encoded).
    """

    MIN_INTERVAL = 0.1

    def __init__(self, session: Any, widget: _RTWidget) -> None:
        from . import messages as m

        self._m = m
        self.session = session
        self.widget = widget
        self._json = _SnapshotJSON()
        self._nodes: dict[str, str] = {}  # node id -> run id
        self._edges: dict[str, str] = {}  # request id -> run id
        self._runs: set[str] = set()
        self._extras_dirty = True
        self._steps_sent: dict[str, int] = {}
        self._last_flush = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self.seq = 0
        self.closed = False
        self._node_kinds = (m.RequestCreation, m.RequestSuccess, m.RequestFailure)
        self._run_kinds = (m.RunStarted, m.RunFinished, m.FatalFailure)
        # Stamps already in the initial payload are not sent again.
        for run_id, run in session.rt_state.info.runs.items():
            self._steps_sent[run_id] = len(run.stamps)
        self.subscription = session.publisher.subscribe(self, f"railtracks_nb.widgets:{id(widget)}")

    # The publisher's callback: cheap bookkeeping only.
    def __call__(self, message: Any) -> None:
        if self.closed:
            return
        if isinstance(message, self._node_kinds):
            self._nodes[message.node_id] = message.run_id
            self._edges[message.request_id] = message.run_id
            self._runs.add(message.run_id)
        elif isinstance(message, self._run_kinds):
            self._runs.add(message.run_id)
            self._extras_dirty = True
        elif isinstance(message, self._m.SessionStateChanged):
            self._extras_dirty = True
            if message.new == "IDLE":
                self.close(final=True)
                return
        else:
            return  # broadcasts and anything else change nothing we draw
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            return  # a flush is already due and will include this change
        wait = self._last_flush + self.MIN_INTERVAL - time.monotonic()
        if wait <= 0:
            self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop to time with: the next message or the final flush sends it
        self._timer = loop.call_later(wait, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if not self.closed:
            self.flush()

    @property
    def pending(self) -> bool:
        return bool(self._nodes or self._edges or self._runs or self._extras_dirty)

    def flush(self) -> dict[str, Any] | None:
        """Send everything changed since the last flush as one delta; returns it (or None)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._last_flush = time.monotonic()
        if not self.pending:
            return None
        info = self.session.rt_state.info
        node_forest, request_forest = info.node_forest, info.request_forest
        nodes, edges, runs = self._nodes, self._edges, self._runs
        self._nodes, self._edges, self._runs = {}, {}, set()
        delta: dict[str, Any] = {"type": "delta"}
        run_ids = set(runs) | set(nodes.values()) | set(edges.values())
        delta["runs"] = [info.run_header(r) for r in run_ids if r in info.runs]
        to_node, to_edge = self._json.node, self._json.edge
        delta["nodes"] = [[run, to_node(node_forest[n])] for n, run in nodes.items() if n in node_forest]
        delta["edges"] = [[run, to_edge(request_forest[e])] for e, run in edges.items() if e in request_forest]
        steps = []
        for run_id in run_ids:
            run = info.runs.get(run_id)
            if run is None:
                continue
            sent = self._steps_sent.get(run_id, 0)
            if len(run.stamps) > sent:
                steps.append([run_id, [s.to_json() for s in run.stamps[sent:]]])
                self._steps_sent[run_id] = len(run.stamps)
        delta["steps"] = steps
        if self._extras_dirty:
            self._extras_dirty = False
            delta["extras"] = _session_extras(self.session)
            delta["session"] = {"session_name": info.session_name, "end_time": info.end_time}
        self.seq += 1
        delta["seq"] = self.seq
        self.widget._send_delta(delta)
        return delta

    def snapshot(self) -> dict[str, Any]:
        """The complete current payload, reusing the JSON already made for deltas.

        Same shape as ``ExecutionInfo.to_payload()`` plus the session's extras.
        """
        info = self.session.rt_state.info
        runs = []
        for run in list(info.runs.values()):
            entry = info.run_header(run.run_id)
            entry["nodes"] = [
                self._json.cached_node(n) or self._json.node(info.node_forest[n])
                for n in run.node_ids
                if n in info.node_forest
            ]
            entry["edges"] = [
                self._json.cached_edge(r) or self._json.edge(info.request_forest[r])
                for r in run.request_ids
                if r in info.request_forest
            ]
            entry["steps"] = [s.to_json() for s in run.stamps]
            runs.append(entry)
        end = info.end_time
        if end is None:  # still open: the schema wants a number, so use "so far"
            end = max((s.time for s in info.all_stamps), default=info.start_time)
        return {
            "session_id": info.session_id or "",
            "session_name": info.session_name,
            "start_time": info.start_time,
            "end_time": end,
            "runs": runs,
            EXTRAS_KEY: _session_extras(self.session),
        }

    def close(self, final: bool = False) -> None:
        """Stop following the session; with ``final``, send the last delta and full payload."""
        if self.closed:
            return
        if final:
            self.flush()
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            self.session.publisher.unsubscribe(self.subscription)
        except KeyError:
            pass  # the publisher already dropped us (it is shutting down)
        if final:
            self.widget._finish_live(self.snapshot(), self.seq)


def _session_extras(session: Any) -> dict[str, Any]:
    """Our extras for ``session`` now, as ``Session.to_payload`` reports them."""
    info = session.rt_state.info
    extras = dict(info.extras)
    extras["state"] = session.state.value
    extras["context"] = session.context
    interrupted = bool(getattr(session, "_interrupted", False))
    extras["interrupted"] = interrupted
    extras["status"] = "Interrupted" if interrupted else info.status
    return to_jsonable(extras)


class _RTWidget(anywidget.AnyWidget):
    """Base of the four views: one front-end module, the ``view`` trait picks which."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    #: Which view the front end draws: ``graph``, ``timeline``, ``state`` or ``dashboard``.
    view = traitlets.Unicode("dashboard").tag(sync=True)
    #: The session in the Railtracks saved-state format (the starting snapshot), as UTF-8
    #: JSON bytes: sent as one binary buffer, so a 10,000-node payload costs one
    #: ``json.dumps`` instead of a walk of every dict by the widget machinery.
    #: Read and write it as a dict through :attr:`payload`.
    data = traitlets.Bytes(b"{}").tag(sync=True)
    #: The number of the last delta already folded into ``payload``.
    payload_seq = traitlets.Int(0).tag(sync=True)
    #: Whether deltas are still coming (a live session).
    live = traitlets.Bool(False).tag(sync=True)
    #: Height of the view in pixels.
    height = traitlets.Int(560).tag(sync=True)
    #: Replay step shown (``None``: the latest). Set by the slider; settable from Python.
    step = traitlets.Int(None, allow_none=True).tag(sync=True)
    #: Node id selected in the front end (``None``: nothing).
    selected = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    _default_view = "dashboard"

    def __init__(self, obj: Any = None, *, live: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("view", self._default_view)
        super().__init__(**kwargs)
        self.updates_sent = 0
        self._payload_cache: dict[str, Any] | None = None
        self.last_delta: dict[str, Any] | None = None
        self._feed: _LiveFeed | None = None
        self.on_msg(self._on_front_end_msg)
        if obj is not None:
            self.set_source(obj, live=live)

    def set_source(self, obj: Any, *, live: bool = True) -> None:
        """Show ``obj`` (see :func:`railtracks_nb.export.payload_of`); follow it if it is live."""
        self.stop()
        session = _live_session(obj) if live else None
        self.payload_seq = 0
        self.payload = payload_of(obj)
        if session is not None:
            self._feed = _LiveFeed(session, self)
            self.live = True
        else:
            self.live = False

    @property
    def payload(self) -> dict[str, Any]:
        """The payload the widget started from (after a live session closes: its final state)."""
        if self._payload_cache is None:
            self._payload_cache = json.loads(self.data or b"{}")
        return self._payload_cache

    @payload.setter
    def payload(self, value: dict[str, Any]) -> None:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
        self._payload_cache = value
        self.data = encoded

    def stop(self) -> None:
        """Stop following a live session (the widget keeps what it has)."""
        if self._feed is not None:
            self._feed.close(final=False)
            self._feed = None
        self.live = False

    def flush(self) -> None:
        """Send pending live changes now, ignoring the rate limit."""
        if self._feed is not None:
            self._feed.flush()

    def _send_delta(self, delta: dict[str, Any]) -> None:
        self.updates_sent += 1
        self.last_delta = delta
        self.send(delta)

    def _finish_live(self, payload: dict[str, Any], seq: int) -> None:
        self._feed = None
        # One full snapshot at the end: notebooks saved with widget state then hold it all.
        with self.hold_sync():
            self.payload_seq = seq
            self.payload = payload
            self.live = False

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "sync" and self._feed is not None:
            self.send({"type": "reset", "payload": self._feed.snapshot(), "seq": self._feed.seq})

    def close(self) -> None:
        self.stop()
        super().close()


class GraphView(_RTWidget):
    """The call tree: callers → callees, coloured by status (open, completed, failed).

    Pan (drag), zoom (wheel), fit, fold a subtree (the ± handle or a double
    click), click a box for its inputs, output, error, duration and stamps.
    Fan-outs wider than 40 show 25 children and a "+N more" box; past 1,500
    visible boxes the view paints on a canvas.
    """

    _default_view = "graph"


class TimelineView(_RTWidget):
    """One bar per node from creation to completion on a time axis, stamps as ticks.

    Rows follow the call tree (depth-first); wheel zooms the time axis, drag
    pans, hover a bar for its details.
    """

    _default_view = "timeline"


class StateView(_RTWidget):
    """Session name and id, lifecycle state, elapsed time against the timeout,
    node counts by status, context variables and the last errors."""

    _default_view = "state"
    height = traitlets.Int(220).tag(sync=True)


class SessionDashboard(_RTWidget):
    """State, graph and timeline together, with a replay slider (stamp by stamp)
    and buttons to download the JSON and an SVG or PNG of the graph."""

    _default_view = "dashboard"
    height = traitlets.Int(640).tag(sync=True)


def show(obj: Any, *, live: bool = True, height: int | None = None) -> SessionDashboard:
    """A :class:`SessionDashboard` for a live or finished ``Session``, an
    ``ExecutionInfo``, a ``Flow`` (its latest run), a loaded saved session, a
    payload dict or the path of a saved session file.

    A session that is still open is followed live unless ``live=False``.
    """
    kwargs: dict[str, Any] = {}
    if height is not None:
        kwargs["height"] = height
    return SessionDashboard(obj, live=live, **kwargs)

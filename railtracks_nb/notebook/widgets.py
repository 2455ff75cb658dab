"""Live notebook widgets (anywidget): the call graph, the stamp timeline, the
session state, and a dashboard of all three with a replay slider.

Every widget draws a *payload* (the Railtracks saved-state format; a copy of its
schema is ``tests/data/reference/railtracks_state_schema.json``). The whole payload is sent
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
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..core import encoding
from ..core.encoding import collector_paused
from ..core.serialization import error_to_json, to_jsonable
from .export import (
    COMPACT_FORMAT,
    FEED_FORMAT,
    compact_payload,
    expand_compact,
    expand_feed,
    payload_of,
)
from .sources import SessionSource

__all__ = [
    "GraphView",
    "SessionDashboard",
    "StateView",
    "TimelineView",
    "show",
]

_STATIC = Path(__file__).parent.parent / "static"

#: The CSS class wrapping the static picture in a widget's saved output.
WIDGET_PICTURE_CLASS = "railtracks-nb-widget-picture"


def _live_session(obj: SessionSource) -> Any | None:
    """The session to follow live, if ``obj`` is (or wraps) one that is still open."""
    from ..engine.session import Session

    if (
        not isinstance(obj, Session)
        and hasattr(obj, "last_session")
        and not hasattr(obj, "to_payload")
    ):
        obj = obj.last_session
    if isinstance(obj, Session) and not obj.publisher.is_closed:
        return obj
    return None


_SCALARS = (str, int, bool, type(None))
_CLOSED = object()


def _row_encoder() -> Callable[[Any], str]:
    """Compact JSON of one event row, as fast as the stdlib allows.

    ``JSONEncoder.encode`` builds a new C encoder on every call, which is most
    of its cost for a short row; this builds it once. ``allow_nan=False``: rows
    hold only finite numbers (``_fast_json`` turns NaN/inf into strings) and the
    front end parses strict JSON. No circular check: rows are flat.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    # The C string encoder (not in typeshed: it is an implementation detail).
    encode_str = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or encode_str is None:  # no C accelerator (e.g. PyPy)
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode

    def default(value: Any) -> Any:
        raise TypeError(f"not JSON: {type(value).__name__}")

    encoder = make(None, default, encode_str, None, ":", ",", False, False, False)

    def encode(row: Any) -> str:
        return "".join(encoder(row, 0))

    return encode


_encode = _row_encoder()


def _encode_rows(rows: list[Any]) -> bytes:
    """The rows as one JSON array, in UTF-8: by orjson (several times faster) when it
    is installed and takes them, else by the standard library."""
    fast = encoding.orjson
    if fast is not None:
        try:
            return fast.dumps(rows)
        except TypeError:  # an integer over 64 bits, a lone surrogate
            pass
    return _encode(rows).encode()


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


def _fast_args(args: tuple[Any, ...]) -> Any:
    """``args`` itself when it is already JSON (a tuple of plain scalars: the usual
    case), else its ``_fast_json`` copy. Saves an allocation per node."""
    for value in args:
        t = type(value)
        if t not in _SCALARS and not (t is float and math.isfinite(value)):
            return _fast_json(args)
    return args


class _LiveFeed:
    """Turns a live session into coalesced, incremental deltas for one widget.

    The feed does not keep the session's messages, nor rows made from them: the
    session's own state (its ``ExecutionInfo``, kept up to date by ``RTState``)
    already records every node and request. The publisher calls the feed for
    every message, and for node messages it does nothing but make sure a flush
    is due; :meth:`flush` then reads what changed since the last flush straight
    from that state (each run's requests in call order, past a cursor, and the
    requests still open), turns it into rows, encodes them and drops them. It
    runs at most once per ``MIN_INTERVAL`` (a timer on the running loop), so a
    fan-out of 10,000 nodes sends a handful of deltas, and the session closing
    (``SessionStateChanged`` to ``IDLE``) forces a final one.

    So the kernel-side memory of a feed does not grow with the session: a
    cursor per run, and the requests sent as open whose end is not sent yet
    (which the engine holds anyway). A finished session is re-derived from the
    engine's state when asked for (:meth:`snapshot`).

    A delta carries compact *events*: per run, a JSON array of rows sent as a
    binary buffer (``delta["event_buffers"]`` lists the run ids in buffer
    order), each row one of::

        ["c", step, time, text, request_id, caller, node_id, name, type, args, kwargs]
        ["s", step, time, text, request, result, latency]
        ["f", step, time, text, request, error, latency]
        ["x", step, time, text]                       # a fatal failure's stamp

    Ids are sent once: every "c" row appends its ``request_id`` and ``node_id``
    to the front end's id table, and later rows name an open request or a
    caller still running by its index in that table (an ``int``); any other id
    is sent as a ``str`` (an id from before the feed started, or of a node that
    has finished). ``text`` (the stamp's identifier) is ``None`` when it is the
    engine's default: ``"<caller name> CREATED <name>"`` (``"START"`` for no
    caller), ``"Finished executing <name>"``, ``"Failed executing <name>"``.

    The front end's one decoder of these rows is ``widgets/src/rows.ts`` (its
    comment describes this same format: change both together); each decoded
    row updates one node record of the call tree the views draw, and "Download
    JSON" rebuilds the saved-state snapshots from those records exactly as the
    engine's ``ExecutionInfo`` records them. Events instead of
    serialised snapshots keep the cost to a few microseconds and about a
    hundred and fifty bytes per node, which is what lets the dashboard follow a
    10,000-node fan-out without slowing it down much.
    """

    MIN_INTERVAL = 0.1

    def __init__(self, session: Any, widget: _RTWidget) -> None:
        from ..engine import messages as m

        self.session = session
        self.widget = widget
        info = session.rt_state.info
        # Per run: how many of its requests (in call order) have been sent.
        self._sent: dict[str, int] = {run_id: len(r.request_ids) for run_id, r in info.runs.items()}
        # Requests sent while open -> their index in the id table (None: sent by id).
        # Requests from before the feed are in the starting payload; their ends are sent.
        self._open: dict[str, int | None] = {
            rid: None for r in info.runs.values() for rid in r.request_ids
            if info.request_forest._raw[rid][6] == "Open"
        }  # fmt: skip
        # Nodes still running that were sent in a "c" row -> their index (callers by index).
        self._running: dict[str, int] = {}
        self._table_size = 0  # how many ids the front end's table holds
        self._fatal: list[tuple[str, tuple]] = []  # (run id, stamp) of fatal failures
        self._runs: dict[str, None] = {}
        self._extras_dirty = True
        self._last_flush = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self.seq = 0
        self.closed = False
        #: Every delta's rows as sent, ``(run_id, JSON bytes)``: the finished
        #: session's ``data`` is assembled from them (see :meth:`feed_bytes`).
        self.chunks: list[tuple[str, bytes]] = []
        self._closed_at: float | None = None
        # Node messages change nothing here: flush() reads them from the session's state.
        self._quiet = (m.RequestCreation, m.RequestSuccess, m.Broadcast)
        self._handlers = {
            m.RequestFailure: self._failed,
            m.RunStarted: self._run_changed,
            m.RunFinished: self._run_changed,
            m.FatalFailure: self._fatal_failure,
            m.SessionStateChanged: self._state_changed,
        }
        # Inline: called on the session's loop as each message is published, where
        # the widget's comm lives; __call__ only appends a row (a few microseconds).
        self.subscription = session.publisher.subscribe(
            self, f"railtracks_nb.notebook.widgets:{id(widget)}", inline=True
        )

    # The publisher's callback, called for every message: the hot path.
    def __call__(self, message: Any) -> None:
        if self.closed:
            return
        if type(message) not in self._quiet:
            handler = self._handlers.get(type(message))
            if handler is None or handler(message) is _CLOSED:
                return
        if self._timer is None:
            self._schedule()

    def _failed(self, m: Any) -> None:
        self._extras_dirty = True  # the error list changed

    def _run_changed(self, m: Any) -> None:
        self._runs[m.run_id] = None
        self._extras_dirty = True

    def _fatal_failure(self, m: Any) -> None:
        self._run_changed(m)
        st = m.stamp
        self._fatal.append((m.run_id, (st.step, st.time, st.identifier)))

    def _state_changed(self, m: Any) -> object:
        self._extras_dirty = True
        if m.new == "IDLE":
            self._closed_at = m.stamp.time
            self.close(final=True)
            return _CLOSED
        return None

    def _schedule(self) -> None:
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
    def id_table_size(self) -> int:
        """How many ids the front end's table holds (two per "c" row sent)."""
        return self._table_size

    def _rows(self, info: Any) -> dict[str, list[Any]]:
        """The rows for everything that changed since the last flush, per run."""
        requests = info.request_forest._raw
        nodes = info.node_forest._raw
        by_run: dict[str, list[Any]] = {}
        opened, running = self._open, self._running
        ended: list[str] = []
        # Requests sent while open: the ones that have ended since.
        for request_id, index in opened.items():
            raw = requests.get(request_id)
            if raw is not None and raw[6] != "Open":
                ended.append(request_id)
                rows = by_run.get(raw[8])
                if rows is None:
                    rows = by_run[raw[8]] = []
                rows.append(_end_row(raw, nodes, request_id if index is None else index))
        for request_id in ended:
            if opened.pop(request_id) is not None:
                running.pop(requests[request_id][2], None)
        # New requests, in call order: a "c" row each, and its end if it has one.
        sent = self._sent
        size = self._table_size
        for run_id, run in info.runs.items():
            ids = run.request_ids
            start = sent.get(run_id, 0)
            if start == len(ids):
                continue
            sent[run_id] = len(ids)
            rows = by_run.get(run_id)
            if rows is None:
                rows = by_run[run_id] = []
            add = rows.append
            for request_id in ids[start:]:
                raw = requests.get(request_id)
                if raw is None:
                    continue
                first = raw
                while first[9] is not None:  # the snapshot taken when it was created
                    first = first[9]
                _, caller, node_id, args, kwargs, _, _, stamp, _, _ = first
                node = nodes.get(node_id)
                name, kind = (node[1], node[2]) if node is not None else (node_id, "Other")
                caller_ref = None if caller is None else running.get(caller, caller)
                text = stamp[2]
                if caller is None:
                    if text == f"START CREATED {name}":
                        text = None
                elif type(caller_ref) is int:
                    caller_node = nodes.get(caller)
                    if caller_node is not None and text == f"{caller_node[1]} CREATED {name}":
                        text = None
                add(
                    ("c", stamp[0], stamp[1], text, request_id, caller_ref, node_id, name, kind,
                     _fast_args(args), _fast_json(kwargs) if kwargs else {})
                )  # fmt: skip
                if raw[6] == "Open":
                    opened[request_id] = size
                    running[node_id] = size + 1
                else:
                    add(_end_row(raw, nodes, size))
                size += 2
        self._table_size = size
        for run_id, stamp in self._fatal:
            rows = by_run.get(run_id)
            if rows is None:
                rows = by_run[run_id] = []
            rows.append(("x", *stamp))
        self._fatal = []
        return by_run

    def flush(self) -> dict[str, Any] | None:
        """Send everything that changed since the last flush as one delta; returns it
        (or None)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._last_flush = time.monotonic()
        info = self.session.rt_state.info
        # The rows are a tree of fresh tuples, built, encoded and dropped at once.
        with collector_paused():
            by_run = self._rows(info)
            buffers = [_encode_rows(rows) for rows in by_run.values()]
        runs = self._runs
        self._runs = {}
        for run_id in by_run:
            runs[run_id] = None
        self.chunks.extend(zip(by_run, buffers, strict=True))
        if not runs and not self._extras_dirty:
            return None
        delta: dict[str, Any] = {
            "type": "delta",
            "runs": [info.run_header(r) for r in runs if r in info.runs],
            # The rows travel as binary buffers (one JSON array per run, in this
            # order): the comm sends them as they are, without encoding them again.
            "event_buffers": list(by_run),
        }
        if self._extras_dirty:
            self._extras_dirty = False
            delta["extras"] = _session_extras(self.session)
            delta["session"] = {"session_name": info.session_name, "end_time": info.end_time}
        self.seq += 1
        delta["seq"] = self.seq
        self.widget._send_delta(delta, buffers)
        return delta

    def snapshot(self) -> dict[str, Any]:
        """The complete current payload (``Session.to_payload()``)."""
        return self.session.to_payload()

    def feed_bytes(self, base: bytes) -> bytes:
        """Everything sent so far as one ``data`` value (:data:`FEED_FORMAT`, read
        back by :func:`railtracks_nb.notebook.export.expand_feed` and the front end's store):
        ``base`` (the compact JSON the widget started from) and every delta's rows,
        joined as bytes. Nothing is encoded again, so this costs a copy of what was
        sent, not a walk of the session (which takes about half a second at
        10,000 nodes)."""
        info = self.session.rt_state.info
        head = {
            "format": FEED_FORMAT,
            "seq": self.seq,
            # The session records its end just after it turns IDLE, which is when
            # this is called: that change's time stands for it until then.
            "meta": {
                "session_name": info.session_name,
                "end_time": info.end_time or self._closed_at,
            },
            "runs": [info.run_header(r) for r in info.runs],
            "extras": _session_extras(self.session),
        }
        text = json.dumps(head, ensure_ascii=False, allow_nan=False, default=str)
        parts = [text[:-1].encode(), b',"base":', base, b',"chunks":[']
        for i, (run_id, rows) in enumerate(self.chunks):
            parts += [b"," if i else b"", b"[", json.dumps(run_id).encode(), b",", rows, b"]"]
        parts.append(b"]}")
        return b"".join(parts)

    def close(self, final: bool = False) -> None:
        """Stop following the session; with ``final``, send what is still queued first."""
        if self.closed:
            return
        if final:
            self.flush()
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._open.clear()
        self._running.clear()
        try:
            self.session.publisher.unsubscribe(self.subscription)
        except KeyError:
            pass  # the publisher already dropped us (it is shutting down)
        if final:
            self.widget._finish_live(self)


def _end_row(raw: tuple, nodes: dict[str, tuple], request_ref: int | str) -> tuple:
    """The "s" or "f" row of a request that has ended (``raw``: its latest snapshot)."""
    _, _, node_id, _, _, output, status, stamp, _, _ = raw
    node = nodes.get(node_id)
    name = node[1] if node is not None else node_id
    latency = node[6] if node is not None else None
    text = stamp[2]
    if status == "Failed":
        if text == f"Failed executing {name}":
            text = None
        error = error_to_json(output) if isinstance(output, BaseException) else _fast_json(output)
        return ("f", stamp[0], stamp[1], text, request_ref, error, latency)
    if text == f"Finished executing {name}":
        text = None
    return ("s", stamp[0], stamp[1], text, request_ref, _fast_json(output), latency)


def _session_extras(session: Any) -> dict[str, Any]:
    """Our extras for ``session`` now, as ``Session.to_payload`` reports them."""
    return session.extras()


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
    #: The number of the last delta already folded into ``data``.
    payload_seq = traitlets.Int(0).tag(sync=True)
    #: The number of deltas sent (set when a live session closes). A front end that
    #: starts with ``seq > payload_seq`` (a reloaded page) asks for a full snapshot.
    seq = traitlets.Int(0).tag(sync=True)
    #: Whether deltas are still coming (a live session).
    live = traitlets.Bool(False).tag(sync=True)
    #: This widget's identity in the page. Front ends may hand each view its own
    #: wrapper of the model (anywidget 0.11 does), so the front end keys the data it
    #: has merged on this, and every view of the widget shares it.
    uid = traitlets.Unicode().tag(sync=True)
    #: Height of the view in pixels.
    height = traitlets.Int(560).tag(sync=True)
    #: Replay step shown (``None``: the latest). Set by the slider; settable from Python.
    step = traitlets.Int(None, allow_none=True).tag(sync=True)
    #: Node id selected in the front end (``None``: nothing).
    selected = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    _default_view = "dashboard"

    def __init__(
        self, obj: SessionSource | None = None, *, live: bool = True, **kwargs: Any
    ) -> None:
        kwargs.setdefault("view", self._default_view)
        kwargs.setdefault("uid", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self.updates_sent = 0
        self._payload_cache: dict[str, Any] | None = None
        self._base = b'{"format":"%s","meta":{},"runs":[]}' % COMPACT_FORMAT.encode()
        self._final: _LiveFeed | None = None
        self.last_delta: dict[str, Any] | None = None
        self._feed: _LiveFeed | None = None
        self.on_msg(self._on_front_end_msg)
        if obj is not None:
            self.set_source(obj, live=live)

    def set_source(self, obj: SessionSource, *, live: bool = True) -> None:
        """Show ``obj`` (anything ``rt.show`` accepts); follow it while it is live."""
        self.stop()
        self._final = None
        session = _live_session(obj) if live else None
        with self.hold_sync():
            self.payload_seq = 0
            self.seq = 0
            self.payload = payload_of(obj)
        if session is not None:
            self._feed = _LiveFeed(session, self)
            self.live = True
        else:
            self.live = False

    @property
    def payload(self) -> dict[str, Any]:
        """The session as the widget shows it: the payload it was given, or, for a
        live session, everything sent so far (assembled, not re-serialised)."""
        source = self._feed or self._final
        if source is not None:
            return source.snapshot()
        if self._payload_cache is None:
            data = json.loads(self.data or b"{}")
            if data.get("format") == COMPACT_FORMAT:
                data = expand_compact(data)
            elif data.get("format") == FEED_FORMAT:
                data = expand_feed(data)
            self._payload_cache = data
        return self._payload_cache

    @payload.setter
    def payload(self, value: dict[str, Any]) -> None:
        # Sent in the compact form: about a fifth of the JSON, rebuilt exactly by the front end.
        text = json.dumps(compact_payload(value), ensure_ascii=False, allow_nan=False, default=str)
        self._payload_cache = value
        self.data = text.encode("utf-8")
        self._base = self.data

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

    def _send_delta(self, delta: dict[str, Any], buffers: list[bytes]) -> None:
        self.updates_sent += 1
        self.last_delta = delta
        self.send(delta, buffers)

    def _finish_live(self, feed: _LiveFeed) -> None:
        # The finished session goes into the model's own state, so every view of it
        # (the magic's refreshed output, a second display, a reloaded page, saved
        # widget state, nbconvert) has all of it without asking the kernel. It is the
        # deltas as sent, joined (see _LiveFeed.feed_bytes): no re-encoding.
        self._feed = None
        self._final = feed
        data = feed.feed_bytes(self._base)
        feed.chunks = []  # now held by `data`
        with self.hold_sync():
            self.data = data
            self._payload_cache = None
            self.payload_seq = feed.seq
            self.seq = feed.seq
            self.live = False

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        # A view that missed deltas (it loaded after they were sent) asks for
        # everything: the same form as the finished `data`, as one binary buffer.
        if not (isinstance(content, dict) and content.get("type") == "sync"):
            return
        if self._feed is not None:
            self._feed.flush()
            data, seq = self._feed.feed_bytes(self._base), self._feed.seq
        else:
            data, seq = self.data, self.payload_seq
        self.send({"type": "reset", "seq": seq}, [data])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, plus a text summary and a static HTML/SVG picture of
        the session: what saved notebooks, nbconvert and viewers without a kernel
        (or without the widget manager) show instead of the live view."""
        from .display import static_html

        bundle = super()._repr_mimebundle_(**kwargs)
        # anywidget returns (data, metadata); ipywidgets returns data (or None when closed)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, None)
        if not isinstance(data, dict):
            return bundle
        payload = self.payload
        if not isinstance(payload.get("runs"), list):  # a live session before its first delta
            payload = {"session_id": "", "session_name": None, **payload, "runs": []}
        name = payload.get("session_name") or payload.get("session_id") or "a session"
        data = {
            **data,
            "text/plain": f"<{type(self).__name__} of {name!r}: needs a kernel to be live>",
            # Marked, so a notebook checker can tell this picture (taken whenever the
            # output was last rendered: at the start of a live run, or its end) from a
            # session's own display.
            "text/html": f'<div class="{WIDGET_PICTURE_CLASS}">{static_html(payload)}</div>',
        }
        return (data, metadata) if metadata is not None else data

    def close(self) -> None:
        self.stop()
        super().close()


class GraphView(_RTWidget):
    """The call tree: callers → callees, coloured by status (open, completed, failed).

    Pan (drag), zoom (wheel), fit, fold a subtree (the ± handle or a double
    click), click a box for its inputs, output, error, duration and stamps.
    Each box shows the node's name, duration and a summary of its first
    arguments. More than 5 same-named siblings fold into a group box
    ("fetch x300": outcomes, min/median/max duration, failures inside) that a
    click opens 50 at a time. Labels never go below 10 px on screen: the view
    pans (with a minimap) instead of shrinking them. A find box (names,
    argument text, statuses) and a "failures only" switch sit above the graph;
    past 1,500 visible boxes the view paints on a canvas.
    """

    _default_view = "graph"


class TimelineView(_RTWidget):
    """Bars from creation to completion on a time axis, stamps as ticks, one lane per node name.

    A lane of many calls is a concurrency band that opens into one bar per call
    when its name is clicked or when zooming in leaves few of them in view.
    Wheel zooms the time axis, drag pans, shift+wheel scrolls rows, hover a bar
    for its details.
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


def show(
    obj: SessionSource, *, live: bool = True, height: int | None = None
) -> SessionDashboard:
    """A :class:`SessionDashboard` for a live or finished ``Session``, an
    ``ExecutionInfo``, a ``Flow`` (its latest run), a loaded saved session, a
    payload dict or the path of a saved session file.

    A session that is still open is followed live unless ``live=False``.
    """
    kwargs: dict[str, Any] = {}
    if height is not None:
        kwargs["height"] = height
    return SessionDashboard(obj, live=live, **kwargs)

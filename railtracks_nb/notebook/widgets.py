"""Live notebook widgets (anywidget): the call graph, the stamp timeline, the
session state, and a dashboard of all three with a replay slider.

Every widget draws a session as its event rows (:mod:`railtracks_nb.notebook.wire`).
The whole session is sent once, in the compact form, as JSON bytes in the ``data``
trait (``widget.payload`` reads it back as a saved-state dict); after that, for a
live :class:`Session`, a :class:`~railtracks_nb.notebook.feed._LiveFeed`
subscribed to the session's publisher sends *deltas* (only the rows and run
headers that changed), coalesced to at most one per ``MIN_INTERVAL`` (0.1 s) plus
a final one when the session closes. When the session closes ``data`` holds the
starting snapshot and every delta, so a notebook saved with widget state holds
the final picture.

Everything after the data arrives (pan, zoom, folding, clicks, replay) runs in
the browser, so it keeps working while the kernel is busy.

The front-end code is ``widgets/src`` bundled into ``railtracks_nb/static``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .compact import compact_payload
from .feed import _LiveFeed
from .sources import SessionSource, payload_of, rows_source
from .wire import COMPACT_FORMAT, FEED_FORMAT, expand_compact, expand_feed, snapshot

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


def _live_session(obj: object) -> Any | None:
    """The session to follow live, if ``obj`` is (or wraps) one that is still open."""
    from ..engine.session import Session

    if (
        not isinstance(obj, Session)
        and hasattr(obj, "last_session")
        and not hasattr(obj, "to_payload")
    ):
        obj = getattr(obj, "last_session")  # noqa: B009 (a Flow: its latest session)
    if isinstance(obj, Session) and not obj.publisher.is_closed:
        return obj
    return None


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
            source = rows_source(obj)
            if source is None:  # a payload dict or a foreign file: its JSON, compacted by shape
                self.payload = payload_of(obj)
            else:  # a session we hold: its own rows
                self._set_data(snapshot(*source))
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
        self._set_data(compact_payload(value))
        self._payload_cache = value

    def _set_data(self, compact: dict[str, Any]) -> None:
        text = json.dumps(compact, ensure_ascii=False, allow_nan=False, default=str)
        self._payload_cache = None
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

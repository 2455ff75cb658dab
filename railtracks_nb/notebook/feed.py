"""The live feed: a session's new event rows, sent to a widget as coalesced deltas.

The feed keeps neither the session's messages nor rows made from them: the
session's own state (its ``ExecutionInfo``, kept up to date by ``RTState``)
records every node and request. The publisher calls the feed for every
message; for node messages it does nothing but make sure a flush is due.
:meth:`_LiveFeed.flush` then reads what changed since the last flush from that
state (a :class:`~railtracks_nb.execution.rows.RowReader`), encodes it for the
wire (:mod:`railtracks_nb.notebook.wire`) and drops it. It runs at most once per
``MIN_INTERVAL`` (a timer on the running loop), so a fan-out of 10,000 nodes
sends a handful of deltas, and the session closing (``SessionStateChanged`` to
``IDLE``) forces a final one.

So the kernel-side memory of a feed does not grow with the session: a cursor per
run, and the requests sent as open whose end is not sent yet.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from ..core.encoding import collector_paused
from ..execution.rows import RowReader
from .wire import FEED_FORMAT, RowEncoder, encode_rows

if TYPE_CHECKING:
    from .widgets import _RTWidget

__all__ = ["_LiveFeed"]

_CLOSED = object()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _LiveFeed:
    """Turns a live session into coalesced, incremental deltas for one widget.

    A delta is ``{"type": "delta", "seq", "runs": <changed run headers>,
    "event_buffers": <run ids>, "extras"?, "session"?}`` with, per run, its new
    rows as a JSON array in a binary buffer (in ``event_buffers`` order); one id
    table spans every delta (see :mod:`railtracks_nb.notebook.wire`). Rows
    instead of serialised snapshots keep the cost to a few microseconds and about
    a hundred and fifty bytes per node, which is what lets the dashboard follow a
    10,000-node fan-out without slowing it down much.
    """

    MIN_INTERVAL = 0.1

    def __init__(self, session: Any, widget: _RTWidget) -> None:
        from ..engine import messages as m

        self.session = session
        self.widget = widget
        info = session.rt_state.info
        # What exists now is in the widget's starting snapshot: read only what comes next.
        self._reader = RowReader(info, from_now=True)
        self._encoder = RowEncoder()
        nodes, requests = info.node_forest._raw, info.request_forest._raw
        for request_id in self._reader.open:  # their ends come by id, their names known
            node_id = requests[request_id][2]
            node = nodes.get(node_id)
            self._encoder.know(request_id, node_id, node[1] if node is not None else node_id)
        self._fatal: list[tuple[str, tuple]] = []  # (run id, stamp) of fatal failures
        self._runs: dict[str, None] = {}
        self._extras_dirty = True
        self._last_flush = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self.seq = 0
        self.closed = False
        #: Every delta's rows as sent, ``(run_id, JSON bytes)``: the finished
        #: session's ``data`` is assembled from them (see :meth:`feed_bytes`).
        self.chunks: list[tuple[str, bytes]] = []
        self._closed_at: float | None = None
        self._handlers = {
            m.RequestFailure: self._failed,
            m.RunStarted: self._run_changed,
            m.RunFinished: self._run_changed,
            m.FatalFailure: self._fatal_failure,
            m.SessionStateChanged: self._state_changed,
        }
        # Inline: called on the session's loop as each message is published, where
        # the widget's comm lives; __call__ only notes what changed (a few microseconds).
        # Node messages change nothing here (flush() reads the calls from the session's
        # state, paced by its own timer while a run goes on), so they are not wanted:
        # then the session records its calls without building them.
        self.subscription = session.publisher.subscribe(
            self,
            f"railtracks_nb.notebook.widgets:{id(widget)}",
            inline=True,
            ignores=(m.RequestCreation, m.RequestSuccess, m.Broadcast),
        )
        if self._running(info):  # shown in the middle of a run: follow it from now
            self._schedule()

    # The publisher's callback: run, lifecycle and failure messages.
    def __call__(self, message: Any) -> None:
        if self.closed:
            return
        handler = self._handlers.get(type(message))
        if handler is None or handler(message) is _CLOSED:
            return
        if self._timer is None or self._timer_loop is not _running_loop():
            self._schedule()  # none due, or due on a loop that has ended (a past run's)

    @staticmethod
    def _running(info: Any) -> bool:
        return any(run.status == "Open" for run in info.runs.values())

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
        """Flush now if the last flush was long enough ago, and time the next flush
        while a run goes on (no message says a node was called)."""
        wait = self._last_flush + self.MIN_INTERVAL - time.monotonic()
        if wait <= 0:
            self.flush()
            if not self._running(self.session.rt_state.info):
                return
            wait = self.MIN_INTERVAL
        loop = _running_loop()
        if loop is None:
            return  # no loop to time with: the next message or the final flush sends it
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(wait, self._on_timer)
        self._timer_loop = loop

    def _on_timer(self) -> None:
        self._timer = None
        if not self.closed:
            self._schedule()

    @property
    def id_table_size(self) -> int:
        """How many ids the front end's table holds (two per "c" row sent)."""
        return self._encoder.size

    def _rows(self, info: Any) -> dict[str, list[Any]]:
        """The wire rows for everything that changed since the last flush, per run:
        ends of requests sent open, new requests in call order, fatal stamps."""
        by_run: dict[str, list[Any]] = {}
        for run_id, row in self._reader.ended():
            by_run.setdefault(run_id, []).append(row)
        for run_id in info.runs:
            rows = self._reader.new(run_id)
            if rows:
                by_run.setdefault(run_id, []).extend(rows)
        for run_id, stamp in self._fatal:
            by_run.setdefault(run_id, []).append(["x", *stamp])
        self._fatal = []
        encode = self._encoder.encode
        return {run_id: encode(rows) for run_id, rows in by_run.items()}

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
            buffers = [encode_rows(rows) for rows in by_run.values()]
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
            delta["extras"] = self.session.extras()
            delta["session"] = {"session_name": info.session_name, "end_time": info.end_time}
        self.seq += 1
        delta["seq"] = self.seq
        self.widget._send_delta(delta, buffers)
        return delta

    def snapshot(self) -> dict[str, Any]:
        """The complete current payload (``Session.to_payload()``)."""
        return self.session.to_payload()

    def feed_bytes(self, base: bytes) -> bytes:
        """Everything sent so far as one ``data`` value (:data:`FEED_FORMAT`): ``base``
        (the compact JSON the widget started from) and every delta's rows, joined as
        bytes. Nothing is encoded again, so this costs a copy of what was sent, not a
        walk of the session (which takes about half a second at 10,000 nodes)."""
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
            "extras": self.session.extras(),
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
        self._reader.open.clear()
        try:
            self.session.publisher.unsubscribe(self.subscription)
        except KeyError:
            pass  # the publisher already dropped us (it is shutting down)
        if final:
            self.widget._finish_live(self)

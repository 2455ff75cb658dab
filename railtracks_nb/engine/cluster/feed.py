"""The live feed of a batch: what each worker's session sends back while it runs.

Rows travel through Dask's own event channel: a worker calls
``Worker.log_event(topic, row)`` and the notebook's client receives it through
``Client.subscribe_topic(topic, handler)``. Why this channel rather than
``distributed.Pub``/``Sub`` or a ``distributed.Queue``:

- it rides the worker's existing batched stream to the scheduler: no extra
  connection, no round trip per row, and it is thread-safe (a session's rows
  leave from the worker thread that runs it);
- the scheduler pushes rows to the subscribed client as they arrive (a
  ``Queue`` would make the client poll the scheduler, one RPC per read), and it
  is a stable, non-experimental API (``Pub``/``Sub`` is marked experimental and
  sets up a publisher per worker per name);
- the scheduler keeps the last ``distributed.admin.low-level-log-length``
  (1,000) rows of a topic, so its memory is bounded, and rows a subscriber
  missed can be read again with ``Client.get_events``.

A row is a small dict of msgpack-able values (``Worker.log_event`` refuses
anything else)::

    {"kind": "start", "index": i, "session_id": s, "worker": addr, "time": t}
    {"kind": "progress", "index": i, "session_id": s, "worker": addr, "time": t,
     "payload": "<the session's saved-state payload, JSON>"}
    {"kind": "end", "index": i, "session_id": s, "worker": addr, "time": t,
     "status": "Completed" | "Failed" | "Interrupted", "payload": "<JSON>" | None}

``progress`` rows are coalesced: at most one per ``interval`` seconds per
session, and never more often than twenty times the time the last one took to
encode, so a large session does not spend its time describing itself. Sessions
shorter than ``interval`` send only ``start`` and ``end``. The final payload of a
session that finished normally comes back with its task's result, not here.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

#: Seconds between two ``progress`` rows of one session, at least.
DEFAULT_INTERVAL = 0.25


def topic_of(batch_id: str) -> str:
    """The event topic of one batch."""
    return f"railtracks-batch-{batch_id}"


class RowSender:
    """Sends one session's rows from its worker, coalescing progress."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        head: dict[str, Any],
        payload_json: Callable[[], str],
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self._send = send
        self._head = head
        self._payload_json = payload_json
        self.interval = interval
        self._dirty = False
        self._next = time.monotonic() + interval
        self.sent = 0

    def row(self, kind: str, **fields: Any) -> None:
        self._send({**self._head, "kind": kind, "time": time.time(), **fields})
        self.sent += 1

    def changed(self, _message: Any = None) -> None:
        """A publisher subscriber: something changed in the session (quick: a flag)."""
        self._dirty = True

    def tick(self) -> None:
        """Send a ``progress`` row if something changed and one is due."""
        now = time.monotonic()
        if not self._dirty or now < self._next:
            return
        self._dirty = False
        started = time.monotonic()
        text = self._payload_json()
        cost = time.monotonic() - started
        self.row("progress", payload=text)
        self._next = time.monotonic() + max(self.interval, 20 * cost)


class RowReceiver:
    """The client's end: rows pushed by the scheduler, queued for the notebook's loop.

    ``Client.subscribe_topic`` calls the handler on the client's own event loop
    (a thread of its own for a synchronous client); the batch runner drains the
    queue on the notebook's loop, so nothing else is shared between threads.
    """

    def __init__(self) -> None:
        self.rows: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.received = 0

    def __call__(self, event: Any) -> None:
        _, row = event
        if isinstance(row, dict):
            self.received += 1
            self.rows.put(row)

    def drain(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            try:
                out.append(self.rows.get_nowait())
            except queue.Empty:
                return out


def subscribe(client: Any, topic: str, receiver: RowReceiver, wait: float = 10.0) -> None:
    """Subscribe ``receiver`` to ``topic`` and return once rows reach it.

    The subscription travels on the client's batched stream, so a row logged
    right after may reach the scheduler first; this logs a ``hello`` row until
    one comes back, so no worker's row can be missed afterwards.
    """
    client.subscribe_topic(topic, receiver)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        client.log_event(topic, {"kind": "hello"})
        until = time.monotonic() + 0.1
        while time.monotonic() < until:
            for row in receiver.drain():
                if row.get("kind") == "hello":
                    return
            time.sleep(0.005)
    raise TimeoutError(f"the Dask scheduler did not echo events on {topic!r} within {wait} s")


def unsubscribe(client: Any, topic: str) -> None:
    """Stop receiving ``topic`` and let the scheduler forget its rows."""
    try:
        client.unsubscribe_topic(topic)
    except Exception:  # the client closed under us: nothing to undo
        pass

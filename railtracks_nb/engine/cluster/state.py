"""What the notebook knows about a batch while it runs and after: one
:class:`InputState` per input, and the counts and throughput of the whole.

The batch runner updates it from the workers' rows and the tasks' results, on
the notebook's loop; displays read it (:class:`BatchObserver`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

#: The states an input goes through. ``pending``: not started on a worker yet.
PENDING, RUNNING, COMPLETED, FAILED, INTERRUPTED, CANCELLED = (
    "pending",
    "running",
    "completed",
    "failed",
    "interrupted",
    "cancelled",
)
FINAL = frozenset({COMPLETED, FAILED, INTERRUPTED, CANCELLED})


@dataclass
class InputState:
    """One input of a batch: its current session, where it ran, how it ended.

    ``attempts`` counts the sessions started for it (more than one when a
    worker died and Dask ran it again); ``lost_sessions`` are the ids of the
    earlier ones, saved as ``Interrupted``.
    """

    index: int
    status: str = PENDING
    session_id: str | None = None
    worker: str | None = None
    started: float | None = None
    ended: float | None = None
    attempts: int = 0
    error: str | None = None
    lost_sessions: list[str] = field(default_factory=list)
    #: The latest payload of its session (JSON text), for the drill-down.
    payload_json: str | None = None
    #: Where its session was saved, when saving is on.
    path: str | None = None
    #: How its current session ended, as its worker's ``end`` row said (``None``: not yet).
    reported_end: str | None = None

    def payload(self) -> dict[str, Any] | None:
        """The latest saved-state payload of its session (``None``: nothing yet)."""
        return json.loads(self.payload_json) if self.payload_json else None

    def row(self) -> dict[str, Any]:
        """A JSON-ready summary (what the batch widget's table shows)."""
        duration = (self.ended or time.time()) - self.started if self.started is not None else None
        return {
            "index": self.index,
            "status": self.status,
            "session_id": self.session_id,
            "worker": self.worker,
            "duration": duration,
            "attempts": self.attempts,
            "error": self.error,
        }


class BatchState:
    """Every input of one batch, and what the batch as a whole has done."""

    def __init__(self, batch_id: str, flow_name: str, count: int, client: str) -> None:
        self.batch_id = batch_id
        self.flow_name = flow_name
        self.client = client
        self.inputs = [InputState(i) for i in range(count)]
        self.started = time.time()
        self.ended: float | None = None
        self.cancelled = False
        self.rows_received = 0

    def __len__(self) -> int:
        return len(self.inputs)

    def counts(self) -> dict[str, int]:
        """How many inputs are in each state."""
        counts = dict.fromkeys((PENDING, RUNNING, COMPLETED, FAILED, INTERRUPTED, CANCELLED), 0)
        for item in self.inputs:
            counts[item.status] += 1
        return counts

    def throughput(self) -> float:
        """Sessions finished per second since the batch started."""
        done = sum(1 for item in self.inputs if item.status in (COMPLETED, FAILED))
        elapsed = (self.ended or time.time()) - self.started
        return done / elapsed if elapsed > 0 else 0.0

    @property
    def finished(self) -> bool:
        return self.ended is not None

    def summary(self) -> dict[str, Any]:
        """Counts, throughput, times and per-worker tallies, JSON-ready."""
        workers: dict[str, int] = {}
        for item in self.inputs:
            if item.worker is not None and item.status in (COMPLETED, FAILED):
                workers[item.worker] = workers.get(item.worker, 0) + 1
        return {
            "batch_id": self.batch_id,
            "flow_name": self.flow_name,
            "total": len(self.inputs),
            "counts": self.counts(),
            "throughput": self.throughput(),
            "elapsed": (self.ended or time.time()) - self.started,
            "finished": self.finished,
            "cancelled": self.cancelled,
            "workers": workers,
            "rows_received": self.rows_received,
        }

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts().items() if v)
        return f"<BatchState {self.batch_id[:8]} of {self.flow_name!r}: {counts}>"


class BatchObserver(Protocol):
    """What a progress display implements (the notebook's batch dashboard does)."""

    def refresh(self, state: BatchState, changed: set[int]) -> None:
        """Called on the notebook's loop, at most every few tenths of a second and
        once at the end, with the inputs whose state changed since the last call."""

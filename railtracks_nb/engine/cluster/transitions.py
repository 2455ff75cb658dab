"""How a batch's inputs move through their states, from what the notebook hears.

An input is ``pending`` until its worker's ``start`` row, then ``running`` until
its task's result (``completed``, ``failed``, or ``interrupted`` when the task
was cancelled on its worker), its task's error, or the batch's cancellation
(``interrupted`` if its session had begun, else ``cancelled``). A worker that
dies mid-session shows as a second ``start`` row for the same input (Dask ran
its task again) or as a ``KilledWorker`` error: the session it was running is
saved as ``Interrupted`` and, with ``retry_lost``, the input goes on in its new
session; without, it ends there with a :class:`WorkerLostError`.

:class:`InputTracker` keeps each input's value or error (what ``flow.map``
returns) and which inputs changed since the display last drew them. The batch
runner feeds it rows and results, on the notebook's loop only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, cast

from .errors import BatchCancelledError, WorkerLostError
from .saving import BatchSaver
from .state import CANCELLED, COMPLETED, FAILED, FINAL, INTERRUPTED, RUNNING, BatchState

logger = logging.getLogger("RT.Batch")


def cancelled_error(index: int) -> BatchCancelledError:
    """What an input of a cancelled batch holds in place of its value."""
    return BatchCancelledError(f"input {index}: batch cancelled")


class InputTracker:
    """The inputs of one batch as their rows and results arrive.

    ``cancel_task(index)`` cancels an input's task (its session was lost and
    ``retry_lost`` is off); ``saver`` queues the sessions to save as they end.
    """

    def __init__(
        self,
        state: BatchState,
        saver: BatchSaver,
        *,
        retry_lost: bool,
        cancel_task: Callable[[int], None],
    ) -> None:
        self.state = state
        self.saver = saver
        self.retry_lost = retry_lost
        self._cancel_task = cancel_task
        #: Each input's value, or its error when it has one (``errors`` maps those).
        self.values: list[Any] = [None] * len(state)
        self.errors: dict[int, BaseException] = {}
        #: Inputs changed since the display last took them.
        self.changed: set[int] = set()

    def take_rows(self, rows: list[dict[str, Any]]) -> None:
        """Apply the rows the workers sent (in the order they came)."""
        for row in rows:
            index = row.get("index")
            if not isinstance(index, int) or not 0 <= index < len(self.state.inputs):
                continue
            self.state.rows_received += 1
            item = self.state.inputs[index]
            kind, session_id = row.get("kind"), row.get("session_id")
            if kind == "start":
                self._started(index, row)
            elif session_id != item.session_id:
                continue  # a row of a lost attempt, arriving late
            elif kind == "progress":
                item.payload_json = row.get("payload")
            elif kind == "end":
                item.reported_end = row.get("status")
                if row.get("payload"):  # an interrupted session: its result never comes
                    item.payload_json = row["payload"]
                if item.reported_end == "Interrupted" and item.status == RUNNING:
                    if self.state.cancelled:
                        self.interrupt(index, cancelled_error(index))
            self.changed.add(index)

    def _started(self, index: int, row: dict[str, Any]) -> None:
        item = self.state.inputs[index]
        if item.status in FINAL:
            return
        if (
            item.status == RUNNING
            and item.session_id != row.get("session_id")
            and item.reported_end is not None
        ):
            # Its session had ended, but the worker holding the result died before
            # the notebook fetched it: Dask computes it again (whatever retry_lost says).
            logger.info(
                "input %d: the result of session %s was lost with worker %s; running it again",
                index,
                item.session_id,
                item.worker,
            )
            item.lost_sessions.append(item.session_id or "")
        elif item.status == RUNNING and item.session_id != row.get("session_id"):
            # The same input started again: the worker running it died and Dask
            # rescheduled the task. That session ends here, interrupted.
            lost = self._lost(index)
            if not self.retry_lost:
                self._cancel_task(index)
                self.interrupt(index, lost)
                return
            self.saver.interrupted(index, lost=True)
            item.lost_sessions.append(item.session_id or "")
            logger.warning("%s; running it again on %s", lost, row.get("worker"))
        item.status = RUNNING
        item.session_id = row.get("session_id")
        item.worker = row.get("worker")
        item.started = row.get("time")
        item.attempts += 1
        item.payload_json = None
        item.reported_end = None

    def _lost(self, index: int) -> WorkerLostError:
        item = self.state.inputs[index]
        return WorkerLostError(
            f"input {index}: worker {item.worker} died while running session "
            f"{item.session_id} (saved as Interrupted)"
        )

    def finished(self, index: int, envelope: dict[str, Any]) -> None:
        item = self.state.inputs[index]
        if item.status in FINAL:
            return
        if item.status == RUNNING and item.session_id != envelope["session_id"]:
            # We missed this attempt's start row: the session we knew was lost.
            self.saver.interrupted(index, lost=True)
            item.lost_sessions.append(item.session_id or "")
            item.attempts += 1
        item.attempts = max(item.attempts, 1)
        item.session_id = envelope["session_id"]
        item.worker = envelope["worker"]
        item.started = envelope["started"]
        item.ended = envelope["ended"]
        item.payload_json = envelope["payload"]
        status = envelope["status"]
        if status == "Completed":
            item.status = COMPLETED
            self.values[index] = envelope.get("value")
        elif status == "Failed":
            item.status = FAILED
            error = cast(BaseException, envelope.get("error"))  # the exception the worker sent
            self._record_error(index, error, f"{type(error).__name__}: {error}")
        else:  # the task was cancelled on its worker
            item.status = INTERRUPTED
            error = cancelled_error(index)
            self._record_error(index, error, str(error))
        self.saver.ended(index, status)
        self.changed.add(index)

    def errored(self, index: int, exception: BaseException | None) -> None:
        item = self.state.inputs[index]
        if item.status in FINAL:
            return
        if type(exception).__name__ == "KilledWorker" or item.status == RUNNING:
            error: BaseException = self._lost(index)
            error.__cause__ = exception
            self.interrupt(index, error)
            return
        # The task itself failed before its session began (not the flow: its errors
        # come back as values), e.g. an input that could not be unpickled there.
        error = exception or RuntimeError(f"input {index}: the task failed")
        item.status = FAILED
        self._record_error(index, error, f"{type(error).__name__}: {error}")
        self.changed.add(index)

    def interrupt(self, index: int, error: BaseException) -> None:
        """End an input whose session did not finish: saved as Interrupted if it began."""
        item = self.state.inputs[index]
        started = item.status == RUNNING
        item.status = INTERRUPTED if started else CANCELLED
        item.ended = time.time()
        self._record_error(index, error, str(error))
        if started:
            self.saver.interrupted(index)
        self.changed.add(index)

    def _record_error(self, index: int, error: BaseException, message: str) -> None:
        """An input that ended without a value: ``error`` stands in its place in the
        results; ``message`` is what its row in the display says."""
        self.state.inputs[index].error = message
        self.errors[index] = error
        self.values[index] = error

"""Running one session of a flow per input on a Dask cluster: :func:`amap_flow`.

Per batch (paid once): the flow is checked and pickled, scattered to every
worker once, the row feed is subscribed, and (without a ``client``) a
``LocalCluster`` of processes is started and closed. Per session: one task
(``client.map`` submits them together), a ``start`` and an ``end`` row, the
result's trip back, and, with saving on, one write into the notebook's store.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any, cast

import cloudpickle

from ...execution.state import EXTRAS_KEY
from ...store.persistence import save_payload
from .errors import BatchCancelledError, WorkerLostError
from .feed import DEFAULT_INTERVAL, RowReceiver, subscribe, topic_of, unsubscribe
from .local_cluster import (
    close_cluster,
    effective_save_state,
    scheduler_address,
    shipped_flow,
    start_local_cluster,
)
from .progress import observer_for
from .result import BatchResult
from .shipping import check_flow, check_inputs
from .state import (
    CANCELLED,
    COMPLETED,
    FAILED,
    FINAL,
    INTERRUPTED,
    RUNNING,
    BatchObserver,
    BatchState,
)
from .worker import load_flow, run_input

logger = logging.getLogger("RT.Batch")

TICK = 0.05
#: Seconds between two refreshes of the display, at most.
REFRESH = 0.2
#: Seconds a cancelled batch waits for its running sessions' last rows.
CANCEL_GRACE = 3.0


class _Batch:
    """The notebook side of one batch while it runs."""

    def __init__(
        self,
        flow: Any,
        inputs: list[tuple[Any, ...]],
        client: Any,
        *,
        save: bool,
        retry_lost: bool,
        observer: BatchObserver | None,
        live_interval: float,
    ) -> None:
        self.flow = flow
        self.inputs = inputs
        self.client = client
        self.save = save
        self.retry_lost = retry_lost
        self.observer = observer
        self.live_interval = live_interval
        self.batch_id = uuid.uuid4().hex
        self.topic = topic_of(self.batch_id)
        self.state = BatchState(self.batch_id, flow.name, len(inputs), scheduler_address(client))
        self.receiver = RowReceiver()
        self.values: list[Any] = [None] * len(inputs)
        self.errors: dict[int, BaseException] = {}
        self.futures: list[Any] = []
        self.done: list[int] = []  # filled from the client's thread: list.append is atomic
        self.changed: set[int] = set()
        self.to_save: list[tuple[int, dict[str, Any]]] = []
        self._last_refresh = 0.0

    # -- names --------------------------------------------------------------------
    def session_name(self, index: int) -> str:
        width = len(str(max(len(self.inputs) - 1, 0)))
        return f"{self.flow.name}-{self.batch_id[:8]}-{index:0{width}d}"

    # -- running --------------------------------------------------------------------
    async def run(self) -> None:
        shipped = shipped_flow(self.flow)
        await asyncio.to_thread(subscribe, self.client, self.topic, self.receiver)
        flow_future = None
        try:
            # The flow is a task of its own, not scattered data: if the worker holding
            # it dies, the scheduler computes it again from the bytes (scattered data
            # would be lost, and every input waiting on it with it).
            flow_future = self.client.submit(
                load_flow,
                cloudpickle.dumps(shipped),
                key=f"railtracks-flow-{self.batch_id[:12]}",
                pure=False,
            )
            n = len(self.inputs)
            self.futures = self.client.map(
                run_input,
                range(n),
                self.inputs,
                [self.session_name(i) for i in range(n)],
                key=[f"railtracks-{self.batch_id[:12]}-{i}" for i in range(n)],
                pure=False,
                flow=flow_future,
                batch_id=self.batch_id,
                topic=self.topic,
                live_interval=self.live_interval,
            )
            for index, future in enumerate(self.futures):
                future.add_done_callback(lambda _f, i=index: self.done.append(i))
            self._refresh(force=True)
            try:
                while not all(item.status in FINAL for item in self.state.inputs):
                    await asyncio.sleep(TICK)
                    await self._step()
            except BaseException:  # an interrupt, a cancelled cell, or our own bug
                await self._cancel()
                raise
        finally:
            self.state.ended = self.state.ended or time.time()
            await self._save_pending()
            self._refresh(force=True)
            unsubscribe(self.client, self.topic)
            for future in self.futures:
                future.release()
            if flow_future is not None:
                flow_future.release()

    async def _step(self) -> None:
        self._take_rows()
        done, self.done[:] = self.done[:], []
        if done:
            await self._take_results(done)
        await self._save_pending()
        self._refresh()

    # -- rows -----------------------------------------------------------------------
    def _take_rows(self) -> None:
        for row in self.receiver.drain():
            index = row.get("index")
            if not isinstance(index, int) or not 0 <= index < len(self.inputs):
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
                        error = BatchCancelledError(f"input {index}: batch cancelled")
                        self._interrupt(index, error)
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
                self.futures[index].cancel()
                self._interrupt(index, lost)
                return
            self._save_interrupted(index, lost=True)
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

    # -- results --------------------------------------------------------------------
    async def _take_results(self, indices: list[int]) -> None:
        finished = [i for i in indices if self.futures[i].status == "finished"]
        envelopes: list[Any] = []
        if finished:
            envelopes = await asyncio.to_thread(
                self.client.gather, [self.futures[i] for i in finished], errors="skip"
            )
            if len(envelopes) != len(finished):  # a result lost with its worker: ask each
                envelopes = [await self._one_result(i) for i in finished]
        for index, envelope in zip(finished, envelopes, strict=True):
            if envelope is not None:
                self._finished(index, envelope)
        for index in indices:
            future = self.futures[index]
            if future.status == "error":
                exception = await asyncio.to_thread(future.exception)
                self._errored(index, exception)
            elif future.status == "cancelled" and self.state.inputs[index].status not in FINAL:
                self._interrupt(index, BatchCancelledError(f"input {index}: batch cancelled"))

    async def _one_result(self, index: int) -> Any:
        try:
            return await asyncio.to_thread(self.futures[index].result)
        except Exception as exc:  # the worker holding it died too
            self._errored(index, exc)
            return None

    def _finished(self, index: int, envelope: dict[str, Any]) -> None:
        item = self.state.inputs[index]
        if item.status in FINAL:
            return
        if item.status == RUNNING and item.session_id != envelope["session_id"]:
            # We missed this attempt's start row: the session we knew was lost.
            self._save_interrupted(index, lost=True)
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
            self.errors[index] = error
            self.values[index] = error
            item.error = f"{type(error).__name__}: {error}"
        else:  # the task was cancelled on its worker
            item.status = INTERRUPTED
            error = BatchCancelledError(f"input {index}: batch cancelled")
            self.errors[index] = error
            self.values[index] = error
            item.error = str(error)
        self._queue_save(index, status)
        self.changed.add(index)

    def _errored(self, index: int, exception: BaseException | None) -> None:
        item = self.state.inputs[index]
        if item.status in FINAL:
            return
        if type(exception).__name__ == "KilledWorker" or item.status == RUNNING:
            error: BaseException = self._lost(index)
            error.__cause__ = exception
            self._interrupt(index, error)
            return
        # The task itself failed before its session began (not the flow: its errors
        # come back as values), e.g. an input that could not be unpickled there.
        error = exception or RuntimeError(f"input {index}: the task failed")
        item.status = FAILED
        item.error = f"{type(error).__name__}: {error}"
        self.errors[index] = error
        self.values[index] = error
        self.changed.add(index)

    def _interrupt(self, index: int, error: BaseException) -> None:
        """End an input whose session did not finish: saved as Interrupted if it began."""
        item = self.state.inputs[index]
        started = item.status == RUNNING
        item.status = INTERRUPTED if started else CANCELLED
        item.ended = time.time()
        item.error = str(error)
        self.errors[index] = error
        self.values[index] = error
        if started:
            self._save_interrupted(index)
        self.changed.add(index)

    # -- saving ---------------------------------------------------------------------
    def _interrupted_payload(self, index: int) -> dict[str, Any]:
        item = self.state.inputs[index]
        payload = item.payload() if item.payload_json else None
        now = time.time()
        if payload is None:
            payload = {
                "flow_name": self.flow.name,
                "flow_id": self.flow.equality_hash(),
                "session_id": item.session_id,
                "session_name": self.session_name(index),
                "start_time": item.started or now,
                "end_time": now,
                "runs": [],
                EXTRAS_KEY: {
                    "format": 1,
                    "flow_name": self.flow.name,
                    "metadata": {
                        **self.flow.metadata,
                        "batch_id": self.batch_id,
                        "input_index": index,
                        "worker": item.worker,
                    },
                },
            }
        extras = payload.setdefault(EXTRAS_KEY, {})
        extras["status"] = "Interrupted"
        if payload.get("end_time") is None:
            payload["end_time"] = now
        return payload

    def _save_interrupted(self, index: int, *, lost: bool = False) -> None:
        """Queue the save of an input's current session as ``Interrupted``. A ``lost``
        one (its input runs again) is named ``<name>-lost<n>``, so the session that
        runs next keeps the input's own name and file."""
        item = self.state.inputs[index]
        if not self.save or not item.session_id:
            return
        payload = self._interrupted_payload(index)
        if lost:
            payload["session_name"] = (
                f"{self.session_name(index)}-lost{len(item.lost_sessions) + 1}"
            )
        self.to_save.append((index, payload))

    def _queue_save(self, index: int, status: str) -> None:
        item = self.state.inputs[index]
        if not self.save or not item.payload_json:
            return
        payload = item.payload() or {}
        if status == "Interrupted":
            payload = self._interrupted_payload(index)
        extras = payload.setdefault(EXTRAS_KEY, {})
        metadata = extras.setdefault("metadata", {})
        if item.attempts > 1:
            metadata["attempt"] = item.attempts
            metadata["retry_of"] = item.lost_sessions[-1]
        self.to_save.append((index, payload))

    async def _save_pending(self) -> None:
        if not self.to_save:
            return
        batch, self.to_save = self.to_save, []
        saved = await asyncio.to_thread(self._write, batch)
        for index, path in saved:
            self.state.inputs[index].path = path

    def _write(self, batch: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, str]]:
        out = []
        for index, payload in batch:
            try:
                path = save_payload(
                    payload, payload.get("session_name") or self.session_name(index)
                )
            except Exception:  # a session that cannot be saved is never lost in silence
                logger.exception("input %d: its session could not be saved", index)
                continue
            out.append((index, str(path)))
        return out

    # -- cancelling -----------------------------------------------------------------
    async def _cancel(self) -> None:
        """Cancel every task; wait a little for the running sessions to close as
        interrupted on their workers; save what each got to as interrupted."""
        self.state.cancelled = True
        open_futures = [f for f in self.futures if not f.done()]
        if open_futures:
            try:
                self.client.cancel(open_futures)
            except Exception:  # a client closing under us: its tasks go with it
                logger.debug("cancelling the batch's tasks failed", exc_info=True)
        deadline = time.monotonic() + CANCEL_GRACE
        while time.monotonic() < deadline:
            self._take_rows()
            if not any(item.status == RUNNING for item in self.state.inputs):
                break
            try:
                await asyncio.sleep(TICK)
            except asyncio.CancelledError:  # interrupted again: stop waiting
                break
        for index, item in enumerate(self.state.inputs):
            if item.status not in FINAL:
                self._interrupt(index, BatchCancelledError(f"input {index}: batch cancelled"))

    # -- display ----------------------------------------------------------------------
    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.observer is None or (not force and now - self._last_refresh < REFRESH):
            return
        self._last_refresh = now
        changed, self.changed = self.changed, set()
        try:
            self.observer.refresh(self.state, changed)
        except Exception:  # a broken display never breaks the batch
            logger.exception("the batch display failed to refresh")


async def amap_flow(
    flow: Any,
    *iterables: Iterable[Any],
    client: Any = None,
    return_exceptions: bool = True,
    retry_lost: bool = True,
    save_state: bool | None = None,
    display: bool | BatchObserver | None = None,
    live_interval: float = DEFAULT_INTERVAL,
    cluster_options: dict[str, Any] | None = None,
) -> BatchResult:
    """Run one session of ``flow`` per input on a Dask cluster; see ``Flow.amap``."""
    if not iterables:
        raise TypeError("map() needs at least one iterable of inputs")
    inputs = list(zip(*iterables, strict=True))
    if client is not None and getattr(client, "asynchronous", False):
        raise TypeError(
            "flow.map needs a synchronous distributed.Client (Client(...) without "
            "asynchronous=True); the batch runs on the notebook's own loop"
        )
    if not isinstance(live_interval, (int, float)) or live_interval <= 0:
        raise ValueError(
            f"live_interval must be a positive number of seconds, got {live_interval!r}"
        )
    check_flow(shipped_flow(flow))
    check_inputs(inputs)
    save = effective_save_state(flow, save_state)
    cluster = None
    if client is None:
        cluster, client = await asyncio.to_thread(start_local_cluster, cluster_options)
    try:
        batch = _Batch(
            flow,
            inputs,
            client,
            save=save,
            retry_lost=retry_lost,
            observer=None,
            live_interval=live_interval,
        )
        batch.observer = observer_for(display, batch.state)
        if inputs:
            await batch.run()
        else:
            batch.state.ended = time.time()
    finally:
        if cluster is not None:
            await asyncio.to_thread(close_cluster, client, cluster)
    result = BatchResult(batch.values, batch.state, batch.errors)
    if not return_exceptions and batch.errors:
        first = min(batch.errors)
        error = batch.errors[first]
        if hasattr(error, "add_note"):
            error.add_note(
                f"input {first} of {len(inputs)}; {len(batch.errors)} input(s) failed; "
                f"every session was saved (batch {batch.batch_id})"
            )
        raise error
    return result


__all__ = ["amap_flow", "start_local_cluster"]

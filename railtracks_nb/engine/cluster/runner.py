"""Running one session of a flow per input on a Dask cluster: :func:`amap_flow`.

Per batch (paid once): the flow is checked and pickled, scattered to every
worker once, the row feed is subscribed, and (without a ``client``) a
``LocalCluster`` of processes is started and closed. Per session: one task
(``client.map`` submits them together), a ``start`` and an ``end`` row, the
result's trip back, and, with saving on, one write into the notebook's store.

Here: submitting the tasks, polling rows and results on the notebook's loop,
cancelling, and refreshing the display. What each row and result does to its
input is :mod:`.transitions`; writing the sessions is :mod:`.saving`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

import cloudpickle

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
from .saving import BatchSaver
from .shipping import check_flow, check_inputs
from .state import FINAL, RUNNING, BatchObserver, BatchState
from .transitions import InputTracker, cancelled_error
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
        live_interval: float,
    ) -> None:
        self.flow = flow
        self.inputs = inputs
        self.client = client
        self.live_interval = live_interval
        self.batch_id = uuid.uuid4().hex
        self.topic = topic_of(self.batch_id)
        self.state = BatchState(self.batch_id, flow.name, len(inputs), scheduler_address(client))
        self.receiver = RowReceiver()
        self.saver = BatchSaver(flow, self.state, self.session_name, enabled=save)
        #: The display (set once the batch's state exists: it draws that state).
        self.observer: BatchObserver | None = None
        self.futures: list[Any] = []
        self.tracker = InputTracker(
            self.state,
            self.saver,
            retry_lost=retry_lost,
            cancel_task=lambda index: self.futures[index].cancel(),
        )
        self.done: list[int] = []  # filled from the client's thread: list.append is atomic
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
            await self.saver.flush()
            self._refresh(force=True)
            unsubscribe(self.client, self.topic)
            for future in self.futures:
                future.release()
            if flow_future is not None:
                flow_future.release()

    async def _step(self) -> None:
        self.tracker.take_rows(self.receiver.drain())
        done, self.done[:] = self.done[:], []
        if done:
            await self._take_results(done)
        await self.saver.flush()
        self._refresh()

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
                self.tracker.finished(index, envelope)
        for index in indices:
            future = self.futures[index]
            if future.status == "error":
                exception = await asyncio.to_thread(future.exception)
                self.tracker.errored(index, exception)
            elif future.status == "cancelled" and self.state.inputs[index].status not in FINAL:
                self.tracker.interrupt(index, cancelled_error(index))

    async def _one_result(self, index: int) -> Any:
        try:
            return await asyncio.to_thread(self.futures[index].result)
        except Exception as exc:  # the worker holding it died too
            self.tracker.errored(index, exc)
            return None

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
            self.tracker.take_rows(self.receiver.drain())
            if not any(item.status == RUNNING for item in self.state.inputs):
                break
            try:
                await asyncio.sleep(TICK)
            except asyncio.CancelledError:  # interrupted again: stop waiting
                break
        for index, item in enumerate(self.state.inputs):
            if item.status not in FINAL:
                self.tracker.interrupt(index, cancelled_error(index))

    # -- display ----------------------------------------------------------------------
    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.observer is None or (not force and now - self._last_refresh < REFRESH):
            return
        self._last_refresh = now
        changed, self.tracker.changed = self.tracker.changed, set()
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
    result = BatchResult(batch.tracker.values, batch.state, batch.tracker.errors)
    if not return_exceptions:
        result.raise_first_error()
    return result


__all__ = ["amap_flow", "start_local_cluster"]

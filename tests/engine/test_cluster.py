"""flow.map / flow.amap on a real Dask LocalCluster (2 worker processes)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import railtracks_nb as rt
from railtracks_nb.engine.cluster import (
    BatchState,
    ShippingError,
    WorkerLostError,
)

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.timeout(180)


# -- nodes (imported by name on the workers: this module is importable there) ---------
@rt.function_node
def slow_square(x: int) -> int:
    time.sleep(0.05 * (5 - x % 5))  # later inputs finish first
    if x == 3:
        raise ValueError(f"no threes: {x}")
    return x * x


@rt.function_node
async def square_entry(x: int) -> int:
    return await rt.call(slow_square, x)


@rt.function_node
def who_am_i(x: int) -> dict:
    return {"x": x, "user": rt.context.get("user"), "pid": os.getpid()}


@rt.function_node
def dies_once(x: int, marker: str) -> int:
    """On input 2, the first time: sleep (so the session has begun), then kill the
    worker process outright, as an out-of-memory kill or a lost machine would."""
    if x == 2 and not os.path.exists(marker):
        Path(marker).write_text("died")
        time.sleep(0.6)
        os._exit(1)
    time.sleep(0.2)
    return x + 100


@rt.function_node
def naps(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@rt.function_node
async def naps_twice(seconds: float) -> float:
    await rt.call(naps, seconds / 2)
    return await rt.call(naps, seconds / 2)


class Recorder:
    """A batch display that remembers what it saw."""

    def __init__(self) -> None:
        self.calls = 0
        self.running_payloads: list[dict] = []
        self.max_running = 0
        self.state: BatchState | None = None

    def refresh(self, state: BatchState, changed: set[int]) -> None:
        self.calls += 1
        self.state = state
        running = [item for item in state.inputs if item.status == "running"]
        self.max_running = max(self.max_running, len(running))
        for item in running:
            if item.payload_json:
                self.running_payloads.append(item.payload())


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _flow(entry=square_entry, **options) -> rt.Flow:
    options.setdefault("logging_setting", "NONE")
    return rt.Flow("batch-test", entry, **options)


def _wait_for_workers(client, n: int = 2) -> None:
    client.wait_for_workers(n, timeout=60)


async def test_results_come_back_in_input_order_with_one_error_isolated(client, rt_home):
    result = await _flow().amap(range(10), client=client, display=False)
    assert [r for i, r in enumerate(result) if i != 3] == [i * i for i in range(10) if i != 3]
    assert isinstance(result[3], ValueError) and "no threes: 3" in str(result[3])
    assert list(result.errors) == [3]
    counts = result.state.counts()
    assert counts["completed"] == 9 and counts["failed"] == 1
    # Both workers took part, and each input says where it ran.
    workers = {item.worker for item in result.state.inputs}
    assert len(workers) == 2 and all(w.startswith("tcp://") for w in workers)


async def test_return_exceptions_false_raises_the_first_failure_after_saving_all(client, rt_home):
    with pytest.raises(ValueError, match="no threes"):
        await _flow().amap(range(6), client=client, display=False, return_exceptions=False)
    records = rt.sessions()
    assert len(records) == 6  # every session saved before the error was raised
    assert sorted(r.status for r in records).count("Failed") == 1


async def test_saved_sessions_are_listed_with_their_batch_id_and_index(client, rt_home):
    result = await _flow().amap([1, 2, 4], client=client, display=False)
    records = result.sessions()
    assert [r.metadata["input_index"] for r in records] == [0, 1, 2]
    assert {r.metadata["batch_id"] for r in records} == {result.batch_id}
    listed = [r for r in rt.sessions() if r.metadata.get("batch_id") == result.batch_id]
    assert len(listed) == 3
    assert all(r.flow_name == "batch-test" and r.status == "Completed" for r in records)
    assert [r.session_id for r in records] == result.session_ids()
    # Loaded, remixed and replayed like any saved session.
    saved = rt.load(records[1].path)
    assert saved.answer == 4
    assert saved.extras["metadata"]["worker"] == result.state.inputs[1].worker
    remixed = rt.remix(records[2].session_id, save_state=False)
    assert remixed.parent_id == records[2].session_id


async def test_context_and_set_config_travel_with_each_session(client, rt_home):
    rt.set_config(timeout=0.5)  # a global of this process only: it must reach the workers
    flow = _flow(who_am_i, context={"user": "ada"})
    result = await flow.amap([1, 2], client=client, display=False)
    assert [r["user"] for r in result] == ["ada", "ada"]
    assert all(r["pid"] != os.getpid() for r in result)
    slow = await _flow(naps_twice).amap([2.0], client=client, display=False)
    assert isinstance(slow[0], rt.GlobalTimeOutError)
    # The flow's own timeout=None (no limit) wins over the global one.
    unbounded = await _flow(naps_twice, timeout=None).amap([1.0], client=client, display=False)
    assert list(unbounded) == [0.5]
    rt.reset_config()
    # Nothing set anywhere: the default timeout (150 s), not "no limit".
    saved = (await _flow(who_am_i).amap([1], client=client, display=False)).sessions()
    assert saved[0].load().extras["timeout"] == 150.0


async def test_the_live_feed_brings_running_sessions_from_the_workers(client, rt_home):
    seen = Recorder()
    result = await _flow(naps_twice).amap(
        [0.8, 0.8, 0.8], client=client, display=seen, live_interval=0.05
    )
    assert list(result) == [0.4, 0.4, 0.4]  # the second half's nap
    assert result.state.rows_received >= 6  # a start and an end per session, at least
    assert seen.max_running >= 1
    # A payload of a session while it ran on its worker: a node still open in it.
    open_nodes = [
        node
        for payload in seen.running_payloads
        for run in payload["runs"]
        for node in run["nodes"]
        if node["stamp"] and run["status"] == "Open"
    ]
    assert open_nodes, "no live payload of a running session reached the notebook"
    assert seen.state is not None and seen.state.finished


async def test_a_worker_killed_mid_batch_leaves_its_session_interrupted_and_retried(
    client, rt_home, tmp_path
):
    _wait_for_workers(client)
    marker = str(tmp_path / "died-once")
    flow = _flow(dies_once)
    result = await flow.amap(range(6), [marker] * 6, client=client, display=False)
    assert list(result) == [x + 100 for x in range(6)]
    item = result.state.inputs[2]
    assert item.attempts == 2 and len(item.lost_sessions) == 1
    records = [r for r in rt.sessions() if r.metadata.get("input_index") == 2]
    by_status = {r.status: r for r in records}
    assert set(by_status) == {"Interrupted", "Completed"}
    assert by_status["Interrupted"].session_id == item.lost_sessions[0]
    assert by_status["Completed"].metadata["retry_of"] == item.lost_sessions[0]
    assert by_status["Completed"].metadata["attempt"] == 2
    assert len(rt.sessions()) == 7  # the six inputs' sessions and the lost one
    _wait_for_workers(client)


async def test_without_retry_a_lost_worker_fails_its_input(client, rt_home, tmp_path):
    _wait_for_workers(client)
    marker = str(tmp_path / "died-once")
    result = await _flow(dies_once).amap(
        range(4), [marker] * 4, client=client, display=False, retry_lost=False
    )
    assert isinstance(result[2], WorkerLostError)
    assert [result[i] for i in (0, 1, 3)] == [100, 101, 103]
    interrupted = [r for r in rt.sessions() if r.status == "Interrupted"]
    assert [r.metadata["input_index"] for r in interrupted] == [2]
    _wait_for_workers(client)


async def test_cancelling_the_batch_cancels_its_tasks_and_interrupts_its_sessions(client, rt_home):
    _wait_for_workers(client)
    seen = Recorder()
    task = asyncio.ensure_future(
        _flow(naps_twice).amap([3.0] * 8, client=client, display=seen, live_interval=0.05)
    )
    deadline = time.monotonic() + 60
    while seen.max_running < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert seen.max_running >= 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    state = seen.state
    assert state is not None and state.cancelled
    statuses = [item.status for item in state.inputs]
    # Those running when it was cancelled were interrupted (on a loaded machine a first
    # input may have finished before a second began); the others never started.
    assert statuses.count("interrupted") >= 2
    assert set(statuses) <= {"completed", "interrupted", "cancelled"}
    records = rt.sessions()
    interrupted = [r for r in records if r.status == "Interrupted"]
    assert sorted(r.metadata["input_index"] for r in interrupted) == [
        i for i, s in enumerate(statuses) if s == "interrupted"
    ]
    assert len(records) == len(interrupted) + statuses.count("completed")
    # The workers stopped the sessions: nothing of the batch is left on the cluster.
    deadline = time.monotonic() + 10
    while any(client.processing().values()) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not any(client.processing().values())


def test_a_node_that_cannot_be_pickled_is_refused_before_anything_runs(client, rt_home):
    lock = threading.Lock()

    @rt.function_node
    def holds_a_lock(x: int) -> int:
        with lock:
            return x

    with pytest.raises(ShippingError, match=r"entry point 'holds_a_lock' cannot be pickled"):
        _flow(holds_a_lock).map([1, 2], client=client, display=False)
    flow = _flow(who_am_i, context={"lock": lock})
    with pytest.raises(ShippingError, match=r"context variable 'lock'"):
        flow.map([1], client=client, display=False)
    with pytest.raises(ShippingError, match=r"input 1 cannot be sent"):
        _flow(who_am_i).map([1, lock], client=client, display=False)
    assert rt.sessions() == []
    assert not client.processing() or not any(client.processing().values())


def test_sync_map_starts_a_local_cluster_and_closes_it(rt_home):
    before = {t.name for t in threading.enumerate()}
    result = _flow().map([0, 1, 2], cluster_options={"n_workers": 1}, display=False)
    assert list(result) == [0, 1, 4]
    assert len(rt.sessions()) == 3
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = {t.name for t in threading.enumerate()} - before
        if not any("IO loop" in n or "Dask" in n for n in left):
            break
        time.sleep(0.1)
    assert not any("IO loop" in n for n in left), left


def test_bad_arguments_are_refused_with_clear_errors(client):
    with pytest.raises(TypeError, match="at least one iterable"):
        _flow().map(client=client)
    with pytest.raises(ValueError, match="live_interval"):
        _flow().map([1], client=client, live_interval=0)
    with pytest.raises(ValueError):  # zip(strict=True): inputs of different lengths
        _flow(dies_once).map([1, 2], ["m"], client=client)


def test_importing_the_package_does_not_import_dask():
    code = (
        "import sys, railtracks_nb as rt\n"
        "flow = rt.Flow('f', rt.function_node(lambda: 1))\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'cloudpickle') or m.startswith('railtracks_nb.engine.cluster'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "[]"

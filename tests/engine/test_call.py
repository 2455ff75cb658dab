"""rt.call, call_sync, call_batch, broadcast: concurrency, timeouts and failures."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import railtracks_nb as rt


@rt.function_node
def sleepy(i: int) -> int:
    time.sleep(0.5)
    return i


@rt.function_node
async def fan_out_sync(n: int) -> list[int]:
    return await asyncio.gather(*(rt.call(sleepy, i) for i in range(n)))


@rt.function_node
def fail(msg: str) -> None:
    raise ValueError(msg)


def test_sync_nodes_overlap_in_worker_threads():
    # Five 0.5 s sleeps gathered overlap: measured by the peak of nodes running at once,
    # not by wall-clock time.
    running, peak = 0, 0
    lock = threading.Lock()

    @rt.function_node
    def tracked(i):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.3)
        with lock:
            running -= 1
        return i

    @rt.function_node
    async def gather5():
        return await asyncio.gather(*(rt.call(tracked, i) for i in range(5)))

    with rt.Session(save_state=False):
        assert rt.call_sync(gather5) == [0, 1, 2, 3, 4]
    assert peak == 5


def test_sync_node_does_not_block_the_loop():
    ticks = []

    async def ticker():
        for _ in range(5):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    async def main():
        with rt.Session(save_state=False):
            t = asyncio.create_task(ticker())
            await rt.call(sleepy, 1)
            await t

    asyncio.run(main())
    assert len(ticks) == 5  # the ticker ran while the sync node slept


def test_call_outside_session_opens_a_temporary_one(home):
    assert asyncio.run(rt.call(sleepy, 3)) == 3
    assert rt.call_sync(sleepy, 4) == 4
    assert len(list(home.glob("*.json"))) == 2  # default config: each temporary session saved


def test_each_top_level_call_is_a_new_run():
    with rt.Session(save_state=False) as s:
        rt.call_sync(sleepy, 1)
        rt.call_sync(sleepy, 2)
    runs = list(s.info.runs.values())
    assert [r.name for r in runs] == ["sleepy", "sleepy"]
    assert all(r.status == "Completed" for r in runs)
    assert len({r.run_id for r in runs}) == 2


def test_nested_calls_build_the_call_tree():
    @rt.function_node
    async def parent():
        a = await rt.call(sleepy, 1)
        b = await rt.call(child, 2)
        return a + b

    @rt.function_node
    async def child(x):
        return await rt.call(sleepy, x)

    with rt.Session(save_state=False) as s:
        assert rt.call_sync(parent) == 3
    g = s.info.to_networkx()
    names = {n: d["name"] for n, d in g.nodes(data=True)}
    edges = sorted((names[a], names[b]) for a, b in g.edges)
    assert edges == [("child", "sleepy"), ("parent", "child"), ("parent", "sleepy")]


def test_failing_node_is_raised_at_its_caller_which_may_catch_it():
    @rt.function_node
    async def parent():
        try:
            await rt.call(fail, "nope")
        except ValueError as e:
            caught = str(e)
        return caught, await rt.call(sleepy, 7)

    with rt.Session(save_state=False, end_on_error=False) as s:
        assert rt.call_sync(parent) == ("nope", 7)
    info = s.info
    statuses = sorted(info.node_status(n) for n in info.node_forest)
    assert statuses == ["Completed", "Completed", "Failed"]
    assert info.runs[next(iter(info.runs))].status == "Completed"
    assert info.extras["errors"][0]["type"] == "ValueError"


def test_end_on_error_ends_the_run_even_if_caller_catches():
    after = []

    @rt.function_node
    async def parent():
        try:
            await rt.call(fail, "fatal")
        except ValueError:
            pass
        await asyncio.sleep(0.2)  # cancelled here: the run is over
        after.append("ran on")
        return "finished"

    with rt.Session(save_state=False, end_on_error=True) as s:
        with pytest.raises(ValueError, match="fatal"):
            rt.call_sync(parent)
    assert after == []
    (run,) = s.info.runs.values()
    assert run.status == "Failed"
    assert s.state is rt.SessionState.IDLE


def test_end_on_error_cancels_parallel_siblings():
    finished = []

    @rt.function_node
    async def slow_ok(i):
        await asyncio.sleep(1)
        finished.append(i)

    @rt.function_node
    async def parent():
        await asyncio.gather(rt.call(slow_ok, 1), rt.call(fail, "x"), rt.call(slow_ok, 2))

    with rt.Session(save_state=False, end_on_error=True) as s:
        with pytest.raises(ValueError):
            rt.call_sync(parent)
    assert finished == []
    statuses = [s.info.node_status(n) for n in s.info.node_forest]
    assert statuses.count("Open") == 0


def test_timeout_cancels_the_request_and_names_the_running_node():
    cancelled = []

    @rt.function_node
    async def stuck():
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    @rt.function_node
    async def outer():
        return await rt.call(stuck)

    async def main():
        async with rt.Session(timeout=0.2, save_state=False) as s:
            with pytest.raises(rt.GlobalTimeOutError) as err:
                await rt.call(outer)
            leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            return s, err.value, leftover

    s, error, leftover = asyncio.run(main())
    assert isinstance(error, TimeoutError)
    assert error.running == ["stuck"]
    assert "'stuck'" in str(error) and "0.2" in str(error)
    assert cancelled == [True]
    assert leftover == []
    assert all(s.info.node_status(n) == "Failed" for n in s.info.node_forest)
    states = [h["new"] for h in s.info.extras["state_history"]]
    assert "ERROR" in states


def test_user_timeout_error_is_not_a_global_timeout():
    @rt.function_node
    async def raises_timeout():
        raise TimeoutError("my own")

    with rt.Session(save_state=False):
        with pytest.raises(TimeoutError, match="my own") as err:
            rt.call_sync(raises_timeout)
    assert not isinstance(err.value, rt.GlobalTimeOutError)


def test_session_goes_on_after_a_timeout():
    @rt.function_node
    async def slow():
        await asyncio.sleep(5)

    with rt.Session(timeout=0.1, save_state=False) as s:
        with pytest.raises(rt.GlobalTimeOutError):
            rt.call_sync(slow)
        assert rt.call_sync(fast, 5) == 5
    assert [r.status for r in s.info.runs.values()] == ["Failed", "Completed"]


@rt.function_node
async def fast(x):
    return x


def test_call_batch_in_order_with_exceptions_in_place():
    @rt.function_node
    async def maybe(x):
        await asyncio.sleep(0.01 * (5 - x))
        if x == 3:
            raise ValueError("three")
        return x * 10

    @rt.function_node
    async def batch():
        return await rt.call_batch(maybe, range(5))

    with rt.Session(save_state=False):
        out = rt.call_sync(batch)
    assert out[:3] == [0, 10, 20] and out[4] == 40
    assert isinstance(out[3], ValueError)


def test_call_batch_zips_iterables_and_can_raise():
    @rt.function_node
    async def add(a, b):
        if b < 0:
            raise ValueError("negative")
        return a + b

    async def main():
        async with rt.Session(save_state=False):
            zipped = await rt.call_batch(add, [1, 2], [10, 20])
            with pytest.raises(ValueError):
                await rt.call_batch(add, [1], [-1], return_exceptions=False)
            with pytest.raises(ValueError):
                await rt.call_batch(add, [1, 2], [1])  # unequal lengths
            return zipped

    assert asyncio.run(main()) == [11, 22]


def test_broadcast_from_async_and_sync_nodes_reaches_callback_in_order():
    got = []

    @rt.function_node
    def sync_speaker():
        rt.broadcast("from thread")
        return 1

    @rt.function_node
    async def speaker():
        await rt.broadcast("first")
        await rt.call(sync_speaker)
        rt.broadcast("last")

    with rt.Session(save_state=False, broadcast_callback=got.append):
        rt.call_sync(speaker)
    assert got == ["first", "from thread", "last"]


def test_async_broadcast_callback():
    got = []

    async def callback(message):
        await asyncio.sleep(0)
        got.append(message)

    @rt.function_node
    async def speaker():
        rt.broadcast({"progress": 1})
        return "ok"

    with rt.Session(save_state=False, broadcast_callback=callback):
        rt.call_sync(speaker)
    assert got == [{"progress": 1}]


def test_broadcast_outside_session_is_an_error():
    with pytest.raises(rt.ContextError, match="needs a session"):
        rt.broadcast("nobody")


def test_call_sync_from_a_sync_node_joins_the_same_session():
    @rt.function_node
    def sync_parent():
        return rt.call_sync(fast, 9)

    with rt.Session(save_state=False) as s:
        assert rt.call_sync(sync_parent) == 9
    g = s.info.to_networkx()
    assert g.number_of_nodes() == 2 and g.number_of_edges() == 1
    assert len(s.info.runs) == 1


def test_no_threads_left_behind_after_sessions():
    before = {t.ident for t in threading.enumerate()}
    with rt.Session(save_state=False):
        rt.call_sync(fan_out_sync, 3)
    after = {t.ident for t in threading.enumerate() if t.name.startswith("rt-node")}
    assert not (after - before)


def test_timeout_during_a_sync_node_does_not_wait_for_its_thread(caplog):
    release = threading.Event()
    finished = threading.Event()

    @rt.function_node
    def blocking():
        release.wait(10)
        finished.set()

    with caplog.at_level("WARNING", logger="RT"):
        with rt.Session(timeout=0.1, save_state=False) as s:
            with pytest.raises(rt.GlobalTimeOutError, match="'blocking'"):
                rt.call_sync(blocking)
        # the session closed while the thread still ran: it did not wait for it
        assert not finished.is_set()
    assert any("'blocking' still running" in r.getMessage() for r in caplog.records)
    assert s.info.node_status(next(iter(s.info.node_forest))) == "Failed"
    release.set()
    assert finished.wait(10)  # and the thread does end: nothing is left behind


def test_end_on_error_starts_no_new_node_even_if_nothing_awaits():
    @rt.function_node
    async def parse(text):
        if not text.isdigit():
            raise ValueError(text)
        return int(text)

    @rt.function_node
    async def total(texts):
        out = 0
        for t in texts:
            try:
                out += await rt.call(parse, t)
            except ValueError:
                pass
        return out

    with rt.Session(save_state=False, end_on_error=True) as s:
        with pytest.raises(ValueError, match="two"):
            rt.call_sync(total, ["1", "two", "3", "4"])
    started = [n.name for n in s.info.node_forest.values()]
    assert started == ["total", "parse", "parse"]  # "3" and "4" never started
    (run,) = s.info.runs.values()
    assert run.status == "Failed"
    root = s.info.request_forest[run.root_request_id]
    assert root.status == "Failed"

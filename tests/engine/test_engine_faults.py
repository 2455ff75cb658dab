"""The engine under faults: stubborn nodes, stalling subscribers, nested sync calls,
blocked threads, long failing chains and sessions used without ``with``.

Each test has a hard timeout: a regression fails here instead of hanging CI.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import railtracks_nb as rt
from railtracks_nb.engine import logs, publisher

# -- timeouts reach the caller whatever the node does ------------------------------------


@rt.function_node
async def stubborn():
    """Catches every cancellation and keeps going."""
    while True:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass


@rt.function_node
async def late_answer():
    """Catches the first cancellation, then finishes with a result."""
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        pass
    for _ in range(3):
        await asyncio.sleep(0)
    return "late"


@rt.function_node
async def calls_stubborn():
    return await rt.call(stubborn)


@pytest.mark.timeout(30)
def test_timeout_reaches_the_caller_when_a_node_swallows_every_cancellation(caplog):
    with caplog.at_level(logging.WARNING, logger="RT"):
        with rt.Session(timeout=0.3, save_state=False, logging_setting="QUIET") as s:
            with pytest.raises(rt.GlobalTimeOutError) as caught:
                rt.call_sync(calls_stubborn)
    assert caught.value.running == ["stubborn"]
    assert s.stubborn_nodes == ["stubborn"]
    warnings = [r.getMessage() for r in caplog.records if "ignored cancellation" in r.getMessage()]
    assert warnings and "'stubborn'" in warnings[0]
    info = s.info
    (run,) = info.runs.values()
    assert run.status == "Failed"
    assert info.extras["timed_out_runs"] == [run.run_id]
    assert info.answer is None


@pytest.mark.timeout(30)
def test_a_result_after_the_timeout_is_not_the_answer():
    with rt.Session(timeout=0.3, save_state=False, logging_setting="NONE") as s:
        with pytest.raises(rt.GlobalTimeOutError):
            rt.call_sync(late_answer)
    info = s.info
    (run,) = info.runs.values()
    assert run.status == "Failed"
    assert info.answer is None
    root = info.request_forest[run.root_request_id]
    assert root.status == "Failed" and isinstance(root.output, rt.GlobalTimeOutError)
    assert not s.stubborn_nodes  # it did stop, late


@pytest.mark.timeout(30)
def test_a_result_after_an_interrupt_is_not_the_answer():
    async def main():
        async with rt.Session(save_state=False, logging_setting="NONE") as s:
            task = asyncio.ensure_future(s.run(late_answer))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return s

    s = asyncio.run(main())
    assert s.interrupted and s.info.answer is None
    (run,) = s.info.runs.values()
    assert s.info.request_forest[run.root_request_id].status == "Failed"


@pytest.mark.timeout(60)
def test_asyncio_run_does_not_wait_for_a_stubborn_node_at_its_end():
    """The program that timed out ends: nothing waits for the abandoned node."""
    script = textwrap.dedent(
        """
        import asyncio, railtracks_nb as rt

        @rt.function_node
        async def stubborn():
            while True:
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    pass

        async def main():
            async with rt.Session(timeout=0.3, save_state=False, logging_setting="NONE"):
                try:
                    await rt.call(stubborn)
                except rt.GlobalTimeOutError:
                    print("timed out")

        asyncio.run(main())
        print("exited")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=40
    )
    assert done.stdout.split() == ["timed", "out", "exited"], done.stderr


def test_the_interrupt_message_says_which_nodes_kept_running():
    from railtracks_nb.notebook.magics import _interrupt_message

    with rt.Session(timeout=0.3, save_state=False, logging_setting="NONE") as s:
        with pytest.raises(rt.GlobalTimeOutError):
            rt.call_sync(stubborn)
        message = _interrupt_message(s)
    assert "'stubborn' ignored the cancellation and are still running" in message
    assert "were cancelled" not in message


# -- subscribers cannot stall a run -----------------------------------------------------


@rt.function_node
async def leaf(i):
    return i


@rt.function_node
async def fan(n):
    return await rt.call_batch(leaf, range(n))


@pytest.mark.timeout(30)
def test_a_subscriber_that_never_returns_does_not_stall_the_session():
    release = threading.Event()

    def hangs(message):
        release.wait()

    try:
        with rt.Session(timeout=2, save_state=False, logging_setting="NONE") as s:
            s.publisher.subscribe(hangs, "hangs")
            assert rt.call_sync(fan, 20) == list(range(20))
    finally:
        release.set()
    assert [run.status for run in s.info.runs.values()] == ["Completed"]


@pytest.mark.timeout(60)
def test_a_slow_subscriber_does_not_slow_the_run_down():
    """10 ms a message: called on the hot path, 500 nodes would wait 10 s for it."""
    got = []
    published = []

    def slow(message):
        time.sleep(0.01)
        got.append(message.stamp.step)

    @rt.function_node
    async def watched(n):
        out = await rt.call_batch(leaf, range(n))
        published.append(len(s.info.all_stamps))
        published.append(len(got))  # what the subscriber had handled when the run was done
        return out

    with rt.Session(timeout=30, save_state=False, logging_setting="NONE") as s:
        s.publisher.subscribe(slow, "slow")
        assert len(rt.call_sync(watched, 500)) == 500
    stamps, handled = published
    assert stamps > 1000
    assert handled < stamps / 2  # the run did not wait for it
    assert got == sorted(got)


@pytest.mark.timeout(30)
def test_a_subscriber_too_far_behind_loses_the_newest_messages_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(publisher, "MAX_BACKLOG", 50)
    monkeypatch.setattr(publisher, "FLUSH_GRACE", 0.2)
    release = threading.Event()
    got = []

    def blocked(message):
        release.wait()
        got.append(message.stamp.step)

    with caplog.at_level(logging.WARNING, logger="RT"):
        with rt.Session(save_state=False, logging_setting="QUIET") as s:
            s.publisher.subscribe(blocked, "blocked")
            rt.call_sync(fan, 100)
            dropped = s.publisher.dropped["blocked"]
            release.set()
    assert dropped > 100
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "Subscriber 'blocked' is too slow" in messages
    assert "did not catch up" in messages
    deadline = time.monotonic() + 10
    while len(got) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == sorted(got) and len(got) == 50


# -- sync nodes calling sync nodes --------------------------------------------------------


@rt.function_node
def sync_child(x):
    time.sleep(0.01)
    return x + 1


@rt.function_node
def sync_parent(x):
    return rt.call_sync(sync_child, x)


@rt.function_node
async def sync_fan(n):
    return await rt.call_batch(sync_parent, range(n))


@rt.function_node
def sync_depth(n):
    return 0 if n == 0 else 1 + rt.call_sync(sync_depth, n - 1)


@pytest.mark.timeout(60)
def test_forty_sync_nodes_each_calling_a_sync_child_do_not_deadlock():
    with rt.Session(timeout=30, save_state=False, logging_setting="NONE") as s:
        assert rt.call_sync(sync_fan, 40) == [x + 1 for x in range(40)]
    assert len(s.info.node_forest) == 81


@pytest.mark.timeout(60)
def test_sync_recursion_deeper_than_the_pool_does_not_deadlock():
    with rt.Session(timeout=30, save_state=False, logging_setting="NONE"):
        assert rt.call_sync(sync_depth, 40) == 40


# -- a blocked sync node does not hold the process ------------------------------------------


@pytest.mark.timeout(60)
def test_a_blocked_sync_node_does_not_keep_the_process_from_exiting():
    script = textwrap.dedent(
        """
        import time, railtracks_nb as rt

        @rt.function_node
        def blocked():
            time.sleep(120)

        with rt.Session(timeout=0.3, save_state=False, logging_setting="NONE"):
            try:
                rt.call_sync(blocked)
            except rt.GlobalTimeOutError:
                print("timed out")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=40
    )
    assert done.stdout.strip() == "timed out", done.stderr


@pytest.mark.timeout(60)
def test_threads_of_timed_out_nodes_end_with_their_nodes():
    release = threading.Event()

    @rt.function_node
    def waits():
        release.wait()

    def workers():
        return [t for t in threading.enumerate() if t.name.startswith("rt-node")]

    before = set(workers())
    try:
        for _ in range(5):
            with rt.Session(timeout=0.1, save_state=False, logging_setting="NONE"):
                with pytest.raises(rt.GlobalTimeOutError):
                    rt.call_sync(waits)
        stuck = set(workers()) - before
        assert len(stuck) == 5  # one per node still blocked, no more
        assert all(t.daemon for t in stuck)  # never joined at exit
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while set(workers()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(workers()) - before


# -- a failing call chain stores each traceback once ----------------------------------------


@rt.function_node
async def chain(n):
    if n == 0:
        raise ValueError("bottom of the chain")
    return await rt.call(chain, n - 1)


@pytest.mark.timeout(60)
def test_a_200_level_failing_chain_stores_its_traceback_once(home):
    with rt.Session(name="chain", logging_setting="NONE"):
        with pytest.raises(ValueError):
            rt.call_sync(chain, 200)
    text = (home / "chain.json").read_text()
    assert text.count("Traceback (most recent call last)") == 1
    assert len(text) < 3_000_000  # 25 MB when every level stored the whole traceback
    payload = json.loads(text)
    outputs = [e["details"]["output"] for e in payload["runs"][0]["edges"]]
    assert len(outputs) == 201
    assert all(o["type"] == "ValueError" and o["message"] == "bottom of the chain" for o in outputs)
    full = [o for o in outputs if o["traceback"].startswith("Traceback")]
    assert len(full) == 1 and "bottom of the chain" in full[0]["traceback"]


@rt.function_node
async def wraps(n):
    if n == 0:
        raise KeyError("root cause")
    try:
        return await rt.call(wraps, n - 1)
    except Exception as exc:
        raise RuntimeError(f"level {n}") from exc


@pytest.mark.timeout(60)
def test_a_chain_of_wrapped_errors_stores_each_cause_once():
    with rt.Session(save_state=False, logging_setting="NONE") as s:
        with pytest.raises(RuntimeError):
            rt.call_sync(wraps, 60)
    text = json.dumps(s.to_payload())
    assert text.count("Traceback (most recent call last)") == 61  # one per distinct exception
    assert text.count("root cause") < 10


# -- sessions used without `with` -------------------------------------------------------------


@pytest.mark.timeout(60)
def test_sessions_without_with_are_saved_and_leave_no_logging_behind(home):
    with rt.Session(name="baseline", logging_setting="NONE", save_state=False):
        pass  # what the RT logger's level is once no session is open
    level = logs.root.level
    active = dict(logs._active)
    for i in range(50):
        session = rt.Session(name=f"bare-{i}", logging_setting="NONE")
        session.run_sync(leaf, i)
        assert session.state is rt.SessionState.IDLE
    assert logs._active == active
    assert logs.root.level == level
    assert len(list(home.glob("bare-*.json"))) == 50
    # and such a session can run again (it reopens, and closes after the run)
    session.run_sync(leaf, 99)
    # Two runs: the answer lists each run's output, as Railtracks 1.7's does.
    assert session.info.answer == [49, 99] and logs._active == active

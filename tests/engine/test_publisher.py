"""RTPublisher: typed messages, sync/async subscribers, ordering, failures, threads."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

import railtracks_nb as rt
from railtracks_nb.engine import messages as m
from railtracks_nb.engine.publisher import RTPublisher


@rt.function_node
async def leaf(x):
    return x


@rt.function_node
def sync_leaf(x):
    rt.broadcast(f"thread {x}")
    return x


@rt.function_node
async def tree(n):
    await asyncio.gather(*(rt.call(leaf, i) for i in range(n)))
    await asyncio.gather(*(rt.call(sync_leaf, i) for i in range(n)))
    return await rt.call(fails)


@rt.function_node
async def fails():
    raise RuntimeError("bad leaf")


def test_every_message_kind_is_published_with_its_stamp_in_order():
    seen: list[m.RTMessage] = []
    with rt.Session(save_state=False, end_on_error=True) as s:
        s.publisher.subscribe(seen.append, "recorder")
        with pytest.raises(RuntimeError):
            rt.call_sync(tree, 3)
    kinds = {type(x) for x in seen}
    assert {
        m.RunStarted,
        m.RequestCreation,
        m.RequestSuccess,
        m.RequestFailure,
        m.FatalFailure,
        m.Broadcast,
        m.SessionStateChanged,
        m.RunFinished,
    } <= kinds
    steps = [x.stamp.step for x in seen]
    assert steps == sorted(steps), "subscribers see messages in stamp order"
    assert all(isinstance(x.stamp, rt.Stamp) for x in seen)
    assert all(x.session_id == s.identifier for x in seen)
    failure = next(x for x in seen if isinstance(x, m.RequestFailure))
    assert failure.to_json()["error"]["type"] == "RuntimeError"
    created = next(x for x in seen if isinstance(x, m.RequestCreation))
    assert created.to_json()["kind"] == "RequestCreation"


def test_messages_from_worker_threads_reach_each_subscriber_in_one_thread_in_order():
    inline_threads, own_threads, steps = set(), set(), []

    def on_loop(msg):
        inline_threads.add(threading.get_ident())

    def record(msg):
        own_threads.add(threading.current_thread().name)
        steps.append(msg.stamp.step)

    with rt.Session(save_state=False) as s:
        s.publisher.subscribe(on_loop, inline=True)
        s.publisher.subscribe(record, "record")
        with pytest.raises(RuntimeError):
            rt.call_sync(tree, 4)
    # Inline subscribers run on the loop's thread; others in a delivery thread of their own.
    assert inline_threads == {threading.get_ident()}
    assert own_threads == {"rt-subscriber-record"}
    assert steps == sorted(steps) and len(steps) > 20


def test_async_subscriber_receives_everything_in_order():
    got = []

    async def slow_subscriber(msg):
        await asyncio.sleep(0)
        got.append(msg.stamp.step)

    async def main():
        async with rt.Session(save_state=False) as s:
            s.publisher.subscribe(slow_subscriber)
            await rt.call(leaf, 1)
            await rt.call(leaf, 2)
        return s

    asyncio.run(main())
    assert got == sorted(got) and len(got) >= 6


def test_raising_subscriber_is_logged_and_never_breaks_the_run(caplog):
    def broken(msg):
        raise ValueError("subscriber bug")

    async def broken_async(msg):
        raise ValueError("async subscriber bug")

    with caplog.at_level(logging.ERROR, logger="RT"):
        with rt.Session(save_state=False) as s:
            s.publisher.subscribe(broken, "broken")
            s.publisher.subscribe(broken_async, "broken_async")
            assert rt.call_sync(leaf, 5) == 5
    assert any("Subscriber 'broken' raised" in r.getMessage() for r in caplog.records)
    assert any("Subscriber 'broken_async' raised" in r.getMessage() for r in caplog.records)


def test_unsubscribe_stops_delivery_and_unknown_ids_raise():
    pub: RTPublisher = RTPublisher()
    got = []
    handle = pub.subscribe(got.append, "x")
    pub.publish("one")
    pub.unsubscribe(handle)
    pub.publish("two")
    assert got == ["one"]
    with pytest.raises(KeyError, match="No subscriber"):
        pub.unsubscribe(handle)
    with pytest.raises(TypeError):
        pub.subscribe("not callable")


def test_shutdown_publisher_takes_no_new_subscribers():
    pub: RTPublisher = RTPublisher()
    pub.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        pub.subscribe(print)


def test_ignored_message_kinds_are_not_delivered_and_leave_calls_unmessaged():
    """A subscriber that ignores the node messages gets everything else; the session's
    state stays the only one that wants node messages, so calls go without them."""
    got: list[str] = []
    quiet = (m.RequestCreation, m.RequestSuccess)

    async def run() -> tuple[bool, bool]:
        session = rt.Session(save_state=False, logging_setting="NONE")
        async with session:
            publisher, state = session.publisher, session.rt_state
            sub = publisher.subscribe(lambda msg: got.append(msg.kind), "quiet", ignores=quiet)
            alone = publisher.delivers_only_to(state, *quiet)
            with pytest.raises(RuntimeError, match="bad leaf"):
                await rt.call(tree, 2)
            await asyncio.to_thread(publisher.flush_sync)
            publisher.unsubscribe(sub)
            loud = publisher.subscribe(lambda msg: None, "loud")
            shared = publisher.delivers_only_to(state, *quiet)
            publisher.unsubscribe(loud)
        return alone, shared

    alone, shared = asyncio.run(run())
    assert alone and not shared
    assert "RequestCreation" not in got and "RequestSuccess" not in got
    assert {"RunStarted", "RunFinished", "RequestFailure", "Broadcast"} <= set(got)


def test_ignores_takes_message_types_only():
    with pytest.raises(TypeError, match="ignores"):
        RTPublisher().subscribe(lambda msg: None, ignores=("RequestCreation",))  # type: ignore[arg-type]

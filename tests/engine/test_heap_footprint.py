"""What a session leaves for the garbage collector: counted, never timed.

In a kernel holding millions of objects, every object that outlives a
collection of the youngest generations is walked again by each full
collection of the whole heap. So a finished session must die by reference
counting alone (no cycle waiting for a full collection), and a call must not
keep more tracked objects than its records need.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

import railtracks_nb as rt
from railtracks_nb.core.encoding import collector_paused


@rt.function_node
async def leaf(i):
    return i


@rt.function_node
async def fan_out(n):
    return sum(await asyncio.gather(*(rt.call(leaf, i) for i in range(n))))


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The collector off, so only reference counting frees anything."""
    gc.collect()
    with collector_paused():
        yield


async def _run(n: int, **options) -> rt.Session:
    async with rt.Session(save_state=False, **options) as session:
        assert await rt.call(fan_out, n) == sum(range(n))
    return session


def test_a_finished_session_and_its_state_die_by_reference_counting(collector_off):
    session = asyncio.run(_run(50))
    state, info = weakref.ref(session.rt_state), weakref.ref(session.rt_state.info)
    del session
    assert state() is None, "the session's RTState is kept alive by a reference cycle"
    assert info() is None, "the session's ExecutionInfo is kept alive by a reference cycle"


def test_a_session_on_a_long_lived_loop_dies_with_its_run(collector_off):
    """A kernel's loop outlives every session run on it, and keeps a cancelled timer
    until the timer's time comes: the run's timeout must not hold the session."""
    loop = asyncio.new_event_loop()
    # Something else of the kernel's, due before the run's timeout would be.
    pending = loop.call_later(300, lambda: None)
    try:
        session = loop.run_until_complete(_run(20, timeout=600))
        state = weakref.ref(session.rt_state)
        del session
        assert state() is None, "the run's timeout timer keeps the session alive"
    finally:
        pending.cancel()
        loop.close()


def _stamp_tuples(info) -> list[tuple]:
    """Every stamp tuple the state holds: node and request records (with their
    history), the runs' stamp lists, the stamper's list."""
    held = []
    for forest in (info.node_forest, info.request_forest):
        at = forest._stamp_at
        for record in forest.records.values():
            while record is not None:
                held.append(record[at])
                record = record[-1]
    for run in info.runs.values():
        held.extend(run.raw_stamps)
    held.extend(info.stamper._stamps)
    return held


@pytest.mark.parametrize("with_subscriber", [False, True], ids=["state only", "subscribed"])
def test_each_stamp_is_one_tuple_shared_by_every_record(with_subscriber):
    options = {"subscriber": lambda message: None} if with_subscriber else {}
    info = asyncio.run(_run(40, **options)).info
    held = _stamp_tuples(info)
    node_stamps = len(info.stamper)
    assert node_stamps == 2 * 41  # a created and a finished stamp per node
    # Each stamp is held by the stamper, its run, and its node and request records.
    assert len(held) == 4 * node_stamps
    assert len({id(stamp) for stamp in held}) == node_stamps


def test_the_state_is_the_same_with_or_without_message_objects():
    """With the state as the only subscriber the session records calls without
    building messages; with another subscriber it builds them. Same state."""
    seen = []

    def shape(info) -> list[tuple]:
        nodes = sorted(
            (n.name, n.node_type, len(n.history()), info.node_status(n.identifier))
            for n in info.node_forest.values()
        )
        edges = sorted(
            (r.status, r.output, r.input_args, len(r.history()))
            for r in info.request_forest.values()
        )
        steps = [s.identifier for s in info.all_stamps]
        runs = [(r.status, len(r.node_ids), len(r.raw_stamps)) for r in info.runs.values()]
        return [*nodes, *edges, *steps, *runs]

    direct = asyncio.run(_run(30)).info
    messages = asyncio.run(_run(30, subscriber=seen.append)).info
    assert shape(direct) == shape(messages)
    assert direct.answer == messages.answer == sum(range(30))

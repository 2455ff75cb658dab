"""What a call leaves for the garbage collector.

A notebook's kernel holds millions of objects, and every full collection walks
all that the collector tracks; the more objects a call allocates, the more often
collections run. The engine keeps its state as few plain tuples as it can.
"""

from __future__ import annotations

import asyncio

import pytest

import railtracks_nb as rt

pytestmark = pytest.mark.timeout(120)


@rt.function_node
async def leaf(i: int) -> int:
    return i


@rt.function_node
async def fan_out(n: int) -> int:
    return len(await asyncio.gather(*(rt.call(leaf, i) for i in range(n))))


@rt.function_node
async def chain(n: int) -> int:
    for i in range(n):
        await rt.call(leaf, i)
    return n


def test_a_stamp_is_one_tuple_in_all_its_records():
    """A stamp is recorded three times (its node, its request, its run's steps). As one
    tuple, a call leaves 4 fewer tuples for the collector to allocate and look at."""
    with rt.Session(save_state=False, logging_setting="NONE") as session:
        rt.call_sync(chain, 3)
    info = session.rt_state.info
    run = next(iter(info.runs.values()))
    by_step = {raw[0]: raw for raw in run.raw_stamps}
    for raw in info.node_forest._raw.values():
        assert raw[3] is by_step[raw[3][0]]
        assert raw[7][3] is by_step[raw[7][3][0]]
    for raw in info.request_forest._raw.values():
        assert raw[7] is by_step[raw[7][0]]

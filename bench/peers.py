"""The benchmark's workloads written for the engines users would pick instead.

Each ``make_*`` returns ``{"sequential": run, "fan-out": run}`` (a workload an
engine has no natural form for is left out), where ``run(n)`` is a coroutine
function doing ``n`` trivial steps:

* sequential: ``n`` steps one after the other (a node calling a leaf ``n``
  times, or a graph looping through one node ``n`` times);
* fan-out: ``n`` leaves started together (``asyncio.gather`` of calls, or
  LangGraph's ``Send``).

Only imported by ``bench_engine.py``'s worker processes, and only for an
engine that is importable there: none of these is a dependency of the project.
"""

from __future__ import annotations

import asyncio
import inspect
import operator
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

Workloads = dict[str, Callable[[int], Awaitable[None]]]


def _entry_nodes(rt: Any) -> tuple[Any, Any]:
    """The two entry nodes of a Railtracks-compatible module: a chain and a fan-out
    of trivial leaves."""

    @rt.function_node
    async def leaf(i: int) -> int:
        return i

    @rt.function_node
    async def sequential(n: int) -> None:
        for i in range(n):
            await rt.call(leaf, i)

    @rt.function_node
    async def fanout(n: int) -> None:
        await asyncio.gather(*(rt.call(leaf, i) for i in range(n)))

    return sequential, fanout


def make_railtracks_like(rt: Any, **options: Any) -> Workloads:
    """The two workloads against a Railtracks-compatible module (ours or Railtracks)."""
    sequential, fanout = _entry_nodes(rt)
    options.setdefault("timeout", 3600.0)
    if "logging_setting" in inspect.signature(rt.Session).parameters:
        options.setdefault("logging_setting", "NONE")  # Railtracks 1.7 dropped this option

    def runner(entry: Any) -> Callable[[int], Awaitable[None]]:
        async def run(n: int) -> None:
            with rt.Session(**options):
                await rt.call(entry, n)

        return run

    return {"sequential": runner(sequential), "fan-out": runner(fanout)}


def make_flow(rt: Any, **options: Any) -> Workloads:
    """The two workloads as ``rt.Flow``s: what a user of the defaults runs."""
    sequential, fanout = _entry_nodes(rt)
    options.setdefault("timeout", 3600.0)
    flows = {
        "sequential": rt.Flow("bench-sequential", sequential, **options),
        "fan-out": rt.Flow("bench-fan-out", fanout, **options),
    }

    def runner(flow: Any) -> Callable[[int], Awaitable[None]]:
        async def run(n: int) -> None:
            await flow.ainvoke(n)

        return run

    return {name: runner(flow) for name, flow in flows.items()}


def make_langgraph() -> Workloads:
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    class Loop(TypedDict):
        i: int
        n: int

    def step(state: Loop) -> dict[str, int]:
        return {"i": state["i"] + 1}

    loop = StateGraph(Loop)
    loop.add_node("step", step)
    loop.add_edge(START, "step")
    loop.add_conditional_edges("step", lambda s: "step" if s["i"] < s["n"] else END)
    sequential_graph = loop.compile()

    class Fan(TypedDict):
        n: int
        results: Annotated[list[int], operator.add]

    class One(TypedDict):
        i: int

    def leaf(state: One) -> dict[str, list[int]]:
        return {"results": [state["i"]]}

    fan = StateGraph(Fan)
    fan.add_node("leaf", leaf)
    fan.add_conditional_edges(START, lambda s: [Send("leaf", {"i": i}) for i in range(s["n"])])
    fan.add_edge("leaf", END)
    fan_graph = fan.compile()

    async def sequential(n: int) -> None:
        await sequential_graph.ainvoke({"i": 0, "n": n}, {"recursion_limit": n + 10})

    async def fanout(n: int) -> None:
        await fan_graph.ainvoke({"n": n, "results": []})

    return {"sequential": sequential, "fan-out": fanout}


def make_burr() -> Workloads:
    from burr.core import ApplicationBuilder, State, action, default, expr

    @action(reads=["i"], writes=["i"])
    def step(state: State) -> State:
        return state.update(i=state["i"] + 1)

    @action(reads=["i"], writes=[])
    def done(state: State) -> State:
        return state

    async def sequential(n: int) -> None:
        app = (
            ApplicationBuilder()
            .with_actions(step=step, done=done)
            .with_transitions(("step", "step", expr(f"i < {n}")), ("step", "done", default))
            .with_state(i=0)
            .with_entrypoint("step")
            .build()
        )
        app.run(halt_after=["done"])

    return {"sequential": sequential}


def make_pydantic_graph() -> Workloads:
    from pydantic_graph import GraphBuilder, StepContext, reduce_list_append

    # Sequential: a step that loops back to itself (a decision) until it has run n times.
    loop = GraphBuilder(name="sequential", input_type=int, output_type=int)

    @loop.step
    async def count(ctx: StepContext[None, None, tuple[int, int]]) -> tuple[int, int]:
        i, n = ctx.inputs
        return (i + 1, n)

    @loop.step
    async def begin(ctx: StepContext[None, None, int]) -> tuple[int, int]:
        return (0, ctx.inputs)

    @loop.step
    async def finish(ctx: StepContext[None, None, tuple[int, int]]) -> int:
        return ctx.inputs[0]

    loop.add(
        loop.edge_from(loop.start_node).to(begin),
        loop.edge_from(begin).to(count),
        loop.edge_from(count).to(
            loop.decision()
            .branch(loop.match(tuple, matches=lambda v: v[0] < v[1]).to(count))
            .branch(loop.match(tuple).to(finish))
        ),
        loop.edge_from(finish).to(loop.end_node),
    )
    sequential_graph = loop.build()

    # Fan-out: map n inputs to a leaf step, joined into a list.
    fan = GraphBuilder(name="fan_out", input_type=int, output_type=list)

    @fan.step
    async def spread(ctx: StepContext[None, None, int]) -> list[int]:
        return list(range(ctx.inputs))

    @fan.step
    async def leaf(ctx: StepContext[None, None, int]) -> int:
        return ctx.inputs

    collect = fan.join(reduce_list_append, initial_factory=list)
    fan.add(
        fan.edge_from(fan.start_node).to(spread),
        fan.edge_from(spread).map().to(leaf),
        fan.edge_from(leaf).to(collect),
        fan.edge_from(collect).to(fan.end_node),
    )
    fan_graph = fan.build()

    async def sequential(n: int) -> None:
        await sequential_graph.run(inputs=n)

    async def fanout(n: int) -> None:
        await fan_graph.run(inputs=n)

    return {"sequential": sequential, "fan-out": fanout}

"""rt.Flow: invoke, ainvoke, update_context, isolation between runs."""

from __future__ import annotations

import asyncio

import railtracks_nb as rt
from railtracks_nb.engine.scope import current_session


@rt.function_node
async def whoami(suffix: str = ""):
    return rt.context.get("user", "nobody") + suffix


def test_invoke_and_ainvoke_return_the_entry_point_result():
    flow = rt.Flow("who", whoami, context={"user": "ada"}, save_state=False)
    assert flow.invoke("!") == "ada!"
    assert asyncio.run(flow.ainvoke(suffix="?")) == "ada?"


def test_each_invocation_gets_its_own_session_named_after_the_flow():
    flow = rt.Flow("who", whoami, save_state=False)
    flow.invoke()
    first = flow.last_session
    flow.invoke()
    assert first is not flow.last_session
    assert first.identifier != flow.last_session.identifier
    assert flow.last_session.name == "who"
    assert current_session() is None


def test_update_context_returns_a_new_flow_with_merged_context():
    base = rt.Flow("who", whoami, context={"user": "ada", "x": 1}, timeout=9, save_state=False)
    other = base.update_context({"user": "bob"})
    assert other is not base
    assert other.context == {"user": "bob", "x": 1}
    assert base.context == {"user": "ada", "x": 1}
    assert other.options["timeout"] == 9
    assert (base.invoke(), other.invoke()) == ("ada", "bob")


def test_concurrent_flow_runs_are_isolated():
    @rt.function_node
    async def slow_who():
        await asyncio.sleep(0.01)
        rt.context.put("touched", True)
        return rt.context.get("user")

    a = rt.Flow("a", slow_who, context={"user": "a"}, save_state=False)
    b = a.update_context({"user": "b"})

    async def main():
        return await asyncio.gather(*(f.ainvoke() for f in [a, b, a, b]))

    assert asyncio.run(main()) == ["a", "b", "a", "b"]
    assert "touched" not in a.context


def test_flow_payload_requires_a_run():
    flow = rt.Flow("who", whoami, save_state=False)
    try:
        flow.to_payload()
    except ValueError as e:
        assert "not been invoked" in str(e)
    else:
        raise AssertionError("expected ValueError")
    flow.invoke()
    assert flow.to_payload()["session_name"] == "who"

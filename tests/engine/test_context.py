"""rt.context and rt.prompt: scoped to the session, shared by its nodes, copied per run."""

from __future__ import annotations

import asyncio

import pytest

import railtracks_nb as rt


def test_get_put_update_delete_keys():
    with rt.Session(context={"a": 1}, save_state=False):
        assert rt.context.get("a") == 1
        with pytest.raises(KeyError, match="'missing' is not in the session context"):
            rt.context.get("missing")
        assert rt.context.get("missing", "dflt") == "dflt"
        assert rt.context.get("missing", None) is None  # an explicit default, even None
        rt.context.put("b", 2)
        rt.context.update({"c": 3, "a": 10})
        assert sorted(rt.context.keys()) == ["a", "b", "c"]
        rt.context.delete("b")
        assert "b" not in rt.context.keys()
        with pytest.raises(KeyError, match="'b' is not in the session context"):
            rt.context.get("b")
        with pytest.raises(KeyError, match="'b' is not in the session context"):
            rt.context.delete("b")
        with pytest.raises(TypeError):
            rt.context.update(["not", "a", "mapping"])


def test_context_outside_a_session_is_a_clear_error():
    with pytest.raises(rt.ContextError, match=r"rt.context.get\(\) needs a session"):
        rt.context.get("x")
    with pytest.raises(rt.ContextError):
        rt.context.put("x", 1)


def test_context_is_visible_in_sync_nodes_in_worker_threads():
    @rt.function_node
    def sync_reader():
        rt.context.put("written_by_thread", True)
        return rt.context.get("user_id")

    with rt.Session(context={"user_id": "123"}, save_state=False) as s:
        assert rt.call_sync(sync_reader) == "123"
        assert rt.context.get("written_by_thread") is True
    assert s.context["written_by_thread"] is True


def test_session_context_is_passed_by_value():
    original = {"items": [1, 2]}

    @rt.function_node
    async def mutate():
        rt.context.get("items").append(3)
        rt.context.put("new", 1)

    with rt.Session(context=original, save_state=False):
        rt.call_sync(mutate)
    assert original == {"items": [1, 2]}


def test_flow_runs_do_not_leak_context_into_each_other():
    @rt.function_node
    async def count():
        n = rt.context.get("n", 0) + 1
        rt.context.put("n", n)
        rt.context.get("log").append(n)
        return n

    flow = rt.Flow("counter", entry_point=count, context={"log": []}, save_state=False)
    assert [flow.invoke(), flow.invoke()] == [1, 1]
    assert flow.context == {"log": []}


def test_prompt_injection_fills_known_keys_only():
    with rt.Session(context={"user_id": "u1", "n": 3.14159}, save_state=False):
        assert rt.prompt("Hello {user_id}") == "Hello u1"
        assert rt.prompt("{unknown} and {user_id}") == "{unknown} and u1"
        assert rt.prompt("pi={n:.2f} {{literal}}") == "pi=3.14 {literal}"
        assert rt.prompt("odd {") == "odd {"
        assert rt.prompt("{n!r:>8}") == " 3.14159"


def test_prompt_injection_can_be_turned_off_and_is_inert_outside_sessions():
    assert rt.prompt("Hello {user_id}") == "Hello {user_id}"
    with rt.Session(context={"user_id": "u1"}, prompt_injection=False, save_state=False):
        assert rt.prompt("Hello {user_id}") == "Hello {user_id}"


def test_prompt_inside_a_node():
    @rt.function_node
    async def agentish():
        return rt.prompt("You help {user}.")

    async def main():
        async with rt.Session(context={"user": "Ada"}, save_state=False):
            return await rt.call(agentish)

    assert asyncio.run(main()) == "You help Ada."

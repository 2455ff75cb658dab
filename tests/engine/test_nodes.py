"""Node types: @function_node, class-based Node, and the errors for bad nodes and arguments."""

from __future__ import annotations

import asyncio
import threading

import pytest

import railtracks_nb as rt
from railtracks_nb.engine.nodes import FunctionNode, resolve_node_type


@rt.function_node
def add(a: int, b: int = 0) -> int:
    return a + b


@rt.function_node
async def aadd(a: int, b: int = 0) -> int:
    return a + b


def test_decorated_functions_stay_plain_callables():
    assert add(1, 2) == 3
    assert asyncio.run(aadd(1, 2)) == 3
    assert add.__name__ == "add"
    assert issubclass(add.node_type, FunctionNode)
    assert add.node_type.name() == "add"
    assert add.node_type.type() == "Tool"


def test_function_node_with_custom_name():
    @rt.function_node(name="Adder")
    def plus(a, b):
        return a + b

    assert plus.node_type.name() == "Adder"
    with rt.Session(save_state=False) as s:
        assert rt.call_sync(plus, 2, 3) == 5
    assert [n.name for n in s.info.node_forest.values()] == ["Adder"]


@pytest.mark.parametrize("bad", [42, "text", 3.5])
def test_function_node_rejects_non_callables(bad):
    with pytest.raises(rt.NodeCreationError, match="needs a function"):
        rt.function_node(bad)


def test_function_node_rejects_generators_and_node_classes():
    def gen():
        yield 1

    with pytest.raises(rt.NodeCreationError, match="generator"):
        rt.function_node(gen)

    class N(rt.nodes.Node):
        async def invoke(self):
            return 1

    with pytest.raises(rt.NodeCreationError, match="already a node class"):
        rt.function_node(N)


def test_missing_argument_is_a_clear_error_at_call_time():
    with rt.Session(save_state=False) as s:
        with pytest.raises(
            rt.NodeInvocationError, match=r"'add'.*missing a required argument: 'a'"
        ):
            rt.call_sync(add)
    # the call never started: no node was recorded
    assert len(s.info.node_forest) == 0


def test_unknown_keyword_is_a_clear_error():
    with rt.Session(save_state=False):
        with pytest.raises(TypeError, match="unexpected keyword argument 'c'"):
            rt.call_sync(add, 1, c=3)


def test_call_rejects_non_nodes():
    with rt.Session(save_state=False):
        with pytest.raises(rt.NodeCreationError, match="needs a node"):
            rt.call_sync(42)
        with pytest.raises(rt.NodeCreationError, match="not a node"):
            rt.call_sync(int)


def test_class_node_type_name_and_bad_init():
    class Greeter(rt.nodes.Node):
        def __init__(self, who: str):
            self.who = who

        @classmethod
        def type(cls):
            return "Agent"

        async def invoke(self):
            return f"hi {self.who}"

    with rt.Session(save_state=False) as s:
        assert rt.call_sync(Greeter, "ann") == "hi ann"
        with pytest.raises(rt.NodeCreationError, match="Could not create node 'Greeter'"):
            rt.call_sync(Greeter)
    (node,) = s.info.node_forest.values()
    assert (node.name, node.node_type) == ("Greeter", "Agent")


def test_class_node_instance_is_rejected_with_hint():
    class N(rt.nodes.Node):
        async def invoke(self):
            return 1

    with pytest.raises(rt.NodeCreationError, match="not an instance"):
        resolve_node_type(N())


def test_sync_class_node_runs_in_a_worker_thread():
    class Blocking(rt.nodes.Node):
        def invoke(self):
            return threading.current_thread().name

    with rt.Session(save_state=False):
        name = rt.call_sync(Blocking)
    assert name.startswith("rt-node")


def test_plain_function_can_be_called_without_decorator():
    def triple(x):
        return 3 * x

    with rt.Session(save_state=False) as s:
        assert rt.call_sync(triple, 2) == 6
    assert [n.node_type for n in s.info.node_forest.values()] == ["Tool"]

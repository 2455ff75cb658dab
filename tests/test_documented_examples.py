"""The documented examples of the Railtracks session API, as written, with
`import railtracks_nb as rt`."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

import railtracks_nb as rt


@rt.function_node
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@rt.function_node
async def farewell(name: str) -> str:
    return f"Bye, {name}!"


class Doubler(rt.nodes.Node):
    def __init__(self, value):
        self.value = value

    @classmethod
    def name(cls) -> str:
        return "Doubler"

    async def invoke(self):
        return self.value * 2


def test_session_decorator(home):
    @rt.session()
    async def empty_workflow():
        result = await rt.call(greet, name="Alice")
        return result

    result, session = asyncio.run(empty_workflow())
    assert result == "Hello, Alice!"
    assert isinstance(session._identifier, str) and session._identifier
    assert (home / f"{session._identifier}.json").exists()


def test_configured_session_decorator_overwrites_with_warning(home, caplog):
    @rt.session(
        timeout=30,
        context={"user_id": "123"},
        logging_setting="QUIET",
        save_state=True,
        name="my-unique-run",
    )
    async def configured_workflow():
        result1 = await rt.call(greet, name="Bob")
        result2 = await rt.call(greet, name="Charlie")
        return [result1, result2]

    result, _session = asyncio.run(configured_workflow())
    assert result == ["Hello, Bob!", "Hello, Charlie!"]
    assert (home / "my-unique-run.json").exists()
    with caplog.at_level(logging.WARNING, logger="RT"):
        asyncio.run(configured_workflow())
    assert "File .railtracks/my-unique-run.json already exists, overwriting..." in caplog.messages


def test_overwrite_warning_wording_on_stderr(capfd):
    async def once():
        with rt.Session(name="my-unique-run", logging_setting="QUIET"):
            return await rt.call(greet, "x")

    asyncio.run(once())
    asyncio.run(once())
    err = capfd.readouterr().err
    assert (
        "RT.Session : WARNING - File .railtracks/my-unique-run.json already exists, overwriting..."
        in err
    )


def test_multiple_decorated_workflows_are_isolated():
    @rt.session(context={"action": "greet", "name": "Diana"}, logging_setting="QUIET")
    async def first_workflow():
        if rt.context.get("action") == "greet":
            return await rt.call(greet, rt.context.get("name"))

    @rt.session(context={"action": "farewell", "name": "Robert"}, logging_setting="QUIET")
    async def second_workflow():
        if rt.context.get("action") == "farewell":
            return await rt.call(farewell, rt.context.get("name"))

    result1, session1 = asyncio.run(first_workflow())
    result2, session2 = asyncio.run(second_workflow())
    assert (result1, result2) == ("Hello, Diana!", "Bye, Robert!")
    assert session1._identifier != session2._identifier


def test_session_decorator_rejects_sync_functions():
    with pytest.raises(TypeError, match="only on async functions"):

        @rt.session
        def not_async():
            return 1


def test_sync_context_manager_inside_async_function():
    async def context_workflow():
        with rt.Session(
            timeout=30,
            context={"user_id": "123"},
            logging_setting="QUIET",
            save_state=True,
            name="my-unique-run",
        ):
            result1 = await rt.call(greet, name="Bob")
            result2 = await rt.call(greet, name="Charlie")
            return [result1, result2]

    assert asyncio.run(context_workflow()) == ["Hello, Bob!", "Hello, Charlie!"]


def test_flow():
    @rt.function_node
    async def my_workflow(user_input: str):
        return await rt.call(greet, user_input)

    flow = rt.Flow(
        "My Workflow",
        entry_point=my_workflow,
        timeout=60,
        context={"api_key": "secret"},
        logging_setting="INFO",
    )
    assert flow.invoke("Hello!") == "Hello, Hello!!"
    assert asyncio.run(flow.ainvoke("again")) == "Hello, again!"


def test_multiple_flows_each_with_their_context():
    @rt.function_node
    async def workflow(name: str):
        action = rt.context.get("action")
        return await rt.call(greet if action == "greet" else farewell, name)

    greet_flow = rt.Flow("Greeting", entry_point=workflow, context={"action": "greet"})
    farewell_flow = rt.Flow("Farewell", entry_point=workflow, context={"action": "farewell"})
    assert greet_flow.invoke("Diana") == "Hello, Diana!"
    assert farewell_flow.invoke("Robert") == "Bye, Robert!"


def test_error_handling_flow(capsys):
    @rt.function_node
    def sample_node():
        raise RuntimeError("boom")

    @rt.function_node
    async def safe_workflow():
        try:
            return await rt.call(sample_node)
        except Exception as e:
            print(f"Workflow failed: {e}")
            return None

    flow = rt.Flow("Safe Workflow", entry_point=safe_workflow)
    assert flow.invoke() is None
    assert "Workflow failed: boom" in capsys.readouterr().out


def test_tracked_execution_flow_saves_under_flow_name(home):
    @rt.function_node
    async def daily_report():
        return await rt.call(greet, "report")

    flow = rt.Flow("Daily Report", entry_point=daily_report, save_state=True)
    flow.invoke()
    saved = json.loads((home / "Daily Report.json").read_text())
    assert saved["runs"][0]["name"] == "daily_report"


def test_session_run_sync_and_state_analysis(tmp_path):
    with rt.Session(save_state=False) as session:
        result = session.run_sync(Doubler, 21)
        assert result.answer == 42
        assert len(result.all_stamps) > 0
        with open(tmp_path / "execution_graph.json", "w") as f:
            f.write(result.graph_serialization())
    data = json.loads((tmp_path / "execution_graph.json").read_text())
    assert data["runs"][0]["edges"][0]["details"]["output"] == 42


def test_executor_config_with_subscriber():
    received = []
    config = rt.ExecutorConfig(
        timeout=300,
        end_on_error=False,
        logging_setting="DEBUG",
        save_state=False,
        subscriber=received.append,
    )

    @rt.function_node
    async def streaming():
        await rt.broadcast("progress 50%")
        return "done"

    async def main():
        with rt.Session(config) as session:
            return await session.run(streaming)

    info = asyncio.run(main())
    assert info.answer == "done"
    assert received == ["progress 50%"]


def test_call_sync_in_with_session():
    with rt.Session(save_state=False):
        assert rt.call_sync(Doubler, "Hello World") == "Hello WorldHello World"


def test_session_info():
    with rt.Session(save_state=False) as session:
        rt.call_sync(Doubler, 1)
        info = session.info
        node_id = next(iter(info.node_heap))
        subset = info.get_info([node_id])
        assert len(subset.node_heap) == 1
        assert json.loads(info.graph_serialization())["runs"]

"""rt.Session: configuration, isolation, cleanup, cancellation, info and runs."""

from __future__ import annotations

import asyncio
import json

import pytest

import railtracks_nb as rt
from railtracks_nb.engine.scope import current_session


@rt.function_node
async def echo(x):
    return x


@rt.function_node
async def read_ctx(key):
    await asyncio.sleep(0.01)
    return rt.context.get(key)


def test_constructor_defaults_and_identifiers():
    a, b = rt.Session(), rt.Session()
    cfg = a.executor_config
    assert (cfg.timeout, cfg.end_on_error, cfg.logging_setting) == (150.0, False, "REGULAR")
    assert (cfg.log_file, cfg.broadcast_callback, cfg.prompt_injection, cfg.save_state) == (
        None,
        None,
        True,
        True,
    )
    assert a.identifier != b.identifier and a._identifier == a.identifier
    assert a.rc_state is a.rt_state
    assert a.state is rt.SessionState.INIT


def test_run_identifier_and_name():
    s = rt.Session(run_identifier="fixed-id", name="demo")
    assert s.identifier == "fixed-id" and s.name == "demo"


def test_session_accepts_an_executor_config_positionally():
    config = rt.ExecutorConfig(timeout=12, save_state=False)
    s = rt.Session(config)
    assert s.executor_config.timeout == 12 and s.executor_config.save_state is False


def test_precedence_constructor_over_global_over_default():
    rt.set_config(timeout=20, end_on_error=True)
    s = rt.Session(timeout=5)
    assert s.executor_config.timeout == 5  # constructor wins
    assert s.executor_config.end_on_error is True  # global beats the default
    assert s.executor_config.logging_setting == "REGULAR"  # default
    rt.reset_config()
    assert rt.Session().executor_config.timeout == 150.0


def test_context_manager_sets_and_removes_the_current_session():
    assert current_session() is None
    with rt.Session(save_state=False) as s:
        assert current_session() is s
        assert s.state is rt.SessionState.READY
    assert current_session() is None
    assert s.state is rt.SessionState.IDLE


def test_async_context_manager():
    async def main():
        async with rt.Session(save_state=False) as s:
            assert current_session() is s
            return await rt.call(echo, 5), s

    result, s = asyncio.run(main())
    assert result == 5 and s.state is rt.SessionState.IDLE and current_session() is None


def test_exit_saves_and_cleans_up_even_when_the_body_raises(home):
    with pytest.raises(KeyError):
        with rt.Session(name="crashy") as s:
            rt.call_sync(echo, 1)
            raise KeyError("body failed")
    assert current_session() is None
    assert s.publisher.is_closed
    saved = json.loads((home / "crashy.json").read_text())
    assert saved["runs"][0]["status"] == "Completed"


def test_cancelled_body_is_saved_as_interrupted(home):
    started = asyncio.Event()

    @rt.function_node
    async def forever():
        started.set()
        await asyncio.sleep(60)

    async def body():
        async with rt.Session(name="cut"):
            await rt.call(forever)

    async def main():
        task = asyncio.create_task(body())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    saved = json.loads((home / "cut.json").read_text())
    assert saved["railtracks_nb"]["status"] == "Interrupted"
    assert saved["railtracks_nb"]["state"] == "IDLE"
    assert saved["runs"][0]["status"] == "Failed"
    (edge,) = saved["runs"][0]["edges"]
    assert edge["details"]["status"] == "Failed"
    assert edge["details"]["output"]["type"] == "CancelledError"


def test_two_sessions_in_one_loop_never_mix():
    async def one(tag):
        async with rt.Session(context={"who": tag}, save_state=False) as s:
            values = await asyncio.gather(*(rt.call(read_ctx, "who") for _ in range(20)))
            return s, values

    async def main():
        return await asyncio.gather(one("a"), one("b"))

    (sa, va), (sb, vb) = asyncio.run(main())
    assert set(va) == {"a"} and set(vb) == {"b"}
    assert len(sa.info.node_forest) == 20 and len(sb.info.node_forest) == 20
    assert not set(sa.info.node_forest) & set(sb.info.node_forest)
    steps_a = [st.step for st in sa.info.all_stamps]
    assert steps_a == sorted(steps_a) and len(set(steps_a)) == len(steps_a)


def test_run_and_run_sync_return_execution_info():
    async def main():
        s = rt.Session(save_state=False)
        with s:
            return await s.run(echo, "hi")

    info = asyncio.run(main())
    assert isinstance(info, rt.ExecutionInfo) and info.answer == "hi"
    with rt.Session(save_state=False) as s:
        info = s.run_sync(echo, "sync")
    assert info.answer == "sync"


def test_info_is_a_snapshot():
    with rt.Session(save_state=False) as s:
        rt.call_sync(echo, 1)
        first = s.info
        rt.call_sync(echo, 2)
    assert len(first.node_forest) == 1 and len(s.info.node_forest) == 2
    assert first.answer == 1 and s.info.answer == [1, 2]  # every run's result, in order


def test_reentering_a_closed_session_reopens_it():
    s = rt.Session(save_state=False)
    with s:
        rt.call_sync(echo, 1)
    with s:
        rt.call_sync(echo, 2)
    states = [(h["old"], h["new"]) for h in s.info.extras["state_history"]]
    assert ("IDLE", "READY") in states
    assert len(s.info.runs) == 2


def test_session_repr_mentions_name_and_state():
    s = rt.Session(name="r", save_state=False)
    assert "name='r'" in repr(s) and "INIT" in repr(s)


def test_payload_callback_gets_the_saved_payload_once_and_its_errors_are_logged(caplog):
    got = []
    with rt.Session(name="cb", save_state=False, payload_callback=got.append) as s:
        rt.call_sync(echo, 1)
    assert len(got) == 1 and got[0] == {**s.payload(), "end_time": got[0]["end_time"]}

    def broken(payload):
        raise RuntimeError("callback broke")

    with caplog.at_level("ERROR", logger="RT"):
        with rt.Session(name="cb2", save_state=False, payload_callback=broken):
            rt.call_sync(echo, 1)
    assert "payload_callback" in caplog.text and "callback broke" in caplog.text

"""%%rt_session in a plain IPython shell (no kernel): options, namespace, results, errors."""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import sys
import threading
import time
import traceback
import types

import pytest
from IPython.core.error import UsageError

import railtracks_nb as rt
from railtracks_nb.notebook.magics import DEFAULT_VAR, parse_options, split_options

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """One IPython shell for the module, history in memory, profile in a temp dir."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    mp = pytest.MonkeyPatch()
    mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=config)
    ip.run_cell("%colors nocolor")  # tracebacks as plain text, to read them in tests
    ip.run_cell("%load_ext railtracks_nb")
    ip.run_cell(
        "import asyncio, railtracks_nb as rt\n"
        "@rt.function_node\n"
        "async def double(x):\n"
        "    await asyncio.sleep(0)\n"
        "    return 2 * x\n"
        "@rt.function_node\n"
        "async def ctx_user():\n"
        "    return rt.context.get('user')\n"
        "@rt.function_node\n"
        "async def hang():\n"
        "    await asyncio.sleep(30)\n"
        "@rt.function_node\n"
        "async def boom():\n"
        "    raise ValueError('boom')\n"
    )
    yield ip
    InteractiveShell.clear_instance()
    mp.undo()


def cell(shell, code: str):
    """Run a cell as a front end would (stored in history, so it has an In[n] number)."""
    return shell.run_cell(code, store_history=True)


# -- option parsing ------------------------------------------------------------------
def test_split_options_keeps_literals_whole() -> None:
    line = 'timeout=30 name="my demo" context={"user": "x", "n": [1, 2]} save_state=False'
    assert split_options(line) == [
        ("timeout", "30"),
        ("name", '"my demo"'),
        ("context", '{"user": "x", "n": [1, 2]}'),
        ("save_state", "False"),
    ]
    assert split_options("   ") == []


def test_parse_options_values_and_defaults() -> None:
    kwargs, magic = parse_options(
        "timeout=30 name=demo save_state=False end_on_error=True logging_setting=quiet "
        'context={"user": "x"} dashboard=off var=run1 log_file=/tmp/x-1.log'
    )
    assert kwargs == {
        "timeout": 30.0,
        "name": "demo",
        "save_state": False,
        "end_on_error": True,
        "logging_setting": "QUIET",
        "context": {"user": "x"},
        "log_file": "/tmp/x-1.log",
    }
    assert (magic.dashboard, magic.var) == ("off", "run1")
    kwargs, magic = parse_options("")
    assert kwargs == {}
    assert (magic.dashboard, magic.var) == ("auto", DEFAULT_VAR)
    # Bare words are coerced by the config model; dashboard takes on/off synonyms.
    kwargs, magic = parse_options("save_state=false timeout=inf dashboard=yes name=123")
    assert kwargs == {"save_state": False, "timeout": float("inf"), "name": "123"}
    assert magic.dashboard == "on"


def test_parse_options_variables_from_namespace() -> None:
    def callback(message):
        return message

    ns = {"ctx": {"user": "y"}, "cb": callback}
    kwargs, _ = parse_options("context=ctx broadcast_callback=cb", ns)
    assert kwargs == {"context": {"user": "y"}, "broadcast_callback": callback}


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("timeout=abc", "timeout"),
        ("timeout=-1", "timeout"),
        ("logging_setting=LOUD", "logging_setting"),
        ("end_on_error=maybe", "end_on_error"),
        ("bogus=1", "bogus"),
        ("timeout 30", "timeout"),
        ("timeout = 30", "timeout"),
        ("name=", "name"),
        ('context={"a": 1', "malformed"),
        ('name="unterminated', "unterminated"),
        ("name=a name=b", "name"),
        ("var=1x", "var"),
        ("var=class", "var"),
        ("dashboard=maybe", "dashboard"),
        ("context=[1, 2]", "context"),
        ("context=nowhere", "context"),
        ("broadcast_callback=nowhere", "broadcast_callback"),
        ("name=run#1", "#"),
        ('name=""', "name"),
    ],
)
def test_malformed_options_name_the_problem(line: str, named: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_options(line, {})
    assert named in str(info.value)
    assert str(info.value).startswith("%%rt_session")


# -- the magic in a shell --------------------------------------------------------------
def test_top_level_await_names_and_result(shell) -> None:
    result = cell(
        shell,
        '%%rt_session name=demo save_state=False context={"user": "ada"}\n'
        "a = await rt.call(double, 21)\n"
        "who = await rt.call(ctx_user)\n"
        "a + 1\n",
    )
    assert result.success, result.error_in_exec
    assert result.result == 43
    assert shell.user_ns["a"] == 42
    assert shell.user_ns["who"] == "ada"
    assert shell.user_ns["_"] == 43
    assert shell.user_ns["Out"][result.execution_count] == 43
    session = shell.user_ns[DEFAULT_VAR]
    assert isinstance(session, rt.Session)
    assert session.name == "demo"
    assert session.state is rt.SessionState.IDLE  # closed when the cell ended
    assert len(session.info.node_forest) == 2


def test_last_expression_may_await_and_semicolon_silences(shell) -> None:
    result = cell(shell, "%%rt_session save_state=False\nawait rt.call(double, 5)\n")
    assert result.result == 10
    result = cell(shell, "%%rt_session save_state=False\nawait rt.call(double, 6);\n")
    assert result.success and result.result is None
    result = cell(shell, "%%rt_session save_state=False\nsilent = 1\n")
    assert result.success and result.result is None and shell.user_ns["silent"] == 1


def test_var_binds_the_session_under_another_name(shell) -> None:
    result = cell(shell, "%%rt_session var=run1 name=named save_state=False\nx = 1\n")
    assert result.success
    assert shell.user_ns["run1"].name == "named"


def test_body_sees_its_session_and_sync_forms_work(shell) -> None:
    result = cell(
        shell,
        "%%rt_session var=s1 save_state=False\n"
        "from railtracks_nb.engine.scope import current_session\n"
        "inside = current_session()\n"
        "b = rt.call_sync(double, 2)\n"
        "info = s1.run_sync(double, 3)\n"
        "f = rt.Flow('flow-in-cell', double, save_state=False).invoke(4)\n"
        "(b, info.answer, f)\n",
    )
    assert result.success, result.error_in_exec
    assert result.result == (4, 6, 8)
    assert shell.user_ns["inside"] is shell.user_ns["s1"]
    assert len(shell.user_ns["s1"].info.runs) == 2  # call_sync and run_sync joined the session


def test_ipython_syntax_in_the_body(shell) -> None:
    result = cell(shell, "%%rt_session save_state=False\nnames = %who_ls\nlen(names) > 0\n")
    assert result.success, result.error_in_exec
    assert result.result is True


def test_usage_error_runs_nothing(shell, capsys) -> None:
    shell.user_ns.pop("never", None)
    shell.user_ns[DEFAULT_VAR] = "untouched"
    result = cell(shell, "%%rt_session timeout=abc\nnever = 1\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert "timeout" in str(result.error_in_exec)
    assert "never" not in shell.user_ns
    assert shell.user_ns[DEFAULT_VAR] == "untouched"


def test_traceback_points_at_the_user_line(shell, capsys) -> None:
    result = cell(shell, "%%rt_session save_state=False\ny = 1\n\nz = 1 / 0\n")
    error = result.error_in_exec
    assert isinstance(error, ZeroDivisionError)
    frames = traceback.extract_tb(error.__traceback__)
    user = [f for f in frames if f.line == "z = 1 / 0"]
    assert user and user[0].lineno == 4  # line 4 of the cell, counting the %%rt_session line
    # No asyncio or nest_asyncio internals between the magic and the user's frame.
    assert not any("asyncio" in f.filename for f in frames)
    shown = capsys.readouterr().out
    assert "z = 1 / 0" in shown and "ZeroDivisionError" in shown
    assert f"In[{result.execution_count}], line 4" in shown


def test_syntax_error_in_body_reports_line_and_runs_nothing(shell) -> None:
    shell.user_ns.pop("before", None)
    result = cell(shell, "%%rt_session save_state=False\nbefore = 1\nx = = 1\n")
    assert isinstance(result.error_in_exec, SyntaxError)
    assert result.error_in_exec.lineno == 3
    assert "before" not in shell.user_ns


def test_node_error_propagates_and_session_closes(shell) -> None:
    result = cell(shell, "%%rt_session save_state=False var=s2\nawait rt.call(boom)\n")
    assert isinstance(result.error_in_exec, ValueError)
    assert shell.user_ns["s2"].state is rt.SessionState.IDLE
    frames = traceback.extract_tb(result.error_in_exec.__traceback__)
    assert any(f.line == "await rt.call(boom)" and f.lineno == 2 for f in frames)


def test_timeout_raises_global_timeout_and_shell_stays_usable(shell) -> None:
    result = cell(shell, "%%rt_session timeout=0.05 save_state=False var=s3\nawait rt.call(hang)\n")
    error = result.error_in_exec
    assert isinstance(error, rt.GlobalTimeOutError)
    assert error.running == ["hang"]
    assert shell.user_ns["s3"].state is rt.SessionState.IDLE
    after = cell(shell, "%%rt_session save_state=False\nawait rt.call(double, 1)\n")
    assert after.result == 2


def test_end_on_error_option_reaches_the_session(shell) -> None:
    result = cell(shell, "%%rt_session end_on_error=True save_state=False var=s4\n1\n")
    assert result.success
    assert shell.user_ns["s4"].executor_config.end_on_error is True


def test_state_is_saved_under_the_name(shell, tmp_path) -> None:
    result = cell(shell, "%%rt_session name=saved-demo\nawait rt.call(double, 2)\n")
    assert result.success, result.error_in_exec
    path = tmp_path / ".railtracks" / "saved-demo.json"
    payload = json.loads(path.read_text())
    assert payload["session_name"] == "saved-demo"
    assert payload["railtracks_nb"]["status"] == "Completed"
    assert [n["name"] for n in payload["runs"][0]["nodes"]] == ["double"]


def test_session_of_the_cell_is_not_current_afterwards(shell) -> None:
    from railtracks_nb.engine.scope import current_session

    cell(shell, "%%rt_session save_state=False\n1\n")
    assert current_session() is None
    # A plain cell after the magic opens a temporary session of its own.
    result = cell(shell, "outside = rt.call_sync(double, 7)")
    assert result.success and shell.user_ns["outside"] == 14


# -- the dashboard option ----------------------------------------------------------------
@pytest.fixture
def fake_widgets(monkeypatch):
    shown: list = []
    module = types.ModuleType("railtracks_nb.notebook.widgets")

    def show(session):
        shown.append(session)
        return None

    module.show = show  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "railtracks_nb.notebook.widgets", module)
    return shown


def test_dashboard_on_shows_the_session(shell, fake_widgets) -> None:
    result = cell(shell, "%%rt_session dashboard=on save_state=False var=s5\n1\n")
    assert result.success
    assert fake_widgets == [shell.user_ns["s5"]]


def test_dashboard_off_and_auto_outside_a_kernel_show_nothing(shell, fake_widgets) -> None:
    assert cell(shell, "%%rt_session dashboard=off save_state=False\n1\n").success
    assert cell(shell, "%%rt_session save_state=False\n1\n").success  # auto: no kernel here
    assert fake_widgets == []


def test_dashboard_unavailable_or_broken_never_stops_the_cell(shell, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "railtracks_nb.notebook.widgets", None)  # import fails
    assert cell(shell, "%%rt_session dashboard=on save_state=False\nok1 = 1\n").success
    module = types.ModuleType("railtracks_nb.notebook.widgets")

    def show(session):
        raise RuntimeError("no front end")

    module.show = show  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "railtracks_nb.notebook.widgets", module)
    result = cell(shell, "%%rt_session dashboard=on save_state=False\nok2 = 2\n")
    assert result.success and shell.user_ns["ok2"] == 2


def test_unload_removes_the_magic(shell) -> None:
    shell.run_cell("%unload_ext railtracks_nb")
    try:
        assert "rt_session" not in shell.magics_manager.magics["cell"]
        result = cell(shell, "%%rt_session\n1\n")
        assert isinstance(result.error_in_exec, UsageError)
    finally:
        shell.run_cell("%load_ext railtracks_nb")
    assert "rt_session" in shell.magics_manager.magics["cell"]


def test_cell_becomes_one_await_that_ipython_runs_natively(shell) -> None:
    transformed = shell.transform_cell("%%rt_session name=x timeout=5\na = 1\na\n")
    assert transformed == (
        "await get_ipython().magics_manager.registry['RailtracksMagics']"
        ".run_async('name=x timeout=5', 'a = 1\\na\\n')\n"
    )
    assert shell.should_run_async(transformed, transformed_cell=transformed)
    # A trailing ';' stays at the end, where IPython looks for it to silence the result.
    assert shell.transform_cell("%%rt_session\nx;\n").endswith("run_async('', 'x;\\n');\n")
    # Other cells, the magic's help, and magics with a longer name are left alone.
    assert shell.transform_cell("x = 1\n") == "x = 1\n"
    assert "run_async" not in shell.transform_cell("%%rt_session?\n")
    assert "run_async" not in shell.transform_cell("%%rt_sessions\n1\n")


def test_with_autoawait_off_the_magic_drives_the_body_itself(shell) -> None:
    shell.run_cell("%autoawait off")
    try:
        assert "run_cell_magic" in shell.transform_cell("%%rt_session\n1\n")
        result = cell(
            shell,
            "%%rt_session save_state=False var=s8\n"
            "got = await rt.call(double, 4)\n"
            "got + rt.call_sync(double, 1)\n",
        )
        assert result.success, result.error_in_exec
        assert result.result == 10 and shell.user_ns["got"] == 8
        assert shell.user_ns["s8"].state is rt.SessionState.IDLE
        result = cell(shell, "%%rt_session save_state=False\nawait rt.call(double, 6);\n")
        assert result.success and result.result is None
    finally:
        shell.run_cell("%autoawait on")


def test_under_another_cell_magic_the_body_still_runs(shell) -> None:
    # %%time and %%capture run their body synchronously: it must not become an await.
    result = cell(shell, "%%time\n%%rt_session save_state=False\nv = await rt.call(double, 2)\nv\n")
    assert result.success, result.error_in_exec
    assert result.result == 4
    result = cell(
        shell, "%%capture captured\n%%rt_session save_state=False\nprint('hi')\nw = 5\n"
    )
    assert result.success, result.error_in_exec
    assert shell.user_ns["w"] == 5 and shell.user_ns["captured"].stdout == "hi\n"


def test_loading_twice_registers_one_transformer(shell) -> None:
    def ours() -> list:
        return [t for t in shell.input_transformers_cleanup if getattr(t, "railtracks_nb", False)]

    assert len(ours()) == 1
    shell.run_cell("%reload_ext railtracks_nb")
    assert len(ours()) == 1
    shell.run_cell("%unload_ext railtracks_nb")
    try:
        assert ours() == []
        assert "get_ipython().run_cell_magic" in shell.transform_cell("%%rt_session\n1\n")
    finally:
        shell.run_cell("%load_ext railtracks_nb")
    assert len(ours()) == 1


def test_magic_works_when_called_from_a_running_loop(shell) -> None:
    """The kernel case: the magic is called synchronously while a loop runs."""

    async def from_a_cell():
        loop = asyncio.get_running_loop()
        value = shell.run_cell_magic(
            "rt_session",
            "save_state=False var=s6",
            "import asyncio\nloop_inside = asyncio.get_running_loop()\nawait rt.call(double, 8)\n",
        )
        return value, loop

    value, loop = asyncio.run(from_a_cell())
    assert value == 16
    assert shell.user_ns["loop_inside"] is loop  # ran on the caller's loop, not a new one


# -- interrupts without a kernel -----------------------------------------------------------
def _sigint_when(event: threading.Event) -> threading.Thread:
    """A thread that sends this process SIGINT once ``event`` is set (like the stop button)."""

    def send() -> None:
        if event.wait(10):
            time.sleep(0.1)  # let the main thread reach its await
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_sigint_on_an_idle_loop_cancels_the_coroutine() -> None:
    from railtracks_nb.engine._sync import run_in_loop

    seen: list[str] = []
    ready = threading.Event()

    async def waiter() -> None:
        ready.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    before = signal.getsignal(signal.SIGINT)
    loop = asyncio.new_event_loop()
    try:
        thread = _sigint_when(ready)
        with pytest.raises(KeyboardInterrupt) as info:
            run_in_loop(loop, waiter())
        thread.join()
    finally:
        loop.close()
    assert seen == ["cancelled"]
    # Cancelled at its await, not unwound by an exception raised inside the selector.
    frames = traceback.extract_tb(info.value.__traceback__)
    assert not any(f.filename == selectors.__file__ for f in frames)
    assert signal.getsignal(signal.SIGINT) is before  # the previous handler is back


def test_sigint_in_blocking_driven_code_spares_the_loop_and_its_other_tasks() -> None:
    """A KeyboardInterrupt raised inside a task would escape into the event loop and stop
    it (the kernel's loop, in a notebook): the driven code gets a cancellation instead."""
    from railtracks_nb.engine._sync import drive

    started = threading.Event()
    seen: list[str] = []

    async def blocking_child() -> None:
        started.set()
        try:
            time.sleep(10)  # blocks the loop: the interrupt must land right here
        except asyncio.CancelledError:
            seen.append("child cancelled")
            raise

    async def body() -> None:
        await asyncio.create_task(blocking_child())

    async def bystander() -> None:
        await asyncio.sleep(0.05)
        seen.append("bystander finished")

    async def main() -> str:
        other = asyncio.create_task(bystander())
        with pytest.raises(KeyboardInterrupt):
            await drive(body())
        await other
        return "loop still running"

    before = signal.getsignal(signal.SIGINT)
    thread = _sigint_when(started)
    assert asyncio.run(main()) == "loop still running"
    thread.join()
    assert seen == ["child cancelled", "bystander finished"]
    assert signal.getsignal(signal.SIGINT) is before


def test_sigint_in_a_shell_session_saves_it_interrupted(shell, tmp_path) -> None:
    started = threading.Event()
    shell.user_ns["started"] = started
    cell(
        shell,
        "@rt.function_node\n"
        "async def wait_here():\n"
        "    started.set()\n"
        "    await asyncio.sleep(30)\n",
    )
    thread = _sigint_when(started)
    result = cell(shell, "%%rt_session name=shell-stop var=s7\nawait rt.call(wait_here)\n")
    thread.join()
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert "shell-stop" in str(result.error_in_exec)
    assert shell.user_ns["s7"].state is rt.SessionState.IDLE
    saved = json.loads((tmp_path / ".railtracks" / "shell-stop.json").read_text())
    assert saved["railtracks_nb"]["status"] == "Interrupted"
    assert cell(shell, "%%rt_session save_state=False\nawait rt.call(double, 3)\n").result == 6

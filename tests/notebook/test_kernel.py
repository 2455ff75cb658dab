"""The notebook layer in a real ipykernel, driven through jupyter_client.

Every test runs on ipykernel 7 and on ipykernel 6 (see ``tests/kernels.py``).
One kernel per environment is shared by the module (starting one takes a
couple of seconds); every test leaves it ready for the next, which is itself
part of what is tested: after a timeout or an interrupt, the next cell must
run normally.
"""

from __future__ import annotations

import base64
import json
import re

import pytest

from tests.kernels import KERNEL_ENVS, Kernel, error_text, require, start_kernel, stop_kernel

pytest.importorskip("ipykernel")
pytest.importorskip("jupyter_client")

pytestmark = pytest.mark.timeout(120)

KERNEL_IDS = [env.name for env in KERNEL_ENVS]


def _results(outputs: list[tuple[str, dict]]) -> list[dict]:
    return [c["data"] for kind, c in outputs if kind == "execute_result"]


def _displays(outputs: list[tuple[str, dict]]) -> list[dict]:
    return [c["data"] for kind, c in outputs if kind == "display_data"]


def _picture(data: dict) -> str:
    """The SVG call graph a text/html output embeds (as an <img> data URL)."""
    match = re.search(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", data["text/html"])
    assert match, data["text/html"][:500]
    return base64.b64decode(match.group(1)).decode()


@pytest.fixture(scope="module", params=KERNEL_ENVS, ids=KERNEL_IDS)
def kernel(request, tmp_path_factory):
    require(request.param)
    k = start_kernel(request.param, tmp_path_factory.mktemp(request.param.name))
    try:
        k.ok(
            "%colors nocolor\n"
            "%load_ext railtracks_nb\n"
            "import asyncio, threading, time\n"
            "import railtracks_nb as rt\n"
            "kernel_loop = asyncio.get_running_loop()\n"
            "seen = []\n"
            "@rt.function_node\n"
            "async def double(x):\n"
            "    seen.append((asyncio.get_running_loop() is kernel_loop,\n"
            "                 threading.current_thread() is threading.main_thread()))\n"
            "    await asyncio.sleep(0)\n"
            "    return 2 * x\n"
            "@rt.function_node\n"
            "async def slow(seconds):\n"
            "    print('started', flush=True)\n"
            "    await asyncio.sleep(seconds)\n"
            "    return seconds\n"
        )
        yield k
    finally:
        stop_kernel(k)


def test_top_level_await_names_and_out(kernel: Kernel) -> None:
    reply, outputs = kernel.run(
        "%%rt_session name=first save_state=False dashboard=off\n"
        "a = await rt.call(double, 21)\n"
        "a + 1\n"
    )
    assert reply["status"] == "ok", error_text(outputs)
    assert [r["text/plain"] for r in _results(outputs)] == ["43"]
    n = reply["execution_count"]
    assert kernel.value(f"[a, Out[{n}], rt_session.name, rt_session.state.value]") == [
        42,
        43,
        "first",
        "IDLE",
    ]
    assert kernel.value("_") == 43


def test_sync_and_async_forms_run_on_the_kernel_loop(kernel: Kernel) -> None:
    kernel.ok("seen.clear()\nflow = rt.Flow('kflow', double, save_state=False)")
    reply, outputs = kernel.run(
        "%%rt_session save_state=False dashboard=off\n"
        "r1 = await rt.call(double, 1)\n"
        "r2 = rt.call_sync(double, 2)\n"
        "r3 = flow.invoke(3)\n"
        "r4 = rt_session.run_sync(double, 4).answer\n"
        "r5 = await flow.ainvoke(5)\n"
        "r6 = (await rt_session.run(double, 6)).answer\n"
        "[r1, r2, r3, r4, r5, r6]\n"
    )
    assert reply["status"] == "ok", error_text(outputs)
    assert _results(outputs)[0]["text/plain"] == "[2, 4, 6, 8, 10, 12]"
    # Plain cells (no magic) too: the kernel's loop is running, so these re-enter it.
    kernel.ok("p1 = flow.invoke(7)\np2 = rt.call_sync(double, 8)\np3 = await flow.ainvoke(9)")
    assert kernel.value("[p1, p2, p3]") == [14, 16, 18]
    # Every node ran on the kernel's own loop, in the main thread (no background loop).
    assert kernel.value("seen") == [[True, True]] * 9


def test_magic_under_another_cell_magic(kernel: Kernel) -> None:
    reply, outputs = kernel.run(
        "%%capture cap\n%%rt_session save_state=False dashboard=off\n"
        "print('inside')\ncaptured = await rt.call(double, 3)\n"
    )
    assert reply["status"] == "ok", error_text(outputs)
    assert kernel.value("[captured, cap.stdout]") == [6, "inside\n"]
    reply, outputs = kernel.run(
        "%%time\n%%rt_session save_state=False dashboard=off\nawait rt.call(double, 4)\n"
    )
    assert reply["status"] == "ok", error_text(outputs)
    assert [r["text/plain"] for r in _results(outputs)] == ["8"]


def test_malformed_option_is_a_usage_error_and_the_body_does_not_run(kernel: Kernel) -> None:
    reply, _outputs = kernel.run("%%rt_session timeout=soon\nnever_defined = 1\n")
    assert reply["status"] == "error"
    assert reply["ename"] == "UsageError"
    assert "timeout" in reply["evalue"]
    assert kernel.value("'never_defined' in globals()") is False


def test_traceback_points_at_the_user_line(kernel: Kernel) -> None:
    reply, outputs = kernel.run(
        "%%rt_session save_state=False dashboard=off\nok = 1\nboom = 1 / 0\n"
    )
    assert reply["ename"] == "ZeroDivisionError"
    text = error_text(outputs)
    assert f"In[{reply['execution_count']}], line 3" in text
    assert "----> 3 boom = 1 / 0" in text
    assert "nest_asyncio" not in text and "base_events" not in text


def test_timeout_is_global_timeout_error_and_kernel_stays_usable(kernel: Kernel) -> None:
    reply, outputs = kernel.run(
        "%%rt_session timeout=0.2 save_state=False dashboard=off var=timed\n"
        "await rt.call(slow, 30)\n"
    )
    assert reply["status"] == "error"
    assert reply["ename"] == "GlobalTimeOutError"
    assert "'slow'" in reply["evalue"]
    assert kernel.value("[timed.state.value, timed.info.status]") == ["IDLE", "Failed"]
    reply, outputs = kernel.run(
        "%%rt_session save_state=False dashboard=off\nawait rt.call(double, 2)\n"
    )
    assert _results(outputs)[0]["text/plain"] == "4"


def _leftover_tasks(kernel: Kernel) -> list[str]:
    return kernel.value(
        "[repr(t) for t in asyncio.all_tasks(kernel_loop) "
        "if 'Session.' in repr(t) or 'slow' in repr(t) or 'body' in repr(t)]"
    )


def test_interrupt_cancels_nodes_saves_interrupted_and_recovers(kernel: Kernel) -> None:
    msg_id = kernel.kc.execute(
        "%%rt_session name=stopped dashboard=off\nbefore = 1\nawait rt.call(slow, 60)\nafter = 1\n"
    )
    kernel.interrupt_when(msg_id, "started")
    reply, outputs = kernel.collect(msg_id)
    assert reply["status"] == "error"
    assert reply["ename"] == "KeyboardInterrupt"
    assert "stopped" in reply["evalue"]
    assert kernel.value("[before, 'after' in globals(), rt_session.state.value]") == [
        1,
        False,
        "IDLE",
    ]
    saved = json.loads((kernel.home / "stopped.json").read_text())
    assert saved["railtracks_nb"]["status"] == "Interrupted"
    (edge,) = saved["runs"][0]["edges"]
    assert edge["details"]["status"] == "Failed"
    assert edge["details"]["output"]["type"] == "CancelledError"
    assert _leftover_tasks(kernel) == []  # nothing keeps running in the background
    reply, outputs = kernel.run(
        "%%rt_session save_state=False dashboard=off\nawait rt.call(double, 5)\n"
    )
    assert _results(outputs)[0]["text/plain"] == "10"


def test_interrupt_of_a_node_that_ignores_cancellation_says_what_is_true(
    kernel: Kernel,
) -> None:
    kernel.ok(
        "deaf_stop = False\n"
        "@rt.function_node\n"
        "async def deaf():\n"
        "    print('started', flush=True)\n"
        "    while not deaf_stop:\n"
        "        try:\n"
        "            await asyncio.sleep(0.05)\n"
        "        except asyncio.CancelledError:\n"
        "            pass\n"
    )
    try:
        msg_id = kernel.kc.execute("%%rt_session name=deaf dashboard=off\nawait rt.call(deaf)\n")
        kernel.interrupt_when(msg_id, "started")
        reply, _ = kernel.collect(msg_id)
        assert reply["ename"] == "KeyboardInterrupt"
        assert "'deaf' ignored the cancellation and are still running" in reply["evalue"]
        assert "were cancelled" not in reply["evalue"]
        assert kernel.value("rt_session.stubborn_nodes") == ["deaf"]
        reply, outputs = kernel.run(
            "%%rt_session save_state=False dashboard=off\nawait rt.call(double, 5)\n"
        )
        assert _results(outputs)[0]["text/plain"] == "10"  # the kernel goes on
    finally:
        kernel.ok("deaf_stop = True")


def test_interrupt_during_flow_invoke_in_a_plain_cell(kernel: Kernel) -> None:
    kernel.ok("iflow = rt.Flow('interrupted-flow', slow)")
    msg_id = kernel.kc.execute("iflow.invoke(60)")
    kernel.interrupt_when(msg_id, "started")
    reply, _ = kernel.collect(msg_id)
    assert reply["ename"] == "KeyboardInterrupt"
    saved = json.loads((kernel.home / "interrupted-flow.json").read_text())
    assert saved["railtracks_nb"]["status"] == "Interrupted"
    assert _leftover_tasks(kernel) == []
    assert kernel.value("rt.call_sync(double, 3)") == 6


def test_interrupt_during_flow_invoke_inside_the_magic(kernel: Kernel) -> None:
    kernel.ok("nflow = rt.Flow('nested-flow', slow)")
    msg_id = kernel.kc.execute("%%rt_session name=outer dashboard=off\nnflow.invoke(60)\n")
    kernel.interrupt_when(msg_id, "started")
    reply, _ = kernel.collect(msg_id)
    assert reply["ename"] == "KeyboardInterrupt"
    inner = json.loads((kernel.home / "nested-flow.json").read_text())
    outer = json.loads((kernel.home / "outer.json").read_text())
    assert inner["railtracks_nb"]["status"] == "Interrupted"
    assert outer["railtracks_nb"]["status"] == "Interrupted"
    assert _leftover_tasks(kernel) == []
    assert kernel.value("1 + 1") == 2


def test_interrupt_of_a_body_blocked_in_sync_code(kernel: Kernel) -> None:
    msg_id = kernel.kc.execute(
        "%%rt_session name=blocked dashboard=off\nprint('started', flush=True)\ntime.sleep(60)\n"
    )
    kernel.interrupt_when(msg_id, "started")
    reply, _ = kernel.collect(msg_id)
    assert reply["ename"] == "KeyboardInterrupt"
    saved = json.loads((kernel.home / "blocked.json").read_text())
    assert saved["railtracks_nb"]["status"] == "Interrupted"
    assert kernel.value("rt_session.state.value") == "IDLE"


def test_interrupt_of_an_async_node_blocking_the_loop(kernel: Kernel) -> None:
    kernel.ok(
        "@rt.function_node\n"
        "async def hog():\n"
        "    print('started', flush=True)\n"
        "    time.sleep(60)  # blocks the loop: only a KeyboardInterrupt can stop it\n"
    )
    msg_id = kernel.kc.execute("%%rt_session name=hogged dashboard=off\nawait rt.call(hog)\n")
    kernel.interrupt_when(msg_id, "started")
    reply, _ = kernel.collect(msg_id)
    assert reply["ename"] == "KeyboardInterrupt"
    saved = json.loads((kernel.home / "hogged.json").read_text())
    assert saved["railtracks_nb"]["status"] == "Interrupted"
    (edge,) = saved["runs"][0]["edges"]
    assert edge["details"]["status"] == "Failed"
    assert _leftover_tasks(kernel) == []
    assert kernel.value("rt.call_sync(double, 4)") == 8


def test_rich_display_of_session_and_loaded_file(kernel: Kernel) -> None:
    kernel.ok(
        "%%rt_session name=pictured dashboard=off\n"
        "await rt.call(double, 1)\n"
        "await rt.call(double, 2)\n"
    )
    _, outputs = kernel.run("rt_session")
    (data,) = _results(outputs)
    assert "<svg" in _picture(data) and "double" in _picture(data)
    assert "<script" not in data["text/html"]
    assert data["text/plain"].startswith("Session 'pictured'")
    _, outputs = kernel.run(f"rt.load({str(kernel.home / 'pictured.json')!r})")
    (data,) = _results(outputs)
    assert "<svg" in _picture(data) and "pictured" in data["text/html"]
    assert data["text/plain"].startswith("Saved session 'pictured'")
    _, outputs = kernel.run("rt_session.info")
    assert "double" in _picture(_results(outputs)[0])


def test_plotly_figures_render_in_the_kernel(kernel: Kernel) -> None:
    """The package's own dependencies are enough (``.venv-ipykernel6`` has nothing else):
    plotly's notebook renderer needs nbformat."""
    kernel.ok("%%rt_session name=plotted save_state=False dashboard=off\nawait rt.call(double, 1)")
    for figure in ("rt_session.info.plot_timeline()", "rt_session.info.plot_graph()"):
        reply, outputs = kernel.run(figure)
        assert reply["status"] == "ok", error_text(outputs)
        # A renderer that fails is shown as an error output, the reply still "ok".
        assert error_text(outputs) == ""
        bundles = _results(outputs) + _displays(outputs)
        assert any("application/vnd.plotly.v1+json" in b for b in bundles), bundles


def test_dashboard_option_in_a_kernel(kernel: Kernel) -> None:
    # A stand-in widgets module, so this checks the magic whatever the real one's state.
    kernel.ok(
        "import sys, types\n"
        "_real_widgets = sys.modules.get('railtracks_nb.notebook.widgets')\n"
        "_fake = types.ModuleType('railtracks_nb.notebook.widgets')\n"
        "class _Dash:\n"
        "    def __init__(self, s): self.s = s\n"
        "    def _repr_html_(self): return f'<b>DASHBOARD {self.s.name}</b>'\n"
        "_fake.show = _Dash\n"
        "sys.modules['railtracks_nb.notebook.widgets'] = _fake\n"
    )
    try:
        _, outputs = kernel.run("%%rt_session name=dash save_state=False\n1\n")  # auto: a kernel
        assert [d.get("text/html") for d in _displays(outputs)] == ["<b>DASHBOARD dash</b>"]
        _, outputs = kernel.run("%%rt_session name=dash dashboard=on save_state=False\n1\n")
        assert len(_displays(outputs)) == 1
        _, outputs = kernel.run("%%rt_session name=dash dashboard=off save_state=False\n1\n")
        assert _displays(outputs) == []
    finally:
        kernel.ok(
            "if _real_widgets is None:\n"
            "    sys.modules.pop('railtracks_nb.notebook.widgets', None)\n"
            "else:\n"
            "    sys.modules['railtracks_nb.notebook.widgets'] = _real_widgets\n"
        )


def test_live_dashboard_is_shown_then_refreshed_with_the_final_picture(kernel: Kernel) -> None:
    _, outputs = kernel.run(
        "%%rt_session name=watched save_state=False\nawait rt.call(double, 21)\n"
    )
    shown = [c for kind, c in outputs if kind == "display_data"]
    updated = [c for kind, c in outputs if kind == "update_display_data"]
    assert len(shown) == 1 and len(updated) == 1
    first, last = shown[0]["data"], updated[0]["data"]
    # the live widget, with a static picture for viewers without a kernel
    assert "application/vnd.jupyter.widget-view+json" in first
    assert "railtracks-nb-session" in first["text/html"]  # no nodes yet: no picture
    assert "<img" not in first["text/html"]
    # refreshed in place at the end: the saved picture shows the finished node
    assert updated[0]["transient"]["display_id"] == shown[0]["transient"]["display_id"]
    assert "application/vnd.jupyter.widget-view+json" in last
    assert "double" in _picture(last)


def test_set_config_auto_display_off_hides_the_dashboard(kernel: Kernel) -> None:
    kernel.ok("rt.set_config(auto_display=False)")
    try:
        _, outputs = kernel.run("%%rt_session save_state=False\nawait rt.call(double, 1)\n")
        assert _displays(outputs) == []
        _, outputs = kernel.run(
            "%%rt_session save_state=False dashboard=on\nawait rt.call(double, 1)\n"
        )
        assert len(_displays(outputs)) == 1  # an explicit dashboard=on still shows it
    finally:
        kernel.ok("rt.set_config(auto_display=None)")

"""The kernel stays healthy while a flow runs in a cell (ipykernel 7 and 6, no browser).

What a front end sends while a cell runs a flow (the next cell of Run All, a
completion request, a widget's comm message) must all be answered: requests
in the order sent, once the running cell ends, the queued cell's output after
the running cell's. Comm messages are answered in their own order: ipykernel 7
handles them while an awaited cell (the magic) runs, so a widget can talk to
the kernel mid-cell; ipykernel 6, and ipykernel 7 during a sync call, queue
them behind the cell like any request. An interrupt mid-cell ends the cell with
``KeyboardInterrupt``, saves its session as interrupted, and leaves the kernel
ready for what is queued behind it.

The flow's node waits for a file the test creates only after it has sent its
messages, so every message is sent while the cell is still running.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from queue import Empty

import pytest

from tests.kernels import KERNEL_ENVS, Kernel, error_text, require, start_kernel, stop_kernel

pytest.importorskip("ipykernel")
pytest.importorskip("jupyter_client")

pytestmark = pytest.mark.timeout(120)

#: Each way a cell can run a flow: the code, given the gate file's path, and the
#: saved session it ends up in (None: a temporary session with a generated name).
FORMS: dict[str, tuple[str, str | None]] = {
    "magic": (
        "%%rt_session name=gated-magic\nresult = await rt.call(gated, {gate!r})\nresult\n",
        "gated-magic",
    ),
    "flow.invoke": ("result = gflow.invoke({gate!r})\nresult\n", "gated-flow"),
    "rt.call_sync": ("result = rt.call_sync(gated, {gate!r})\nresult\n", None),
    "session.run_sync": (
        "with rt.Session(name='gated-run-sync') as s:\n"
        "    result = s.run_sync(gated, {gate!r}).answer\n"
        "result\n",
        "gated-run-sync",
    ),
    "flow.invoke in the magic": (
        "%%rt_session name=gated-outer dashboard=off\nresult = gflow.invoke({gate!r})\nresult\n",
        "gated-outer",
    ),
}

SETUP = """\
%colors nocolor
%load_ext railtracks_nb
import asyncio, os
import railtracks_nb as rt

@rt.function_node
async def gated(path):
    print('started', flush=True)
    while not os.path.exists(path):
        await asyncio.sleep(0.02)
    return 'released'

gflow = rt.Flow('gated-flow', gated)
echo_log = []

def _echo_target(comm, open_msg):
    echo_log.append(['open', open_msg['content']['data']])
    comm.send({'opened': open_msg['content']['data']})

    @comm.on_msg
    def _on_msg(msg):
        echo_log.append(['msg', msg['content']['data']])
        comm.send({'echo': msg['content']['data']})

get_ipython().kernel.comm_manager.register_target('rt_echo', _echo_target)
"""


@pytest.fixture(scope="module", params=KERNEL_ENVS, ids=[env.name for env in KERNEL_ENVS])
def kernel(request, tmp_path_factory):
    require(request.param)
    k = start_kernel(request.param, tmp_path_factory.mktemp(request.param.name))
    try:
        k.ok(SETUP)
        yield k
    finally:
        stop_kernel(k)


def _send(kernel: Kernel, msg_type: str, content: dict) -> str:
    """Send a shell message as a front end would (jupyter_client has no comm helpers)."""
    msg = kernel.kc.session.msg(msg_type, content)
    kernel.kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def _gather(kernel: Kernel, msg_ids: list[str], already: list[dict], timeout: float = 60):
    """Read iopub until every request in ``msg_ids`` is idle again; return every iopub
    message read (``already`` first), then the shell replies to ``msg_ids`` in arrival order."""
    iopub = list(already)
    idle = {
        m["parent_header"].get("msg_id")
        for m in iopub
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
    }
    deadline = time.monotonic() + timeout
    while not idle.issuperset(msg_ids):
        assert time.monotonic() < deadline, f"never answered: {set(msg_ids) - idle}"
        try:
            msg = kernel.kc.get_iopub_msg(timeout=1)
        except Empty:
            continue
        iopub.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle.add(msg["parent_header"].get("msg_id"))
    replies = []
    wanted = {m for m in msg_ids}
    while wanted:
        assert time.monotonic() < deadline, f"no shell reply to {wanted}"
        try:
            reply = kernel.kc.get_shell_msg(timeout=1)
        except Empty:
            continue
        parent = reply["parent_header"].get("msg_id")
        if parent in wanted:
            wanted.discard(parent)
            replies.append(reply)
    return iopub, replies


def _until_echoed(
    kernel: Kernel, comm_id: str, count: int, already: list[dict], timeout: float = 30
) -> list[dict]:
    """Read iopub until the comm ``comm_id`` has sent ``count`` messages, counting those
    in ``already``; return ``already`` and what was read."""
    read = list(already)
    deadline = time.monotonic() + timeout
    while True:
        sent = [
            m for m in read if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id
        ]
        if len(sent) >= count:
            return read
        assert time.monotonic() < deadline, f"the comm answered {len(sent)} of {count}"
        try:
            read.append(kernel.kc.get_iopub_msg(timeout=1))
        except Empty:
            continue


def _idle_order(iopub: list[dict], msg_ids: list[str]) -> list[str]:
    return [
        m["parent_header"]["msg_id"]
        for m in iopub
        if m["msg_type"] == "status"
        and m["content"]["execution_state"] == "idle"
        and m["parent_header"].get("msg_id") in msg_ids
    ]


def _outputs(iopub: list[dict], msg_id: str) -> list[tuple[str, dict]]:
    return [
        (m["msg_type"], m["content"])
        for m in iopub
        if m["parent_header"].get("msg_id") == msg_id
        and m["msg_type"] in ("stream", "execute_result", "display_data", "error")
    ]


def _position(iopub: list[dict], msg_id: str, msg_type: str) -> int:
    for i, m in enumerate(iopub):
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == msg_type:
            return i
    raise AssertionError(f"no {msg_type} for {msg_id}")


def _stderr(iopub: list[dict]) -> list[str]:
    """The kernel's stderr: asyncio's "cannot enter context", "Task was destroyed but
    it is pending" and the like are printed there. ipykernel 7's "No such comm"
    (a comm message routed before its comm_open is handled) is left out."""
    lines = [
        line
        for m in iopub
        if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
        for line in m["content"]["text"].splitlines()
    ]
    return [line for line in lines if not line.startswith("No such comm:")]


def _forget_saved(kernel: Kernel) -> None:
    """Remove the saved sessions of earlier tests (overwriting one logs a warning)."""
    for path in kernel.home.glob("gated-*.json"):
        path.unlink()


def _saved_status(kernel: Kernel, name: str | None) -> str | None:
    if name is None:
        return None
    return json.loads((kernel.home / f"{name}.json").read_text())["railtracks_nb"]["status"]


def _leftover_tasks(kernel: Kernel) -> list[str]:
    return kernel.value(
        "[repr(t) for t in asyncio.all_tasks() "
        "if 'Session.' in repr(t) or 'gated' in repr(t) or '_marked' in repr(t)]"
    )


@pytest.mark.parametrize("form", FORMS)
def test_messages_sent_mid_cell_are_all_answered_in_order(
    kernel: Kernel, form: str, tmp_path: Path
) -> None:
    code, saved = FORMS[form]
    _forget_saved(kernel)
    gate = tmp_path / "gate"
    kernel.ok("echo_log.clear()")
    first = kernel.kc.execute(code.format(gate=str(gate)))
    read = kernel.wait_for_output(first, "started")  # the flow is running now
    second = kernel.kc.execute("print('second')")
    complete = kernel.kc.complete("gflo", 4)
    comm_id = uuid.uuid4().hex
    opened = _send(
        kernel, "comm_open", {"comm_id": comm_id, "target_name": "rt_echo", "data": {"n": 1}}
    )
    pinged = _send(kernel, "comm_msg", {"comm_id": comm_id, "data": {"n": 2}})
    time.sleep(0.5)  # let the kernel receive them all while the cell still runs
    gate.touch()

    requests = [first, second, complete]
    iopub, replies = _gather(kernel, requests, read)
    iopub = _until_echoed(kernel, comm_id, 2, iopub)

    assert _stderr(iopub) == []
    # Handled one after the other, in the order sent, the running cell first.
    assert _idle_order(iopub, requests) == requests
    assert [r["parent_header"]["msg_id"] for r in replies] == [first, second, complete]
    first_reply, second_reply, complete_reply = (r["content"] for r in replies)
    # The running cell finished normally with its result...
    assert first_reply["status"] == "ok", error_text(_outputs(iopub, first))
    results = [
        c["data"]["text/plain"] for kind, c in _outputs(iopub, first) if kind == "execute_result"
    ]
    assert results == ["'released'"]
    # ...then the queued cell ran, its output after the running cell's end.
    assert second_reply["status"] == "ok"
    assert second_reply["execution_count"] == first_reply["execution_count"] + 1
    assert [c["text"] for kind, c in _outputs(iopub, second)] == ["second\n"]
    assert _position(iopub, second, "stream") > _position(iopub, first, "execute_result")
    # The completion and the comm messages were answered.
    assert complete_reply["status"] == "ok"
    assert "gflow" in complete_reply["matches"]
    echoed = [
        (m["parent_header"]["msg_id"], m["content"]["data"])
        for m in iopub
        if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id
    ]
    assert echoed == [(opened, {"opened": {"n": 1}}), (pinged, {"echo": {"n": 2}})]
    assert kernel.value("echo_log") == [["open", {"n": 1}], ["msg", {"n": 2}]]
    if saved is not None:
        assert _saved_status(kernel, saved) == "Completed"
    assert _leftover_tasks(kernel) == []


@pytest.mark.parametrize("form", FORMS)
def test_interrupt_mid_cell_with_messages_queued(kernel: Kernel, form: str, tmp_path: Path) -> None:
    code, saved = FORMS[form]
    _forget_saved(kernel)
    # stop_on_error=False: the queued cell must run after the interrupted one (a front
    # end's default, True, would have the kernel abort it: that is Jupyter's Run All).
    first = kernel.kc.execute(code.format(gate=str(tmp_path / "never")), stop_on_error=False)
    read = kernel.wait_for_output(first, "started")
    second = kernel.kc.execute("print('after the interrupt')")
    complete = kernel.kc.complete("gflo", 4)
    time.sleep(0.3)  # let the node reach its await and the kernel receive the requests
    kernel.km.interrupt_kernel()

    requests = [first, second, complete]
    iopub, replies = _gather(kernel, requests, read)

    assert _stderr(iopub) == []
    assert _idle_order(iopub, requests) == requests
    first_reply, second_reply, complete_reply = (r["content"] for r in replies)
    assert first_reply["status"] == "error"
    assert first_reply["ename"] == "KeyboardInterrupt"
    assert second_reply["status"] == "ok"
    assert [c["text"] for kind, c in _outputs(iopub, second)] == ["after the interrupt\n"]
    assert "gflow" in complete_reply["matches"]
    if saved is not None:
        assert _saved_status(kernel, saved) == "Interrupted"
    assert _leftover_tasks(kernel) == []
    assert kernel.value("rt.Flow('after', gated).invoke(__import__('os').devnull)") == "released"

"""Interrupting a cell that runs a Dask batch, in a real ipykernel: the batch's
tasks are cancelled, every session that had started is saved ``Interrupted``,
and the kernel runs the next cell."""

from __future__ import annotations

import pytest

from tests.kernels import KERNEL_ENVS, Kernel, start_kernel, stop_kernel

pytest.importorskip("distributed")
pytest.importorskip("jupyter_client")

pytestmark = pytest.mark.timeout(240)

#: The environment of this interpreter (it has the dask extra installed).
ENV = KERNEL_ENVS[0]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    k = start_kernel(ENV, tmp_path_factory.mktemp("dask-kernel"))
    try:
        k.ok(
            "import logging, time\n"
            "import railtracks_nb as rt\n"
            "from distributed import Client, LocalCluster\n"
            "cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,\n"
            "                       dashboard_address=':0', silence_logs=logging.ERROR)\n"
            "client = Client(cluster)\n"
            "from railtracks_nb.engine.cluster.interrupts import IgnoreInterrupts\n"
            "client.register_plugin(IgnoreInterrupts())\n"
            "@rt.function_node\n"
            "def nap(seconds):\n"
            "    time.sleep(seconds)\n"
            "    return seconds\n"
            "class SayWhenRunning:\n"
            "    said = False\n"
            "    def refresh(self, state, changed):\n"
            "        if not self.said and state.counts()['running'] >= 2:\n"
            "            self.said = True\n"
            "            print('started', flush=True)\n"
            "flow = rt.Flow('napping', nap, logging_setting='NONE')\n",
        )
        yield k
    finally:
        try:
            k.ok("client.close(); cluster.close()")
        finally:
            stop_kernel(k)


def test_interrupting_flow_map_cancels_the_batch_and_saves_its_sessions_interrupted(
    kernel: Kernel,
) -> None:
    msg_id = kernel.kc.execute(
        "flow.map([30] * 6, client=client, display=SayWhenRunning(), live_interval=0.05)"
    )
    kernel.interrupt_when(msg_id, "started", timeout=120)
    reply, _ = kernel.collect(msg_id, timeout=60)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    statuses = kernel.value("sorted(r.status for r in rt.sessions())")
    assert statuses == ["Interrupted", "Interrupted"]
    indices = kernel.value("sorted(r.metadata['input_index'] for r in rt.sessions())")
    assert len(set(indices)) == 2
    # Nothing of the batch keeps running on the workers.
    kernel.ok(
        "deadline = time.monotonic() + 15\n"
        "while any(client.processing().values()) and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)\n"
    )
    assert kernel.value("any(client.processing().values())") is False
    # The workers survived the interrupt (it reached their process group too).
    assert kernel.value("len(client.scheduler_info()['workers'])") == 2
    # The kernel goes on: a new batch runs.
    assert kernel.value("list(flow.map([0.1, 0.2], client=client, display=False))") == [0.1, 0.2]

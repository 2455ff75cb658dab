"""Real kernels for the notebook tests: which ipykernel environments exist, how to
start one with jupyter_client, and a thin client that runs cells and collects outputs.

Two kernel environments are tested: ``.venv`` (the newest ipykernel, 7.x) and
``.venv-ipykernel6`` (ipykernel 6.29+), both created by ``scripts/setup.sh``.
A missing environment skips its tests, unless ``RT_REQUIRE_KERNEL_ENVS=1``
(``scripts/test.sh`` sets it, so CI fails instead of skipping).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class KernelEnv:
    """A Python environment that runs ipykernel of one major version."""

    name: str
    python: Path
    major: int


KERNEL_ENVS = (
    KernelEnv("ipykernel7", Path(sys.executable), 7),
    KernelEnv("ipykernel6", REPO / ".venv-ipykernel6" / "bin" / "python", 6),
)


def require(env: KernelEnv) -> None:
    """Skip (or, in CI, fail) when ``env`` has not been created."""
    if env.python.exists():
        return
    message = f"{env.name}: {env.python} is missing; run scripts/setup.sh to create it"
    if os.environ.get("RT_REQUIRE_KERNEL_ENVS") == "1":
        pytest.fail(message)
    pytest.skip(message)


class Kernel:
    """A thin client: run a cell, collect its outputs and its reply."""

    def __init__(self, km: Any, kc: Any, home: Path, env: KernelEnv) -> None:
        self.km, self.kc, self.home, self.env = km, kc, home, env

    def collect(self, msg_id: str, timeout: float = 60) -> tuple[dict, list[tuple[str, dict]]]:
        outputs: list[tuple[str, dict]] = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                break
            if kind in ("stream", "execute_result", "display_data", "update_display_data", "error"):
                outputs.append((kind, msg["content"]))
        while True:
            reply = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], outputs

    def run(self, code: str, timeout: float = 60) -> tuple[dict, list[tuple[str, dict]]]:
        return self.collect(self.kc.execute(code), timeout)

    def ok(self, code: str) -> list[tuple[str, dict]]:
        reply, outputs = self.run(code)
        assert reply["status"] == "ok", error_text(outputs) or reply
        return outputs

    def value(self, code: str) -> Any:
        """Evaluate an expression in the kernel and return it (through JSON)."""
        outputs = self.ok(f"import json as _json\nprint(_json.dumps({code}))")
        text = "".join(
            c["text"] for kind, c in outputs if kind == "stream" and c["name"] == "stdout"
        )
        return json.loads(text.strip().splitlines()[-1])

    def wait_for_output(self, msg_id: str, marker: str, timeout: float = 30) -> list[dict]:
        """Read iopub until the cell ``msg_id`` prints ``marker``; return what was read."""
        seen: list[dict] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except Empty:
                continue
            seen.append(msg)
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "stream"
                and marker in msg["content"]["text"]
            ):
                return seen
        raise AssertionError(f"the cell never printed {marker!r}")

    def interrupt_when(self, msg_id: str, marker: str, timeout: float = 30) -> None:
        """Wait until the cell prints ``marker``, then interrupt the kernel (SIGINT)."""
        self.wait_for_output(msg_id, marker, timeout)
        time.sleep(0.2)  # let the node reach its await
        self.km.interrupt_kernel()


def error_text(outputs: list[tuple[str, dict]]) -> str:
    return "\n".join(
        ANSI.sub("", "\n".join(c["traceback"])) for kind, c in outputs if kind == "error"
    )


def start_kernel(env: KernelEnv, root: Path) -> Kernel:
    """Start a kernel of ``env`` in ``root`` (sessions saved under ``root/saved``),
    with this checkout importable, and check it runs the expected ipykernel."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    specs = root / "kernels"
    spec = specs / f"rt-{env.name}"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [str(env.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_json = {"argv": argv, "display_name": env.name, "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(spec_json))
    home = root / "saved"
    environ = dict(os.environ)
    environ.update(
        RAILTRACKS_HOME=str(home),
        IPYTHONDIR=str(root / "ipython"),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), environ.get("PYTHONPATH", "")) if p),
    )
    km = KernelManager(
        kernel_name=spec.name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)])
    )
    km.start_kernel(cwd=str(root), env=environ)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
    except BaseException:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    kernel = Kernel(km, kc, home, env)
    try:
        major = kernel.value("__import__('ipykernel').version_info[0]")
        assert major == env.major, f"{env.name} runs ipykernel {major}"
    except BaseException:
        stop_kernel(kernel)
        raise
    return kernel


def stop_kernel(kernel: Kernel) -> None:
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=True)

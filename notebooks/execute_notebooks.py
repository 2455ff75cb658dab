"""Re-execute the tutorial notebooks in place, so the outputs committed with them are current.

    .venv/bin/python notebooks/execute_notebooks.py                 # every notebook here
    .venv/bin/python notebooks/execute_notebooks.py 05_*.ipynb      # some of them

Each notebook runs top to bottom on a fresh kernel of this Python (the one running the
script), in the notebooks folder, as ``pytest --nbval`` runs it. The committed outputs are
what nbval compares against and what a reader without a kernel sees, so run this after a
change that alters what a notebook prints or displays, then check the result with::

    .venv/bin/python -m pytest --nbval --nbval-current-env notebooks/ \\
        --nbval-sanitize-with notebooks/nbval_sanitize.cfg

Widget state is not saved in the notebooks (it would embed the widget bundle and the whole
session per widget); the static picture in each widget's output is what stays visible.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


class _CurrentPython(KernelSpecManager):
    """Every kernel name resolves to an ipykernel of the Python running this script."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (ipykernel)",
            language="python",
            resource_dir=str(HERE),
        )


def execute(path: Path, timeout: int = 300) -> float:
    """Run ``path`` on a fresh kernel and write it back with its new outputs; returns seconds."""
    nb = nbformat.read(path, as_version=4)
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=_CurrentPython())
    start = time.perf_counter()
    try:
        NotebookClient(
            nb,
            km=manager,
            timeout=timeout,
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"{path.name}: {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

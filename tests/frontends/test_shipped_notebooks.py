"""Every notebook in ``notebooks/`` runs whole with "Run All" in JupyterLab 4 and
Notebook 7: every code cell executes, once, in order, and nothing unexpected is
printed (no error outside the cells tagged ``raises-exception``, no asyncio
warning such as "Task was destroyed but it is pending", no widget error in the
page). A cell lost while a flow runs would leave the notebook at ``[*]``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.frontends.conftest import artifact
from tests.frontends.jupyter import copy_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))

#: Text that never belongs in a healthy run's output.
ALARMS = (
    "Traceback",
    "Task was destroyed",
    "cannot enter context",
    "Exception in callback",
    "RuntimeWarning",
)


def _problems(saved: dict) -> list[str]:
    problems = []
    for i, cell in enumerate(saved["cells"]):
        if cell["cell_type"] != "code":
            continue
        expected_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            if out["output_type"] == "error" and not expected_error:
                problems.append(f"cell {i}: {out['ename']}: {out['evalue']}")
            if out["output_type"] == "stream":
                text = "".join(out["text"])
                for alarm in ALARMS:
                    if alarm in text:
                        problems.append(f"cell {i} printed {alarm!r}: {text[:300]}")
        if expected_error and not any(o["output_type"] == "error" for o in cell["outputs"]):
            problems.append(f"cell {i} is tagged raises-exception but raised nothing")
    return problems


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_run_all_executes_every_cell(server, open_notebook, notebook):
    copy_notebook(notebook, server.root)
    nb = open_notebook(server, notebook.name)
    nb.run_all()
    cells = nb.wait_all_executed(timeout=240)
    counts = [c["count"] for c in cells if c["type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), counts
    nb.screenshot(artifact(server, f"run-all-{notebook.stem}.png"))
    saved = nb.save()
    assert _problems(saved) == []

"""The tutorial notebooks are really checked: nbval fails when a node in one of them breaks.

CI runs every notebook with ``pytest --nbval`` (strict output comparison, with
``notebooks/nbval_sanitize.cfg``). These tests run nbval on a copy of one notebook in a
temporary folder: unmodified it passes; with a node that raises, or a node that returns
something else than what the committed outputs show, it fails. The static checks below
keep the committed notebooks in the shape CI and readers rely on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SANITIZE = NOTEBOOKS / "nbval_sanitize.cfg"
QUICKSTART = "01_quickstart.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ALL = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

# The node the copy breaks, exactly as 01_quickstart.ipynb defines it.
NODE_LINE = "    return len(text.split())"
BREAKS = {
    "raises": '    raise RuntimeError("a deliberately broken node")',
    "wrong-result": "    return len(text.split()) + 1",
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _run_nbval(folder: Path, notebook: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(folder / SANITIZE.name),
            notebook,
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def quickstart_copy(tmp_path: Path) -> Path:
    """A folder holding a copy of the quickstart notebook and the sanitize file."""
    shutil.copy(NOTEBOOKS / QUICKSTART, tmp_path / QUICKSTART)
    shutil.copy(SANITIZE, tmp_path / SANITIZE.name)
    return tmp_path


def test_unmodified_notebook_passes_nbval(quickstart_copy: Path) -> None:
    result = _run_nbval(quickstart_copy, QUICKSTART)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert re.search(r"\b\d+ passed\b", report), report
    assert "failed" not in report.splitlines()[-1], report


@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_broken_node_fails_nbval(quickstart_copy: Path, kind: str) -> None:
    path = quickstart_copy / QUICKSTART
    nb = _load(path)
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and NODE_LINE in _source(c)]
    assert len(cells) == 1, f"{QUICKSTART} no longer defines the node this test breaks"
    cells[0]["source"] = _source(cells[0]).replace(NODE_LINE, BREAKS[kind])
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")

    result = _run_nbval(quickstart_copy, QUICKSTART)
    report = result.stdout + result.stderr
    assert result.returncode == 1, report  # 1: tests ran and some failed (not a usage error)
    assert re.search(r"\b\d+ failed\b", report), report
    if kind == "raises":
        assert "a deliberately broken node" in report, report
    else:  # the cell ran fine; only its output differs from the committed one
        assert "12 words" in report, report


def test_sanitize_file_is_read_by_nbval() -> None:
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8"))
    assert len(patterns) >= 8
    for regex, _ in patterns:
        re.compile(regex)


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_notebook_is_committed_executed_and_self_contained(path: Path) -> None:
    nb = _load(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, path.name
    # Executed top to bottom on one fresh kernel, outputs kept (nbval compares them).
    counts = [c.get("execution_count") for c in code if _source(c).strip()]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run it top to bottom"
    assert any(c.get("outputs") for c in code), path.name
    # Everything the notebook saves goes to a temporary folder, never into the repository.
    assert "RAILTRACKS_HOME" in _source(code[0]) and "mkdtemp" in _source(code[0]), path.name
    # No widget state (model ids and whole payloads) in the file.
    assert "widgets" not in nb.get("metadata", {}), path.name
    # Every cell that shows a widget also shows the static picture (readers without a kernel).
    for cell in code:
        data = [o.get("data", {}) for o in cell.get("outputs", [])]
        if any(WIDGET_MIME in d for d in data):
            assert any(
                "railtracks-nb-session" in _html(d) or "railtracks-nb-batch" in _html(d)
                for d in data
            ), f"{path.name}: a widget cell without the static fallback:\n{_source(cell)}"


def _html(data: dict) -> str:
    html = data.get("text/html", "")
    return html if isinstance(html, str) else "".join(html)

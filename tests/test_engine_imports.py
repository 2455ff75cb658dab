"""The engine imports no IPython, widget or plotting code."""

from __future__ import annotations

import subprocess
import sys


def test_engine_import_pulls_in_no_notebook_or_plotting_modules():
    code = (
        "import sys, railtracks_nb as rt\n"
        "@rt.function_node\n"
        "def f(x): return x\n"
        "with rt.Session(save_state=False): rt.call_sync(f, 1)\n"
        "rt.Flow('x', f, save_state=False).invoke(2)\n"
        "bad = [m for m in ('IPython', 'ipywidgets', 'anywidget', 'plotly', 'traitlets')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_import_does_not_load_pydantic_until_needed():
    code = "import sys, railtracks_nb; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

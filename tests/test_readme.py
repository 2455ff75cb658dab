"""The README's engine example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_engine_example_runs(home):
    block = re.search(r"## The engine\n\n```python\n(.*?)```", README.read_text(), re.S)
    assert block, "the README lost its engine example"
    namespace: dict = {}
    exec(compile(block.group(1), str(README), "exec"), namespace)
    assert namespace["info"].answer == ["HELLO, BARBARA!"]
    assert (home / "Greeter.json").exists() and (home / "my-run.json").exists()

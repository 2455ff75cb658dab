"""Shared fixtures: every test runs in its own folder with its own saved-sessions home."""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import CHROMIUM, CHROMIUM_ARGS

# The Railtracks saved-state schema our files follow, and a file Railtracks itself saved.
REFERENCE = Path(__file__).resolve().parent / "data" / "reference"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Run in a temp folder, save under it, and forget global config afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAILTRACKS_HOME", raising=False)
    yield
    from railtracks_nb.core.config import reset_config

    reset_config()


@pytest.fixture
def home(tmp_path) -> Path:
    """The saved-sessions folder of the current test (``./.railtracks``)."""
    return tmp_path / ".railtracks"


@pytest.fixture
def rt_home(tmp_path, monkeypatch) -> Path:
    """A fresh saved-sessions folder for this test, through ``RAILTRACKS_HOME``."""
    folder = tmp_path / "rt-home"
    monkeypatch.setenv("RAILTRACKS_HOME", str(folder))
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright, one per test module. Skips,
    saying why, only when it is not installed (scripts/ci_widgets.sh installs it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (scripts/ci_widgets.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def state_schema() -> dict:
    return json.loads((REFERENCE / "railtracks_state_schema.json").read_text())


@pytest.fixture(scope="session")
def railtracks_sample_path() -> Path:
    return REFERENCE / "railtracks_saved_session_sample.json"


class _AsyncioErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _no_lost_tasks(request):
    """Fail a test that leaves a task whose exception nobody retrieved, or a pending task.

    ``@pytest.mark.foreign_tasks("/site-packages/railtracks/")`` lets a test that also
    drives another library pass over reports of *that library's* tasks (they name the
    file their coroutine is defined in); reports of ours still fail it."""
    marker = request.node.get_closest_marker("foreign_tasks")
    foreign = marker.args if marker else ()
    handler = _AsyncioErrors()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    try:
        yield
        gc.collect()
    finally:
        logger.removeHandler(handler)
    problems = [
        message
        for message in (r.getMessage() for r in handler.records)
        if not any(where in message for where in foreign)
    ]
    assert not problems, f"asyncio reported: {problems}"

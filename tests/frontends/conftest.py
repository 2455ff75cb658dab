"""Fixtures for the end-to-end tests: a real JupyterLab 4 or Notebook 7 server,
started by the test on a random port with a token, and Debian's Chromium
driven by Playwright. Screenshots go to ``test-artifacts/frontends/``.

They skip, saying why, only when Chromium or the front end is not installed
(``scripts/test.sh`` installs both; CI always has them).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import ARTIFACTS
from tests.frontends.jupyter import DARK_THEME, LIGHT_THEME, JupyterServer, NotebookPage

FRONTEND_ARTIFACTS = ARTIFACTS / "frontends"
APPS = {"lab": "jupyterlab", "notebook": "notebook"}


def _server(app: str, root: Path, theme: str) -> Iterator[JupyterServer]:
    if importlib.util.find_spec(APPS[app]) is None:
        pytest.skip(f"{APPS[app]} is not installed (it is in the test extras)")
    root.mkdir(parents=True, exist_ok=True)
    server = JupyterServer(app, root, theme=theme).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["lab", "notebook"])
def server(request, tmp_path_factory) -> Iterator[JupyterServer]:
    """A JupyterLab 4 (``lab``) or Notebook 7 (``notebook``) server, light theme."""
    root = tmp_path_factory.mktemp(f"{request.param}-light") / "root"
    yield from _server(request.param, root, LIGHT_THEME)


@pytest.fixture(scope="module", params=["lab", "notebook"])
def dark_server(request, tmp_path_factory) -> Iterator[JupyterServer]:
    """The same, with the front end's dark theme."""
    root = tmp_path_factory.mktemp(f"{request.param}-dark") / "root"
    yield from _server(request.param, root, DARK_THEME)


@pytest.fixture
def open_notebook(browser, request):
    """``open_notebook(server, "x.ipynb")``: a :class:`NotebookPage` in a fresh browser
    context. Its page errors are checked when the test ends."""
    contexts = []
    pages: list[NotebookPage] = []

    def open_(server: JupyterServer, name: str) -> NotebookPage:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = NotebookPage(server, context.new_page(), name).open()
        pages.append(page)
        return page

    yield open_
    for context in contexts:
        context.close()
    for page in pages:
        page.server.shutdown_kernels()  # each test starts with fresh kernels
    failed = getattr(request.node, "rep_call", None)
    if failed is None or failed.passed:
        for page in pages:
            assert page.unexpected_errors() == [], page.unexpected_errors()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def artifact(server: JupyterServer, name: str) -> Path:
    return FRONTEND_ARTIFACTS / f"{server.app}-{name}"

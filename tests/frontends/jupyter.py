"""A real Jupyter server (JupyterLab 4 or Notebook 7) and a real browser page on it.

:class:`JupyterServer` starts ``jupyter lab`` or ``jupyter notebook`` from this
environment on a random free port with a random token, in its own root folder
and with its own settings and workspaces folders (so nothing of the user's
leaks in and every test starts from the same state). :class:`NotebookPage`
drives one notebook in that server through Playwright: it runs cells the way a
user does (through the front end's own commands), waits for the kernel, saves,
and reads back what the front end saved.

The front end's application object is exposed in the page
(``expose_app_in_browser``) so the tests can call its commands
(``notebook:run-all-cells``, ``docmanager:save``) instead of hunting for menu
items whose labels change between versions; everything else (rendering,
widgets, clicks) goes through the real page.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

#: The themes JupyterLab and Notebook 7 ship.
LIGHT_THEME = "JupyterLab Light"
DARK_THEME = "JupyterLab Dark"


#: Errors the front ends raise themselves, with where they come from. Notebook 7.6's
#: keyboard-shortcuts plugin throws this once at start-up, in a notebook that only
#: prints, whatever the settings: it is not ours to hide or fix.
KNOWN_FRONT_END_ERRORS = [
    ("TypeError: Cannot read properties of undefined (reading 'schema')", "/notebook_core."),
    ("Cannot read properties of undefined (reading 'schema')", "/notebook_core."),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JupyterServer:
    """``jupyter lab`` (``app="lab"``) or ``jupyter notebook`` (``app="notebook"``)."""

    def __init__(self, app: str, root: Path, *, theme: str = LIGHT_THEME) -> None:
        if app not in ("lab", "notebook"):
            raise ValueError(f"app must be 'lab' or 'notebook', not {app!r}")
        self.app = app
        self.root = root
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.home = root.parent / f".jupyter-{app}-home"
        self.log_path = root.parent / f"jupyter-{app}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.theme = theme

    def _write_settings(self) -> Path:
        settings = self.home / "settings"
        themes = settings / "@jupyterlab" / "apputils-extension"
        themes.mkdir(parents=True, exist_ok=True)
        (themes / "themes.jupyterlab-settings").write_text(json.dumps({"theme": self.theme}))
        # Save widget state with the notebook, as users turn it on for nbconvert/viewers.
        widgets = settings / "@jupyter-widgets" / "jupyterlab-manager"
        widgets.mkdir(parents=True, exist_ok=True)
        (widgets / "plugin.jupyterlab-settings").write_text(json.dumps({"saveState": True}))
        return settings

    def start(self, timeout: float = 90.0) -> JupyterServer:
        settings = self._write_settings()
        (self.home / "workspaces").mkdir(parents=True, exist_ok=True)
        app_class = "LabApp" if self.app == "lab" else "JupyterNotebookApp"
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.home / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
            "PYTHONUNBUFFERED": "1",
        }
        cmd = [
            sys.executable, "-m", "jupyterlab" if self.app == "lab" else "notebook",
            "--no-browser",
            "--allow-root",  # CI runs as root; harmless otherwise
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--{app_class}.expose_app_in_browser=True",
            f"--{app_class}.user_settings_dir={settings}",
            f"--{app_class}.workspaces_dir={self.home / 'workspaces'}",
            "--ServerApp.disable_check_xsrf=False",
        ]  # fmt: skip
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited:\n{self.log()}")
            try:
                status = f"{self.base}/api/status?token={self.token}"
                with urllib.request.urlopen(status, timeout=2):
                    return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"jupyter {self.app} did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def url(self, notebook: str) -> str:
        if self.app == "lab":
            # `reset`: start from an empty workspace, not the tabs of the previous test.
            return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"
        return f"{self.base}/notebooks/{notebook}?token={self.token}"

    def shutdown_kernels(self) -> None:
        """End every session (and its kernel) the server has open."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(
            f"{self.base}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # Shut the kernels down through the server, then the server (its process group:
            # kernels it started must not outlive the test).
            try:
                for kernel in self.api("kernels"):
                    self.api(f"kernels/{kernel['id']}", method="DELETE")
            except OSError:
                pass
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None


def copy_notebook(source: Path, root: Path, name: str | None = None) -> Path:
    """Copy ``source`` into the server's root with its outputs cleared (a fresh notebook)."""
    nb = json.loads(source.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.get("metadata", {}).pop("widgets", None)
    target = root / (name or source.name)
    target.write_text(json.dumps(nb, indent=1))
    for extra in source.parent.glob("data"):
        if extra.is_dir() and not (root / "data").exists():
            shutil.copytree(extra, root / "data")
    return target


def make_notebook(root: Path, name: str, cells: list[str]) -> Path:
    """Write a notebook of code cells (a markdown cell when it starts with ``#md``)."""
    body = []
    for source in cells:
        if source.startswith("#md\n"):
            body.append({"cell_type": "markdown", "metadata": {}, "source": source[4:]})
        else:
            body.append(
                {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
                 "execution_count": None}
            )  # fmt: skip
    nb = {
        "cells": body,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = root / name
    path.write_text(json.dumps(nb, indent=1))
    return path


# -- the page ----------------------------------------------------------------------------
_NOTEBOOK_JS = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  return !!(w && w.content && w.sessionContext);
}"""

_CELL_STATES_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  return w.content.widgets.map((c) => ({
    type: c.model.type,
    count: c.model.type === 'code' ? c.model.executionCount : null,
    prompt: c.promptNode ? c.promptNode.textContent : '',
  }));
}"""


class NotebookPage:
    """One notebook open in a :class:`JupyterServer`, in a Playwright page."""

    def __init__(self, server: JupyterServer, page: Any, notebook: str) -> None:
        self.server = server
        self.page = page
        self.notebook = notebook
        self.errors: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.stacks: list[str] = []
        page.on("pageerror", self._on_error)
        page.on("console", lambda msg: self.console.append((msg.type, msg.text)))

    def _on_error(self, exc: Any) -> None:
        self.errors.append(str(exc))
        self.stacks.append(str(getattr(exc, "stack", "") or ""))

    def unexpected_errors(self) -> list[str]:
        """Uncaught errors in the page and errors logged to the console that concern
        widgets (ours, or the widget manager's: "widget model not found"), less the
        front end's own known start-up errors (:data:`KNOWN_FRONT_END_ERRORS`)."""
        uncaught = [
            error
            for error, stack in zip(self.errors, self.stacks, strict=True)
            if not any(
                error == known and where in stack for known, where in KNOWN_FRONT_END_ERRORS
            )
        ]
        logged = [
            text
            for kind, text in self.console
            if kind == "error" and any(w in text.lower() for w in ("widget", "railtracks"))
        ]
        return uncaught + logged

    def open(self, timeout: float = 90.0) -> NotebookPage:
        self.page.goto(self.server.url(self.notebook), wait_until="domcontentloaded")
        self.page.wait_for_function(_NOTEBOOK_JS, timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)
        return self

    def wait_kernel_idle(self, timeout: float = 60.0) -> None:
        self.page.wait_for_function(
            """() => {
              const w = window.jupyterapp.shell.currentWidget;
              const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
              return k && k.status === 'idle';
            }""",
            timeout=timeout * 1000,
        )

    def command(self, name: str, args: dict[str, Any] | None = None, *, wait: bool = False) -> None:
        """Run one of the front end's commands (what a menu item or shortcut runs).

        Not awaited unless ``wait``: some commands (running cells) only settle when
        the kernel is done, which is what the tests watch for themselves. A command
        that fails is recorded in :attr:`errors`.
        """
        self.page.evaluate(
            """async ([n, a, wait]) => {
              const p = window.jupyterapp.commands.execute(n, a).then(
                () => null, (e) => { (window.__rtErrors ||= []).push(n + ': ' + e); });
              if (wait) await p;
              return null;
            }""",
            [name, args or {}, wait],
        )

    def cells(self) -> list[dict[str, Any]]:
        return self.page.evaluate(_CELL_STATES_JS)

    def run_all(self) -> None:
        self.command("notebook:run-all-cells")

    def run_cell(self, index: int) -> None:
        self.page.evaluate(
            "(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", index
        )
        self.command("notebook:run-cell")

    def wait_all_executed(self, timeout: float) -> list[dict[str, Any]]:
        """Wait until every code cell has an execution count and none is queued or
        running; return the cells' states. Raises with the states on timeout."""
        deadline = time.monotonic() + timeout
        cells: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            cells = self.cells()
            code = [c for c in cells if c["type"] == "code"]
            if all(c["count"] is not None and "*" not in c["prompt"] for c in code):
                return cells
            self.page.wait_for_timeout(250)
        raise AssertionError(f"cells still not executed after {timeout} s: {cells}")

    def wait_cell_running(self, index: int, timeout: float = 30.0) -> None:
        self.page.wait_for_function(
            """(i) => {
              const c = window.jupyterapp.shell.currentWidget.content.widgets[i];
              return c.promptNode && c.promptNode.textContent.includes('*');
            }""",
            arg=index,
            timeout=timeout * 1000,
        )

    def save(self) -> dict[str, Any]:
        """Save through the front end and return the notebook as saved on disk."""
        self.command("docmanager:save", wait=True)
        self.page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30000
        )
        return json.loads((self.server.root / self.notebook).read_text())

    def cell_output(self, index: int) -> Any:
        """The output area element of cell ``index``."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")

    def reload(self, timeout: float = 90.0, *, wait_idle: bool = True) -> None:
        """Reload the page (what is on screen comes back from the saved file)."""
        self.page.reload(wait_until="domcontentloaded")
        self.page.wait_for_function(_NOTEBOOK_JS, timeout=timeout * 1000)
        if wait_idle:
            self.wait_kernel_idle(timeout)

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=False)
        print(f"\nscreenshot: {path}")
        return path


# -- nbconvert's HTML, offline ---------------------------------------------------------
WIDGETS_NODE_MODULES = Path(__file__).resolve().parents[2] / "widgets" / "node_modules"


def _local_runtime_file(url: str) -> Path | None:
    """The local copy of a script nbconvert's HTML loads from a CDN to render widgets.

    nbconvert's page loads require.js, then ``@jupyter-widgets/html-manager``, which
    loads each widget's front-end module (``anywidget``) from a CDN by name. The same
    files come from ``widgets/node_modules`` (development dependencies of the widgets)
    and from the installed ``anywidget`` package (its AMD module, made for exactly this
    loader), so the test renders the saved widget state as a user online would see it.
    """
    if url.endswith("/require.min.js") and "require.js" in url:
        return WIDGETS_NODE_MODULES / "requirejs" / "require.js"
    marker = "@jupyter-widgets/html-manager@"
    if marker in url and "/dist/" in url:
        return WIDGETS_NODE_MODULES / "@jupyter-widgets/html-manager/dist" / url.split("/dist/")[1]
    if "/anywidget@" in url and url.endswith(".js"):
        import anywidget

        return Path(anywidget.__file__).parent / "nbextension" / "index.js"
    return None


def serve_widget_runtime_offline(page: Any) -> list[str]:
    """Route ``page``'s requests: files and the widget runtime (from local copies) go
    through, everything else is aborted and recorded in the returned list."""
    blocked: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:")):
            r.continue_()
            return
        local = _local_runtime_file(url)
        if local is not None and local.is_file():
            r.fulfill(path=str(local), content_type="application/javascript")
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    return blocked

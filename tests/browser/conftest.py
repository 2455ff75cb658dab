"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

The browser tests skip, saying why, only when /usr/bin/chromium is missing
(``scripts/ci_widgets.sh`` installs it; CI always has it). Screenshots go to
``test-artifacts/`` at the repository root and their paths are printed.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from railtracks_nb.notebook import widgets
from tests.chromium import ARTIFACTS

# The browser fixture (one headless Chromium per module) lives in tests/conftest.py,
# shared with tests/frontends.


class PageWatch:
    """A page plus everything that must not happen on it: errors, dialogs, network."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )

        def on_dialog(dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

    def block_network(self, allowed_prefixes: tuple[str, ...]) -> None:
        """Abort (and record) every request not starting with an allowed prefix."""

        def route(r) -> None:
            url = r.request.url
            if url.startswith(allowed_prefixes):
                r.continue_()
            else:
                self.requests.append(url)
                r.abort()

        self.page.route("**/*", route)

    def start_widget(self, server: str, state: dict, ready: str) -> None:
        """Open the host page served at ``server`` (see :data:`HOST_PAGE`), start the
        widget module on ``state`` (the model's traits, ``data`` as text) and wait
        until the selector ``ready`` matches."""
        self.page.goto(f"{server}/host.html")
        self.page.wait_for_function("window.__hostReady === true")
        self.page.evaluate("s => window.start(s)", state)
        self.page.wait_for_selector(ready)

    def deliver(self, messages: list[tuple[dict, list[str]]]) -> None:
        """Hand the widget the kernel's custom messages as ipywidgets does: each one's
        content, and its buffers (given as text) as DataViews."""
        for content, buffers in messages:
            self.page.evaluate(
                "([d, bufs]) => window.__model.trigger('msg:custom', d,"
                " bufs.map((b) => new DataView(new TextEncoder().encode(b).buffer)))",
                [content, buffers],
            )

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        print(f"\nscreenshot: {path}")
        return path

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.console_errors == [], self.console_errors
        assert self.dialogs == [], f"a dialog opened (injected script ran?): {self.dialogs}"


@pytest.fixture
def watched_page(browser) -> Iterator[PageWatch]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        yield PageWatch(page)
    finally:
        context.close()


# -- the anywidget module, as a notebook front end would load it ------------------------
HOST_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<link rel="stylesheet" href="widget.css"></head>
<body><div id="out"></div>
<script type="module">
import widget from "./widget.js";
// A stand-in for the ipywidgets/anywidget model: Backbone-style events, bytes as DataView.
class Model {
  constructor(state) { this.state = state; this.handlers = {}; this.sent = []; }
  get(k) { return this.state[k]; }
  set(k, v) { this.state[k] = v; this.trigger("change:" + k, v); }
  save_changes() {}
  send(msg) { this.sent.push(msg); }
  on(e, cb) { (this.handlers[e] ||= []).push(cb); }
  off(e, cb) { this.handlers[e] = (this.handlers[e] || []).filter((h) => cb && h !== cb); }
  trigger(e, ...a) { for (const cb of this.handlers[e] || []) cb(...a); }
}
const out = document.getElementById("out");
window.start = (state) => {
  const bytes = new TextEncoder().encode(state.data);
  const model = new Model({ ...state, data: new DataView(bytes.buffer) });
  window.__model = model;
  widget.initialize({ model });
  widget.render({ model, el: out });
  window.__railtracksView = out.rtView;
};
// The `data` trait fetched as bytes (as the kernel sends it), then rendered; resolves to the
// milliseconds from having the bytes to the first frame painted after the render.
window.startFrom = async (url, state) => {
  const bytes = await (await fetch(url)).arrayBuffer();
  const t0 = performance.now();
  const model = new Model({ ...state, data: new DataView(bytes) });
  window.__model = model;
  widget.initialize({ model });
  widget.render({ model, el: out });
  window.__railtracksView = out.rtView;
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  return performance.now() - t0;
};
window.__hostReady = true;
</script></body></html>
"""


@pytest.fixture
def static_server(tmp_path) -> Iterator[str]:
    """Serve the package's static files and the host page on a loopback port.

    The served folder is ``tmp_path / "www"``: a test may add data files there.
    """
    root = tmp_path / "www"
    root.mkdir()
    for name in ("widget.js", "widget.css"):
        (root / name).write_bytes((widgets._STATIC / name).read_bytes())
    (root / "host.html").write_text(HOST_PAGE)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output readable
        pass

"""The live dashboard in real JupyterLab 4 and Notebook 7, as a user runs it.

One notebook, run with "Run All": a ``%%rt_session`` cell whose flow calls 48
slow nodes one after another (49 nodes, about twelve seconds: long enough to see
it grow even on a loaded machine), a cell that shows
the finished session again, and a cell after them. While the flow runs the
dashboard must grow, and a click on a node must open its details without
disturbing the kernel; afterwards every cell has run in order and every view
(the refreshed output, another display, a reloaded page, the saved widget
state, nbconvert's HTML) holds all 49 nodes.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

from railtracks_nb.notebook.export import COMPACT_FORMAT, FEED_FORMAT, expand_compact, expand_feed
from tests.frontends.conftest import artifact
from tests.frontends.jupyter import (
    WIDGETS_NODE_MODULES,
    make_notebook,
    serve_widget_runtime_offline,
)

NODES = 49  # crawl + 48 fetches

CELLS = [
    "%load_ext railtracks_nb\n"
    "import asyncio\n"
    "import railtracks_nb as rt\n"
    "\n"
    "@rt.function_node\n"
    "async def fetch(i: int) -> int:\n"
    "    await asyncio.sleep(0.25)\n"
    "    return i * i\n"
    "\n"
    "@rt.function_node\n"
    "async def crawl(n: int) -> list[int]:\n"
    "    return [await rt.call(fetch, i) for i in range(n)]",
    "%%rt_session timeout=60 save_state=False name=live\n"
    "result = await rt.call(crawl, 48)\n"
    "len(result)",
    "rt.show(rt_session)",
    "print('after the flow:', sum(result))",
]

_STATES_JS = """(i) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];  // none while loading
  return cell ? [...cell.querySelectorAll('.rt-state')]
    .map((e) => [Number(e.dataset.total), e.dataset.state]) : [];
}"""


def _states(nb, cell: int) -> list[list]:
    return nb.page.evaluate(_STATES_JS, cell)


def _wait_states(nb, cell: int, expected: list[list], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    got: list[list] = []
    while time.monotonic() < deadline:
        got = _states(nb, cell)
        if got == expected:
            return
        nb.page.wait_for_timeout(200)
    raise AssertionError(f"cell {cell}: dashboards show {got}, expected {expected}")


def _saved_widget_payloads(saved: dict) -> list[dict]:
    """Every railtracks widget's session as the notebook saved its widget state."""
    state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    out = []
    for model in state.values():
        if model["model_name"] != "AnyModel" or "uid" not in model["state"]:
            continue
        (buffer,) = [b for b in model.get("buffers", []) if b["path"] == ["data"]]
        data = json.loads(base64.b64decode(buffer["data"]))
        expand = {FEED_FORMAT: expand_feed, COMPACT_FORMAT: expand_compact}[data["format"]]
        out.append(expand(data))
    return out


def test_a_live_dashboard_grows_keeps_its_data_and_leaves_the_kernel_healthy(
    server, open_notebook, tmp_path
):
    make_notebook(server.root, "live.ipynb", CELLS)
    nb = open_notebook(server, "live.ipynb")
    nb.run_all()
    nb.wait_cell_running(1)

    # While the flow runs: the dashboard grows, and a click shows a node's details.
    seen: list[int] = []
    clicked = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = _states(nb, 1)
        if states:
            seen.append(states[0][0])
            if not clicked and 5 <= states[0][0] < NODES:
                output = nb.cell_output(1)
                output.locator('.rt-node[data-name="fetch"]').first.click()
                title = output.locator(".rt-details .rt-details-title")
                assert "fetch" in title.inner_text(timeout=5000)
                nb.screenshot(artifact(server, "live-mid-run.png"))
                clicked = True
            if states[0][1] == "IDLE":
                break
        nb.page.wait_for_timeout(150)
    growing = sorted({n for n in seen if 0 < n < NODES})
    assert len(growing) >= 3, f"the dashboard did not grow while the flow ran: {seen}"
    assert clicked, f"never saw the dashboard mid-run: {seen}"

    # Every cell ran, in order, once: the click did not disturb the kernel.
    cells = nb.wait_all_executed(timeout=90)
    assert [c["count"] for c in cells] == [1, 2, 3, 4]
    assert "after the flow: 35720" in nb.cell_output(3).inner_text()
    assert nb.cell_output(1).locator(".jp-OutputArea-output").last.inner_text().strip() == "48"

    # The magic's refreshed dashboard and a second display hold the whole session.
    _wait_states(nb, 1, [[NODES, "IDLE"]])
    _wait_states(nb, 2, [[NODES, "IDLE"]])
    nb.screenshot(artifact(server, "live-finished.png"))

    # Saved with widget state: the saved state holds the finished session.
    saved = nb.save()
    payloads = _saved_widget_payloads(saved)
    assert len(payloads) == 2
    for payload in payloads:
        assert sum(len(r["nodes"]) for r in payload["runs"]) == NODES
        assert payload["railtracks_nb"]["state"] == "IDLE"

    # A reloaded page draws every dashboard complete, from the widgets' own state.
    nb.reload()
    _wait_states(nb, 1, [[NODES, "IDLE"]])
    _wait_states(nb, 2, [[NODES, "IDLE"]])
    nb.screenshot(artifact(server, "live-reloaded.png"))

    # nbconvert's HTML of the saved notebook shows the finished session.
    html = tmp_path / "live.html"
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html",
         "--output", str(html), str(server.root / "live.ipynb")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert (WIDGETS_NODE_MODULES / "@jupyter-widgets" / "html-manager").is_dir(), (
        "the HTML widget manager comes from widgets/node_modules: run `npm ci` in widgets/"
    )
    page = nb.page.context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    serve_widget_runtime_offline(page)
    page.goto(html.as_uri())
    # The saved widget state, rendered by the HTML widget manager: both dashboards whole.
    page.wait_for_function(
        "() => document.querySelectorAll('.rt-state[data-total]').length === 2", timeout=30000
    )
    totals = page.evaluate(
        "() => [...document.querySelectorAll('.rt-state')]"
        ".map(e => [Number(e.dataset.total), e.dataset.state])"
    )
    page.screenshot(path=str(artifact(server, "live-nbconvert.png")), full_page=True)
    assert totals == [[NODES, "IDLE"], [NODES, "IDLE"]]
    assert errors == []
    page.close()


def test_a_page_reloaded_mid_run_shows_the_whole_run(server, open_notebook):
    # A longer run (121 nodes, about 15 s): the reload lands well inside it.
    cells = [CELLS[0], CELLS[1].replace("crawl, 48", "crawl, 120")]
    make_notebook(server.root, "reload.ipynb", cells)
    nb = open_notebook(server, "reload.ipynb")
    nb.run_all()
    nb.wait_cell_running(1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(n >= 8 for n, _ in _states(nb, 1)):
        nb.page.wait_for_timeout(150)
    # Saved and reloaded while the kernel still runs the flow: the page comes back
    # from the file, whose widget state holds only the starting snapshot. The front
    # end's widget manager gets the widget back from the kernel (it asks with a
    # shell request, answered once the running cell ends), and the dashboard then
    # shows the whole run.
    nb.save()
    nb.reload(wait_idle=False)
    _wait_states(nb, 1, [[121, "IDLE"]], timeout=90)
    nb.screenshot(artifact(server, "reloaded-mid-run.png"))

"""The batch dashboard in real headless Chromium: counts, rows sent live by the
kernel side, and the drill-down into one input's session dashboard."""

from __future__ import annotations

import json

import railtracks_nb as rt
from railtracks_nb.engine.cluster.state import BatchState
from railtracks_nb.notebook.batch import BatchDashboard
from tests.helpers import mixed


def _session_payload(n: int) -> dict:
    with rt.Session(name=f"input-{n}", save_state=False, logging_setting="NONE") as session:
        rt.call_sync(mixed, n)
    return json.loads(json.dumps(session.to_payload(), default=str))


def _boxes(payload: dict) -> int:
    """What the graph draws for a payload: the session box and one per node."""
    return 1 + len({n["identifier"] for run in payload["runs"] for n in run["nodes"]})


def _record(widget: BatchDashboard) -> list:
    sent: list = []
    widget.send = lambda content, buffers=None: sent.append(
        (json.loads(json.dumps(content)), [bytes(b).decode() for b in buffers or []])
    )
    return sent


def test_batch_widget_follows_a_batch_and_drills_into_a_session(watched_page, static_server):
    page = watched_page.page
    state = BatchState("c" * 32, "scoring <i>flow</i>", 5, "tcp://scheduler")
    widget = BatchDashboard(state)
    sent = _record(widget)
    start = {
        "data": "{}",
        "view": "batch",
        "uid": widget.uid,
        "height": widget.height,
        "summary": widget.summary,
        "rows": widget.rows.decode(),
        "live": True,
        "selected_input": None,
    }
    watched_page.block_network((static_server,))
    watched_page.start_widget(static_server, start, ".rt-batch[data-rt-ready='1']")
    assert page.evaluate("window.__model.sent") == [{"type": "sync"}]
    assert page.get_attribute(".rt-batch-count[data-status='pending']", "data-count") == "5"

    # The batch runs: two inputs start on two workers, one completes, one fails.
    payloads = {0: _session_payload(3), 1: _session_payload(2)}
    for i, worker in ((0, "tcp://10.0.0.1:4000"), (1, "tcp://10.0.0.2:4000")):
        item = state.inputs[i]
        item.status, item.worker, item.session_id = "running", worker, f"s{i}"
        item.started = state.started
        item.attempts = 1
    widget.refresh(state, {0, 1})
    state.inputs[0].status = "completed"
    state.inputs[0].payload_json = json.dumps(payloads[0])
    state.inputs[1].status = "failed"
    state.inputs[1].error = "ValueError: <b>odd</b>"
    widget.refresh(state, {0, 1})
    # The summary trait, as the widget manager would set it.
    page.evaluate("s => window.__model.set('summary', s)", widget.summary)
    watched_page.deliver([m for m in sent if m[0]["type"] == "rows"])
    page.wait_for_function(
        "document.querySelector(\".rt-batch-count[data-status='completed']\").dataset.count === '1'"
    )
    assert page.get_attribute(".rt-batch-count[data-status='failed']", "data-count") == "1"
    assert page.get_attribute(".rt-batch-count[data-status='pending']", "data-count") == "3"
    assert page.locator(".rt-batch-row").count() == 5
    assert page.locator(".rt-batch-worker").count() == 2
    failed = page.locator(".rt-batch-row[data-status='failed'] .rt-batch-error")
    assert failed.inner_text() == "ValueError: <b>odd</b>"  # text, never markup
    assert "scoring <i>flow</i>" in page.locator(".rt-batch-head").inner_text()
    assert page.locator(".rt-batch b, .rt-batch i").count() == 0

    # The filter shows one state.
    page.select_option(".rt-batch-filter", "failed")
    page.wait_for_function("document.querySelectorAll('.rt-batch-row').length === 1")
    page.select_option(".rt-batch-filter", "all")
    page.wait_for_function("document.querySelectorAll('.rt-batch-row').length === 5")

    # Drill down: a click asks the kernel for that input's session...
    page.click(".rt-batch-row[data-index='0']")
    asked = page.evaluate("window.__model.sent")
    assert asked[-1] == {"type": "select", "index": 0}
    assert page.evaluate("window.__model.get('selected_input')") == 0
    # ...the kernel side answers with it, and the usual dashboard draws it.
    widget._on_front_end_msg(widget, asked[-1], [])
    watched_page.deliver([m for m in sent if m[0]["type"] == "session"])
    page.wait_for_selector(".rt-batch-session .rt-root[data-rt-ready='1']")
    nodes = ".rt-batch-session .rt-graph .rt-node"
    assert page.locator(nodes).count() == _boxes(payloads[0]) == 5
    assert page.locator(".rt-batch-session .rt-timeline").count() == 1
    assert page.locator(".rt-batch-session .rt-state").count() == 1
    assert page.locator(".rt-batch-row.rt-selected").get_attribute("data-index") == "0"

    # A newer payload of the selected session (it was still running) replaces the drawing.
    newer = _session_payload(5)
    state.inputs[0].payload_json = json.dumps(newer)
    widget.refresh(state, {0})
    watched_page.deliver([sent[-1]])
    page.wait_for_function(f"document.querySelectorAll('{nodes}').length === {_boxes(newer)}")
    watched_page.screenshot("browser-batch-dashboard.png")
    watched_page.assert_clean()
    assert watched_page.requests == []
    widget.close()

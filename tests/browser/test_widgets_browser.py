"""The widgets in real headless Chromium: the exported page offline, and the
anywidget module rendering a snapshot and live deltas from a real session."""

from __future__ import annotations

import importlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import railtracks_nb as rt
from railtracks_nb.execution._synthetic import HOSTILE, synthetic_payload
from railtracks_nb.notebook import widgets
from tests.helpers import mixed

export_mod = importlib.import_module("railtracks_nb.notebook.export")


def _nodes(page) -> int:
    return page.locator(".rt-graph .rt-node").count()


def _set_slider(page, index: int) -> None:
    page.eval_on_selector(
        ".rt-replay",
        "(el, i) => { el.value = String(i);"
        " el.dispatchEvent(new Event('input', {bubbles: true})); }",
        index,
    )


def _open_export(watch, payload: dict, tmp_path: Path) -> None:
    path = rt.export(payload, tmp_path / "session.html")
    watch.block_network(("file://",))
    watch.page.goto(path.as_uri())
    watch.page.wait_for_selector(".rt-root[data-rt-ready='1']")
    watch.page.wait_for_function("window.__railtracksReady !== undefined")


def test_exported_html_works_offline(watched_page, tmp_path):
    page = watched_page.page
    payload = synthetic_payload((3, 2), fail={2}, hostile=True)
    _open_export(watched_page, payload, tmp_path)

    # The graph is drawn: 10 nodes and the session box, one of them failed.
    assert page.get_attribute(".rt-graph", "data-mode") == "svg"
    assert _nodes(page) == 11
    assert page.locator(".rt-node[data-status='Failed']").count() == 1
    assert page.get_attribute(".rt-timeline", "data-bars") == "10"
    assert page.get_attribute(".rt-state", "data-total") == "10"

    # Click a node: its details.
    page.click(".rt-node[data-name='node_1_4']")
    details = page.locator(".rt-details")
    assert details.locator(".rt-details-title").inner_text() == "node_1_4"
    assert details.locator(".rt-output").inner_text() == "8"
    assert details.locator(".rt-inputs").inner_text().split() == ["[", "4", "]"]
    assert details.locator(".rt-stamps li").count() == 2
    assert "Completed" in details.inner_text()

    # A failed node shows its error, as text.
    page.click(".rt-node[data-name='node_2_2']")
    assert details.locator(".rt-error").inner_text() == (
        "ValueError: node 2 failed <script>alert(2)</script>"
    )

    # Hostile node text is shown as characters and never runs.
    page.click(f".rt-node[data-name='{HOSTILE}']")
    assert details.locator(".rt-details-title").inner_text() == HOSTILE
    assert details.locator(".rt-output").inner_text() == json.dumps(HOSTILE)[1:-1]
    assert HOSTILE in page.locator(".rt-state").inner_text()  # in the context table too
    assert page.locator(".rt-root img, .rt-root script").count() == 0
    label = page.locator(f".rt-node[data-name='{HOSTILE}'] .rt-node-label").text_content()
    assert label.startswith("<img src=x")

    # Replay: at step 3 only the entry node, its first child and that child's first child exist.
    _set_slider(page, 3)
    assert page.get_attribute(".rt-root", "data-step") == "3"
    assert _nodes(page) == 4
    assert page.get_attribute(".rt-timeline", "data-bars") == "3"
    assert page.get_attribute(".rt-state", "data-total") == "3"
    assert "step 3" in page.locator(".rt-step-label").inner_text()
    _set_slider(page, 1)
    assert _nodes(page) == 3
    assert page.locator(".rt-node[data-status='Open']").count() == 2
    page.click(".rt-latest")
    assert page.get_attribute(".rt-root", "data-step") == "latest"
    assert _nodes(page) == 11

    # Fold the entry node's subtree, then unfold everything.
    top_key = page.get_attribute(".rt-node[data-name='top']", "data-key")
    page.click(f".rt-node[data-key='{top_key}'] .rt-toggle")
    assert _nodes(page) == 2
    assert "(+9)" in page.locator(f".rt-node[data-key='{top_key}'] .rt-node-label").text_content()
    page.click(".rt-expand-all")
    assert _nodes(page) == 11

    # Zoom with the wheel changes the view transform.
    before = page.get_attribute(".rt-viewport", "transform")
    page.hover(".rt-graph-stage")
    page.mouse.wheel(0, -400)
    page.wait_for_function(
        "b => document.querySelector('.rt-viewport').getAttribute('transform') !== b", arg=before
    )

    # Hover a timeline bar: its details in a tooltip (row 0 is the entry node).
    box = page.locator(".rt-timeline-canvas").bounding_box()
    page.mouse.move(box["x"] + 400, box["y"] + 9)
    tip = page.locator(".rt-tooltip")
    tip.wait_for(state="visible")
    assert tip.inner_text().startswith("top (Tool)")

    watched_page.screenshot("browser-export-offline.png")
    assert watched_page.requests == [], f"the page tried to load {watched_page.requests}"
    watched_page.assert_clean()


def test_exported_page_downloads_json_svg_and_png(watched_page, tmp_path):
    page = watched_page.page
    payload = synthetic_payload((2, 2), fail={3}, hostile=True)
    _open_export(watched_page, payload, tmp_path)

    with page.expect_download() as info:
        page.click(".rt-dl-json")
    data = json.loads(Path(info.value.path()).read_text())
    assert info.value.suggested_filename == "synthetic.json"
    assert data["session_id"] == payload["session_id"]
    assert sorted(n["identifier"] for n in data["runs"][0]["nodes"]) == sorted(
        n["identifier"] for n in payload["runs"][0]["nodes"]
    )

    with page.expect_download() as info:
        page.click(".rt-dl-svg")
    svg = ET.parse(info.value.path()).getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert HOSTILE in texts[1] or any(t and t.startswith("<img src=x") for t in texts)
    assert len(list(svg.iter("{http://www.w3.org/2000/svg}rect"))) >= 8

    with page.expect_download() as info:
        page.click(".rt-dl-png")
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    watched_page.assert_clean()


def test_wide_fan_out_of_distinct_names_is_painted_on_a_canvas(watched_page, tmp_path):
    page = watched_page.page
    payload = synthetic_payload((2000,), fail={7})
    _open_export(watched_page, payload, tmp_path)
    # 2,000 differently named children are not grouped: past the SVG limit, a canvas.
    page.wait_for_selector(".rt-graph[data-mode='canvas']")
    assert page.get_attribute(".rt-graph", "data-visible-nodes") == "2002"
    assert page.get_attribute(".rt-timeline", "data-bars") == "2001"
    # Fitting stops while labels are readable; the rest is panned to, the minimap shows it.
    assert page.evaluate("window.__railtracksView.graph.smallestLabelPx") >= 10
    page.wait_for_selector(".rt-graph[data-minimap='1']")
    # Clicking on the canvas still selects the box under the pointer.
    key = payload["runs"][0]["nodes"][0]["identifier"]
    assert page.evaluate("k => window.__railtracksView.graph.focus(k)", key)
    pos = page.evaluate("k => window.__railtracksView.graph.screenPosition(k)", key)
    page.mouse.click(pos["x"], pos["y"])
    assert page.locator(".rt-details-title").inner_text() == "node_1_1"
    # Zoomed out past legibility, the canvas draws no text at all.
    page.evaluate(
        "() => { const g = window.__railtracksView.graph; g.focus(g.drawnBoxes()[0].key); }"
    )
    page.hover(".rt-graph-stage")
    for _ in range(6):
        page.mouse.wheel(0, 600)
    page.wait_for_function("window.__railtracksView.graph.scale < 10 / 11")
    assert page.evaluate("window.__railtracksView.graph.smallestLabelPx") is None
    watched_page.screenshot("browser-canvas-2000.png")
    watched_page.assert_clean()


# -- the anywidget module, as a notebook front end would load it (see conftest.HOST_PAGE) --


def test_widget_module_renders_a_snapshot_then_live_deltas(watched_page, static_server):
    page = watched_page.page
    # A real session, recorded as the kernel would send it to the front end.
    sent: list[dict] = []
    session = rt.Session(save_state=False, logging_setting="NONE", name="live-demo")
    with session:
        w = widgets.SessionDashboard(session)
        w.send = lambda content, buffers=None: sent.append(
            (json.loads(json.dumps(content)), [bytes(b).decode() for b in buffers or []])
        )
        start_state = {
            "data": w.data.decode(),
            "payload_seq": w.payload_seq,
            "seq": 0,
            "live": w.live,
            "view": w.view,
            "height": w.height,
            "step": None,
            "selected": None,
        }
        rt.call_sync(mixed, 5)
    deltas = [(m, bufs) for m, bufs in sent if m["type"] == "delta"]
    assert deltas

    watched_page.block_network((static_server,))
    watched_page.start_widget(static_server, start_state, ".rt-root[data-rt-ready='1']")
    # Live, so it asked the kernel for a snapshot of what it may have missed.
    assert page.evaluate("window.__model.sent") == [{"type": "sync"}]
    assert _nodes(page) == 1  # nothing ran yet: only the session box

    watched_page.deliver(deltas)
    page.wait_for_function("document.querySelectorAll('.rt-graph .rt-node').length === 7")
    assert page.locator(".rt-node[data-status='Failed']").count() == 2
    assert page.locator(".rt-node[data-status='Completed']").count() == 4
    assert page.get_attribute(".rt-state", "data-state") == "IDLE"
    page.click(".rt-node[data-status='Failed']")
    assert page.locator(".rt-details .rt-error").first.inner_text() == "ValueError: odd <b>1</b>"
    assert page.locator(".rt-root b").count() == 0 or all(
        "odd" not in t for t in page.locator(".rt-root b").all_inner_texts()
    )

    # The replay slider steps through the live-built history too.
    _set_slider(page, 0)
    assert _nodes(page) <= 2
    # A snapshot from the kernel replaces everything (what a resync does).
    page.evaluate(
        "p => window.__model.trigger('msg:custom', {type: 'reset', payload: p, seq: 99})",
        json.loads(json.dumps(session.to_payload())),
    )
    page.click(".rt-latest")
    assert _nodes(page) == 7
    watched_page.screenshot("browser-anywidget-live.png")
    watched_page.assert_clean()
    assert watched_page.requests == []
    w.close()


def test_widget_module_state_view_alone(watched_page, static_server):
    page = watched_page.page
    payload = synthetic_payload((2,), fail={1}, hostile=True)
    state = {"data": json.dumps(payload), "payload_seq": 0, "seq": 0, "live": False,
             "view": "state", "height": 200, "step": None, "selected": None}  # fmt: skip
    watched_page.start_widget(static_server, state, ".rt-root[data-rt-ready='1']")
    text = page.locator(".rt-state").inner_text()
    assert "synthetic" in text and "IDLE" in text
    assert "1 failed" in text.replace("\n", " ") or "1\nfailed" in text
    assert HOSTILE in text
    assert page.locator(".rt-graph").count() == 0
    assert page.evaluate("window.__model.sent") == []  # not live: nothing asked
    watched_page.assert_clean()

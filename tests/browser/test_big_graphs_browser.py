"""Big sessions stay readable, in real headless Chromium: the exported page and the
anywidget module, on 300-, 10,000- and 100,000-node sessions.

Each session is a crawler: ``crawl_all`` calls N ``crawl`` nodes that each call M
``fetch`` nodes, three fetches fail (in three different crawls). Checked: same-named
siblings fold into group boxes that open and close, a failure inside a closed group
shows on it, every label drawn is at least 10 px on screen, a search by argument
text finds, centres and highlights its node, and "failures only" shows exactly the
failed nodes (with the calls that lead to them). The time to the first drawing is
recorded into ``test-artifacts/big-graph-draw-times.json``, never asserted (the
machine running the tests may be busy); screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

import railtracks_nb as rt
from railtracks_nb.execution._synthetic import synthetic_payload
from railtracks_nb.notebook import widgets
from tests.chromium import ARTIFACTS

#: Nodes (about) -> (crawls, fetches per crawl).
SIZES = {300: (3, 99), 10_000: (10, 1000), 100_000: (100, 1000)}
NAMES = ("crawl_all", "crawl", "fetch")
TIMES_FILE = ARTIFACTS / "big-graph-draw-times.json"


@functools.cache
def big_session(size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payload of a crawler session of about ``size`` nodes, and facts about it."""
    crawls, per = SIZES[size]

    def crawl_at(j: int) -> int:  # creation index of the j-th crawl (depth-first)
        return 1 + j * (1 + per)

    fail = {crawl_at(0) + 3, crawl_at(1) + 1 + per // 2, crawl_at(crawls - 1) + per}
    payload = synthetic_payload((crawls, per), names=NAMES, fail=fail, name=f"crawler-{size}")
    edges = payload["runs"][0]["edges"]
    by_index = {int(e["details"]["input_args"][0].split()[-1]): e["target"] for e in edges}
    caller = {e["target"]: e["source"] for e in edges}
    failed = {by_index[i] for i in fail}
    ancestors: set[str] = set()
    for node in failed:
        while caller.get(node):
            node = caller[node]
            ancestors.add(node)
    total = len(by_index)
    # The highest index has the most digits: its argument text is found nowhere else.
    target_index = total - 2
    facts = {
        "total": total,
        "crawls": crawls,
        "per": per,
        "failed": failed,
        "ancestors": ancestors,
        "target": by_index[target_index],
        "query": f"fetch {target_index}",
    }
    return payload, facts


def _record(size: int, host: str, ms: float) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    times = json.loads(TIMES_FILE.read_text()) if TIMES_FILE.exists() else {}
    nodes = big_session(size)[1]["total"]
    times[f"{host} {size}"] = {"nodes": nodes, "first_draw_ms": round(ms, 1)}
    TIMES_FILE.write_text(json.dumps(times, indent=1, sort_keys=True))
    print(f"\nfirst draw, {host}, {size} nodes: {ms:.0f} ms (recorded in {TIMES_FILE})")


def _open(host: str, watch, payload: dict, tmp_path: Path, server: str) -> float:
    """Show ``payload`` in the exported page or the anywidget module; the first-draw time in ms."""
    page = watch.page
    if host == "export":
        path = rt.export(payload, tmp_path / "session.html")
        watch.block_network(("file://",))
        page.goto(path.as_uri())
        page.wait_for_function("window.__railtracksReady !== undefined", timeout=120_000)
        # From navigation start to the views drawn (data decoded, store built, first render).
        ms = page.evaluate("window.__railtracksReady")
    else:
        w = widgets.SessionDashboard(payload, live=False)
        try:
            (tmp_path / "www" / "data.json").write_bytes(w.data)
            state = {"payload_seq": w.payload_seq, "seq": 0, "live": False, "view": "dashboard",
                     "height": w.height, "step": None, "selected": None}  # fmt: skip
        finally:
            w.close()
        watch.block_network((server,))
        page.goto(f"{server}/host.html")
        page.wait_for_function("window.__hostReady === true")
        ms = page.evaluate("s => window.startFrom('data.json', s)", state)
    page.wait_for_selector(".rt-root[data-rt-ready='1']")
    return ms


def _label_sizes(page) -> list[float]:
    """On-screen size (px) of every graph label that is drawn."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.rt-graph .rt-node text')]
          .filter((t) => getComputedStyle(t).display !== 'none' && t.getClientRects().length)
          .map((t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""
    )


def _assert_readable(page) -> None:
    assert page.get_attribute(".rt-graph", "data-mode") == "svg"
    sizes = _label_sizes(page)
    assert sizes, "no label drawn"
    assert min(sizes) >= 10, f"labels as small as {min(sizes):.1f} px"
    assert page.evaluate("window.__railtracksView.graph.smallestLabelPx") >= 10


def _visible(page) -> int:
    return int(page.get_attribute(".rt-graph", "data-visible-nodes"))


def _boxes(page) -> list[dict]:
    return page.evaluate("window.__railtracksView.graph.drawnBoxes()")


def _members_drawn(page, group: dict) -> int:
    """How many of a group's members are drawn as boxes of their own."""
    return sum(b["kind"] == "node" and b["name"] == group["name"] for b in _boxes(page))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("host", ["export", "widget"])
@pytest.mark.parametrize("size", sorted(SIZES))
def test_big_graph_is_readable(watched_page, tmp_path, static_server, size, host):
    page = watched_page.page
    payload, facts = big_session(size)
    ms = _open(host, watched_page, payload, tmp_path, static_server)
    _record(size, host, ms)
    shot = f"big-{host}-{size}"
    watched_page.screenshot(f"{shot}-1-start.png")

    # Fan-outs are groups; the failures inside closed groups show on them.
    boxes = _boxes(page)
    groups = [b for b in boxes if b["kind"] == "group"]
    assert groups, "no group box"
    assert len(boxes) < 50, f"{len(boxes)} boxes drawn for a {size}-node session"
    failing = page.locator(".rt-kind-group.rt-has-failure")
    inside = sum(int(n) for n in failing.evaluate_all("gs => gs.map(g => g.dataset.failedInside)"))
    assert inside == len(facts["failed"])
    _assert_readable(page)
    assert page.get_attribute(".rt-timeline", "data-bars") == str(facts["total"])
    assert page.get_attribute(".rt-timeline", "data-lanes") == "3"

    # A group opens (one page of its members and a "+N more" box) and closes.
    group = groups[0]
    before = _visible(page)
    selector = f".rt-node[data-key='{group['key']}']"
    page.click(selector)
    page.wait_for_selector(f"{selector}.rt-open")
    members = group["members"]
    assert _members_drawn(page, group) == min(members, 50)
    assert page.locator(f".rt-node[data-key='{group['key']}::more']").count() == (members > 50)
    title = f"{group['name']} \N{MULTIPLICATION SIGN}{members:,}"
    assert page.locator(".rt-details-title").inner_text() == title
    _assert_readable(page)
    watched_page.screenshot(f"{shot}-2-group-open.png")
    if members > 50:  # the next page
        more = f"{group['key']}::more"
        page.evaluate("k => window.__railtracksView.graph.focus(k)", more)
        page.click(f".rt-node[data-key='{more}']")
        assert _members_drawn(page, group) == min(members, 100)
    page.evaluate("k => window.__railtracksView.graph.focus(k)", group["key"])
    page.click(selector)
    page.wait_for_selector(f"{selector}.rt-closed")
    assert _visible(page) == before

    # Search by an argument: found, highlighted, centred, its details shown.
    page.fill(".rt-search", facts["query"])
    page.press(".rt-search", "Enter")
    page.wait_for_selector(f".rt-node.rt-current[data-key='{facts['target']}']")
    assert page.inner_text(".rt-search-count") == "1 / 1"
    pos = page.evaluate("k => window.__railtracksView.graph.screenPosition(k)", facts["target"])
    stage = page.locator(".rt-graph-stage").bounding_box()
    assert abs(pos["x"] - (stage["x"] + stage["width"] / 2)) < 2
    assert abs(pos["y"] - (stage["y"] + stage["height"] / 2)) < 2
    assert page.locator(".rt-details-title").inner_text() == "fetch"
    assert facts["query"] in page.locator(".rt-details .rt-inputs").inner_text()
    _assert_readable(page)
    watched_page.screenshot(f"{shot}-3-search.png")
    page.fill(".rt-search", "")
    page.press(".rt-search", "Enter")

    # Failures only: exactly the failed nodes, with the calls leading to them.
    page.check(".rt-failures-only")
    page.wait_for_selector(".rt-graph[data-failures-only='1']")
    boxes = _boxes(page)
    nodes = [b for b in boxes if b["kind"] == "node"]
    assert {b["key"] for b in nodes if b["status"] == "Failed"} == facts["failed"]
    assert {b["key"] for b in nodes if b["status"] != "Failed"} == facts["ancestors"]
    assert [b for b in boxes if b["kind"] in ("group", "more")] == []
    assert page.locator(".rt-node.rt-context").count() == len(facts["ancestors"])
    _assert_readable(page)
    watched_page.screenshot(f"{shot}-4-failures-only.png")
    page.uncheck(".rt-failures-only")
    page.wait_for_selector(".rt-graph[data-failures-only='0']")
    assert page.locator(".rt-kind-group").count() >= len(groups)

    watched_page.assert_clean()
    assert watched_page.requests == []


def test_timeline_lanes_open_by_click_and_by_zooming_in(watched_page, tmp_path, static_server):
    page = watched_page.page
    payload = big_session(300)[0]
    _open("export", watched_page, payload, tmp_path, static_server)
    timeline = ".rt-timeline"

    def open_lanes() -> list[str]:
        return json.loads(page.get_attribute(timeline, "data-open-lanes"))

    # crawl_all is one bar; the 3 crawls are few enough to show their bars; 297 fetches: a band.
    assert page.get_attribute(timeline, "data-lanes") == "3"
    assert open_lanes() == ["crawl"]
    assert page.get_attribute(timeline, "data-bar-rows") == "4"
    box = page.locator(".rt-timeline-canvas").bounding_box()
    fetch_row_y = box["y"] + 5 * 18 + 9  # the sixth row
    # A click on the lane's name opens it: one bar per fetch (rows scroll, they never shrink).
    page.mouse.click(box["x"] + 40, fetch_row_y)
    assert open_lanes() == ["crawl", "fetch"]
    assert page.get_attribute(timeline, "data-bar-rows") == str(4 + 297)
    # A click on a fetch's bar selects it, and the graph opens the group hiding it to show it.
    steps = payload["runs"][0]["steps"]
    t0, t1 = steps[0]["time"], steps[-1]["time"]
    first_fetch = min(
        (
            e
            for e in payload["runs"][0]["edges"]
            if e["details"]["input_args"][0].startswith("fetch")
        ),
        key=lambda e: e["parent"]["stamp"]["time"],
    )
    start, end = first_fetch["parent"]["stamp"]["time"], first_fetch["stamp"]["time"]
    x = box["x"] + 204 + ((start + end) / 2 - t0) / (t1 - t0) * (box["width"] - 216)
    page.mouse.click(x, fetch_row_y + 18)
    key = first_fetch["target"]
    page.wait_for_selector(f".rt-node.rt-selected[data-key='{key}']")
    assert page.locator(".rt-details .rt-inputs").inner_text().split() == ["[", '"fetch', '2"', "]"]
    page.mouse.click(box["x"] + 40, fetch_row_y)
    assert open_lanes() == ["crawl"]
    # Zooming in on time leaves a few fetches in view: their bars appear by themselves.
    page.mouse.move(box["x"] + 600, box["y"] + 40)
    for _ in range(10):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(50)
        if "fetch" in open_lanes():
            break
    assert "fetch" in open_lanes()
    assert 1 <= int(page.get_attribute(timeline, "data-bar-rows")) <= 2 + 3 + 12
    watched_page.screenshot("big-timeline-zoomed-in.png")
    watched_page.assert_clean()


def test_empty_session_has_a_sensible_time_axis(watched_page, tmp_path, static_server):
    page = watched_page.page
    with rt.Session(name="empty", save_state=False, logging_setting="NONE") as session:
        pass
    _open("export", watched_page, session.to_payload(), tmp_path, static_server)
    assert page.get_attribute(".rt-timeline", "data-bars") == "0"
    ticks = page.eval_on_selector_all(
        ".rt-timeline-axis .tick text", "ts => ts.map(t => t.textContent)"
    )
    # The first second, in round steps (not microseconds of nothing).
    assert ticks[0] == "0" and ticks[-1] == "1.00 s", ticks
    assert all("µs" not in t for t in ticks)
    watched_page.assert_clean()

"""Static rich display: the text summary and the HTML/SVG call graph."""

from __future__ import annotations

import asyncio
import base64
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import railtracks_nb as rt
from railtracks_nb.core import vocabulary
from railtracks_nb.notebook import display
from railtracks_nb.notebook.display import mimebundle, static_html, static_svg
from tests.helpers import calling_each

DATA = Path(__file__).resolve().parents[1] / "data" / "reference"
SVG_NS = "{http://www.w3.org/2000/svg}"


# -- helpers -------------------------------------------------------------------------
def _stamp(step: int, t: float = 1000.0, what: str = "x") -> dict:
    return {"step": step, "time": t + step / 100, "identifier": what}


def _node(ident: str, name: str, step: int) -> dict:
    return {
        "identifier": ident,
        "node_type": "Tool",
        "name": name,
        "stamp": _stamp(step),
        "details": {"internals": {}},
        "parent": None,
    }


def _edge(ident: str, source: str | None, target: str, step: int, status: str, output=None) -> dict:
    opened = {
        "identifier": ident,
        "source": source,
        "target": target,
        "stamp": _stamp(step),
        "details": {"input_args": [], "input_kwargs": {}, "status": "Open", "output": None},
        "parent": None,
    }
    if status == "Open":
        return opened
    return {
        **opened,
        "stamp": _stamp(step + 1),
        "details": {"input_args": [], "input_kwargs": {}, "status": status, "output": output},
        "parent": opened,
    }


def _payload(nodes: list[dict], edges: list[dict], **extras) -> dict:
    payload = {
        "session_id": "sid",
        "session_name": "demo",
        "start_time": 1000.0,
        "end_time": 1001.0,
        "runs": [
            {
                "session_id": "sid",
                "run_id": "run",
                "name": "root",
                "status": "Completed",
                "start_time": 1000.0,
                "end_time": 1001.0,
                "nodes": nodes,
                "edges": edges,
                "steps": [],
            }
        ],
    }
    if extras:
        payload["railtracks_nb"] = extras
    return payload


def _fan_out(children: int, same_name: bool) -> dict:
    nodes = [_node("root", "root", 0)]
    edges = [_edge("e-root", None, "root", 0, "Completed")]
    for i in range(children):
        name = "leaf" if same_name else f"leaf{i}"
        nodes.append(_node(f"n{i}", name, i + 1))
        status = "Failed" if i % 10 == 0 else "Completed"
        error = {"type": "ValueError", "message": "bad", "traceback": ""}
        output = error if status == "Failed" else i
        edges.append(_edge(f"e{i}", "root", f"n{i}", i + 1, status, output))
    return _payload(nodes, edges)


def _svg_text(html: str) -> str:
    """The SVG document embedded in the HTML as an <img> data URL."""
    match = re.search(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)
    assert match, "no SVG image in the HTML"
    assert "<svg" not in html  # inline SVG would be stripped from untrusted notebooks
    return base64.b64decode(match.group(1)).decode()


def _svg_root(html: str) -> ET.Element:
    """The picture must be well-formed XML (an SVG a browser and nbconvert can render)."""
    return ET.fromstring(_svg_text(html))


def _groups(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG_NS}g")]


def _labels(svg: ET.Element) -> list[str]:
    return [g.findall(f"{SVG_NS}text")[0].text or "" for g in _groups(svg)]


# -- live objects ----------------------------------------------------------------------
@rt.function_node
async def leaf(i: int) -> int:
    if i == 1:
        raise ValueError("one is bad")
    return i


parent = calling_each(leaf, "parent")


async def _run_session(**options) -> rt.Session:
    options.setdefault("save_state", False)
    async with rt.Session(name="shown", **options) as session:
        await rt.call(parent, 3)
    return session


async def test_session_mimebundle_has_text_and_svg() -> None:
    session = await _run_session()
    bundle = session._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    text = bundle["text/plain"]
    assert "Session 'shown'" in text
    assert "lifecycle IDLE" in text
    assert "4 node(s)" in text
    assert "error in leaf: ValueError: one is bad" in text
    # The top of the call tree, indented by depth, with status symbols.
    assert "✓ parent" in text and "    ✗ leaf" in text

    html = bundle["text/html"]
    assert "<script" not in html.lower()
    svg = _svg_root(html)
    labels = _labels(svg)
    assert labels.count("leaf") == 3 and labels.count("parent") == 1
    classes = [g.get("class") for g in _groups(svg)]
    assert classes.count("rt-node rt-failed") == 1
    assert classes.count("rt-node rt-completed") == 3
    # One edge per caller -> callee request.
    assert len(list(svg.iter(f"{SVG_NS}path"))) == 3


async def test_execution_info_and_saved_session_display(tmp_path) -> None:
    session = await _run_session(save_state=True)
    info_bundle = session.info._repr_mimebundle_()
    assert info_bundle["text/plain"].startswith("ExecutionInfo of session 'shown'")
    assert _labels(_svg_root(info_bundle["text/html"])).count("leaf") == 3

    loaded = rt.load(session.saved_path)
    saved_bundle = loaded._repr_mimebundle_()
    assert saved_bundle["text/plain"].startswith("Saved session 'shown' from ")
    svg = _svg_root(saved_bundle["text/html"])
    assert sorted(_labels(svg)) == ["leaf", "leaf", "leaf", "parent"]


def test_railtracks_own_file_displays(railtracks_sample_path) -> None:
    loaded = rt.load(railtracks_sample_path)
    bundle = mimebundle(loaded)
    svg = _svg_root(bundle["text/html"])
    # The sample: top calls mid (which calls leaf 5 times, one fails) and leaf twice.
    assert sorted(_labels(svg)) == ["leaf"] * 7 + ["mid", "top"]
    assert "9 node(s) · 8✓ 1✗" in bundle["text/plain"]
    assert "      ✗ leaf" in bundle["text/plain"]
    classes = [g.get("class") for g in _groups(svg)]
    assert classes.count("rt-node rt-failed") == 1
    assert len(list(svg.iter(f"{SVG_NS}path"))) == 8


def test_node_text_is_escaped() -> None:
    evil = "<script>alert('x')</script>"
    nodes = [_node("a", evil, 0), _node("b", "<img src=x onerror=alert(1)>", 1)]
    edges = [
        _edge("ea", None, "a", 0, "Completed", output=evil),
        _edge("eb", "a", "b", 1, "Failed", {"type": "E<b>", "message": evil, "traceback": ""}),
    ]
    payload = _payload(
        nodes,
        edges,
        context={"k": evil},
        errors=[{"node_name": evil, "type": "E", "message": evil}],
    )
    payload["session_name"] = evil
    html = static_html(payload)
    svg = _svg_text(html)
    for text in (html, svg):
        assert "<script" not in text
        assert "<img src=x" not in text
        assert "&lt;script&gt;" in text
    assert svg == static_svg(payload)
    root = _svg_root(html)  # still well-formed with all that text inside
    titles = [t.text for t in root.iter(f"{SVG_NS}title")]
    assert any(evil in (t or "") for t in titles)  # shown as text in the tooltip
    text = mimebundle(payload)["text/plain"]
    assert evil in text  # plain text is not HTML: shown as it is


def test_status_colours() -> None:
    nodes = [_node(i, i, n) for n, i in enumerate(["root", "ok", "bad", "running", "stopped"])]
    edges = [
        _edge("e0", None, "root", 0, "Open"),
        _edge("e1", "root", "ok", 1, "Completed", 1),
        _edge("e2", "root", "bad", 2, "Failed", {"type": "ValueError", "message": "m"}),
        _edge("e3", "root", "running", 3, "Open"),
        _edge("e4", "root", "stopped", 4, "Failed", {"type": "CancelledError", "message": ""}),
    ]
    svg = _svg_root(static_html(_payload(nodes, edges)))
    fill_by_label = {}
    for g in _groups(svg):
        label = g.findall(f"{SVG_NS}text")[0].text
        fill_by_label[label] = g.findall(f"{SVG_NS}rect")[-1].get("fill")
    # The shared vocabulary's fills: the same colours as the widget and the exports.
    fills = vocabulary.OUTCOME_COLOURS
    assert fill_by_label["ok"] == fills["completed"]
    assert fill_by_label["bad"] == fills["failed"]
    assert fill_by_label["running"] == fills["open"]
    assert fill_by_label["root"] == fills["open"]
    assert fill_by_label["stopped"] == fills["cancelled"]
    assert len(set(fill_by_label.values())) == 4


def test_same_named_siblings_are_aggregated() -> None:
    html = static_html(_fan_out(1000, same_name=True))
    svg = _svg_root(html)
    labels = _labels(svg)
    assert sorted(labels) == ["leaf ×1000", "root"]  # noqa: RUF001
    group = next(g for g in _groups(svg) if g.get("class", "").startswith("rt-group"))
    assert "900✓ 100✗" in group.findall(f"{SVG_NS}text")[1].text
    assert group.get("class") == "rt-group rt-failed"  # the worst status colours the group


def test_large_session_is_truncated_with_a_note() -> None:
    html = static_html(_fan_out(5000, same_name=False))
    svg = _svg_root(html)
    boxes = _groups(svg)
    assert len(boxes) <= display.MAX_BOXES + 1
    more = [g for g in boxes if g.get("class", "").startswith("rt-more")]
    assert len(more) == 1
    drawn = len(boxes) - 1
    assert more[0].findall(f"{SVG_NS}text")[0].text == f"… {5001 - drawn} more"
    assert f"Showing {drawn} of 5001 nodes" in html
    assert len(html) < 150_000  # a notebook output stays small


def test_deep_chain_is_cut_without_recursion_error() -> None:
    depth = 3000  # deeper than Python's recursion limit: everything must be iterative
    nodes = [_node(f"n{i}", f"step{i}", i) for i in range(depth)]
    edges = [_edge("e0", None, "n0", 0, "Completed")]
    edges += [_edge(f"e{i}", f"n{i - 1}", f"n{i}", i, "Completed") for i in range(1, depth)]
    html = static_html(_payload(nodes, edges))
    svg = _svg_root(html)
    labels = _labels(svg)
    assert "step0" in labels
    assert f"step{display.MAX_DEPTH}" in labels
    assert f"step{display.MAX_DEPTH + 1}" not in labels
    assert any(label.startswith("… ") for label in labels)
    assert "Showing" in html


def test_cycles_in_a_corrupt_file_terminate() -> None:
    nodes = [_node("a", "a", 0), _node("b", "b", 1)]
    edges = [_edge("e1", "a", "b", 0, "Completed"), _edge("e2", "b", "a", 1, "Completed")]
    svg = _svg_root(static_html(_payload(nodes, edges)))
    assert sorted(_labels(svg)) == ["a", "b"]


def test_empty_and_sparse_payloads() -> None:
    empty = {"session_id": "x", "session_name": None, "start_time": 1.0, "end_time": 2, "runs": []}
    html = static_html(empty)
    assert "No nodes yet" in html and "(unnamed)" in html
    # Missing optional pieces (details, stamps, parents) never crash.
    sparse = {"runs": [{"nodes": [{"identifier": "a", "name": "a"}], "edges": [{"target": "a"}]}]}
    assert _labels(_svg_root(static_html(sparse))) == ["a"]


def test_interrupted_status_and_state_shown() -> None:
    payload = _fan_out(2, same_name=False)
    payload["railtracks_nb"] = {"status": "Interrupted", "state": "IDLE", "timeout": 30}
    html = static_html(payload)
    assert _badges(html) == {"lifecycle": "IDLE", "outcome": "interrupted"}
    assert "timeout 30 s" in html
    assert "outcome interrupted · lifecycle IDLE" in mimebundle(payload)["text/plain"]


def _badges(html: str) -> dict[str, str]:
    badge = r'>(lifecycle|outcome) </span><span class="rt-badge" data-value="([^"]+)"'
    return dict(re.findall(badge, html))


def test_state_and_outcome_never_contradict() -> None:
    # A session that never ran is not "Completed": its outcome is "no runs".
    empty = {"session_id": "x", "session_name": "e", "start_time": 1.0, "end_time": None,
             "runs": [], "railtracks_nb": {"state": "INIT", "status": "Completed"}}  # fmt: skip
    assert _badges(static_html(empty)) == {"lifecycle": "INIT", "outcome": "no runs"}
    # A file saved by Railtracks has no lifecycle record: it was saved closed (IDLE),
    # and its failed node is its error.
    sample = rt.load(DATA / "railtracks_saved_session_sample.json").to_payload()
    html = static_html(sample)
    assert _badges(html) == {"lifecycle": "IDLE", "outcome": "completed"}
    assert "ValueError: three is bad" in html


def test_display_of_an_open_session_while_running() -> None:
    async def main() -> tuple[str, str]:
        started = asyncio.Event()

        @rt.function_node
        async def waiting() -> None:
            started.set()
            await asyncio.sleep(10)

        async with rt.Session(name="live", save_state=False) as session:
            task = asyncio.ensure_future(rt.call(waiting))
            await started.wait()
            html = static_html(session.to_payload())
            text = mimebundle(session)["text/plain"]
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return html, text

    html, text = asyncio.run(main())
    assert "rt-node rt-open" in _svg_text(html)
    assert "lifecycle BUSY" in text

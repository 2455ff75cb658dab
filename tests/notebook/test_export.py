"""rt.export: every format, escaping, atomic writes, and what it accepts."""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
from pathlib import Path

import jsonschema
import networkx as nx
import pytest

import railtracks_nb as rt
from railtracks_nb.execution._synthetic import synthetic_payload
from railtracks_nb.notebook import export as export_mod
from tests.helpers import by_id, calling_each


@pytest.fixture
def hostile_payload() -> dict:
    return synthetic_payload((3, 2), fail={2}, hostile=True)


@pytest.fixture
def real_session() -> rt.Session:
    @rt.function_node
    def double(x: int) -> int:
        if x == 3:
            raise ValueError('three is "bad" <b>')
        return 2 * x

    top = calling_each(double, "top")
    with rt.Session(save_state=False, name="export-demo", context={"user": "ada"}) as session:
        rt.call_sync(top, 5)
    return session


def _data_of_html(text: str) -> dict:
    match = re.search(
        r'<script type="([^"]+)" id="railtracks-data"([^>]*)>(.*?)</script>', text, re.S
    )
    assert match, "the page has no inlined data element"
    kind, attrs, body = match.groups()
    if "gzip+base64" in attrs:
        data = json.loads(gzip.decompress(base64.b64decode(body)))
    else:
        assert kind == "application/json"
        data = json.loads(body)
    assert data["format"] == export_mod.COMPACT_FORMAT
    return export_mod.expand_compact(data)


# -- JSON ---------------------------------------------------------------------------------
def test_json_export_is_the_payload_and_validates(real_session, state_schema, tmp_path):
    path = rt.export(real_session, tmp_path / "s.json")
    data = json.loads(path.read_text())
    jsonschema.validate(data, state_schema)
    assert data == json.loads(json.dumps(real_session.to_payload()))
    assert sum(len(r["nodes"]) for r in data["runs"]) == 6  # top + 5 calls


def _indented_as_before(payload: dict) -> bytes:
    """The JSON export as the standard library's indenting encoder writes it."""
    from railtracks_nb.notebook.diagrams import _json_text, dumps

    return (_json_text(dumps(payload, indent=1)) + "\n").encode("utf-8")


@pytest.mark.parametrize("kind", ["session", "hostile", "sample", "odd values"])
def test_json_export_is_byte_for_byte_the_standard_librarys_indented_json(
    kind, real_session, hostile_payload, railtracks_sample_path, tmp_path
):
    """Written compact by the C encoder and indented by msgspec: the same bytes the
    standard library's (pure-Python) indenting encoder writes, for every kind of value."""
    odd = synthetic_payload((2,))
    odd["runs"][0]["nodes"][0]["name"] = 'é 𝄞 \u2028 "quoted" \\ \x00 lone \ud800'
    odd["runs"][0]["edges"][0]["details"]["output"] = [1e-06, -0.0, 10**30, float("nan"), {}]
    sources = {
        "session": real_session,
        "hostile": hostile_payload,
        "sample": railtracks_sample_path,
        "odd values": odd,
    }
    path = rt.export(sources[kind], tmp_path / "s.json")
    assert path.read_bytes() == _indented_as_before(export_mod.payload_of(sources[kind]))


def test_json_export_indents_in_c_unless_msgspec_cannot_read_the_text(monkeypatch):
    """A lone surrogate's escape is not read back by msgspec: that payload is
    indented by the standard library (same bytes); others never reach it."""
    from railtracks_nb.notebook import diagrams

    calls: list[object] = []
    real = diagrams.dumps

    def counting(payload: object, **options: object) -> str:
        calls.append(options.get("indent"))
        return real(payload, **options)

    monkeypatch.setattr(export_mod, "dumps", counting)
    plain = synthetic_payload((2,))
    assert export_mod.indented_json(plain) + b"\n" == _indented_as_before(plain)
    assert calls == [None]
    lone = synthetic_payload((2,))
    lone["runs"][0]["nodes"][0]["name"] = "lone \ud800"
    calls.clear()
    assert export_mod.indented_json(lone) + b"\n" == _indented_as_before(lone)
    assert calls == [None, 1]


def test_json_export_of_railtracks_sample_validates(railtracks_sample_path, state_schema, tmp_path):
    path = rt.export(railtracks_sample_path, tmp_path / "copy.json")
    data = json.loads(path.read_text())
    jsonschema.validate(data, state_schema)
    original = json.loads(railtracks_sample_path.read_text())
    assert [len(r["nodes"]) for r in data["runs"]] == [len(r["nodes"]) for r in original["runs"]]


# -- GraphML ------------------------------------------------------------------------------
def test_graphml_reloads_with_every_node(real_session, tmp_path):
    path = rt.export(real_session, tmp_path / "s.graphml")
    graph = nx.read_graphml(path)
    payload = real_session.to_payload()
    assert graph.number_of_nodes() == sum(len(r["nodes"]) for r in payload["runs"])
    assert graph.number_of_edges() == 5  # top -> each of the five calls
    statuses = sorted(d["status"] for _, d in graph.nodes(data=True))
    assert statuses.count("Failed") == 1 and statuses.count("Completed") == 5
    # Non-scalar attributes are JSON strings that parse back.
    edge = next(d for *_, d in graph.edges(data=True) if d["status"] == "Failed")
    assert json.loads(edge["input_args"]) == [3]
    assert json.loads(edge["output"])["type"] == "ValueError"


def test_graphml_of_sample_has_its_nine_nodes(railtracks_sample_path, tmp_path):
    graph = nx.read_graphml(rt.export(railtracks_sample_path, tmp_path / "s.graphml"))
    assert graph.number_of_nodes() == 9
    assert graph.number_of_edges() == 8


# -- HTML ---------------------------------------------------------------------------------
def test_html_is_self_contained(hostile_payload, tmp_path):
    text = rt.export(hostile_payload, tmp_path / "s.html").read_text()
    assert "RailtracksWidgets" in text  # the bundle is inlined
    assert ".rt-root" in text  # and its CSS
    # Nothing is loaded from anywhere: no external scripts, styles, images or fonts.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(?!data:)", text)
    assert '<link rel="icon" href="data:,">' in text  # not even a favicon request
    assert "@import" not in text
    assert by_id(_data_of_html(text)) == by_id(hostile_payload)


def test_html_data_cannot_close_its_script_element(tmp_path):
    payload = synthetic_payload((2,))
    evil = "</script><script>alert(1)</script><!--"
    payload["runs"][0]["nodes"][0]["name"] = evil
    text = export_mod.to_html(payload)
    data_start = text.index('id="railtracks-data"')
    data_end = text.index("</script>", data_start)
    assert evil not in text[data_start:data_end]
    names = [n["name"] for n in _data_of_html(text)["runs"][0]["nodes"]]
    assert evil in names


def test_large_html_data_is_compressed_and_round_trips(monkeypatch):
    payload = synthetic_payload((30, 3))
    monkeypatch.setattr(export_mod, "HTML_COMPRESS_ABOVE", 1000)
    text = export_mod.to_html(payload)
    assert 'data-encoding="gzip+base64"' in text
    assert by_id(_data_of_html(text)) == by_id(payload)
    # Deterministic: the same session exports to the same bytes.
    assert export_mod.to_html(payload) == text


def test_html_rejects_unknown_view():
    with pytest.raises(ValueError, match="Unknown view 'map'"):
        export_mod.to_html(synthetic_payload((1,)), view="map")


# -- the compact form ----------------------------------------------------------------------
def test_compact_form_is_lossless_and_smaller(real_session, railtracks_sample_path):
    sources = [
        json.loads(railtracks_sample_path.read_text()),
        json.loads(json.dumps(real_session.to_payload())),
        synthetic_payload((3, 2), fail={2}, hostile=True),
        synthetic_payload((4,), open_from=4),
    ]
    for payload in sources:
        compact = export_mod.compact_payload(payload)
        assert by_id(export_mod.expand_compact(json.loads(json.dumps(compact)))) == by_id(payload)
        assert len(json.dumps(compact)) < 0.7 * len(json.dumps(payload))
        # Every node of these has the engine's shape: nothing is kept verbatim.
        assert all(not run["nodes"] and not run["edges"] for run in compact["runs"])


def test_compact_form_keeps_unusual_nodes_verbatim():
    payload = synthetic_payload((2,))
    run = payload["runs"][0]
    agent = run["nodes"][0]
    agent["node_type"] = "Agent"
    agent["details"]["internals"]["llm_details"] = [
        {"model_name": "m", "input": [], "output": None}
    ]
    run["steps"].append({"step": 99, "time": 1.0, "identifier": "not an event"})
    run["steps"] = [s for s in run["steps"] if s["step"] != 0]  # an event stamp the run omits
    compact = export_mod.compact_payload(payload)
    assert [n["identifier"] for n in compact["runs"][0]["nodes"]] == [agent["identifier"]]
    assert len(compact["runs"][0]["edges"]) == 1
    assert compact["runs"][0]["unlisted_steps"] == [0]
    assert by_id(export_mod.expand_compact(json.loads(json.dumps(compact)))) == by_id(payload)


# -- Mermaid and DOT ----------------------------------------------------------------------
def test_mermaid_has_every_node_and_call_with_escaped_labels(hostile_payload, tmp_path):
    text = rt.export(hostile_payload, tmp_path / "s.mmd").read_text()
    lines = text.splitlines()
    assert lines[1] == "flowchart LR"
    node_lines = [ln for ln in lines if re.match(r"\s+n\d+\[", ln)]
    edge_lines = [ln for ln in lines if "-->" in ln]
    assert len(node_lines) == 10 and len(edge_lines) == 9
    for line in node_lines:
        label = line[line.index('["') + 2 : line.rindex('"]')]
        assert not set(label) & set('"<>[](){}#;|`') - {"#", ";"}, line
        assert '"' not in label and "<" not in label
    assert "#60;img src=x onerror=alert#40;1#41;#62;" in text
    assert ":::failed" in text and "classDef failed" in text


def test_dot_escapes_quotes_backslashes_and_newlines(tmp_path):
    payload = synthetic_payload((2,))
    payload["runs"][0]["nodes"][0]["name"] = 'say "hi"\\n\nnext'
    text = rt.export(payload, tmp_path / "s.dot").read_text()
    assert text.startswith('digraph "synthetic" {')
    assert r"say \"hi\"\\n\nnext" in text
    # Every quoted string is closed on its own line (no label spills over).
    for line in text.splitlines():
        unescaped = re.sub(r"\\.", "", line)
        assert unescaped.count('"') % 2 == 0, line
    assert len(re.findall(r"^\s+n\d+ \[label=", text, re.M)) == 3
    assert len(re.findall(r"^\s+n\d+ -> n\d+;", text, re.M)) == 2


# -- errors, atomicity and inputs ---------------------------------------------------------
def test_unknown_suffix_names_it_and_the_supported_ones(tmp_path):
    with pytest.raises(ValueError) as info:
        rt.export(synthetic_payload((1,)), tmp_path / "s.xlsx")
    message = str(info.value)
    assert "'.xlsx'" in message
    for suffix in (".json", ".graphml", ".html", ".mmd", ".dot"):
        assert suffix in message
    assert not (tmp_path / "s.xlsx").exists()
    with pytest.raises(ValueError, match="no suffix"):
        rt.export(synthetic_payload((1,)), tmp_path / "noext")


def test_suffix_is_case_insensitive(tmp_path):
    path = rt.export(synthetic_payload((1,)), tmp_path / "S.JSON")
    assert json.loads(path.read_text())["session_name"] == "synthetic"


@pytest.mark.parametrize("suffix", [".json", ".graphml", ".html", ".mmd", ".dot"])
def test_failed_write_leaves_old_file_and_no_temp(suffix, tmp_path, monkeypatch):
    target = tmp_path / f"s{suffix}"
    target.write_text("OLD")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(export_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        rt.export(synthetic_payload((2,)), target)
    assert target.read_text() == "OLD"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_export_creates_folders_and_plain_permissions(tmp_path):
    path = rt.export(synthetic_payload((1,)), tmp_path / "a" / "b" / "s.mmd")
    assert path.exists()
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_payload_of_accepts_every_kind(real_session, railtracks_sample_path, tmp_path):
    payload_of = export_mod.payload_of
    assert payload_of(real_session)["session_name"] == "export-demo"
    assert len(payload_of(real_session.info)["runs"]) == 1
    assert len(payload_of(str(railtracks_sample_path))["runs"][0]["nodes"]) == 9
    assert payload_of(rt.load(railtracks_sample_path))["session_id"]
    raw = synthetic_payload((1,))
    assert payload_of(raw) is raw
    with pytest.raises(ValueError, match="'runs' list"):
        payload_of({"session_id": "x"})
    with pytest.raises(TypeError, match="Cannot show or export a int"):
        payload_of(42)


def test_payload_of_flow_uses_its_last_session():
    @rt.function_node
    def echo(x: str) -> str:
        return x

    flow = rt.Flow("echo-flow", echo, save_state=False)
    with pytest.raises(ValueError, match="has not been invoked yet"):
        export_mod.payload_of(flow)
    assert flow.invoke("hi") == "hi"
    payload = export_mod.payload_of(flow)
    nodes = payload["runs"][0]["nodes"]
    assert [n["name"] for n in nodes] == ["echo"]


def test_rt_export_stays_callable_after_its_module_is_imported(tmp_path):
    # The module is railtracks_nb.notebook.export: importing it never replaces rt.export.
    import railtracks_nb.notebook.export
    import railtracks_nb.notebook.widgets  # noqa: F401
    assert callable(rt.export)
    path = rt.export(synthetic_payload((1,)), tmp_path / "s.json")
    assert Path(path).exists()

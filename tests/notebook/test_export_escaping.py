"""Every value written into an export is escaped or validated for its format, and
the magic's and the decorator's bad input are clear errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import networkx as nx
import pytest
from IPython.core.error import UsageError

import railtracks_nb as rt
from railtracks_nb.notebook.magics import parse_options

pytestmark = pytest.mark.timeout(60)

NASTY = "red \x1b[31mALERT\x1b[0m nul\x00 bell\x07 lone\ud800 end"


@rt.function_node
def noisy(x):
    return NASTY


@rt.function_node
async def named_flow():
    return await rt.call(noisy, NASTY)


def _session():
    with rt.Session(name=f"crafted {NASTY}", save_state=False, logging_setting="NONE") as s:
        rt.call_sync(named_flow)
    return s


def _crafted_payload() -> dict:
    payload = _session().to_payload()
    edge = payload["runs"][0]["edges"][0]
    edge["details"]["status"] = "Completed\n    click n0 call alert(1)\n%%{init}%%"
    node = payload["runs"][0]["nodes"][0]
    node["name"] = 'x"]\n    click n1 call alert(2)\n%%{init: {"securityLevel": "loose"}}%%'
    return payload


def test_mermaid_writes_no_value_raw(tmp_path):
    path = rt.export(_crafted_payload(), tmp_path / "graph.mmd")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"^\s*click ", text, re.M)
    assert "%%{" not in text
    # Every line is one of the statements we write, values only inside quoted labels.
    for line in text.splitlines()[2:]:
        assert re.fullmatch(
            r'    n\d+\["[^"\n]*"\]:::(open|completed|failed|unknown)'
            r"|    n\d+ --> n\d+"
            r"|    classDef \w+ fill:#\w+,stroke:#333,color:#\w+",
            line,
        ), line
    assert "\x00" not in text and "\x1b" not in text


def test_graphml_with_control_characters_reads_back(tmp_path):
    path = rt.export(_session(), tmp_path / "graph.graphml")
    graph = nx.read_graphml(path)
    outputs = [attrs["output"] for *_, attrs in graph.edges(data=True)]
    assert outputs and all("\\x1b[31mALERT" in o and "\\x00" in o for o in outputs)
    assert graph.graph["session_name"].startswith("crafted red \\x1b[31mALERT")


def test_dot_has_no_nul_or_control_characters(tmp_path):
    path = rt.export(_session(), tmp_path / "graph.dot")
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)
    assert "\u2400" in text and "\u241b" in text  # shown as control pictures
    if shutil.which("dot"):
        done = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("suffix", [".json", ".html"])
def test_lone_surrogates_do_not_break_json_and_html(tmp_path, suffix):
    path = rt.export(_session(), tmp_path / f"session{suffix}")
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        payload = json.loads(text)
        output = payload["runs"][0]["edges"][0]["details"]["output"]
        assert output == NASTY  # the same string, surrogate included
    else:
        assert "\\ud800" in text and "\ud800" not in text


def test_json_export_of_a_loaded_file_with_nan(tmp_path):
    payload = _session().to_payload()
    payload["runs"][0]["nodes"][0]["details"]["internals"] = {"score": float("nan")}
    path = rt.export(payload, tmp_path / "nan.json")
    assert json.loads(path.read_text())["runs"][0]["nodes"][0]["details"]["internals"] == {
        "score": "nan"
    }


def test_unterminated_quote_names_the_option():
    with pytest.raises(UsageError, match=r"option 'name'.*unterminated quote"):
        parse_options('name="abc')
    with pytest.raises(UsageError, match=r"option 'name'.*unterminated quote"):
        parse_options("timeout=3 name='abc def")


def test_log_file_in_a_missing_folder_is_a_usage_error():
    with pytest.raises(UsageError, match=r"option 'log_file'.*does not exist"):
        parse_options("log_file=/nonexistent/x.log")
    kwargs, _ = parse_options("log_file=run.log")  # a new file in an existing folder is fine
    assert str(kwargs["log_file"]) == "run.log"


def test_magic_with_a_bad_log_file_runs_nothing_and_binds_nothing():
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "railtracks_nb")
    ip.user_ns.pop("bad_log", None)
    ip.user_ns.pop("ran", None)
    with pytest.raises(UsageError, match="log_file"):
        ip.run_cell_magic("rt_session", "log_file=/nonexistent/x.log var=bad_log", "ran = True")
    assert "bad_log" not in ip.user_ns and "ran" not in ip.user_ns


@pytest.mark.parametrize("name", ["a\x00b", "line\nbreak", "esc\x1b"])
def test_node_names_with_control_characters_are_a_node_creation_error(name):
    with pytest.raises(rt.NodeCreationError, match="control character"):
        rt.function_node(name=name)(lambda: 1)

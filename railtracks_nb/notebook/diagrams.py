"""The call graph as text for other tools: Mermaid, Graphviz DOT and GraphML.

All three are drawn from one call tree, made from the session's rows
(:func:`railtracks_nb.execution.calltree.call_records`), in the shared vocabulary's
words and colours; every piece of text that comes from a session is escaped for its
format (a loaded file may hold anything). Each takes anything
:func:`railtracks_nb.notebook.sources.info_of` accepts.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..core.vocabulary import (
    OUTCOME_COLOURS,
    TEXT_ON_FILL,
    format_duration,
    node_outcome,
    session_title,
)
from ..execution.calltree import call_records
from .sources import SessionSource, info_of

__all__ = ["dumps", "to_dot", "to_graphml_graph", "to_mermaid"]


def _duration(rec: dict[str, Any]) -> str:
    if rec["finished"] is None:
        return "running"
    seconds = _number(rec["latency"])
    if seconds is None:
        finished, created = _number(rec["finished"]), _number(rec["created"])
        if finished is None or created is None:
            return "?"
        seconds = finished - created
    return format_duration(seconds)


def _number(value: Any) -> float | None:
    """``value`` if it is a finite number (a loaded file may hold anything), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


# -- making any text safe for a format ------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_PICTURES = {chr(c): chr(0x2400 + c) for c in range(32)}  # U+2400 CONTROL PICTURES
#: Characters XML 1.0 (so GraphML) cannot hold at all, even escaped.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _visible(text: str) -> str:
    """Control characters as their Unicode pictures (NUL -> U+2400), lone surrogates
    as U+FFFD: for formats that show text to people (DOT, Mermaid, page titles)."""
    text = _CONTROL.sub(lambda m: _PICTURES.get(m.group(), "\u2421"), text)
    return _SURROGATE.sub("\ufffd", text)


def _xml_text(text: str) -> str:
    """Characters XML cannot hold written as Python-style escapes (ESC -> ``\\x1b``)."""
    return _NOT_XML.sub(lambda m: ascii(m.group())[1:-1], text)


def _json_text(text: str) -> str:
    """JSON text with lone surrogates written as ``\\udXXX`` escapes: the same string to
    any JSON reader, and encodable as UTF-8 (a raw lone surrogate is not)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps(payload: Any, **options: Any) -> str:
    """``json.dumps`` that never fails on a loaded file's NaN or odd values."""
    try:
        return json.dumps(payload, ensure_ascii=False, allow_nan=False, default=str, **options)
    except (ValueError, TypeError, RecursionError):
        from ..core.serialization import to_jsonable

        return json.dumps(
            to_jsonable(payload), ensure_ascii=False, allow_nan=False, default=str, **options
        )


# -- formats ----------------------------------------------------------------------------
def _mermaid_text(text: str) -> str:
    # Inside a quoted Mermaid label, anything but plain characters is written as a
    # numeric entity code (#60; for "<"): quotes, brackets, "#", ";", "%", HTML.
    safe = " _.,:=+-/'!?@$*^~"
    out = []
    for ch in _visible(text.replace("\r", " ").replace("\n", " ")):
        plain = ch.isalnum() or ch in safe or (ord(ch) > 127 and ch.isprintable())
        out.append(ch if plain else f"#{ord(ch)};")
    return "".join(out)


def to_mermaid(obj: SessionSource) -> str:
    """A Mermaid flowchart of the call tree: callers → callees, classes by status."""
    info, payload = info_of(obj)
    records = call_records(info)
    ids = {r["id"]: f"n{i}" for i, r in enumerate(records)}
    lines = [
        "%% railtracks_nb session " + _mermaid_text(session_title(payload)),
        "flowchart LR",
    ]
    used: set[str] = set()
    for rec in records:
        status = str(rec["status"])
        label = f"{rec['name']} · {rec['type']} · {status} · {_duration(rec)}"
        # The class after ":::" is Mermaid syntax, not text: only our own words go there.
        css = node_outcome(rec["status"], rec["error"])
        used.add(css)
        lines.append(f'    {ids[rec["id"]]}["{_mermaid_text(label)}"]:::{css}')
    for rec in records:
        if rec["caller"] in ids:
            lines.append(f"    {ids[rec['caller']]} --> {ids[rec['id']]}")
    for outcome in sorted(used):
        fill = OUTCOME_COLOURS[outcome]
        lines.append(f"    classDef {outcome} fill:{fill},stroke:#333,color:{TEXT_ON_FILL}")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    # A DOT double-quoted string: escape backslash and quote; newlines become "\n";
    # control characters (graphviz rejects a NUL) show as their pictures.
    text = _visible(str(text)).replace("\t", " ")
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") + '"'


def to_dot(obj: SessionSource) -> str:
    """A Graphviz ``digraph`` of the call tree, boxes filled by status."""
    info, payload = info_of(obj)
    records = call_records(info)
    ids = {r["id"]: f"n{i}" for i, r in enumerate(records)}
    lines = [
        f"digraph {_dot_string(session_title(payload))} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for rec in records:
        label = f"{rec['name']}\n{rec['type']} · {rec['status']} · {_duration(rec)}"
        color = OUTCOME_COLOURS[node_outcome(rec["status"], rec["error"])]
        lines.append(
            f"  {ids[rec['id']]} [label={_dot_string(label)}, fillcolor={_dot_string(color)}, "
            f"tooltip={_dot_string(rec['id'])}];"
        )
    for rec in records:
        if rec["caller"] in ids:
            lines.append(f"  {ids[rec['caller']]} -> {ids[rec['id']]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _graphml_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _xml_text(value)
    return _xml_text(dumps(value))


def to_graphml_graph(obj: SessionSource) -> Any:
    """A ``networkx.DiGraph`` of ``obj`` whose attributes GraphML can store.

    Built by :func:`railtracks_nb.execution.graph.call_graph`; non-scalar
    attributes become JSON strings, ``None`` attributes are dropped.
    """
    from ..execution.graph import call_graph

    info, head = info_of(obj)
    graph = call_graph(call_records(info), head)
    unsafe = {n: _xml_text(n) for n in graph if isinstance(n, str) and _NOT_XML.search(n)}
    if unsafe:  # node ids from a loaded file may hold anything
        import networkx as nx

        graph = nx.relabel_nodes(graph, unsafe)
    for attrs in [
        graph.graph,
        *(a for _, a in graph.nodes(data=True)),
        *(a for *_, a in graph.edges(data=True)),
    ]:
        for key in list(attrs):
            value = _graphml_value(attrs[key])
            if value is None:
                del attrs[key]
            else:
                attrs[key] = value
    return graph

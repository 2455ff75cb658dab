"""Exports: ``rt.export(obj, path)`` writes a session in the format its suffix names.

=============  ==============================================================
``.json``      The payload in the Railtracks saved-state schema
               (a copy is ``tests/data/reference/railtracks_state_schema.json``), with our
               optional ``railtracks_nb`` extras.
``.graphml``   The call graph via networkx (one vertex per node, one edge per
               caller → callee request). Values that GraphML cannot hold
               (lists, dicts) are stored as JSON strings; ``None`` is left out.
``.html``      A self-contained page: the dashboard widget's code, its CSS and
               the data are inlined; it works offline from ``file://``.
``.mmd``       A Mermaid flowchart (``flowchart LR``), labels escaped.
``.dot``       A Graphviz digraph, labels escaped.
=============  ==============================================================

``obj`` may be a :class:`~railtracks_nb.Session` (live or finished), an
:class:`~railtracks_nb.ExecutionInfo`, a loaded saved session, a
:class:`~railtracks_nb.Flow` (its latest run), a payload ``dict``, or the path of
a saved ``.json`` file. Every write is atomic: a temporary file in the target
folder, then ``os.replace``, so a reader sees the old file or the new one.

This module imports nothing heavy at import time (networkx only for GraphML).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..execution.graph import _chain, node_records
from ..execution.state import EXTRAS_KEY
from .sources import SessionSource, payload_of

__all__ = [
    "SUPPORTED_SUFFIXES",
    "export",
    "payload_of",
    "to_dot",
    "to_graphml_graph",
    "to_html",
    "to_mermaid",
]

#: The suffixes ``export`` understands, in the order the error message lists them.
SUPPORTED_SUFFIXES: tuple[str, ...] = (".json", ".graphml", ".html", ".mmd", ".dot")

STATUS_COLORS = {"Open": "#f5b83d", "Completed": "#3fa66a", "Failed": "#d9534f"}

_STATIC = Path(__file__).parent.parent / "static"


# -- what can be exported: anything persistence.payload_of accepts ------------------
def _title(payload: dict[str, Any]) -> str:
    extras = payload.get("railtracks_nb") or {}
    return str(
        payload.get("session_name")
        or extras.get("flow_name")
        or payload.get("flow_name")
        or payload.get("session_id")
        or "session"
    )


def _number(value: Any) -> float | None:
    """``value`` if it is a finite number (a loaded file may hold anything), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _duration(rec: dict[str, Any]) -> str:
    if rec["finished"] is None:
        return "running"
    seconds = _number(rec["latency"])
    if seconds is None:
        finished, created = _number(rec["finished"]), _number(rec["created"])
        if finished is None or created is None:
            return "?"
        seconds = finished - created
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


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


def _dumps(payload: Any, **options: Any) -> str:
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


def to_mermaid(payload: dict[str, Any]) -> str:
    """A Mermaid flowchart of the call tree: callers → callees, classes by status."""
    records = node_records(payload)
    ids = {r["id"]: f"n{i}" for i, r in enumerate(records)}
    lines = [
        "%% railtracks_nb session " + _mermaid_text(_title(payload)),
        "flowchart LR",
    ]
    for rec in records:
        status = str(rec["status"])
        label = f"{rec['name']} · {rec['type']} · {status} · {_duration(rec)}"
        # The class after ":::" is Mermaid syntax, not text: only our own names go there.
        css = status.lower() if status in STATUS_COLORS else "unknown"
        lines.append(f'    {ids[rec["id"]]}["{_mermaid_text(label)}"]:::{css}')
    for rec in records:
        if rec["caller"] in ids:
            lines.append(f"    {ids[rec['caller']]} --> {ids[rec['id']]}")
    for status, color in STATUS_COLORS.items():
        text = "#1d1d1d" if status == "Open" else "#ffffff"
        lines.append(f"    classDef {status.lower()} fill:{color},stroke:#333,color:{text}")
    if any(str(rec["status"]) not in STATUS_COLORS for rec in records):
        lines.append("    classDef unknown fill:#cccccc,stroke:#333,color:#1d1d1d")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    # A DOT double-quoted string: escape backslash and quote; newlines become "\n";
    # control characters (graphviz rejects a NUL) show as their pictures.
    text = _visible(str(text)).replace("\t", " ")
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") + '"'


def to_dot(payload: dict[str, Any]) -> str:
    """A Graphviz ``digraph`` of the call tree, boxes filled by status."""
    records = node_records(payload)
    ids = {r["id"]: f"n{i}" for i, r in enumerate(records)}
    lines = [
        f"digraph {_dot_string(_title(payload))} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for rec in records:
        label = f"{rec['name']}\n{rec['type']} · {rec['status']} · {_duration(rec)}"
        color = STATUS_COLORS.get(rec["status"], "#cccccc")
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
    return _xml_text(_dumps(value))


def to_graphml_graph(payload: dict[str, Any]) -> Any:
    """A ``networkx.DiGraph`` of ``payload`` whose attributes GraphML can store.

    Built by :func:`railtracks_nb.execution.graph.payload_to_networkx`; non-scalar
    attributes become JSON strings, ``None`` attributes are dropped.
    """
    from ..execution.graph import payload_to_networkx

    graph = payload_to_networkx(payload)
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


# -- the compact form (what the front end is sent) -------------------------------------------
#: Tag of the compact form of a payload (see :func:`compact_payload`).
COMPACT_FORMAT = "railtracks_nb/compact-1"

_NODE_KEYS = {"identifier", "node_type", "name", "stamp", "details", "parent"}
_EDGE_KEYS = {"identifier", "source", "target", "stamp", "details", "parent"}
_EDGE_DETAIL_KEYS = {"input_args", "input_kwargs", "status", "output"}


def _as_events(node: dict[str, Any] | None, edge: dict[str, Any]) -> list[list[Any]] | None:
    """The events that rebuild ``node`` and ``edge`` exactly, or None if they can't.

    They can when the pair has the shape the engine records: the request's open
    snapshot (node internals ``{}``) and, once it ended, one finished snapshot
    (node internals exactly ``{"latency": {"total_time": t}}``), both stamped
    alike. Anything else (more snapshots, agent internals, extra keys) is kept
    verbatim instead.
    """
    if node is None or set(node) != _NODE_KEYS or set(edge) != _EDGE_KEYS:
        return None
    nodes, edges = _chain(node), _chain(edge)
    if len(nodes) != len(edges) or len(edges) not in (1, 2):
        return None
    n0, e0 = nodes[0], edges[0]
    d0 = e0.get("details")
    if (
        set(n0) != _NODE_KEYS
        or set(e0) != _EDGE_KEYS
        or n0["stamp"] != e0["stamp"]
        or n0["details"] != {"internals": {}}
        or not isinstance(d0, dict)
        or set(d0) != _EDGE_DETAIL_KEYS
        or d0["status"] != "Open"
        or d0["output"] is not None
        or e0["target"] != n0["identifier"]
        or not isinstance(d0["input_args"], list)
        or not isinstance(d0["input_kwargs"], dict)
    ):
        return None
    stamp = n0["stamp"]
    if not isinstance(stamp, dict) or set(stamp) != {"step", "time", "identifier"}:
        return None
    events: list[list[Any]] = [
        ["c", stamp["step"], stamp["time"], stamp["identifier"], e0["identifier"], e0["source"],
         n0["identifier"], n0["name"], n0["node_type"], d0["input_args"], d0["input_kwargs"]]
    ]  # fmt: skip
    if len(edges) == 2:
        n1, e1 = nodes[1], edges[1]
        d1 = e1.get("details")
        internals = (n1.get("details") or {}).get("internals")
        latency = (internals or {}).get("latency") if isinstance(internals, dict) else None
        if (
            n1["stamp"] != e1["stamp"]
            or not isinstance(d1, dict)
            or set(d1) != _EDGE_DETAIL_KEYS
            or d1["status"] not in ("Completed", "Failed")
            or n1["details"] != {"internals": {"latency": latency}}
            or not isinstance(latency, dict)
            or set(latency) != {"total_time"}
            or (n1["name"], n1["node_type"]) != (n0["name"], n0["node_type"])
            or (e1["source"], e1["target"]) != (e0["source"], e0["target"])
            or (d1["input_args"], d1["input_kwargs"]) != (d0["input_args"], d0["input_kwargs"])
            or not isinstance(n1["stamp"], dict)
            or set(n1["stamp"]) != {"step", "time", "identifier"}
        ):
            return None
        st = n1["stamp"]
        kind = "s" if d1["status"] == "Completed" else "f"
        events.append(
            [kind, st["step"], st["time"], st["identifier"], e1["identifier"], n1["identifier"],
             d1["output"], latency["total_time"]]
        )  # fmt: skip
    return events


def _intern(rows: list[list[Any]]) -> None:
    """Rewrite explicit rows (in step order) to the wire form, in place: ids sent once
    (later rows name them by table index) and default stamp texts as ``None``."""
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    for row in rows:
        if row[0] == "c":
            caller = row[5]
            caller_name = "START" if caller is None else names.get(caller)
            if caller is not None and caller in index:
                row[5] = index[caller]
            if caller_name is not None and row[3] == f"{caller_name} CREATED {row[7]}":
                row[3] = None
            index[row[4]] = len(index)
            index[row[6]] = len(index)
            names[row[6]] = row[7]
        else:  # explicit: [kind, step, time, text, request_id, node_id, output, latency]
            kind, step, t, text, request_id, node_id, output, latency = row
            verb = "Finished" if kind == "s" else "Failed"
            if node_id in names and text == f"{verb} executing {names[node_id]}":
                text = None
            row[:] = [kind, step, t, text, index.get(request_id, request_id), output, latency]


def _implied(stamp: Any, implied: dict[int, list[Any]]) -> bool:
    row = implied.get(stamp.get("step", -1)) if isinstance(stamp, dict) else None
    return (
        row is not None
        and set(stamp) == {"step", "time", "identifier"}
        and [stamp["time"], stamp["identifier"]] == row[2:4]
    )


def compact_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A lossless, smaller form of ``payload`` for the front end.

    Each node and the request that created it become one or two *events* (the
    rows the live feed sends, see ``railtracks_nb.notebook.widgets._LiveFeed``) instead
    of two snapshot chains that repeat names, ids and stamps: about a fifth of
    the JSON. Nodes whose history has another shape stay verbatim. The front
    end (and :func:`expand_compact`) rebuild the exact payload, up to the order
    of the ``nodes`` and ``edges`` lists (which the schema does not fix).
    """
    runs = []
    for run in payload.get("runs", []):
        header = {k: v for k, v in run.items() if k not in ("nodes", "edges", "steps")}
        nodes = {n["identifier"]: n for n in run.get("nodes", [])}
        events: list[list[Any]] = []
        raw_edges = []
        used: set[str] = set()
        for edge in run.get("edges", []):
            rows = (
                _as_events(nodes.get(edge.get("target")), edge)
                if edge.get("target") not in used
                else None
            )
            if rows is None:
                raw_edges.append(edge)
            else:
                used.add(edge["target"])
                events.extend(rows)
        raw_nodes = [n for i, n in nodes.items() if i not in used]
        events.sort(key=lambda row: row[1])
        implied = {row[1]: list(row) for row in events}
        _intern(events)
        steps = run.get("steps", [])
        listed = {s.get("step") for s in steps}
        runs.append(
            {
                "header": header,
                "events": events,
                "nodes": raw_nodes,
                "edges": raw_edges,
                # Steps the events do not imply, and event stamps the run does not list.
                "steps": [s for s in steps if not _implied(s, implied)],
                "unlisted_steps": sorted(step for step in implied if step not in listed),
            }
        )
    meta = {k: v for k, v in payload.items() if k != "runs"}
    return {"format": COMPACT_FORMAT, "meta": meta, "runs": runs}


def expand_compact(compact: dict[str, Any]) -> dict[str, Any]:
    """The payload a :func:`compact_payload` result stands for (the front end's
    rebuild, in Python: used by the tests to prove the form is lossless)."""
    runs = []
    for entry in compact["runs"]:
        nodes = {n["identifier"]: n for n in entry["nodes"]}
        edges = {e["identifier"]: e for e in entry["edges"]}
        steps: dict[int, dict[str, Any]] = {}
        table: list[str] = []

        def ref(value: Any, table: list[str] = table) -> Any:
            return table[value] if isinstance(value, int) else value

        for row in entry["events"]:
            kind, step, t, text = row[:4]
            if kind == "c":
                req, caller_ref, node_id, name, ntype, args, kwargs = row[4:]
                caller = ref(caller_ref)
                table += [req, node_id]
                if text is None:
                    text = f"{nodes[caller]['name'] if caller else 'START'} CREATED {name}"
                stamp = {"step": step, "time": t, "identifier": text}
                nodes[node_id] = {
                    "identifier": node_id,
                    "node_type": ntype,
                    "name": name,
                    "stamp": stamp,
                    "details": {"internals": {}},
                    "parent": None,
                }
                edges[req] = {
                    "identifier": req,
                    "source": caller,
                    "target": node_id,
                    "stamp": stamp,
                    "details": {
                        "input_args": args,
                        "input_kwargs": kwargs,
                        "status": "Open",
                        "output": None,
                    },
                    "parent": None,
                }
            else:
                req = ref(row[4])
                output, latency = row[5:]
                e0 = edges[req]
                n0 = nodes[e0["target"]]
                if text is None:
                    verb = "Finished" if kind == "s" else "Failed"
                    text = f"{verb} executing {n0['name']}"
                stamp = {"step": step, "time": t, "identifier": text}
                nodes[n0["identifier"]] = {
                    "identifier": n0["identifier"],
                    "node_type": n0["node_type"],
                    "name": n0["name"],
                    "stamp": stamp,
                    "details": {"internals": {"latency": {"total_time": latency}}},
                    "parent": n0,
                }
                edges[req] = {"identifier": req, "source": e0["source"], "target": e0["target"],
                              "stamp": stamp,
                              "details": {"input_args": e0["details"]["input_args"],
                                          "input_kwargs": e0["details"]["input_kwargs"],
                                          "status": "Completed" if kind == "s" else "Failed",
                                          "output": output}, "parent": e0}  # fmt: skip
            steps[step] = stamp
        for step in entry["unlisted_steps"]:
            steps.pop(step, None)
        for s in entry["steps"]:
            steps[s["step"]] = s
        run = dict(entry["header"])
        run["nodes"] = list(nodes.values())
        run["edges"] = list(edges.values())
        run["steps"] = sorted(steps.values(), key=lambda s: s["step"])
        runs.append(run)
    out = dict(compact["meta"])
    out["runs"] = runs
    return out


FEED_FORMAT = "railtracks_nb/feed-1"


def expand_feed(feed: dict[str, Any]) -> dict[str, Any]:
    """The payload a live widget's final ``data`` stands for.

    That form is what a widget that followed a session live holds once the
    session ends (see ``railtracks_nb.notebook.widgets``): ``base``, the compact payload
    the widget started from, then every delta's rows in the order they were sent
    (``chunks``: ``[run_id, rows]`` pairs, rows naming ids by their index in one
    table that every "c" row appends its request and node id to), the run
    headers and extras as they ended, and ``meta``, the session's header fields.
    It is the deltas replayed, so building it costs no re-encoding of the session.
    """
    base = feed["base"]
    entries = {entry["header"]["run_id"]: entry for entry in base["runs"]}
    for entry in entries.values():
        entry["events"] = list(entry["events"])
        entry["steps"] = list(entry["steps"])
    table: list[str] = []

    def ref(value: Any) -> Any:
        return table[value] if isinstance(value, int) else value

    for run_id, rows in feed["chunks"]:
        entry = entries.get(run_id)
        if entry is None:
            entry = entries[run_id] = {
                "header": {"run_id": run_id, "name": "", "status": "Open",
                           "start_time": 0, "end_time": None},
                "events": [], "nodes": [], "edges": [], "steps": [], "unlisted_steps": [],
            }  # fmt: skip
        for row in rows:
            kind = row[0]
            if kind == "c":
                row = [*row[:5], ref(row[5]), *row[6:]]
                table += [row[4], row[6]]
            elif kind in ("s", "f"):
                row = [*row[:4], ref(row[4]), *row[5:]]
            else:  # "x": a fatal failure's stamp, nothing else
                entry["steps"].append({"step": row[1], "time": row[2], "identifier": row[3]})
                continue
            entry["events"].append(row)
    for header in feed["runs"]:
        entry = entries.get(header["run_id"])
        if entry is not None:
            entry["header"] = {**entry["header"], **header}
    meta = {**base["meta"], **feed["meta"]}
    if feed.get("extras"):
        meta[EXTRAS_KEY] = {**meta.get(EXTRAS_KEY, {}), **feed["extras"]}
    return expand_compact({"format": COMPACT_FORMAT, "meta": meta, "runs": list(entries.values())})


#: Payloads bigger than this (as JSON) are inlined gzip-compressed (base64): a
#: 14 MB script element takes the HTML parser over a second; its 2 MB
#: compressed form plus the browser's own DecompressionStream, a tenth of that.
HTML_COMPRESS_ABOVE = 512 * 1024


def _html_data_element(payload: dict[str, Any]) -> str:
    text = _json_text(_dumps(compact_payload(payload)))
    raw = text.encode("utf-8")
    if len(raw) > HTML_COMPRESS_ABOVE:
        # mtime=0: the same session always exports to the same bytes.
        packed = base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")
        return (
            '<script type="application/octet-stream" id="railtracks-data" '
            f'data-encoding="gzip+base64">{packed}</script>'
        )
    return (
        f'<script type="application/json" id="railtracks-data">{_script_safe_json(text)}</script>'
    )


def _script_safe_json(text: str) -> str:
    # Inside <script>, "<" could close the element ("</script>") or open a comment;
    # "\u003c" is the same character to JSON.parse and inert to the HTML parser.
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def to_html(payload: dict[str, Any], *, view: str = "dashboard", height: int = 640) -> str:
    """A self-contained HTML page showing ``payload`` in the dashboard (or one view).

    The widget bundle, its CSS and the data are inlined (the data gzip-compressed
    when large): no network, no CDN, and it opens from ``file://``.
    """
    if view not in ("dashboard", "graph", "timeline", "state"):
        raise ValueError(f"Unknown view {view!r}: use 'dashboard', 'graph', 'timeline' or 'state'")
    script = (_STATIC / "standalone.js").read_text(encoding="utf-8")
    css = (_STATIC / "widget.css").read_text(encoding="utf-8")
    # The bundle is code, not data: "</script" can only occur in its string literals,
    # where "<\/script" means the same thing.
    script = script.replace("</script", "<\\/script")
    title = html.escape(_visible(f"{_title(payload)} · railtracks_nb"))
    options = json.dumps({"view": view, "height": int(height)})
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="railtracks_nb">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
body {{ margin: 12px; background: #fff; }}
{css}
</style>
</head>
<body>
<div id="railtracks-app"></div>
{_html_data_element(payload)}
<script>{script}</script>
<script>
RailtracksWidgets.boot(
  document.getElementById("railtracks-app"), document.getElementById("railtracks-data"), {options}
);
</script>
</body>
</html>
"""


# -- writing ----------------------------------------------------------------------------
def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); an export is an ordinary file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:  # including KeyboardInterrupt: never leave the temp file behind
        tmp.unlink(missing_ok=True)
        raise


def _write_text(text: str) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    return write


def export(obj: SessionSource, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` to ``path`` in the format named by its suffix; returns the path.

    Suffixes: ``.json``, ``.graphml``, ``.html``, ``.mmd``, ``.dot`` (case
    insensitive). Anything else raises ``ValueError`` naming the suffix and the
    supported ones, before anything is written. ``obj`` is anything
    :func:`payload_of` accepts.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = repr(suffix) if suffix else "no suffix"
        raise ValueError(
            f"Cannot export to {str(target)!r}: {shown} is not a supported format; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}."
        )
    payload = payload_of(obj)
    if suffix == ".json":
        text = _json_text(_dumps(payload, indent=1))
        _atomic_write(target, _write_text(text + "\n"))
    elif suffix == ".graphml":
        import networkx as nx

        graph = to_graphml_graph(payload)
        _atomic_write(target, lambda tmp: nx.write_graphml(graph, tmp, encoding="utf-8"))
    elif suffix == ".html":
        _atomic_write(target, _write_text(to_html(payload)))
    elif suffix == ".mmd":
        _atomic_write(target, _write_text(to_mermaid(payload)))
    else:
        _atomic_write(target, _write_text(to_dot(payload)))
    return target

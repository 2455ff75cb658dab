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
import io
import json
import os
from pathlib import Path
from typing import Any

try:
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a dependency
    msgspec = None  # type: ignore[assignment]

from ..core.vocabulary import session_title
from ..store.files import atomic_write_chunks, atomic_write_text
from .compact import compact_payload
from .diagrams import _json_text, _visible, dumps, to_dot, to_graphml_graph, to_mermaid
from .sources import SessionSource, payload_of, rows_source
from .wire import COMPACT_FORMAT, FEED_FORMAT, expand_compact, expand_feed, snapshot

__all__ = [
    "COMPACT_FORMAT",
    "FEED_FORMAT",
    "SUPPORTED_SUFFIXES",
    "compact_payload",
    "expand_compact",
    "expand_feed",
    "export",
    "payload_of",
    "to_dot",
    "to_graphml_graph",
    "to_html",
    "to_mermaid",
]

#: The suffixes ``export`` understands, in the order the error message lists them.
SUPPORTED_SUFFIXES: tuple[str, ...] = (".json", ".graphml", ".html", ".mmd", ".dot")

_STATIC = Path(__file__).parent.parent / "static"


#: Payloads bigger than this (as JSON) are inlined gzip-compressed (base64): a
#: 14 MB script element takes the HTML parser over a second; its 2 MB
#: compressed form plus the browser's own DecompressionStream, a tenth of that.
HTML_COMPRESS_ABOVE = 512 * 1024


def _html_data_element(compact: dict[str, Any]) -> str:
    text = _json_text(dumps(compact))
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


def to_html(source: SessionSource, *, view: str = "dashboard", height: int = 640) -> str:
    """A self-contained HTML page showing ``source`` in the dashboard (or one view).

    The widget bundle, its CSS and the data (the session's rows: the widget's own
    form) are inlined, the data gzip-compressed when large: no network, no CDN, and
    it opens from ``file://``.
    """
    if view not in ("dashboard", "graph", "timeline", "state"):
        raise ValueError(f"Unknown view {view!r}: use 'dashboard', 'graph', 'timeline' or 'state'")
    script = (_STATIC / "standalone.js").read_text(encoding="utf-8")
    css = (_STATIC / "widget.css").read_text(encoding="utf-8")
    # The bundle is code, not data: "</script" can only occur in its string literals,
    # where "<\/script" means the same thing.
    script = script.replace("</script", "<\\/script")
    rows = rows_source(source)
    compact = snapshot(*rows) if rows is not None else compact_payload(payload_of(source))
    title = html.escape(_visible(f"{session_title(compact['meta'])} · railtracks_nb"))
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
{_html_data_element(compact)}
<script>{script}</script>
<script>
RailtracksWidgets.boot(
  document.getElementById("railtracks-app"), document.getElementById("railtracks-data"), {options}
);
</script>
</body>
</html>
"""


def indented_json(payload: Any) -> bytes:
    """``dumps(payload, indent=1)`` in UTF-8 (lone surrogates escaped), byte for byte,
    in a fraction of its time.

    With an indent the standard library's ``json`` writes with its pure-Python
    encoder (about 0.6 s for a 10,000-node session); without one, with its C
    encoder (a fifth of that), whose text msgspec then indents in C the same way.
    Text msgspec will not read back (a lone surrogate's escape) is indented by the
    standard library, as before.
    """
    text = _json_text(dumps(payload))
    if msgspec is not None:
        try:
            return msgspec.json.format(text.encode("utf-8"), indent=1)
        except msgspec.DecodeError:
            pass
    return _json_text(dumps(payload, indent=1)).encode("utf-8")


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
    if suffix == ".html":
        atomic_write_text(target, to_html(obj))
        return target
    if suffix == ".json":  # the file boundary: the Railtracks saved-state payload
        atomic_write_chunks(target, [indented_json(payload_of(obj)), b"\n"])
    elif suffix == ".graphml":
        import networkx as nx

        out = io.BytesIO()
        nx.write_graphml(to_graphml_graph(obj), out, encoding="utf-8")
        atomic_write_chunks(target, [out.getvalue()])
    elif suffix == ".mmd":
        atomic_write_text(target, to_mermaid(obj))
    else:
        atomic_write_text(target, to_dot(obj))
    return target

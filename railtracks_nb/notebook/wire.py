"""The widget wire format: how a session's event rows travel to the front end.

The rows are the execution state's own (:meth:`ExecutionInfo.event_rows
<railtracks_nb.execution.state.ExecutionInfo.event_rows>`, made by
:mod:`railtracks_nb.execution.rows`). This module is their one encoder; the one
decoder is ``widgets/src/rows.ts`` (``widgets/src/store.ts`` before it), and
:func:`expand_compact` / :func:`expand_feed` are its Python mirror, used to prove
the forms lossless. The rows' layout is described once, in
:mod:`railtracks_nb.execution.rows`; this module says how they travel.

On the wire, ids are sent once: every "c" row appends its ``request_id`` and
``node_id`` to an id table, and later rows name an id by its index in that table
(an ``int``); any other id is sent as a ``str`` (an id from before the table
started, or of a node that finished before the batch that names it).
``caller`` ``None``: a run's entry node. ``text`` (the stamp's identifier)
``None`` is the engine's default for that event: ``"<caller name> CREATED
<name>"`` (``"START"`` for no caller), ``"Finished executing <name>"``,
``"Failed executing <name>"``.

Two containers carry rows:

* :data:`COMPACT_FORMAT` (``railtracks_nb/compact-1``), a whole session:
  ``{"format", "meta": <payload head and extras>, "runs": [{"header", "events":
  <rows>, "nodes", "edges": <saved-state snapshots rows cannot express, kept
  verbatim>, "steps": <stamps no row implies>, "unlisted_steps": <row steps the
  run does not list>}]}``. Each run starts its own id table; no "x" rows.
* :data:`FEED_FORMAT` (``railtracks_nb/feed-1``), a live widget's final ``data``:
  the compact session it started from (``base``), then every delta's rows as
  sent (``chunks``: ``[run_id, rows]``, one id table across all of them), the
  run headers, ``meta`` and ``extras`` as they ended.

A delta sent live carries the same rows, one JSON array per run as a binary
buffer (see :mod:`railtracks_nb.notebook.feed`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core import encoding
from ..core.serialization import to_jsonable
from ..core.vocabulary import EXTRAS_KEY
from ..execution.payload import build_payload_head, edge_json, node_json
from ..execution.rows import Row, RowReader

if TYPE_CHECKING:
    from ..execution.state import ExecutionInfo

__all__ = [
    "COMPACT_FORMAT",
    "FEED_FORMAT",
    "RowEncoder",
    "encode_rows",
    "expand_compact",
    "expand_feed",
    "snapshot",
]

#: Tag of a whole session in the compact form (see the module docstring).
COMPACT_FORMAT = "railtracks_nb/compact-1"
#: Tag of a live widget's final data: its starting snapshot and every delta.
FEED_FORMAT = "railtracks_nb/feed-1"


# -- rows to bytes -------------------------------------------------------------------------
def _row_encoder() -> Callable[[Any], str]:
    """Compact JSON of rows, as fast as the stdlib allows.

    ``JSONEncoder.encode`` builds a new C encoder on every call, which is most
    of its cost for short rows; this builds it once. ``allow_nan=False``: rows
    hold only finite numbers (``fast_json`` turns NaN/inf into strings) and the
    front end parses strict JSON. No circular check: rows are flat.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    # The C string encoder (not in typeshed: it is an implementation detail).
    encode_str = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or encode_str is None:  # no C accelerator (e.g. PyPy)
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode

    def default(value: Any) -> Any:
        raise TypeError(f"not JSON: {type(value).__name__}")

    encoder = make(None, default, encode_str, None, ":", ",", False, False, False)

    def encode(rows: Any) -> str:
        return "".join(encoder(rows, 0))

    return encode


_encode = _row_encoder()


def encode_rows(rows: list[Any]) -> bytes:
    """The rows as one JSON array, in UTF-8: by orjson (several times faster) when it
    is installed and takes them, else by the standard library."""
    fast = encoding.orjson
    if fast is not None:
        try:
            return fast.dumps(rows)
        except TypeError:  # an integer over 64 bits, a lone surrogate
            pass
    return _encode(rows).encode()


# -- explicit rows to wire rows -------------------------------------------------------------
class RowEncoder:
    """Turns explicit rows (ids written out, every stamp text given) into wire rows
    for one id table: ids sent once, default stamp texts left out.

    It remembers only what later rows may name: the requests still open and the
    nodes still running (each with its table index and name), and, while it
    encodes a batch, that batch's nodes; so its memory does not grow with the
    session.
    """

    def __init__(self) -> None:
        #: How many ids the decoder's table holds (two per "c" row).
        self.size = 0
        # Open requests -> (their reference, their node's id, its name).
        self._requests: dict[str, tuple[int | str, str, str]] = {}
        # Running nodes that were sent in a "c" row -> (their index, their name).
        self._running: dict[str, tuple[int, str]] = {}

    def know(self, request_id: str, node_id: str, name: str) -> None:
        """Name a request that the decoder knows from elsewhere (a starting snapshot):
        its end is sent by id, with its default text left out."""
        self._requests[request_id] = (request_id, node_id, name)

    def encode(self, rows: list[Row]) -> list[Row]:
        """Rewrite ``rows`` (in order) to their wire form, in place, updating the table;
        returns them."""
        requests, running = self._requests, self._running
        # The nodes of this batch -> (their index, their name), for the rows of their
        # callees: a caller that had ended by the time the batch was read (a whole run
        # read at once) is named by index too. Dropped when the batch is done.
        batch: dict[str, tuple[int, str]] = {}
        # The default texts of the last caller and callee names seen: siblings share
        # them, and making them again for every row was most of this loop's cost.
        text_caller = text_name = created = finished = ""
        count = len(rows)
        i = 0
        while i < count:
            row = rows[i]
            i += 1
            kind = row[0]
            if kind == "c":
                caller, name = row[5], row[7]
                known = None if caller is None else (batch.get(caller) or running.get(caller))
                calling = "START" if known is None else known[1]
                if name != text_name or calling != text_caller:
                    text_caller, text_name = calling, name
                    created = f"{calling} CREATED {name}"
                    finished = _DEFAULT_END["s"] + name
                if known is not None:
                    row[5] = known[0]
                if (caller is None or known is not None) and row[3] == created:
                    row[3] = None
                size = self.size
                self.size = size + 2
                batch[row[6]] = (size + 1, name)
                end = rows[i] if i < count else None
                if end is not None and end[4] == row[4] and end[0] in _ENDS:
                    # Ended already (the usual case): nothing to remember about it.
                    end[4] = size
                    if end[3] == (finished if end[0] == "s" else _DEFAULT_END["f"] + name):
                        end[3] = None
                    i += 1
                else:
                    requests[row[4]] = (size, row[6], name)
                    running[row[6]] = (size + 1, name)
            elif kind != "x":
                known_request = requests.pop(row[4], None)
                if known_request is not None:
                    ref, node_id, callee = known_request
                    running.pop(node_id, None)
                    _end(row, ref, callee)
        return rows


_ENDS = frozenset({"s", "f"})
_DEFAULT_END = {"s": "Finished executing ", "f": "Failed executing "}


def _end(row: Row, ref: int | str, name: str) -> None:
    """An end row in its wire form: its request by ``ref``, a default text left out."""
    row[4] = ref
    if row[3] == _DEFAULT_END[row[0]] + name:
        row[3] = None


# -- a whole session ------------------------------------------------------------------------
def _stamp(raw: Any) -> dict[str, Any]:
    return {"step": raw[0], "time": raw[1], "identifier": raw[2]}


def snapshot(info: ExecutionInfo, head: dict[str, Any] | None = None) -> dict[str, Any]:
    """``info`` in the compact form (:data:`COMPACT_FORMAT`), made from its rows;
    ``head``: payload fields that override or add to ``info``'s own (a session's flow
    name, a saved file's header).

    Exactly ``info.to_payload()`` (updated by ``head``) once expanded, up to the
    order of the ``nodes`` and ``edges`` lists (which the schema does not fix).
    Requests and nodes whose history rows cannot express (a loaded file's agent
    internals, say) are kept in the saved-state form.
    """
    owners = info.error_owners()
    reader = RowReader(info, owners=owners, only_expressible=True)
    node_raw, request_raw = info.node_forest._raw, info.request_forest._raw
    runs = []
    for run_id, run in info.runs.items():
        rows = sorted(reader.new(run_id), key=lambda row: row[1])
        verbatim = reader.verbatim.get(run_id, [])
        covered = {row[6] for row in rows if row[0] == "c"}
        made = {row[1]: (row[1], row[2], row[3]) for row in rows}
        listed = {raw[0] for raw in run.raw_stamps}
        runs.append(
            {
                "header": info.run_header(run_id),
                "events": RowEncoder().encode(rows),
                "nodes": [
                    node_json(node_raw[n])
                    for n in run.node_ids
                    if n not in covered and n in node_raw
                ],
                "edges": [edge_json(request_raw[r], owners) for r in verbatim],
                "steps": [_stamp(s) for s in run.raw_stamps if made.get(s[0]) != tuple(s)],
                "unlisted_steps": sorted(step for step in made if step not in listed),
            }
        )
    meta = build_payload_head(info)
    if info.extras:
        meta[EXTRAS_KEY] = to_jsonable(info.extras)
    meta.update(head or {})
    return {"format": COMPACT_FORMAT, "meta": meta, "runs": runs}


# -- the decoder's Python mirror ------------------------------------------------------------
def expand_compact(compact: dict[str, Any]) -> dict[str, Any]:
    """The saved-state payload a :data:`COMPACT_FORMAT` value stands for (the front
    end's rebuild, in Python: used by the tests to prove the form lossless)."""
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
                        "input_args": list(args),
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


def expand_feed(feed: dict[str, Any]) -> dict[str, Any]:
    """The saved-state payload a :data:`FEED_FORMAT` value stands for: its ``base``
    with every chunk's rows replayed (one id table across the chunks), then the
    run headers, ``meta`` and ``extras`` as they ended."""
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

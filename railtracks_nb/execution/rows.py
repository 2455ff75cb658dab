"""A session's event rows: the one form a session's calls leave the execution state in.

Every node the engine runs is one request that creates it (a ``"c"`` row) and, once
it returns or raises, one end (an ``"s"`` or ``"f"`` row); a stamp that no request
made (a fatal failure, a lifecycle change) is an ``"x"`` row. This is the one
description of the layout::

    ["c", step, time, text, request_id, caller_id, node_id, name, node_type, args, kwargs]
    ["s", step, time, text, request_id, output, latency]
    ["f", step, time, text, request_id, error, latency]
    ["x", step, time, text]

``step``, ``time`` and ``text`` are the stamp's; ``args``, ``kwargs``, ``output``
and ``error`` are JSON values (an exception becomes the Railtracks error dict);
``latency`` is in seconds; ``caller_id`` is ``None`` for a run's top-level request.
Here every id is written out and every stamp text is explicit; on the wire
(:mod:`railtracks_nb.notebook.wire`, decoded by ``widgets/src/rows.ts``) an id may
be an index into a table of ids sent before and a default text ``None``.

:class:`RowReader` reads them from an :class:`~railtracks_nb.execution.state.ExecutionInfo`
incrementally (what changed since its last read), so the live feed, a finished
session's snapshot and its call tree (:mod:`railtracks_nb.execution.calltree`, which
the static display, figures and diagram exports draw) are made by one reading of
the state.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..core.serialization import to_jsonable
from .payload import failure_json

if TYPE_CHECKING:
    from .state import ExecutionInfo

__all__ = ["ROW_KINDS", "Row", "RowReader", "event_rows", "fast_json"]

#: One event row (see the module docstring for its layouts): a list, so the wire
#: encoder can rewrite its ids and texts in place.
Row = list[Any]
#: A row's kinds: created, succeeded, failed, a stamp of no request.
ROW_KINDS = ("c", "s", "f", "x")

_SCALARS = frozenset({str, int, bool, type(None)})


def fast_json(value: Any, depth: int = 0) -> Any:
    """``to_jsonable`` with a fast path for the plain values nodes usually carry.

    Exact-type checks (no ABCs) for str/int/bool/None/finite floats and small
    nests of dicts (str keys) and lists; anything else goes to the engine's
    ``to_jsonable``, which handles objects, cycles and non-finite floats. Same
    output either way; this only skips the general walk where it is not needed.
    """
    t = type(value)
    if t in _SCALARS:
        return value
    if t is float:
        return value if math.isfinite(value) else to_jsonable(value)
    if depth < 4:
        if t is dict:
            if all(type(k) is str for k in value):
                return {k: fast_json(v, depth + 1) for k, v in value.items()}
        elif t is list or t is tuple:
            return [fast_json(v, depth + 1) for v in value]
    return to_jsonable(value)


def _fast_args(args: tuple[Any, ...]) -> Any:
    """``args`` itself when it is already JSON (a tuple of plain scalars: the usual
    case), else its ``fast_json`` copy. Saves an allocation per node."""
    for value in args:
        t = type(value)
        if t not in _SCALARS and not (t is float and math.isfinite(value)):
            return fast_json(args)
    return args


def expressible(request: tuple, nodes: dict[str, tuple]) -> bool:
    """Whether rows hold everything recorded of this request and the node it created.

    They do for the engine's shape: the request's open snapshot and, once it ended,
    one finished snapshot with the same arguments; the node's created snapshot
    (no details) and, once it finished, one with its latency, stamped as the
    request's. Every session the engine records has it; a loaded file may not
    (agent internals, longer histories), and those are kept verbatim instead.
    """
    first = request[9] if request[9] is not None else request
    if first[9] is not None or first[6] != "Open" or first[5] is not None:
        return False
    node = nodes.get(request[2])
    if node is None or node[5] is not None:
        return False
    created = node[7] if node[7] is not None else node
    if created[7] is not None or created[5] is not None or created[6] is not None:
        return False
    if created[3] != first[7] or (created[1], created[2]) != (node[1], node[2]):
        return False
    if request is first:
        return node is created
    return (
        node is not created
        and node[3] == request[7]
        and request[3] == first[3]
        and request[4] == first[4]
        and (request[1], request[2]) == (first[1], first[2])
    )


def ended_row(request: tuple, nodes: dict[str, tuple], owners: dict[int, str]) -> Row:
    """The ``"s"`` or ``"f"`` row of a request that has ended (``request``: its latest
    snapshot). ``owners``: which request stores each exception's traceback
    (``ExecutionInfo.error_owners()``; empty: every failure stores its own)."""
    identifier, _, node_id, _, _, output, status, stamp, _, _ = request
    node = nodes.get(node_id)
    latency = node[6] if node is not None else None
    if status == "Failed":
        error = (
            failure_json(output, identifier, owners)
            if isinstance(output, BaseException)
            else fast_json(output)
        )
        return ["f", stamp[0], stamp[1], stamp[2], identifier, error, latency]
    return ["s", stamp[0], stamp[1], stamp[2], identifier, fast_json(output), latency]


class RowReader:
    """Reads an ``ExecutionInfo``'s rows, each time only what changed since the last read.

    Per run it keeps how many of its requests (in call order) were read, and the
    requests read while still open: a later :meth:`read` gives their ends. So its
    memory does not grow with the session beyond the requests still running.

    ``skip`` decides which requests are left out of the rows (see
    :func:`expressible`): a snapshot keeps those verbatim instead.
    """

    def __init__(
        self,
        info: ExecutionInfo,
        *,
        from_now: bool = False,
        owners: dict[int, str] | None = None,
        only_expressible: bool = False,
    ) -> None:
        self.info = info
        self.owners = owners if owners is not None else {}
        self.only_expressible = only_expressible
        #: Requests rows cannot express, per run (only with ``only_expressible``).
        self.verbatim: dict[str, list[str]] = {}
        requests = info.request_forest._raw
        # Per run: how many of its requests (in call order) have been read.
        self._read: dict[str, int] = {}
        #: Requests read while open (their ends are still to come).
        self.open: dict[str, None] = {}
        if from_now:  # the rows of what exists now are someone else's (a starting snapshot)
            for run_id, run in info.runs.items():
                self._read[run_id] = len(run.request_ids)
                for rid in run.request_ids:
                    if requests[rid][6] == "Open":
                        self.open[rid] = None

    def ended(self) -> list[tuple[str, Row]]:
        """``(run_id, row)`` for each request read while open that has ended since."""
        requests, nodes = self.info.request_forest._raw, self.info.node_forest._raw
        out = []
        for request_id in list(self.open):
            raw = requests.get(request_id)
            if raw is not None and raw[6] != "Open":
                del self.open[request_id]
                out.append((raw[8], ended_row(raw, nodes, self.owners)))
        return out

    def new(self, run_id: str) -> list[Row]:
        """The rows of ``run_id``'s requests made since the last read, in call order:
        each one's ``"c"`` row, then its end if it has one."""
        info = self.info
        ids = info.runs[run_id].request_ids
        start = self._read.get(run_id, 0)
        if start == len(ids):
            return []
        self._read[run_id] = len(ids)
        requests, nodes, owners = info.request_forest._raw, info.node_forest._raw, self.owners
        rows: list[Row] = []
        add = rows.append
        for request_id in ids[start:]:
            raw = requests.get(request_id)
            if raw is None:
                continue
            if self.only_expressible and not expressible(raw, nodes):
                self.verbatim.setdefault(run_id, []).append(request_id)
                continue
            first = raw
            while first[9] is not None:  # the snapshot taken when it was created
                first = first[9]
            _, caller, node_id, args, kwargs, _, _, stamp, _, _ = first
            node = nodes.get(node_id)
            name, kind = (node[1], node[2]) if node is not None else (node_id, "Other")
            add(["c", stamp[0], stamp[1], stamp[2], request_id, caller, node_id, name, kind,
                 _fast_args(args), fast_json(kwargs) if kwargs else {}])  # fmt: skip
            status = raw[6]
            if status == "Open":
                self.open[request_id] = None
            elif status == "Failed" or node is None:
                add(ended_row(raw, nodes, owners))
            else:  # ended_row's success row, inline: this loop runs once per node
                output, end = raw[5], raw[7]
                if type(output) not in _SCALARS:
                    output = fast_json(output)
                add(["s", end[0], end[1], end[2], request_id, output, node[6]])
        return rows


def stamp_rows(info: ExecutionInfo, run_id: str, rows: list[Row]) -> list[Row]:
    """The ``"x"`` rows of ``run_id``: its stamps that none of ``rows`` stands for."""
    made = {(row[1], row[2], row[3]) for row in rows}
    return [["x", *raw] for raw in info.runs[run_id].raw_stamps if tuple(raw) not in made]


def event_rows(info: ExecutionInfo) -> dict[str, list[Row]]:
    """Every row of ``info``, per run (in run order), in step order: each request's
    ``"c"`` row and its end, and the run's other stamps as ``"x"`` rows.

    A session the engine recorded is all in its rows. A loaded file may hold more
    than rows express (see :func:`expressible`): its rows then stand for each
    request's first and last snapshots, and the saved-state payload keeps the rest.
    """
    reader = RowReader(info, owners=info.error_owners())
    out: dict[str, list[Row]] = {}
    for run_id in info.runs:
        rows = reader.new(run_id)
        rows += stamp_rows(info, run_id, rows)
        rows.sort(key=lambda row: row[1])
        out[run_id] = rows
    return out


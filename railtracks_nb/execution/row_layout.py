"""The layout of an event row: which field of a row is where, and of what type.

An event row is one change of a session's execution state, in the compact form
that leaves the execution layer (the live feed, snapshots, exports). Four kinds,
told apart by their first field::

    ["c", step, time, text, request_id, caller_id, node_id, name, node_type, args, kwargs]
    ["s", step, time, text, request_id, output, latency]
    ["f", step, time, text, request_id, error, latency]
    ["x", step, time, text]

``step``, ``time`` and ``text`` are the stamp's. ``args``, ``kwargs``, ``output``
and ``error`` are JSON values; ``latency`` is in seconds; ``caller_id`` is ``None``
for a run's top-level request. On the wire an id may be sent as its index in a
table of ids sent before, and a default ``text`` as ``None``: an :data:`IdRef`
and ``str | None`` cover both forms.

Rows are lists (an encoder may rewrite a field in place), so a type checker
cannot follow each field through ``list[Any]``: code that builds or reads rows
uses the positions below, and the tuple aliases say what each kind holds.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeAlias

#: A row's first field: created, succeeded, failed, a stamp of no request.
RowKind: TypeAlias = Literal["c", "s", "f", "x"]
#: An id written out (``str``) or, on the wire, its index in the id table (``int``).
IdRef: TypeAlias = int | str

CreatedRow: TypeAlias = tuple[
    Literal["c"], int, float, str | None, IdRef, IdRef | None, IdRef, str, str, Any, Any
]
SucceededRow: TypeAlias = tuple[Literal["s"], int, float, str | None, IdRef, Any, float]
FailedRow: TypeAlias = tuple[Literal["f"], int, float, str | None, IdRef, Any, float]
FatalRow: TypeAlias = tuple[Literal["x"], int, float, str | None]
#: Any one row, field by field.
EventRow: TypeAlias = CreatedRow | SucceededRow | FailedRow | FatalRow

# Fields every row has.
KIND: Final = 0
STEP: Final = 1
TIME: Final = 2
TEXT: Final = 3
#: The request a "c", "s" or "f" row is about.
REQUEST: Final = 4
# Fields of a "c" row.
CALLER: Final = 5
NODE: Final = 6
NAME: Final = 7
NODE_TYPE: Final = 8
ARGS: Final = 9
KWARGS: Final = 10
# Fields of an "s" or "f" row.
RESULT: Final = 5  # the output, or the error
LATENCY: Final = 6

#: How many fields each kind of row has.
ROW_LENGTHS: Final = {"c": 11, "s": 7, "f": 7, "x": 4}

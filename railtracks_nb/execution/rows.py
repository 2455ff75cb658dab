"""The event row: one change of a session's execution state, as a plain tuple.

The row is the compact form in which a session's history leaves the engine
(the live feed, snapshots, the exports): the notebook layer's wire module
encodes and decodes it, and this module says what a row holds. Four kinds,
told apart by their first field::

    ("c", step, time, text, request_id, caller, node_id, name, type, args, kwargs)  created
    ("s", step, time, text, request, result, latency)                               succeeded
    ("f", step, time, text, request, error, latency)                                failed
    ("x", step, time, text)                                                         fatal failure

``step``, ``time`` and ``text`` are the stamp's; ``text`` is ``None`` when it is
the engine's default for that event. ``caller`` and ``request`` are an
:data:`IdRef`: an id, or an index into the table of ids that every "c" row
appends its ``request_id`` and ``node_id`` to (``caller`` ``None``: a run's
top-level request). ``args``, ``kwargs``, ``result`` and ``error`` are JSON-able
values; ``latency`` is in seconds.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

#: An id sent as itself (``str``) or as its index in the id table (``int``).
IdRef: TypeAlias = int | str

CreatedRow: TypeAlias = tuple[
    Literal["c"], int, float, str | None, str, IdRef | None, str, str, str, Any, Any
]
SucceededRow: TypeAlias = tuple[Literal["s"], int, float, str | None, IdRef, Any, float]
FailedRow: TypeAlias = tuple[Literal["f"], int, float, str | None, IdRef, Any, float]
FatalRow: TypeAlias = tuple[Literal["x"], int, float, str | None]

#: Any one row.
EventRow: TypeAlias = CreatedRow | SucceededRow | FailedRow | FatalRow

#: The first field of each kind of row.
CREATED: Literal["c"] = "c"
SUCCEEDED: Literal["s"] = "s"
FAILED: Literal["f"] = "f"
FATAL: Literal["x"] = "x"

__all__ = [
    "CREATED",
    "FAILED",
    "FATAL",
    "SUCCEEDED",
    "CreatedRow",
    "EventRow",
    "FailedRow",
    "FatalRow",
    "IdRef",
    "SucceededRow",
]

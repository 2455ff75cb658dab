"""Encoding a saved-state payload to JSON bytes, fast.

A 10,000-node session is about 13 MB of JSON; the standard library's
``json.dumps`` takes longer to write it than the engine takes to run the
session. `orjson <https://github.com/ijl/orjson>`_ (a dependency: wheels for
every common platform) writes the same document about eight times faster. When
orjson is not importable, or refuses a value (an integer wider than 64 bits, a
string with a lone surrogate), the standard library writes it instead, exactly
as it always did.

The two spell the same JSON document differently (orjson writes no spaces after
``,`` and ``:``, non-ASCII characters as UTF-8 rather than ``\\u`` escapes, and
``1e-06`` as ``1e-6``): any JSON reader reads back equal values.

orjson writes NaN and infinities as ``null`` where the standard library would
refuse them: only payloads whose numbers are known to be finite come here (the
ones :meth:`ExecutionInfo.to_payload` builds: every value that is not plain
JSON, NaN included, goes through ``to_jsonable``).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - exercised by forcing the fallback in tests
    orjson = None  # type: ignore[assignment]

def dumps_stdlib(payload: Any) -> bytes:
    """``payload`` as the standard library writes it (strict: NaN is an error)."""
    return json.dumps(payload, allow_nan=False).encode("utf-8")


def payload_separator() -> bytes:
    """What :func:`dumps_payload` puts between the items of a list."""
    return b"," if orjson is not None else b", "


def dumps_payload(payload: Any) -> bytes:
    """``payload`` (JSON-compatible, numbers finite) as UTF-8 JSON bytes."""
    if orjson is not None:
        try:
            return orjson.dumps(payload)
        except TypeError:  # orjson.JSONEncodeError: a value orjson cannot write
            pass
    return dumps_stdlib(payload)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a payload is built and encoded.

    Building a payload allocates a few hundred thousand dicts and lists at once. The
    collector, counting allocations, runs again and again meanwhile, and each of its
    full passes walks every container in the process: in a notebook's kernel that
    is millions of objects, and it cost more than the building itself. A payload is
    a tree (no cycles), so nothing it allocates needs the collector; reference
    counting frees it all. The pause lasts the build and the encoding, and the
    collector is switched back on only if it was on (``gc.disable()`` by the user is
    respected). Allocation counts keep running, so the next allocation after the
    pause triggers the collection that was due.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

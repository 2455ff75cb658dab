"""The saved-state records as msgspec structs: the fast way to write them as JSON.

Saving a session turns each recorded node and request (two snapshots each, see
:mod:`.payload`) into the Railtracks saved-state form. As dicts that costs about
five microseconds a request and three a node, more than running the node; a
`msgspec <https://jcristharif.com/msgspec/>`_ struct is built in C from its
positional fields and written by msgspec's encoder with its keys already
encoded, which together costs about half of that (``bench/bench_save.py``). The
slices of a document are encoded into one buffer, kept from slice to slice.

The structs here are the schema's records field for field, in the schema's
order, so msgspec writes the same JSON document the dicts give. Only the shape
the engine records (a snapshot when called, one when finished, no debug
details) is made of them; :mod:`.payload` picks those records, turns their
values into JSON as for the dicts, and makes every other record a dict, and
msgspec writes lists that mix the two. msgspec is a dependency; without it (or
for a slice it refuses: a string with a lone surrogate) the dicts are written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .payload import SliceWriter

try:
    import msgspec
except ImportError:  # pragma: no cover - exercised by forcing the fallback in tests
    msgspec = None  # type: ignore[assignment]

__all__ = ["slice_writer"]


def slice_writer() -> SliceWriter | None:
    """The structs' :class:`~.payload.SliceWriter` for
    :func:`~.payload.payload_pieces`; ``None`` without msgspec (dicts are written)."""
    if msgspec is None:
        return None
    return _WRITER


if msgspec is not None:
    # gc=False: a record holds only strings, numbers and fresh JSON containers (no
    # cycles), so the collector need not track the hundreds of thousands made.

    class Stamp(msgspec.Struct, gc=False):
        step: int
        time: float
        identifier: str

    class NodeDetails(msgspec.Struct, gc=False):
        internals: Any

    class Node(msgspec.Struct, gc=False):
        identifier: str
        node_type: str
        name: str
        stamp: Stamp
        details: NodeDetails
        parent: Any

    class RequestDetails(msgspec.Struct, gc=False):
        input_args: Any
        input_kwargs: Any
        status: str
        output: Any

    class Request(msgspec.Struct, gc=False):
        identifier: str
        source: Any
        target: str
        stamp: Stamp
        details: RequestDetails
        parent: Any

    _NO_INTERNALS = NodeDetails({})

    def node_struct(
        identifier: str,
        name: str,
        node_type: str,
        stamp: tuple,
        latency: float | None,
        first_name: str,
        first_type: str,
        first: tuple,
    ) -> Node:
        """An engine-shaped node (``make`` of :func:`~.payload._nodes`)."""
        details = (
            _NO_INTERNALS if latency is None else NodeDetails({"latency": {"total_time": latency}})
        )
        snapshot = Node(identifier, first_type, first_name, Stamp(*first), _NO_INTERNALS, None)
        return Node(identifier, node_type, name, Stamp(*stamp), details, snapshot)

    def request_struct(
        identifier: str,
        source: str | None,
        target: str,
        args: Any,
        kwargs: Any,
        output: Any,
        status: str,
        stamp: tuple,
        first: tuple,
    ) -> Request:
        """An engine-shaped request (``make`` of :func:`~.payload._edges`); both its
        snapshots hold the same arguments (they are written, never changed)."""
        opened = RequestDetails(args, kwargs, "Open", None)
        snapshot = Request(identifier, source, target, Stamp(*first), opened, None)
        details = RequestDetails(args, kwargs, status, output)
        return Request(identifier, source, target, Stamp(*stamp), details, snapshot)

    _ENCODER = msgspec.json.Encoder()

    def slice_encoder() -> Callable[[Any], bytes]:
        """An encoder for the slices of one document, which keeps its buffer from one
        slice to the next: writing each slice into a fresh buffer, grown as it fills,
        cost more than the encoding itself."""
        buffer = bytearray()

        def encode(records: Any) -> bytes:
            _ENCODER.encode_into(records, buffer)  # resized to what it wrote
            return bytes(buffer)

        return encode

    _WRITER = SliceWriter(
        node=node_struct,
        request=request_struct,
        step=Stamp,
        encoder=slice_encoder,
        # A string with a lone surrogate is a UnicodeEncodeError (the standard
        # library escapes it); the others would be a value msgspec cannot write.
        refuses=(UnicodeEncodeError, msgspec.EncodeError, TypeError, OverflowError),
    )

"""The saved-state records as msgspec structs: the fast way to write them as JSON.

Saving a session turns each recorded node and request (two snapshots each, see
:mod:`.payload`) into the Railtracks saved-state form. As dicts that costs about
five microseconds a request and three a node, more than running the node; a
`msgspec <https://jcristharif.com/msgspec/>`_ struct is built in C from its
positional fields and written by msgspec's encoder with its keys already
encoded, which together costs about half of that (``bench/bench_save.py``). A
slice's structs are built in one loop (a call per record costs as much as the
record) and encoded into one buffer kept from slice to slice.

The structs here are the schema's records field for field, in the schema's
order, so msgspec writes the same JSON document the dicts give. Only the shape
the engine records (a snapshot when called, one when finished, no debug
details) is made of them, in one loop per slice with no call per record but
:func:`~.payload.json_values`; every other record is the dict :mod:`.payload`
makes, and msgspec writes lists that mix the two. msgspec is a dependency;
without it (or for a slice it refuses: a string with a lone surrogate) the dicts
are written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .payload import SliceWriter, edge_json, json_values, node_json

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

    def nodes(node_raw: Mapping[str, tuple], node_ids: list[str]) -> list[Any]:
        """These nodes as records (:attr:`~.payload.SliceWriter.nodes`): a node of the
        engine's shape (created, then finished, no debug details) as structs, built
        here in one loop (a function call per record costs as much as the record),
        any other as :func:`~.payload.node_json`."""
        out: list[Any] = []
        add = out.append
        get = node_raw.get
        for node_id in node_ids:
            raw = get(node_id)
            if raw is None:
                continue
            identifier, name, node_type, stamp, _run, extra, latency, parent = raw
            if extra is None and parent is not None:
                _, first_name, first_type, first, _, first_extra, first_latency, older = parent
                if first_extra is None and first_latency is None and older is None:
                    details = (
                        _NO_INTERNALS
                        if latency is None
                        else NodeDetails({"latency": {"total_time": latency}})
                    )
                    snapshot = Node(identifier, first_type, first_name, Stamp(*first),
                                    _NO_INTERNALS, None)  # fmt: skip
                    add(Node(identifier, node_type, name, Stamp(*stamp), details, snapshot))
                    continue
            add(node_json(raw))
        return out

    def edges(
        request_raw: Mapping[str, tuple], request_ids: list[str], owners: dict[int, str]
    ) -> list[Any]:
        """These requests as records (:attr:`~.payload.SliceWriter.edges`): a request
        of the engine's shape (open, then finished, the same arguments in both) as
        structs whose two snapshots share the arguments (they are written, never
        changed), any other as :func:`~.payload.edge_json`."""
        out: list[Any] = []
        add = out.append
        get = request_raw.get
        for request_id in request_ids:
            raw = get(request_id)
            if raw is None:
                continue
            identifier, source, target, args, kwargs, output, status, stamp, _run, parent = raw
            if parent is not None:
                _, _, _, first_args, first_kwargs, first_output, first_status, first, _, older = (
                    parent
                )
                if (
                    older is None
                    and first_args is args
                    and first_kwargs is kwargs
                    and first_output is None
                    and first_status == "Open"
                ):
                    args, kwargs, output = json_values(args, kwargs, output, status,
                                                       identifier, owners)  # fmt: skip
                    opened = RequestDetails(args, kwargs, "Open", None)
                    snapshot = Request(identifier, source, target, Stamp(*first), opened, None)
                    details = RequestDetails(args, kwargs, status, output)
                    add(Request(identifier, source, target, Stamp(*stamp), details, snapshot))
                    continue
            add(edge_json(raw, owners))
        return out

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

    def steps(raw_stamps: list[tuple]) -> list[Any]:
        """A run's steps as :class:`Stamp` structs."""
        return [Stamp(*raw) for raw in raw_stamps]

    _WRITER = SliceWriter(
        nodes=nodes,
        edges=edges,
        steps=steps,
        encoder=slice_encoder,
        # A string with a lone surrogate is a UnicodeEncodeError (the standard
        # library escapes it); the others would be a value msgspec cannot write.
        refuses=(UnicodeEncodeError, msgspec.EncodeError, TypeError, OverflowError),
    )

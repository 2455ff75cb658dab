"""Building the saved-state payload from an :class:`ExecutionInfo`'s recorded tuples.

The execution state keeps every node and request snapshot as a plain tuple
(see the note above ``StampManager`` in :mod:`railtracks_nb.execution.state`). Saving a
session of 100,000 nodes means turning 400,000 snapshots into the Railtracks
saved-state dicts; done through the snapshot objects and a generic walk of
every value, that took most of a run's time. Here each node and request goes
from its tuples straight to its dicts in one pass, and a value that is already
JSON (a string, a finite number, a flat list or dict of those: what nodes
usually take and return) is used as it is. Everything else (objects, bytes,
exceptions, cycles, NaN, nested containers) still goes through
:func:`~railtracks_nb.core.serialization.to_jsonable`, so the result is exactly what
the snapshot objects would give.

:func:`build_payload` returns the whole payload (``to_payload``).
:func:`payload_pieces` gives it as JSON, a slice of nodes at a time, for saving:
a slice's dicts are freed before the next are built, so the memory they take is
reused instead of a fresh 100 MB being touched for a 100,000-node session (the
first touch of fresh memory cost more than building the dicts).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any

from ..core.serialization import _MAX_INT_BITS, error_to_json, safe_str, to_jsonable

if TYPE_CHECKING:
    from .state import ExecutionInfo

#: Types whose values are JSON as they are (exact types: subclasses take the general walk).
_SCALARS = frozenset({str, int, bool, type(None)})


def _plain(value: Any) -> Any:
    """``to_jsonable(value)``, without the walk for values that are already JSON."""
    t = type(value)
    if t in _SCALARS:
        return value if t is not int or value.bit_length() <= _MAX_INT_BITS else to_jsonable(value)
    if t is float and value - value == 0.0:  # finite (NaN and ±inf give NaN)
        return value
    if t is list or t is tuple:
        if _plain_items(value):
            return list(value)
        return to_jsonable(value)
    if t is dict:
        if all(type(key) is str for key in value) and _plain_items(value.values()):
            return dict(value)
        return to_jsonable(value)
    return to_jsonable(value)


def _plain_items(items: Any) -> bool:
    """Whether every item is JSON as it is (no container, no NaN, no huge int)."""
    for item in items:
        it = type(item)
        if it in _SCALARS:
            if it is int and item.bit_length() > _MAX_INT_BITS:
                return False
        elif not (it is float and item - item == 0.0):
            return False
    return True


def _stamp_json(stamp: tuple) -> dict[str, Any]:
    step, at, text = stamp
    return {"step": step, "time": at, "identifier": text}


def _internals(extra: dict[str, Any] | None, latency: float | None) -> dict[str, Any]:
    """``details.internals``: the node's debug details and its latency."""
    if extra:
        internals = dict(extra)
        if latency is not None:
            internals["latency"] = {"total_time": latency}
        return to_jsonable(internals)
    if latency is not None:
        return {"latency": {"total_time": latency}}
    return {}


def node_json(raw: tuple | None) -> dict[str, Any] | None:
    """One node snapshot (a ``NodeForest`` tuple) in the saved-state form, with its
    ``parent`` chain."""
    if raw is None:
        return None
    identifier, name, node_type, stamp, _run_id, extra, latency, parent = raw
    return {
        "identifier": identifier,
        "node_type": node_type,
        "name": name,
        "stamp": _stamp_json(stamp),
        "details": {"internals": _internals(extra, latency)},
        "parent": None if parent is None else node_json(parent),
    }


def edge_json(raw: tuple | None, owners: dict[int, str] | None = None) -> dict[str, Any] | None:
    """One request snapshot (a ``RequestForest`` tuple) in the saved-state form, with
    its ``parent`` chain. A failed request's exception becomes the Railtracks error
    dict (its traceback stored where ``owners`` says: see :func:`failure_json`)."""
    if raw is None:
        return None
    identifier, source, target, args, kwargs, output, status, stamp, _run_id, parent = raw
    output = _output(output, status, identifier, owners or {})
    return {
        "identifier": identifier,
        "source": source,
        "target": target,
        "stamp": _stamp_json(stamp),
        "details": {
            "input_args": _plain(list(args)),
            "input_kwargs": _plain(kwargs) if kwargs else {},
            "status": status,
            "output": output,
        },
        "parent": None if parent is None else edge_json(parent, owners),
    }


def _copy_tree(value: Any) -> Any:
    """A JSON value with fresh lists and dicts (the strings and numbers shared)."""
    kind = type(value)
    if kind is list:
        return [_copy_tree(item) for item in value]
    if kind is dict:
        return {key: _copy_tree(item) for key, item in value.items()}
    return value


#: The part that is the same in every engine-shaped node of a slice that
#: :func:`payload_pieces` encodes (and frees) at once.
_NO_DETAILS: dict[str, Any] = {"internals": {}}


def node_dict(
    identifier: str,
    name: str,
    node_type: str,
    stamp: tuple,
    latency: float | None,
    first_name: str,
    first_type: str,
    first: tuple,
    *,
    fresh: bool = True,
) -> dict[str, Any]:
    """An engine-shaped node (see :func:`_nodes`) as its saved-state dict; ``fresh=False``
    shares an empty ``details`` between nodes (for a payload that is encoded, not
    handed out)."""
    if latency is not None:
        details = {"internals": {"latency": {"total_time": latency}}}
    else:
        details = {"internals": {}} if fresh else _NO_DETAILS
    return {
        "identifier": identifier,
        "node_type": node_type,
        "name": name,
        "stamp": _stamp_json(stamp),
        "details": details,
        "parent": {
            "identifier": identifier,
            "node_type": first_type,
            "name": first_name,
            "stamp": _stamp_json(first),
            "details": {"internals": {}} if fresh else _NO_DETAILS,
            "parent": None,
        },
    }


def request_dict(
    identifier: str,
    source: str | None,
    target: str,
    args: Any,
    kwargs: Any,
    output: Any,
    status: str,
    stamp: tuple,
    first: tuple,
    *,
    fresh: bool = True,
) -> dict[str, Any]:
    """An engine-shaped request (see :func:`_edges`; its values already JSON) as its
    saved-state dict; ``fresh=False`` shares the arguments between its two snapshots
    (for a payload that is encoded, not handed out)."""
    return {
        "identifier": identifier,
        "source": source,
        "target": target,
        "stamp": _stamp_json(stamp),
        "details": {
            "input_args": args,
            "input_kwargs": kwargs,
            "status": status,
            "output": output,
        },
        "parent": {
            "identifier": identifier,
            "source": source,
            "target": target,
            "stamp": _stamp_json(first),
            "details": {
                "input_args": _copy_tree(args) if fresh else args,
                "input_kwargs": _copy_tree(kwargs) if fresh else kwargs,
                "status": "Open",
                "output": None,
            },
            "parent": None,
        },
    }


def created_snapshot(raw: tuple) -> tuple | None:
    """The snapshot a node record was created with, if the record has the engine's
    shape (created, then finished once, no debug details in either); else None."""
    parent = raw[7]
    if raw[5] is None and parent is not None and parent[5] is None and parent[6] is None:
        return parent if parent[7] is None else None
    return None


def opened_snapshot(raw: tuple) -> tuple | None:
    """The snapshot a request record was opened with, if the record has the engine's
    shape (opened, then ended once, the same arguments in both); else None."""
    parent = raw[9]
    if parent is not None and parent[9] is None and parent[5] is None:
        if parent[3] is raw[3] and parent[4] is raw[4] and parent[6] == "Open":
            return parent
    return None


def _nodes(
    node_raw: Mapping[str, tuple], node_ids: list[str], make: Callable[..., Any] = node_dict
) -> list[Any]:
    """The saved-state form of these nodes (those in ``node_raw``), in order.

    A node of the engine's shape (:func:`created_snapshot`) is ``make(identifier,
    name, node_type, stamp, latency, first_name, first_type, first)``; any other is
    :func:`node_json`.
    """
    out: list[Any] = []
    add = out.append
    for node_id in node_ids:
        raw = node_raw.get(node_id)
        if raw is None:
            continue
        created = created_snapshot(raw)
        if created is None:
            add(node_json(raw))
            continue
        identifier, name, node_type, stamp, _run, _extra, latency, _ = raw
        add(make(identifier, name, node_type, stamp, latency, created[1], created[2], created[3]))
    return out


def _edges(
    request_raw: Mapping[str, tuple],
    request_ids: list[str],
    owners: dict[int, str],
    make: Callable[..., Any] = request_dict,
) -> list[Any]:
    """The saved-state form of these requests (those in ``request_raw``), in order.

    A request of the engine's shape (:func:`opened_snapshot`) is ``make(identifier,
    source, target, args, kwargs, output, status, stamp, first)`` with its values as
    JSON; any other is :func:`edge_json`.
    """
    out: list[Any] = []
    add = out.append
    for request_id in request_ids:
        raw = request_raw.get(request_id)
        if raw is None:
            continue
        opened = opened_snapshot(raw)
        if opened is None:
            add(edge_json(raw, owners))
            continue
        identifier, source, target, args, kwargs, output, status, stamp, _run, _ = raw
        args, kwargs, output = json_values(args, kwargs, output, status, identifier, owners)
        add(make(identifier, source, target, args, kwargs, output, status, stamp, opened[7]))
    return out


def json_values(
    args: tuple, kwargs: Any, output: Any, status: str, identifier: str, owners: dict[int, str]
) -> tuple[list[Any], Any, Any]:
    """An engine-shaped request's arguments and output as JSON (its ``details``):
    values that are JSON already are used as they are, without the generic walk."""
    kind = type(output)
    if kind not in _SCALARS or (kind is int and output.bit_length() > _MAX_INT_BITS):
        output = _output(output, status, identifier, owners)
    listed = list(args) if _plain_items(args) else to_jsonable(list(args))
    return listed, _plain(kwargs) if kwargs else {}, output


def _output(output: Any, status: str, identifier: str, owners: dict[int, str]) -> Any:
    """A request's ``details.output``: a failure's exception as the Railtracks error dict."""
    if status == "Failed" and isinstance(output, BaseException):
        return failure_json(output, identifier, owners)
    return _plain(output)


def failure_json(error: BaseException, identifier: str, owners: dict[int, str]) -> dict[str, str]:
    """``error`` as Railtracks stores a failure; its traceback only where ``owners`` says.

    ``owners`` (``ExecutionInfo.error_owners()``) maps each exception to the request
    that stores its traceback: an exception that propagates through a call chain is
    the same object at every level, and its traceback is written once.
    """
    owner = owners.get(id(error), identifier)
    if owner != identifier:
        return {
            "type": type(error).__name__,
            "message": safe_str(error),
            "traceback": f"(the same exception as request {owner}: its traceback is stored there)",
        }
    linked = error.__cause__ or error.__context__
    if linked is None or id(linked) not in owners:
        return error_to_json(error)
    out = error_to_json(error, chain=False)  # its cause's traceback is stored with that request
    out["traceback"] += (
        f"(caused by {type(linked).__name__}, stored with request {owners[id(linked)]})\n"
    )
    return out


def _steps(raw_stamps: list[tuple]) -> list[dict[str, Any]]:
    return [{"step": step, "time": at, "identifier": text} for step, at, text in raw_stamps]


def build_payload_head(info: ExecutionInfo) -> dict[str, Any]:
    """The payload's first fields: session id and name, start and end time."""
    end = info.end_time
    if end is None:  # still open: the schema wants a number, so use "so far"
        end = info.stamper.last_time(default=info.start_time)
    return {
        "session_id": info.session_id or "",
        "session_name": info.session_name,
        "start_time": info.start_time,
        "end_time": end,
    }


def run_head(info: ExecutionInfo, run: Any) -> dict[str, Any]:
    return {
        "session_id": info.session_id,
        "run_id": run.run_id,
        "name": run.name,
        "status": run.status,
        "start_time": run.start_time,
        "end_time": run.end_time,
    }


def build_payload(info: ExecutionInfo, extras_key: str) -> dict[str, Any]:
    """The session as a JSON-compatible dict following the Railtracks schema.

    Every list and dict in it is new (the caller may change them freely); the
    strings and numbers are the recorded ones.
    """
    node_raw = info.node_forest.records
    request_raw = info.request_forest.records
    owners = info.error_owners()
    runs = []
    for run in info.runs.values():
        entry = run_head(info, run)
        entry["nodes"] = _nodes(node_raw, run.node_ids)
        entry["edges"] = _edges(request_raw, run.request_ids, owners)
        entry["steps"] = _steps(run.raw_stamps)
        runs.append(entry)
    payload = build_payload_head(info)
    payload["runs"] = runs
    if info.extras:
        payload[extras_key] = to_jsonable(info.extras)
    return payload


#: How many nodes (requests, steps) :func:`payload_pieces` builds and encodes at once.
#: Measured: at 100,000 nodes, slices of 1,000 cost 15-40 % more a node than slices
#: of 250 (a slice's dicts and JSON, some 4 MB, no longer stay in the processor's
#: caches between building, encoding and freeing them); 50 or 100 were no faster.
SLICE = 250


@dataclass(frozen=True)
class SliceWriter:
    """A faster way to build and encode a slice of records (see
    :mod:`.payload_structs`), which :func:`payload_pieces` tries first.

    ``node`` and ``request`` make an engine-shaped record (the ``make`` of
    :func:`_nodes` and :func:`_edges`), ``step`` a step from its stamp tuple.
    ``encoder()`` makes the function that writes the slices of one document (it may
    keep a buffer from one slice to the next): it writes a list of those records
    mixed with dicts, and raises one of ``refuses`` for a slice it cannot write
    (which is then written from dicts).
    """

    node: Callable[..., Any]
    request: Callable[..., Any]
    step: Callable[..., Any]
    encoder: Callable[[], Callable[[Any], bytes]]
    refuses: tuple[type[BaseException], ...]


def payload_pieces(
    info: ExecutionInfo,
    extras_key: str,
    extras: dict[str, Any] | None,
    encode: Callable[[Any], bytes],
    separator: bytes,
    head: dict[str, Any] | None = None,
    fast: SliceWriter | None = None,
) -> Iterator[bytes | memoryview]:
    """``encode(build_payload(info))`` in pieces whose concatenation is that document.

    ``head`` replaces the first fields (:func:`build_payload_head`), ``extras`` is
    what goes under ``extras_key`` (``None``: nothing). ``encode``
    writes any JSON value; ``separator`` is what it puts between the items of a
    list (``b", "`` for the standard library, ``b","`` for orjson). With the
    standard library the pieces add up to ``json.dumps(build_payload(info))``
    byte for byte. With ``fast``, each slice of records is written by it when it
    can (the same document; its spelling is its encoder's).
    """
    node_raw = info.node_forest.records
    request_raw = info.request_forest.records
    owners = info.error_owners()
    # The document without its long lists, each list a marker string; the markers
    # are then replaced by the lists, encoded a slice at a time. A marker holds a
    # fresh random token, so no string of the session can be taken for one.
    token = uuid.uuid4().hex
    Build = Callable[[list[Any]], list[Any]]
    lists: list[tuple[list[Any], Build, Build | None]] = []

    def marker(items: list[Any], build: Build, quick: Build | None) -> str:
        lists.append((items, build, quick))
        return f"rt-list-{token}-{len(lists) - 1}"

    runs = []
    for run in info.runs.values():
        entry = run_head(info, run)
        nodes = partial(_nodes, node_raw)
        edges = partial(_edges, request_raw, owners=owners)
        entry["nodes"] = marker(
            run.node_ids,
            partial(nodes, make=_shared_node_dict),
            None if fast is None else partial(nodes, make=fast.node),
        )
        entry["edges"] = marker(
            run.request_ids,
            partial(edges, make=_shared_request_dict),
            None if fast is None else partial(edges, make=fast.request),
        )
        steps = None if fast is None else partial(_each_step, fast.step)
        entry["steps"] = marker(run.raw_stamps, _steps, steps)
        runs.append(entry)
    skeleton = dict(head) if head is not None else build_payload_head(info)
    skeleton["runs"] = runs
    if extras is not None:
        skeleton[extras_key] = extras
    text = encode(skeleton)
    encode_fast, refused = (None, ()) if fast is None else (fast.encoder(), fast.refuses)
    for index, (items, build, quick) in enumerate(lists):
        before, text = text.split(f'"rt-list-{token}-{index}"'.encode(), 1)
        yield before
        yield b"["
        first = True
        for chunk in _slices(items):
            piece = None
            if quick is not None and encode_fast is not None:
                try:
                    piece = encode_fast(quick(chunk))
                except refused:
                    piece = None  # written from dicts below
            if piece is None:
                piece = encode(build(chunk))
            if len(piece) > 2:  # not "[]": every record of the slice was gone
                if not first:
                    yield separator
                yield memoryview(piece)[1:-1]  # the items, without copying them
                first = False
        yield b"]"
    yield text


_shared_node_dict = partial(node_dict, fresh=False)
_shared_request_dict = partial(request_dict, fresh=False)


def _each_step(make: Callable[..., Any], raw_stamps: list[tuple]) -> list[Any]:
    return [make(*raw) for raw in raw_stamps]


def _slices(items: list[Any]) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, SLICE)):
        yield chunk

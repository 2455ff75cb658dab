"""Checking, before anything runs, that a flow and its inputs can go to the workers.

Dask ships functions and their closures with cloudpickle; this pickles the same
things the same way first, so a node holding a lock, an open file or a
generator fails now, with the part of the flow that holds it named, instead of
one task at a time on the workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..nodes import resolve_node_type
from .errors import ShippingError


def _fails(value: Any) -> Exception | None:
    import cloudpickle

    try:
        cloudpickle.dumps(value)
    except Exception as exc:  # pickling raises TypeError, PicklingError, AttributeError...
        return exc
    return None


def check_flow(flow: Any) -> None:
    """Raise :class:`ShippingError` naming the part of ``flow`` that cannot be pickled."""
    if _fails(flow) is None:
        return
    parts: list[tuple[str, Any]] = [
        (f"its entry point {resolve_node_type(flow.entry_point).name()!r}", flow.entry_point)
    ]
    parts += [(f"its context variable {key!r}", value) for key, value in flow.context.items()]
    parts += [(f"its option {key}=", value) for key, value in flow.options.items()]
    parts += [(f"its metadata {key!r}", value) for key, value in flow.metadata.items()]
    for what, value in parts:
        error = _fails(value)
        if error is not None:
            raise ShippingError(
                f"Flow {flow.name!r} cannot be sent to Dask workers: {what} cannot be "
                f"pickled (cloudpickle: {type(error).__name__}: {error}). Nodes, the "
                "functions they call and the values they close over must be picklable; "
                "create locks, clients and open files inside the node instead."
            ) from error
    error = _fails(flow)
    raise ShippingError(
        f"Flow {flow.name!r} cannot be sent to Dask workers (cloudpickle: "
        f"{type(error).__name__}: {error})"
    ) from error


def check_inputs(inputs: Sequence[tuple[Any, ...]]) -> None:
    """Raise :class:`ShippingError` naming the first input that cannot be pickled."""
    import cloudpickle

    try:
        cloudpickle.dumps(list(inputs))
        return
    except Exception:  # find which one, and say so
        pass
    for index, args in enumerate(inputs):
        error = _fails(args)
        if error is not None:
            raise ShippingError(
                f"input {index} cannot be sent to Dask workers: {args!r:.80} cannot be "
                f"pickled (cloudpickle: {type(error).__name__}: {error})"
            ) from error

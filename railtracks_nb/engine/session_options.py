"""What ``rt.Session`` and ``rt.Flow`` share about their options.

``timeout`` needs a default that is not ``None``, since ``timeout=None`` means
no timeout (as in Railtracks 1.7): :data:`NOT_GIVEN` stands for "left out",
which takes ``rt.set_config``'s value, else the default. A context is passed by
value (:func:`copy_context`): a run that changes its context changes neither
the flow nor the session it came from.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["NOT_GIVEN", "NotGiven", "copy_context"]


class NotGiven:
    """The default of ``Session(timeout=...)``: ``None`` is a value there (no timeout)."""

    def __repr__(self) -> str:
        return "<from rt.set_config, else 150.0>"


NOT_GIVEN = NotGiven()


def copy_context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """Context is passed by value: a run that mutates it changes nobody else's."""
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise TypeError(f"context must be a dict, got {type(context).__name__}")
    try:
        return copy.deepcopy(dict(context))
    except Exception:  # locks, clients, sockets: share the values, copy the dict
        return dict(context)

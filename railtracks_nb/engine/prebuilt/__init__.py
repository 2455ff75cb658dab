"""``rt.prebuilt``, as far as it is the session system: ready-made node middleware.

Railtracks 1.7's ``rt.prebuilt`` also holds prebuilt agents, tools and
guardrails; those are out of scope here and raise
:class:`~railtracks_nb.OutOfScopeError` saying so.
"""

from __future__ import annotations

from typing import Any

from ...core.compat import out_of_scope
from . import middleware


def __getattr__(name: str) -> Any:
    error = out_of_scope(f"prebuilt.{name}")
    if error is not None:
        raise error
    raise AttributeError(f"module 'railtracks_nb.prebuilt' has no attribute {name!r}")


__all__ = ["middleware"]

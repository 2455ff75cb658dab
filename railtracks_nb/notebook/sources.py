"""What the widgets, displays, figures and exports accept: a :data:`SessionSource`.

Every one of them takes the same things and turns them into a Railtracks-schema
payload with :func:`payload_of`, so they agree on what can be shown.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol, Union, runtime_checkable

from ..store.loading import load

if TYPE_CHECKING:
    from typing import TypeAlias


@runtime_checkable
class HasPayload(Protocol):
    """Anything that can give its saved-state payload: ``Session``, ``ExecutionInfo``,
    ``SavedSession`` and ``Flow`` (its latest run's session)."""

    def to_payload(self) -> dict[str, Any]: ...


#: A session to show or export: a live or finished object with ``to_payload()``,
#: a payload ``dict`` in the Railtracks saved-state format, or the path of a
#: saved session file.
SessionSource: TypeAlias = Union[HasPayload, dict[str, Any], str, "os.PathLike[str]"]

def payload_of(obj: SessionSource) -> dict[str, Any]:
    """The Railtracks-schema payload of anything the widgets, exports and displays accept.

    Accepts a payload ``dict``, a ``str``/``Path`` of a saved session (read with
    :func:`load`), or any object with a ``to_payload()`` method (``Session``,
    ``ExecutionInfo``, ``SavedSession``, ``Flow`` — the latest run's session).
    Raises ``TypeError`` for anything else and ``ValueError`` for a flow that
    has not run yet or a dict that is not a payload.
    """
    if isinstance(obj, dict):
        if not isinstance(obj.get("runs"), list):
            raise ValueError(
                "A payload dict needs a 'runs' list (the Railtracks saved-state format); "
                f"got keys {sorted(obj)[:8]}"
            )
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return load(obj).to_payload()
    to_payload = getattr(obj, "to_payload", None)
    if callable(to_payload):
        payload = to_payload()
        if not isinstance(payload, dict):
            raise TypeError(
                f"{type(obj).__name__}.to_payload() returned {type(payload).__name__}, not a dict"
            )
        return payload
    raise TypeError(
        f"Cannot show or export a {type(obj).__name__}: expected a Session, ExecutionInfo, "
        "loaded session, Flow, payload dict, or the path of a saved session."
    )

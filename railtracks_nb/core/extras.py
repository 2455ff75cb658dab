"""What a session adds to the Railtracks saved-state format: the *extras*.

A payload (a saved file, a snapshot, what the widgets receive) follows the
Railtracks schema, plus one key of our own, :data:`EXTRAS_KEY`, which Railtracks
readers ignore. Its value is a :class:`SessionExtras`. The engine writes it (the
session at creation and on every export, the coordinator as messages arrive);
the store reads and amends it (metadata, soft deletion); the front end's copy of
this type is ``Extras`` in ``widgets/src/payload.ts``.

Every key is optional: a file saved by Railtracks itself has no extras, and an
older or foreign file may carry only some of them (or others we do not know,
which are kept as they are). Read them with ``.get``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast

from .vocabulary import EXTRAS_KEY

__all__ = ["EXTRAS_KEY", "ErrorEntry", "SessionExtras", "StateChange", "extras_of"]


class ErrorEntry(TypedDict):
    """One failure of a node (``node_id`` ``None``: a run ended by a fatal error)."""

    node_id: str | None
    node_name: str | None
    type: str
    message: str
    step: int
    time: float


class StateChange(TypedDict):
    """One lifecycle transition of the session (see :mod:`railtracks_nb.engine.lifecycle`)."""

    old: str
    new: str
    step: int
    time: float


class SessionExtras(TypedDict, total=False):
    """The value of :data:`EXTRAS_KEY` in a payload."""

    #: Version of this layout.
    format: int
    flow_name: str | None
    flow_id: str | None
    #: The session this one was remixed from.
    parent_id: str | None
    #: The user's own notes on the session (``rt.store.tag`` and friends).
    metadata: dict[str, Any]
    timeout: float | None
    #: The JSON-able part of the session's ``ExecutorConfig``.
    config: dict[str, Any]
    #: The lifecycle state (``INIT``, ``READY``, ``BUSY``, ``IDLE``, ``ERROR``).
    state: str
    state_history: list[StateChange]
    #: The most recent failures, oldest first (``error_count`` counts them all).
    errors: list[ErrorEntry]
    error_count: int
    #: Runs ended by the session's timeout.
    timed_out_runs: list[str]
    #: Names of nodes that kept running after being cancelled.
    ignored_cancellation: list[str]
    #: The session's context variables, as JSON.
    context: dict[str, Any]
    interrupted: bool
    #: ``"Completed"``, ``"Failed"``, ``"Open"`` or ``"Interrupted"``.
    status: str
    #: When the file was moved to the store's trash (seconds since the epoch) ...
    deleted_at: float
    #: ... and where it was, relative to the store folder.
    deleted_from: str


def extras_of(payload: Mapping[str, Any]) -> SessionExtras:
    """The payload's extras object itself (an empty one if absent or not an object).

    Nothing is checked beyond its being a JSON object: a file may come from an
    older or a foreign writer, so read each key with ``.get`` and check its type
    where it matters.
    """
    extras = payload.get(EXTRAS_KEY)
    return cast(SessionExtras, extras) if isinstance(extras, dict) else {}

"""What the widgets, displays, figures and exports accept: a :data:`SessionSource`.

Every one of them takes the same things, so they agree on what can be shown. The
views that draw the call tree (static display, figures, Mermaid, DOT, GraphML)
read it with :func:`info_of`: the execution state, whose rows make the tree
(:mod:`railtracks_nb.execution.calltree`). :func:`payload_of` gives the
Railtracks-schema payload, for the file boundary (the JSON export and download).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Union, runtime_checkable

from ..core.serialization import to_jsonable
from ..core.vocabulary import EXTRAS_KEY
from ..execution.payload import build_payload_head, run_head
from ..store.loading import SavedSession, load
from ..store.salvage import info_of_payload

if TYPE_CHECKING:
    from typing import TypeAlias

    from ..execution.state import ExecutionInfo


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


class ShownSession(NamedTuple):
    """A session as the views that draw its call tree read it."""

    #: Its execution state: the call tree is made from its rows.
    info: ExecutionInfo
    #: The saved-state payload's fields beside the runs' nodes, edges and steps: names,
    #: times, extras (``"railtracks_nb"``) and each run's header (``runs``: id, name,
    #: status, times). The payload itself where there is one (a dict, a loaded file).
    head: dict[str, Any]


def info_head(info: ExecutionInfo) -> dict[str, Any]:
    """The head of ``info``'s payload (see :class:`ShownSession`), without its runs' bodies."""
    head = build_payload_head(info)
    head["runs"] = [run_head(info, run) for run in info.runs.values()]
    if info.extras:
        head[EXTRAS_KEY] = to_jsonable(info.extras)
    return head


def info_of(obj: SessionSource) -> ShownSession:
    """The execution state and payload head of anything :func:`payload_of` accepts.

    A ``Session`` (live or finished), a ``Flow`` (its latest run), an
    ``ExecutionInfo`` and a loaded file give the state they hold, without
    building their payload. A path is read with :func:`load`; a payload ``dict``
    is read as :func:`load` reads a file, or salvaged when it is hand-made or
    broken (:mod:`railtracks_nb.store.salvage`). Raises as :func:`payload_of` does.
    """
    from ..engine.session import Session
    from ..execution.state import ExecutionInfo

    if isinstance(obj, dict):
        return ShownSession(info_of_payload(payload_of(obj)), obj)
    if isinstance(obj, (str, os.PathLike)):
        obj = load(obj)
    if not isinstance(obj, (Session, ExecutionInfo, SavedSession)) and hasattr(obj, "last_session"):
        if obj.last_session is None:  # a Flow that has not run: payload_of says so
            payload_of(obj)
        obj = obj.last_session
    if isinstance(obj, ExecutionInfo):
        return ShownSession(obj, info_head(obj))
    if isinstance(obj, Session):
        obj.extras()  # brings the live extras up to date, as to_payload does
        info = obj.rt_state.info
        return ShownSession(
            info, {"flow_name": obj.flow_name, "flow_id": obj.flow_id, **info_head(info)}
        )
    if isinstance(obj, SavedSession):
        return ShownSession(obj.info, obj.payload or info_head(obj.info))
    payload = payload_of(obj)  # anything else with a to_payload()
    return ShownSession(info_of_payload(payload), payload)


def rows_source(obj: SessionSource) -> tuple[ExecutionInfo, dict[str, Any]] | None:
    """The execution state whose rows show ``obj``, and the payload fields ``obj``
    adds to it; ``None`` when ``obj`` is best kept as its saved-state JSON.

    A ``Session`` (live or finished), a ``Flow`` that has run, an ``ExecutionInfo``
    and a session file saved by railtracks_nb are shown from their rows. A payload
    ``dict`` and a file saved by Railtracks (whose snapshots rows may not express:
    agent internals, longer histories) keep their JSON, compacted losslessly by
    :func:`railtracks_nb.notebook.compact.compact_payload`.
    """
    from ..engine.session import Session
    from ..execution.state import ExecutionInfo

    if isinstance(obj, (str, os.PathLike)):
        obj = load(obj)
    if not isinstance(obj, (Session, ExecutionInfo, SavedSession)) and hasattr(obj, "last_session"):
        obj = obj.last_session  # a Flow: its latest run
    if isinstance(obj, ExecutionInfo):
        return obj, {}
    if isinstance(obj, Session):
        obj.extras()  # brings the live extras up to date, as to_payload does
        return obj.rt_state.info, {"flow_name": obj.flow_name, "flow_id": obj.flow_id}
    if isinstance(obj, SavedSession) and isinstance(obj.payload.get(EXTRAS_KEY), dict):
        return obj.info, {k: v for k, v in obj.payload.items() if k != "runs"}
    return None

"""Reading saved sessions back: :func:`load` and :class:`SavedSession`.

Files follow the Railtracks saved-state schema, so this reads Railtracks' own
files as well as ours. A file is validated against the schema first (errors
name the file and the field), then rebuilt into the same execution state a live
session has.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..core.exceptions import SavedStateError
from ..core.extras import SessionExtras, extras_of
from ..execution.forest import NodeForest, RequestForest
from ..execution.snapshots import LinkedNode, RequestTemplate, Status, split_internals
from ..execution.stamps import Stamp, StampManager
from ..execution.state import ExecutionInfo, Run
from ..execution.views import SessionView
from .safe_read import read_payload

if TYPE_CHECKING:
    import networkx

    from .schema import _EdgeModel, _NodeModel, _StampModel

from .files import railtracks_home

logger = logging.getLogger("RT.Session")


def _stamp(m: _StampModel) -> Stamp:
    return Stamp(m.step, m.time, m.identifier)


def _node_chain(m: _NodeModel, run_id: str) -> LinkedNode:
    older = _node_chain(m.parent, run_id) if m.parent is not None else None
    internals = m.details.get("internals") if isinstance(m.details, dict) else None
    extra, latency = split_internals(internals)
    return LinkedNode(
        m.identifier, m.name, m.node_type, _stamp(m.stamp), run_id, extra, latency, older
    )


def _edge_chain(m: _EdgeModel, run_id: str) -> RequestTemplate:
    older = _edge_chain(m.parent, run_id) if m.parent is not None else None
    d = m.details
    status = cast(Status, d.status if d.status in ("Open", "Completed", "Failed") else "Open")
    return RequestTemplate(
        m.identifier,
        m.source,
        m.target,
        tuple(d.input_args),
        dict(d.input_kwargs),
        d.output,
        status,
        _stamp(m.stamp),
        run_id,
        older,
    )


def info_from_payload(payload: dict[str, Any], source: str = "payload") -> ExecutionInfo:
    """Rebuild an :class:`ExecutionInfo` from a saved-state payload (ours or Railtracks')."""
    from pydantic import ValidationError

    from .schema import _SessionModel

    try:
        model = _SessionModel.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise SavedStateError(
            f"{source} is not a Railtracks saved session: {where}: {first['msg']}{more}"
        ) from None
    nodes = NodeForest()
    requests = RequestForest()
    stamper = StampManager()
    runs: list[Run] = []
    seen_steps: set[int] = set()
    for r in model.runs:
        run = Run(r.run_id, r.name, r.start_time if r.start_time is not None else model.start_time)
        run.end_time = r.end_time
        run.status = r.status if r.status in ("Open", "Completed", "Failed") else "Open"  # type: ignore[assignment]
        for n in r.nodes:
            nodes.restore(_node_chain(n, r.run_id))
            run.node_ids.append(n.identifier)
        for e in sorted(r.edges, key=lambda e: _first_step(e)):
            requests.restore(_edge_chain(e, r.run_id))
            run.request_ids.append(e.identifier)
            if e.source is None:
                run.root_request_id, run.root_node_id = e.identifier, e.target
        for s in r.steps:
            stamp = _stamp(s)
            run.add_stamp(stamp)
            if s.step not in seen_steps:
                seen_steps.add(s.step)
                stamper.adopt(stamp)
        runs.append(run)
    extras = extras_of(payload).copy()
    # Railtracks keeps these at the top level of a payload.
    if "flow_name" in payload and "flow_name" not in extras:
        extras["flow_name"] = payload["flow_name"]
    if "flow_id" in payload and "flow_id" not in extras:
        extras["flow_id"] = payload["flow_id"]
    return ExecutionInfo.headed_like(model, requests, nodes, stamper, runs, extras)


def _first_step(edge: _EdgeModel) -> int:
    while edge.parent is not None:
        edge = edge.parent
    return edge.stamp.step


class SavedSession(SessionView):
    """A session read back from a file by :func:`load`.

    Widgets, exports and ``rt.show`` accept it like a live session. ``info``
    is the rebuilt :class:`ExecutionInfo`; ``payload`` the file's content.
    """

    def __init__(self, path: Path, payload: dict[str, Any], info: ExecutionInfo) -> None:
        self.path = path
        self.payload = payload
        self.info = info

    @property
    def session_id(self) -> str:
        return self.info.session_id or ""

    @property
    def identifier(self) -> str:
        return self.session_id

    @property
    def name(self) -> str | None:
        return self.info.session_name or self.flow_name

    @property
    def flow_name(self) -> str | None:
        return self.payload.get("flow_name") or self.info.extras.get("flow_name")

    @property
    def start_time(self) -> float:
        return self.info.start_time

    @property
    def end_time(self) -> float | None:
        return self.info.end_time

    @property
    def status(self) -> str:
        return str(self.info.extras.get("status") or self.info.status)

    @property
    def extras(self) -> SessionExtras:
        return self.info.extras

    @property
    def answer(self) -> Any:
        return self.info.answer

    def to_payload(self) -> dict[str, Any]:
        return self.info.to_payload() if not self.payload else dict(self.payload)

    def graph_serialization(self) -> str:
        return json.dumps(self.to_payload())

    def to_networkx(self) -> networkx.DiGraph:
        return self.info.to_networkx()

    def __len__(self) -> int:
        return len(self.info.node_forest)

    def __repr__(self) -> str:
        return (
            f"SavedSession(name={self.name!r}, session_id={self.session_id!r}, "
            f"runs={len(self.info.runs)}, nodes={len(self)}, status={self.status!r}, "
            f"path={str(self.path)!r})"
        )


def load(path: str | os.PathLike[str]) -> SavedSession:
    """Read a saved session (written by railtracks_nb or by Railtracks itself).

    A missing, corrupt or foreign file raises :class:`SavedStateError` with the
    file's path and what is wrong.
    """
    p = Path(path)
    payload = read_payload(p)
    try:
        info = info_from_payload(payload, source=str(p))
    except RecursionError:  # a parent chain thousands of snapshots long
        raise SavedStateError(f"{p} is not a saved session: it is nested too deeply") from None
    return SavedSession(p, payload, info)


def saved_files(home: Path | None = None) -> Iterable[Path]:
    """Saved session files under ``home``: ours and Railtracks' ``data/sessions/*.json``."""
    home = home or railtracks_home()
    if not home.is_dir():
        return []
    ours = sorted(p for p in home.glob("*.json") if not p.name.startswith("."))
    theirs = sorted((home / "data" / "sessions").glob("*.json"))
    return [*ours, *theirs]

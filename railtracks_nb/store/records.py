"""What the session store lists: one :class:`SessionRecord` per saved session.

:func:`summarize` reads the few fields a listing needs out of a payload (and
refuses a payload too broken to list); :class:`SessionList` is the list
``rt.sessions()`` returns, with the files it had to skip in ``problems``.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..core.exceptions import SavedStateError
from ..core.extras import extras_of
from ..core.vocabulary import roll_up

if TYPE_CHECKING:
    from .loading import SavedSession


@dataclass(frozen=True)
class SessionRecord:
    """One saved session as :func:`~railtracks_nb.sessions` lists it.

    Times are Unix timestamps (seconds), as in the saved files. ``status`` is
    ``Completed``, ``Failed``, ``Open`` or ``Interrupted``; ``source`` says who
    wrote the file: ``"ours"`` (railtracks_nb) or ``"railtracks"``
    (``data/sessions/``). ``deleted`` sessions live in ``.deleted/`` until
    :func:`~railtracks_nb.restore_session` brings them back; ``deleted_at`` is
    when they were deleted.
    """

    session_id: str
    name: str | None
    start_time: float
    end_time: float | None
    status: str
    node_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    parent_id: str | None = None
    deleted: bool = False
    path: Path = field(default_factory=Path)
    source: Literal["ours", "railtracks"] = "ours"
    flow_name: str | None = None
    run_count: int = 0
    deleted_at: float | None = None

    @property
    def short_id(self) -> str:
        """The first 8 characters of the id: usually enough as a unique prefix."""
        return self.session_id[:8]

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (``None`` if the file has no end time)."""
        if self.end_time is None:
            return None
        return max(0.0, self.end_time - self.start_time)

    def load(self) -> SavedSession:
        """Read the whole session back (``rt.load(record.path)``)."""
        from .loading import load

        return load(self.path)

    def __hash__(self) -> int:  # metadata is a dict: hash what identifies the record
        return hash((self.session_id, str(self.path), self.deleted))

    def __repr__(self) -> str:
        extra = ", deleted=True" if self.deleted else ""
        return (
            f"SessionRecord(name={self.name!r}, session_id={self.session_id!r}, "
            f"started={fmt_time(self.start_time)!r}, status={self.status!r}, "
            f"nodes={self.node_count}{extra})"
        )


@dataclass(frozen=True)
class StoreProblem:
    """A file in the store that could not be listed, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return self.reason


class SessionList(list):
    """The list :func:`~railtracks_nb.sessions` returns: a plain ``list`` of :class:`SessionRecord`.

    ``problems`` holds a :class:`StoreProblem` for each file that was skipped
    because it is not a readable saved session (shown under the table too).
    It shows itself as a table, in a notebook (``_repr_html_``, every value
    HTML-escaped) and as text (``repr``).
    """

    def __init__(
        self,
        records: Iterable[SessionRecord] = (),
        home: Path | None = None,
        problems: Iterable[StoreProblem] = (),
    ) -> None:
        super().__init__(records)
        self.home = home
        self.problems: list[StoreProblem] = list(problems)

    _HEADERS = (
        "name",
        "id",
        "started",
        "duration",
        "status",
        "nodes",
        "parent",
        "metadata",
        "source",
    )

    def _rows(self) -> list[list[str]]:
        return [
            [
                r.name or "",
                r.short_id,
                fmt_time(r.start_time),
                _fmt_duration(r.duration),
                r.status + (" (deleted)" if r.deleted else ""),
                str(r.node_count),
                (r.parent_id or "")[:8],
                _fmt_metadata(r.metadata),
                r.source,
            ]
            for r in self
        ]

    def _problem_lines(self) -> list[str]:
        if not self.problems:
            return []
        lines = [f"{len(self.problems)} file(s) skipped (not readable saved sessions):"]
        lines += [f"  {clip(p.reason, 200)}" for p in self.problems[:10]]
        if len(self.problems) > 10:
            lines.append(f"  ... and {len(self.problems) - 10} more (see .problems)")
        return lines

    def __repr__(self) -> str:
        if not self:
            lines = [f"No saved sessions in {self.home}" if self.home else "No saved sessions"]
            return "\n".join(lines + self._problem_lines())
        rows = [[clip(c, 40) for c in row] for row in self._rows()]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(self._HEADERS)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(self._HEADERS, widths, strict=True)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        for row in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        return "\n".join(lines + self._problem_lines())

    def _repr_html_(self) -> str:
        esc = html.escape
        notes = "".join(f"<br>{esc(line)}" for line in self._problem_lines())
        notes = f"<p style='opacity:0.75'>{notes[4:]}</p>" if notes else ""
        if not self:
            return f"<p><em>{esc(repr(self).splitlines()[0])}</em></p>{notes}"
        head = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in self._HEADERS)
        body = []
        for record, row in zip(self, self._rows(), strict=True):
            cells = []
            for header, value in zip(self._HEADERS, row, strict=True):
                full = {"id": record.session_id, "parent": record.parent_id or ""}.get(header)
                title = f" title='{esc(full)}'" if full else ""
                cells.append(f"<td style='text-align:left'{title}>{esc(value)}</td>")
            style = " style='opacity:0.55'" if record.deleted else ""
            body.append(f"<tr{style}>{''.join(cells)}</tr>")
        caption = f"<caption>{esc(str(self.home))}</caption>" if self.home else ""
        return (
            f"<table class='rt-sessions'>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{notes}"
        )


# -- what a listing needs from a payload -----------------------------------------------------
def _runs_status(runs: list[Any]) -> str:
    # The same rule as ExecutionInfo.status, for files without our extras.
    return roll_up(r.get("status") for r in runs if isinstance(r, dict))


def _finite(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            return None
        return number if math.isfinite(number) else None
    return None


def _node_count(runs: list[Any], where: str) -> int:
    ids: set[str] = set()
    for i, run in enumerate(runs):
        nodes = run.get("nodes") if isinstance(run, dict) else None
        for j, node in enumerate(nodes if isinstance(nodes, list) else ()):
            if not isinstance(node, dict):
                continue
            identifier = node.get("identifier")
            if not isinstance(identifier, str):
                raise SavedStateError(
                    f"{where} is not a saved session: runs[{i}].nodes[{j}].identifier "
                    f"is {type(identifier).__name__}, not a string"
                )
            ids.add(identifier)
    return len(ids)


def summarize(payload: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The listed fields of a payload (``where`` names it in errors).

    Raises :class:`SavedStateError` for a payload that is not a saved session:
    no ``session_id``, a ``start_time`` that is not a finite number, ``runs``
    that is not a list, a node identifier that is not a string.
    """
    session_id = payload.get("session_id")
    start = payload.get("start_time")
    runs = payload.get("runs")
    if not isinstance(session_id, str) or not session_id:
        raise SavedStateError(f"{where} is not a saved session: no session_id")
    start_time = _finite(start)
    if start_time is None:
        raise SavedStateError(
            f"{where} is not a saved session: start_time {clip(repr(start), 40)} "
            "is not a finite number"
        )
    if not isinstance(runs, list):
        raise SavedStateError(f"{where} is not a saved session: runs is not a list")
    extras = extras_of(payload)
    status = extras.get("status")
    flow_name = extras.get("flow_name") or payload.get("flow_name")
    flow_name = flow_name if isinstance(flow_name, str) else None
    name = payload.get("session_name")
    metadata = extras.get("metadata")
    parent = extras.get("parent_id")
    return {
        "session_id": session_id,
        "name": name if isinstance(name, str) and name else flow_name,
        "start_time": start_time,
        "end_time": _finite(payload.get("end_time")),
        "status": status if isinstance(status, str) and status else _runs_status(runs),
        "node_count": _node_count(runs, where),
        "metadata": dict(metadata) if isinstance(metadata, dict) else {},
        "parent_id": parent if isinstance(parent, str) else None,
        "flow_name": flow_name,
        "run_count": len(runs),
        "deleted_at": _finite(extras.get("deleted_at")),
    }


# -- formatting ---------------------------------------------------------------------------------
def fmt_time(ts: float | None) -> str:
    if ts is None:
        return ""
    try:
        return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return str(ts)


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _fmt_metadata(metadata: Mapping[str, Any]) -> str:
    try:
        return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in metadata.items())
    except (ValueError, RecursionError):  # written by hand into a file: still show the row
        return "(unprintable)"


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis if it was longer."""
    return text if len(text) <= width else text[: width - 1] + "…"

"""The batch dashboard: a Dask batch of sessions (``flow.map``) watched live.

:class:`BatchDashboard` is an anywidget (the same front-end module as the
session widgets, ``view="batch"``): counts of sessions done, running and
failed, a progress bar, throughput, the workers and how many sessions each
ran, and a table of the inputs. Clicking an input draws its session below with
the usual dashboard (graph, timeline, state): the latest payload its worker
sent while it runs, the saved one once it ended.

It is the display ``flow.map``/``flow.amap`` shows in a notebook (the batch
runner calls :meth:`BatchDashboard.refresh` on the notebook's loop, at most
five times a second): the summary is a small synced dict, and only the rows
that changed are sent, as one JSON buffer; when the batch ends the ``rows``
trait holds every row, so a redisplay, a reload or saved widget state is
complete. Also usable afterwards: ``rt.BatchDashboard(result)``.
"""

from __future__ import annotations

import html
import json
import uuid
from typing import Any

import anywidget
import traitlets

from ..engine.cluster.state import BatchState
from .widgets import _STATIC, WIDGET_PICTURE_CLASS, SessionDashboard

__all__ = ["BatchDashboard", "show_batch"]


def _state_of(source: Any) -> BatchState:
    state = getattr(source, "state", source)
    if not isinstance(state, BatchState):
        raise TypeError(
            "BatchDashboard needs the result of flow.map/flow.amap or its BatchState, "
            f"got {type(source).__name__}"
        )
    return state


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str).encode()


class BatchDashboard(anywidget.AnyWidget):
    """A batch of sessions on a Dask cluster, live or finished; see the module doc."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    view = traitlets.Unicode("batch").tag(sync=True)
    uid = traitlets.Unicode().tag(sync=True)
    #: Height of the drill-down dashboard, in pixels.
    height = traitlets.Int(560).tag(sync=True)
    #: Counts, throughput, elapsed time, per-worker tallies (``BatchState.summary()``).
    summary = traitlets.Dict().tag(sync=True)
    #: Every input's row as JSON bytes (complete when the batch has ended).
    rows = traitlets.Bytes(b"[]").tag(sync=True)
    #: Whether rows are still coming.
    live = traitlets.Bool(False).tag(sync=True)
    #: The input whose session is drawn below the table (``None``: none).
    selected_input = traitlets.Int(None, allow_none=True).tag(sync=True)

    def __init__(self, source: Any, **kwargs: Any) -> None:
        kwargs.setdefault("uid", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self.state = _state_of(source)
        self.messages_sent = 0
        self._sent_payload: dict[int, str | None] = {}
        self.on_msg(self._on_front_end_msg)
        self.observe(self._on_select, names="selected_input")
        with self.hold_sync():
            self.summary = self.state.summary()
            self.rows = _json_bytes([item.row() for item in self.state.inputs])
            self.live = not self.state.finished

    # -- the batch runner's observer interface ------------------------------------
    def refresh(self, state: BatchState, changed: set[int]) -> None:
        """Send what changed (called by the batch runner)."""
        self.state = state
        self.summary = state.summary()
        running = [i for i, item in enumerate(state.inputs) if item.status == "running"]
        # Running sessions' durations grow: their rows go along with the changed ones.
        indices = sorted(set(changed) | set(running))
        if indices:
            self._send_rows(
                {"type": "rows"}, [item.row() for item in map(state.inputs.__getitem__, indices)]
            )
        if self.selected_input is not None:
            self._send_session(self.selected_input)
        if state.finished:
            with self.hold_sync():
                self.rows = _json_bytes([item.row() for item in state.inputs])
                self.live = False

    # -- drill-down ------------------------------------------------------------------
    def session(self, index: int, **kwargs: Any) -> SessionDashboard:
        """A :class:`SessionDashboard` of input ``index``'s session (as it is now)."""
        payload = self._payload(index)
        if payload is None:
            raise ValueError(f"input {index} has no session yet (it has not started)")
        return SessionDashboard(payload, live=False, **kwargs)

    def _payload(self, index: int) -> dict[str, Any] | None:
        if not 0 <= index < len(self.state.inputs):
            raise IndexError(f"the batch has {len(self.state.inputs)} inputs, not {index + 1}")
        return self.state.inputs[index].payload()

    def _on_select(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self._send_session(change["new"])

    def _send_session(self, index: int) -> None:
        if not 0 <= index < len(self.state.inputs):
            return
        text = self.state.inputs[index].payload_json
        if text is None or self._sent_payload.get(index) is text:
            return  # nothing new since the last time
        self._sent_payload = {index: text}
        self.messages_sent += 1
        self.send({"type": "session", "index": index}, [text.encode()])

    def _send_rows(self, content: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        self.messages_sent += 1
        self.send(content, [_json_bytes(rows)])

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "sync":
            rows = [item.row() for item in self.state.inputs]
            self._send_rows({"type": "rows", "reset": True}, rows)
        elif content.get("type") == "select" and isinstance(content.get("index"), int):
            self._sent_payload = {}
            if self.selected_input == content["index"]:
                self._send_session(content["index"])
            else:
                self.selected_input = content["index"]

    # -- display -----------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, plus a text line and a static HTML summary for viewers without a
        kernel (marked as a widget picture, as the session widgets' are)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, None)
        if not isinstance(data, dict):
            return bundle
        data = {
            **data,
            "text/plain": f"<BatchDashboard of {self.state.flow_name!r}: "
            f"{len(self.state)} inputs; needs a kernel to be live>",
            "text/html": f'<div class="{WIDGET_PICTURE_CLASS}">{static_html(self.state)}</div>',
        }
        return (data, metadata) if metadata is not None else data


def static_html(state: BatchState) -> str:
    """A table of the batch's counts and workers (no JavaScript)."""
    summary = state.summary()
    counts = " · ".join(f"{n} {name}" for name, n in summary["counts"].items() if n)
    workers = "".join(
        f"<li>{html.escape(w)}: {n} sessions</li>" for w, n in sorted(summary["workers"].items())
    )
    return (
        f'<div class="railtracks-nb-batch"><p><b>Batch of {html.escape(state.flow_name)}</b> '
        f"{state.batch_id[:8]}: {summary['total']} inputs · {html.escape(counts)} · "
        f"{summary['throughput']:.1f} sessions/s</p><ul>{workers}</ul></div>"
    )


def show_batch(state: BatchState) -> BatchDashboard:
    """Display a live :class:`BatchDashboard` of ``state`` in the current cell; return it."""
    from IPython.display import display

    widget = BatchDashboard(state)
    display(widget)
    return widget

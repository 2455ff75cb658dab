"""The batch dashboard's kernel side: what it sends while a batch runs and after."""

from __future__ import annotations

import json

import pytest

import railtracks_nb as rt
from railtracks_nb.engine.cluster.state import BatchState
from railtracks_nb.notebook.batch import BatchDashboard


def _state() -> BatchState:
    state = BatchState("b" * 32, "scoring", 3, "tcp://scheduler")
    with rt.Session(name="one", save_state=False, logging_setting="NONE") as session:
        session.run_sync(rt.function_node(lambda x: x + 1), 1)
    state.inputs[0].status = "completed"
    state.inputs[0].worker = "tcp://w1"
    state.inputs[0].session_id = session.identifier
    state.inputs[0].payload_json = json.dumps(session.to_payload(), default=str)
    state.inputs[1].status = "running"
    state.inputs[1].worker = "tcp://w2"
    return state


def _recording(widget: BatchDashboard) -> list:
    sent: list = []
    widget.send = lambda content, buffers=None: sent.append(
        (content, [json.loads(bytes(b)) for b in buffers or []])
    )
    return sent


def test_refresh_sends_the_changed_and_running_rows_then_everything_at_the_end():
    state = _state()
    widget = BatchDashboard(state)
    assert widget.live and widget.summary["counts"]["running"] == 1
    sent = _recording(widget)
    widget.refresh(state, {0})
    ((content, [rows]),) = sent
    assert content == {"type": "rows"}
    assert [r["index"] for r in rows] == [0, 1]  # the changed one and the running one
    assert rows[0]["worker"] == "tcp://w1"
    state.inputs[1].status = "failed"
    state.inputs[1].error = "ValueError: <b>x</b>"
    state.inputs[2].status = "cancelled"
    state.ended = state.started + 2
    widget.refresh(state, {1, 2})
    assert not widget.live
    final = json.loads(widget.rows)
    assert [r["status"] for r in final] == ["completed", "failed", "cancelled"]
    assert widget.summary["finished"] is True
    widget.close()


def test_selecting_an_input_sends_its_session_and_builds_its_dashboard():
    state = _state()
    widget = BatchDashboard(state)
    sent = _recording(widget)
    widget._on_front_end_msg(widget, {"type": "select", "index": 0}, [])
    assert widget.selected_input == 0
    ((content, [payload]),) = sent
    assert content == {"type": "session", "index": 0}
    assert payload["session_name"] == "one"
    widget.refresh(state, set())  # nothing new for input 0: not sent again
    assert len([c for c, _ in sent if c["type"] == "session"]) == 1
    dashboard = widget.session(0)
    assert isinstance(dashboard, rt.SessionDashboard)
    assert dashboard.payload["session_id"] == state.inputs[0].session_id
    with pytest.raises(ValueError, match="no session yet"):
        widget.session(2)
    # A front end that loaded late asks for every row.
    widget._on_front_end_msg(widget, {"type": "sync"}, [])
    content, [rows] = sent[-1]
    assert content == {"type": "rows", "reset": True} and len(rows) == 3
    dashboard.close()
    widget.close()


def test_the_saved_output_has_a_text_line_and_a_static_summary():
    widget = BatchDashboard(_state())
    data = widget._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    assert data["text/plain"] == (
        "<BatchDashboard of 'scoring': 3 inputs; needs a kernel to be live>"
    )
    assert "railtracks-nb-widget-picture" in data["text/html"]
    assert "tcp://w1: 1 sessions" in data["text/html"]
    widget.close()


def test_it_refuses_what_is_not_a_batch():
    with pytest.raises(TypeError, match=r"flow\.map"):
        BatchDashboard([1, 2, 3])

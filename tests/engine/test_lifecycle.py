"""The session lifecycle: the 5x5 transition table and a real Session walking it."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest

import railtracks_nb as rt
from railtracks_nb.core.exceptions import SessionStateError
from railtracks_nb.engine.lifecycle import SessionState, can_transition, check_transition
from railtracks_nb.engine.messages import SessionStateChanged

S = SessionState



# Written out by hand from the Raworc state diagram, not derived from lifecycle.TRANSITIONS,
# so that a change to the engine's table shows up here.
ALLOWED = {
    ("INIT", "READY"),
    ("INIT", "ERROR"),
    ("READY", "IDLE"),
    ("READY", "BUSY"),
    ("READY", "ERROR"),
    ("IDLE", "READY"),
    ("IDLE", "ERROR"),
    ("BUSY", "READY"),
    ("BUSY", "ERROR"),
    ("ERROR", "INIT"),
    ("ERROR", "READY"),
}
ALL_PAIRS = list(itertools.product([s.value for s in S], repeat=2))
FORBIDDEN = [p for p in ALL_PAIRS if p not in ALLOWED]


def test_the_table_has_five_states_and_eleven_moves():
    assert [s.value for s in S] == ["INIT", "READY", "BUSY", "IDLE", "ERROR"]
    assert len(ALL_PAIRS) == 25 and len(FORBIDDEN) == 14


@pytest.mark.parametrize(("old", "new"), sorted(ALLOWED))
def test_allowed_transition(old, new):
    assert can_transition(S(old), S(new)) is True
    result = check_transition(S(old), S(new))
    assert result is S(new)
    assert check_transition(old, new) is S(new)  # plain strings are accepted too


@pytest.mark.parametrize(("old", "new"), FORBIDDEN)
def test_forbidden_transition(old, new):
    assert can_transition(S(old), S(new)) is False
    with pytest.raises(SessionStateError, match=rf"{old} -> {new}") as info:
        check_transition(S(old), S(new))
    assert isinstance(info.value, RuntimeError)
    # The message says where the session may go instead.
    for target in sorted(n for (o, n) in ALLOWED if o == old):
        assert target in str(info.value).split(";", 1)[1]


def test_a_session_refuses_an_illegal_transition_and_publishes_nothing():
    s = rt.Session(save_state=False)
    seen = []
    s.publisher.subscribe(seen.append, "spy")
    assert s.state is S.INIT
    with pytest.raises(SessionStateError, match="INIT -> BUSY"):
        s._set_state(S.BUSY)
    assert s.state is S.INIT
    assert not [m for m in seen if isinstance(m, SessionStateChanged)]


# -- a real session ----------------------------------------------------------------------------
_holder: list[rt.Session] = []


@rt.function_node
async def report_state():
    """Returns the session's state as seen from inside a running node."""
    return _holder[-1].state


@rt.function_node
async def hang():
    await asyncio.Event().wait()


@rt.function_node
async def boom():
    raise ValueError("boom")


def _spy(session: rt.Session) -> list[SessionStateChanged]:
    seen: list[SessionStateChanged] = []
    session.publisher.subscribe(
        lambda m: seen.append(m) if isinstance(m, SessionStateChanged) else None, "state spy"
    )
    return seen


def _pairs(messages) -> list[tuple[str, str]]:
    return [(m.old, m.new) for m in messages]


def _saved_extras(home, name):
    return json.loads((home / f"{name}.json").read_text())["railtracks_nb"]


async def test_session_goes_init_ready_busy_ready_idle(rt_home):
    s = rt.Session(name="life")
    _holder.append(s)
    seen = _spy(s)
    assert s.state is S.INIT
    async with s:
        assert s.state is S.READY
        assert await rt.call(report_state) is S.BUSY  # a request in flight
        assert s.state is S.READY  # back once it ended
    assert s.state is S.IDLE

    expected = [("INIT", "READY"), ("READY", "BUSY"), ("BUSY", "READY"), ("READY", "IDLE")]
    assert _pairs(seen) == expected
    for m in seen:
        assert isinstance(m.old, str) and isinstance(m.new, str)
        assert m.session_id == s.identifier
        assert f"{m.old} -> {m.new}" in m.stamp.identifier
    # Lifecycle stamps take no step of their own: each carries the step of the next
    # node stamp (the one node made steps 0 and 1, so BUSY -> READY carries 2).
    steps = [m.stamp.step for m in seen]
    assert steps == [0, 0, 2, 2]
    assert [st.step for st in s.info.all_stamps] == [0, 1]
    assert s.info.stamper.lifecycle_stamps[0].identifier == "Session INIT -> READY"

    extras = _saved_extras(rt_home, "life")
    assert extras["state"] == "IDLE"
    history = extras["state_history"]
    assert [(h["old"], h["new"]) for h in history] == expected
    assert [h["step"] for h in history] == steps


async def test_timeout_goes_through_error_and_the_session_goes_on(rt_home):
    s = rt.Session(name="late", timeout=0.05, logging_setting="NONE")
    _holder.append(s)
    seen = _spy(s)
    async with s:
        with pytest.raises(rt.GlobalTimeOutError, match="hang"):
            await rt.call(hang)
        assert s.state is S.ERROR
        # The session goes on: the next request leaves ERROR for READY, then BUSY.
        assert await rt.call(report_state) is S.BUSY
        assert s.state is S.READY
    assert s.state is S.IDLE
    expected = [
        ("INIT", "READY"),
        ("READY", "BUSY"),
        ("BUSY", "ERROR"),
        ("ERROR", "READY"),
        ("READY", "BUSY"),
        ("BUSY", "READY"),
        ("READY", "IDLE"),
    ]
    assert _pairs(seen) == expected
    history = _saved_extras(rt_home, "late")["state_history"]
    assert [(h["old"], h["new"]) for h in history] == expected


async def test_session_closed_while_in_error_passes_through_ready(rt_home):
    s = rt.Session(name="fatal", end_on_error=True, logging_setting="NONE")
    seen = _spy(s)
    async with s:
        with pytest.raises(ValueError, match="boom"):
            await rt.call(boom)
        assert s.state is S.ERROR
    assert _pairs(seen) == [
        ("INIT", "READY"),
        ("READY", "BUSY"),
        ("BUSY", "ERROR"),
        ("ERROR", "READY"),
        ("READY", "IDLE"),
    ]
    assert _saved_extras(rt_home, "fatal")["state"] == "IDLE"


async def test_a_caught_node_failure_is_not_fatal(rt_home):
    s = rt.Session(name="caught", end_on_error=False, logging_setting="NONE", save_state=False)
    seen = _spy(s)
    async with s:
        with pytest.raises(ValueError):
            await rt.call(boom)
        assert s.state is S.READY
    assert ("BUSY", "ERROR") not in _pairs(seen)
    assert _pairs(seen)[-2:] == [("BUSY", "READY"), ("READY", "IDLE")]


def test_a_closed_session_reopens_from_idle(rt_home):
    s = rt.Session(name="again", logging_setting="NONE")
    seen = _spy(s)
    with s:
        pass
    assert s.state is S.IDLE
    assert _pairs(seen) == [("INIT", "READY"), ("READY", "IDLE")]
    # Closing shuts the publisher and its subscribers down; reopening makes a new one.
    # So the reopening itself is checked in the saved history, the close by a new spy.
    with s:
        assert s.state is S.READY
        seen_again = _spy(s)
    assert _pairs(seen_again) == [("READY", "IDLE")]
    history = _saved_extras(rt_home, "again")["state_history"]
    assert [(h["old"], h["new"]) for h in history] == [
        ("INIT", "READY"),
        ("READY", "IDLE"),
        ("IDLE", "READY"),
        ("READY", "IDLE"),
    ]


def test_flow_sessions_record_their_history(rt_home):
    @rt.function_node
    def double(x):
        return 2 * x

    assert rt.Flow("lifeflow", double).invoke(4) == 8
    history = _saved_extras(rt_home, "lifeflow")["state_history"]
    assert [(h["old"], h["new"]) for h in history] == [
        ("INIT", "READY"),
        ("READY", "BUSY"),
        ("BUSY", "READY"),
        ("READY", "IDLE"),
    ]

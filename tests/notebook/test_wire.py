"""The one representation downstream of the engine: a session's event rows
(``ExecutionInfo.event_rows``) and their wire encoding (``railtracks_nb.notebook.wire``).

A finished session's snapshot, a live widget's deltas and the saved-state payload
must all be the same session."""

from __future__ import annotations

import json

import railtracks_nb as rt
from railtracks_nb.notebook import wire
from railtracks_nb.notebook.compact import compact_payload
from railtracks_nb.notebook.sources import rows_source
from railtracks_nb.notebook.widgets import SessionDashboard
from railtracks_nb.store.loading import info_from_payload
from tests.helpers import by_id, mixed


def _run_mixed(n: int = 4) -> rt.Session:
    with rt.Session(save_state=False, name="rows") as session:
        rt.call_sync(mixed, n)
    return session


def _round_trip(value: dict) -> dict:
    return json.loads(json.dumps(value))


def test_event_rows_are_public_and_hold_every_call_and_stamp():
    session = _run_mixed(4)
    info = session.info
    rows_by_run = info.event_rows()
    assert list(rows_by_run) == list(info.runs)
    rows = [row for rows in rows_by_run.values() for row in rows]
    created = [r for r in rows if r[0] == "c"]
    ended = [r for r in rows if r[0] in ("s", "f")]
    # One "c" row per node, one end per request, every id written out.
    assert sorted(r[6] for r in created) == sorted(info.node_forest)
    assert sorted(r[4] for r in ended) == sorted(info.request_forest)
    assert {r[0] for r in ended} == {"s", "f"}
    assert all(isinstance(r[3], str) for r in rows)  # explicit stamp texts
    root = next(r for r in created if r[5] is None)
    assert (root[7], root[3]) == ("mixed", "START CREATED mixed")
    failed = [r for r in ended if r[0] == "f"]
    assert len(failed) == 2 and all(r[5]["type"] == "ValueError" for r in failed)
    # Every stamp of every run is a row: the requests' and the others' ("x").
    for run_id, run in info.runs.items():
        steps = sorted(r[1] for r in rows_by_run[run_id])
        assert steps == sorted(raw[0] for raw in run.raw_stamps)
        assert not any(r[0] == "x" for r in rows_by_run[run_id])
    json.dumps(rows)  # JSON values only
    # A stamp no request made (a fatal failure, say) is an "x" row.
    run = next(iter(info.runs.values()))
    run.raw_stamps.append((999, 1.5, "Session timed out"))
    assert info.event_rows()[run.run_id][-1] == ["x", 999, 1.5, "Session timed out"]


def test_snapshot_from_rows_is_the_payload():
    session = _run_mixed(5)
    compact = wire.snapshot(*rows_source(session))
    assert by_id(wire.expand_compact(_round_trip(compact))) == by_id(
        _round_trip(session.to_payload())
    )
    # Nothing kept verbatim: every node of a session the engine recorded is in rows.
    assert all(not run["nodes"] and not run["edges"] for run in compact["runs"])
    assert len(json.dumps(compact)) < 0.7 * len(json.dumps(session.to_payload()))


def test_snapshot_equals_what_the_live_feed_sent():
    session = rt.Session(save_state=False, name="live", logging_setting="NONE")
    with session:
        w = SessionDashboard(session)
        rt.call_sync(mixed, 6)
    live = wire.expand_feed(json.loads(w.data))
    snap = wire.expand_compact(_round_trip(wire.snapshot(*rows_source(session))))
    payload = _round_trip(session.to_payload())
    # The feed's end time is the IDLE change's stamp; the session records its own just after.
    ends = {"end_time": snap.pop("end_time")}
    assert live.pop("end_time") <= ends["end_time"] == payload.pop("end_time")
    assert by_id(live) == by_id(snap) == by_id(payload)
    # And a finished session shown later is sent as that snapshot.
    later = SessionDashboard(session)
    assert json.loads(later.data)["format"] == wire.COMPACT_FORMAT
    assert by_id(wire.expand_compact(json.loads(later.data))) == by_id({**snap, **ends})
    w.close()
    later.close()


def test_row_encoder_sends_ids_once_and_leaves_default_texts_out():
    session = _run_mixed(3)
    rows = [r for rs in session.info.event_rows().values() for r in rs if r[0] != "x"]
    encoded = wire.RowEncoder().encode(rows)
    assert [r[0] for r in encoded] == [r[0] for r in rows]
    root, first_call = encoded[0], encoded[1]
    assert root[3] is None and root[5] is None  # "START CREATED mixed" is the default
    assert first_call[5] == 1  # its caller by index: the root's node id
    assert first_call[3] is None  # "mixed CREATED shaky"
    assert all(r[3] is None for r in encoded)  # the engine's texts throughout


def test_a_run_read_in_one_flush_names_its_ended_callers_by_index(monkeypatch):
    """A run that ends before the feed's first timed flush is read in one batch, each
    ended request's end right after its "c" row: its callers, ended by then, are
    still named by index and the default texts left out (the compact wire of a run
    followed live); what the widget ends with is still exactly the session."""
    from railtracks_nb.notebook import feed

    monkeypatch.setattr(feed._LiveFeed, "MIN_INTERVAL", 3600.0)  # no timed flush: one batch
    session = rt.Session(save_state=False, name="one-batch", logging_setting="NONE")
    with session:
        w = SessionDashboard(session)
        sent: list[list] = []
        send = w._send_delta
        w._send_delta = lambda delta, buffers: (  # type: ignore[method-assign]
            sent.extend(row for b in buffers for row in json.loads(b)),
            send(delta, buffers),
        )
        rt.call_sync(mixed, 6)
    created = [row for row in sent if row[0] == "c"]
    assert len(created) == 7 and created[0][5] is None  # the root, then its six calls
    assert all(type(row[5]) is int for row in created[1:])  # the ended root, by index
    assert all(row[3] is None for row in sent if row[0] in ("c", "s", "f"))
    live = wire.expand_feed(json.loads(w.data))
    payload = _round_trip(session.to_payload())
    live.pop("end_time"), payload.pop("end_time")
    assert by_id(live) == by_id(payload)
    w.close()


def test_a_saved_session_is_shown_from_its_rows(home):
    with rt.Session(name="kept"):
        rt.call_sync(mixed, 3)
    saved = rt.load(home / "kept.json")
    source = rows_source(saved)
    assert source is not None
    assert by_id(wire.expand_compact(_round_trip(wire.snapshot(*source)))) == by_id(
        _round_trip(saved.to_payload())
    )


def test_a_railtracks_file_keeps_a_lossless_path(railtracks_sample_path):
    payload = json.loads(railtracks_sample_path.read_text())
    # As JSON (a payload dict or a file saved by Railtracks): compacted by shape.
    assert rows_source(payload) is None
    assert rows_source(railtracks_sample_path) is None
    assert by_id(wire.expand_compact(_round_trip(compact_payload(payload)))) == by_id(payload)
    # Loaded into an ExecutionInfo: its rows rebuild that state exactly.
    info = info_from_payload(payload)
    compact = wire.snapshot(info)
    assert by_id(wire.expand_compact(_round_trip(compact))) == by_id(
        _round_trip(info.to_payload())
    )
    w = SessionDashboard(railtracks_sample_path)
    assert by_id(w.payload) == by_id(payload)
    w.close()

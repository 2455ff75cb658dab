"""A session that cannot be saved is never lost in silence.

Values that have no JSON form become readable placeholders, long names are
cut to the file system's byte limit without collisions, and a save that still
fails raises at the end of the ``with`` block.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

import railtracks_nb as rt
from railtracks_nb.store.files import safe_filename


class BrokenStr(Exception):
    def __str__(self):
        raise RuntimeError("no text for you")


class BrokenMapping(Mapping):
    def __getitem__(self, key):
        return 1

    def __len__(self):
        return 1

    def __iter__(self):
        raise ValueError("cannot iterate")


@rt.function_node
def huge(x):
    return 10**5000


@rt.function_node
def raises_broken():
    raise BrokenStr()


@rt.function_node
def takes(mapping):
    return "ok"


@rt.function_node
async def hostile():
    await rt.call(huge, 10**5000)
    await rt.call(takes, BrokenMapping())
    try:
        await rt.call(raises_broken)
    except BrokenStr:
        pass
    return "done"


@pytest.mark.timeout(60)
def test_values_without_a_json_form_are_saved_as_readable_placeholders(home):
    with rt.Session(name="hostile", logging_setting="NONE") as s:
        assert rt.call_sync(hostile) == "done"
    assert s.save_error is None and s.saved_path == home / "hostile.json"
    payload = json.loads((home / "hostile.json").read_text())
    edges = {
        e["details"]["output"] if not isinstance(e["details"]["output"], dict) else "error": e
        for e in payload["runs"][0]["edges"]
    }
    assert "<int with about 5001 digits>" in edges
    big = edges["<int with about 5001 digits>"]["details"]["input_args"]
    assert big == ["<int with about 5001 digits>"]
    broken = edges["error"]["details"]["output"]
    assert broken["type"] == "BrokenStr" and broken["message"].startswith("<unprintable BrokenStr")
    mapping = edges["ok"]["details"]["input_args"][0]
    assert mapping.startswith("<unserialisable BrokenMapping: ValueError: cannot iterate")
    assert rt.load(home / "hostile.json").answer == "done"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["中" * 75, "😀" * 60, "é" * 150, "x" * 400])
def test_long_names_are_cut_to_the_byte_limit_and_never_collide(home, name):
    twin = name[:-1] + "z"  # the same start, a different end
    for session_name in (name, twin):
        with rt.Session(name=session_name, logging_setting="NONE") as s:
            rt.call_sync(takes, 1)
        assert s.save_error is None and s.saved_path is not None
        assert len(s.saved_path.name.encode()) <= 255 - 43  # room for the temporary name
        assert rt.load(s.saved_path).name == session_name
    assert len(list(home.glob("*.json"))) == 2


def test_safe_filename_counts_bytes_not_characters():
    for name in ("中" * 75, "😀" * 60, "é" * 150):
        stem = safe_filename(name)
        assert len(stem.encode("utf-8")) <= 180
        assert stem.startswith(name[:10]) and "~" in stem
    assert safe_filename("short") == "short"
    assert safe_filename("é" * 150) != safe_filename("é" * 149 + "e")


@pytest.mark.timeout(60)
def test_a_failed_save_raises_at_the_end_of_the_with_block(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store folder should be")
    monkeypatch.setenv("RAILTRACKS_HOME", str(blocker))
    with pytest.raises(rt.SessionSaveError) as caught:
        with rt.Session(name="lost", logging_setting="NONE") as s:
            rt.call_sync(takes, 1)
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__context__ is None
    assert s.save_error is caught.value and s.saved_path is None
    assert "rt.export" in str(caught.value)
    # Nothing is lost: the session is still in memory and exports elsewhere.
    rt.export(s, tmp_path / "rescued.json")
    assert rt.load(tmp_path / "rescued.json").answer == "ok"


@pytest.mark.timeout(60)
def test_a_failed_save_is_chained_to_the_body_exception(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("RAILTRACKS_HOME", str(blocker))
    with pytest.raises(rt.SessionSaveError) as caught:
        with rt.Session(name="lost", logging_setting="NONE"):
            raise LookupError("the body failed")
    assert isinstance(caught.value.__context__, LookupError)


@pytest.mark.timeout(60)
def test_an_interrupt_keeps_propagating_and_carries_the_save_failure(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("RAILTRACKS_HOME", str(blocker))
    with pytest.raises(KeyboardInterrupt) as caught:
        with rt.Session(name="lost", logging_setting="NONE") as s:
            raise KeyboardInterrupt
    assert s.save_error is not None
    assert any("Could not save session 'lost'" in note for note in caught.value.__notes__)


@pytest.mark.timeout(60)
def test_a_session_without_with_reports_a_failed_save_from_its_request(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("RAILTRACKS_HOME", str(blocker))
    session = rt.Session(name="bare", logging_setting="NONE")
    with pytest.raises(rt.SessionSaveError):
        session.run_sync(takes, 1)
    assert session.info.answer == "ok"

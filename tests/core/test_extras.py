"""The extras a payload carries under ``"railtracks_nb"`` are the keys ``SessionExtras`` declares.

The type is the one description of them: the engine writes no key it leaves
out, the store's own keys are in it, and the front end's ``Extras`` interface
(``widgets/src/payload.ts``) names no key it lacks.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import get_type_hints

import pytest

import railtracks_nb as rt
from railtracks_nb.core.extras import EXTRAS_KEY, SessionExtras, extras_of

DECLARED = set(get_type_hints(SessionExtras))
PAYLOAD_TS = Path(__file__).resolve().parents[2] / "widgets" / "src" / "payload.ts"


@rt.function_node
async def fails() -> None:
    raise ValueError("bad")


@rt.function_node
async def sleeps() -> None:
    await asyncio.sleep(5)


@rt.function_node
async def top() -> str:
    try:
        await rt.call(fails)
    except ValueError:
        pass
    return "done"


def test_every_key_the_engine_writes_is_declared(rt_home):
    with rt.Session(name="declared", context={"k": 1}) as session:
        rt.call_sync(top)
    with rt.Session(save_state=False, timeout=0.05) as timed_out:
        with pytest.raises(rt.GlobalTimeOutError):
            rt.call_sync(sleeps)
    for extras in (session.extras(), timed_out.extras(), session.payload()[EXTRAS_KEY]):
        assert set(extras) <= DECLARED, set(extras) - DECLARED
    assert {"errors", "error_count", "state_history", "timed_out_runs"} <= set(timed_out.extras())


def test_the_store_keys_are_declared(rt_home):
    with rt.Session(name="to-delete", logging_setting="NONE") as session:
        pass
    rt.tag_session(session.identifier, team="a")
    rt.delete_session(session.identifier)
    (trashed,) = [r for r in rt.sessions(include_deleted=True) if r.deleted]
    payload = json.loads(trashed.path.read_text())
    assert {"metadata", "deleted_at", "deleted_from"} <= set(extras_of(payload)) <= DECLARED


def test_the_front_end_names_no_key_python_lacks():
    source = PAYLOAD_TS.read_text(encoding="utf-8")
    body = re.search(r"export interface Extras \{(.*?)\n\}", source, re.S)
    assert body is not None, "widgets/src/payload.ts has no Extras interface"
    keys = set(re.findall(r"^\s*(\w+)\??:", body.group(1), re.M))
    assert keys and keys <= DECLARED, keys - DECLARED


def test_extras_of_a_payload_without_them_is_empty():
    assert extras_of({"runs": []}) == {}
    assert extras_of({EXTRAS_KEY: "not an object"}) == {}

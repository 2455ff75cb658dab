"""Small things several test modules share: sample nodes, payload comparisons, the
store's lock as another process sees it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import railtracks_nb as rt


def by_id(payload: dict) -> dict:
    """A payload with its node and edge lists keyed by id (their order is not fixed)."""
    out = dict(payload)
    out["runs"] = [
        {
            **run,
            "nodes": {n["identifier"]: n for n in run["nodes"]},
            "edges": {e["identifier"]: e for e in run["edges"]},
        }
        for run in payload["runs"]
    ]
    return out


@rt.function_node
def shaky(x: int) -> int:
    """Fails on odd inputs, with markup in its message (it must show as text)."""
    if x % 2:
        raise ValueError(f"odd <b>{x}</b>")
    return x


def calling_each(child: Any, name: str) -> Any:
    """A node ``name(n)`` that calls ``child`` on 0 .. n-1 in turn and returns each
    result, or the message of the ``ValueError`` it raised instead: one run with
    completed and failed nodes under one root."""

    async def call_each(n: int) -> list:
        out = []
        for i in range(n):
            try:
                out.append(await rt.call(child, i))
            except ValueError as exc:
                out.append(str(exc))
        return out

    return rt.function_node(call_each, name=name)


#: Calls ``shaky`` n times and keeps the failures' messages: completed and failed nodes.
mixed = calling_each(shaky, "mixed")


@rt.function_node
async def leaf(i: int) -> int:
    return i * 2


@rt.function_node
async def fan_out(n: int) -> int:
    """Calls ``leaf`` on 0 .. n-1 all at once: one root over ``n`` siblings."""
    results = await asyncio.gather(*(rt.call(leaf, i) for i in range(n)))
    return len(results)


_PROBE = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "try:\n"
    "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "    print('free')\n"
    "except BlockingIOError:\n"
    "    print('held')\n"
)


def lock_seen_from_another_process(home: Path) -> str:
    """'held' if another process cannot take the store's lock right now, else 'free'."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(home / ".railtracks.lock")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()

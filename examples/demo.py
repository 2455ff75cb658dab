"""The railtracks_nb demo: run a small agentic flow, save it, and export its dashboard.

    python examples/demo.py [--out demo-output]

The flow plans a trip: a planner fans out to researchers (sync and async
nodes), one of which fails and is caught, then a writer summarises. Output:

    demo-output/
      dashboard.html        self-contained interactive dashboard (open it offline)
      session.json          the Railtracks saved-state format
      session.graphml       the call graph for graph tools (networkx, Gephi, yEd)
      session.mmd           Mermaid flowchart
      session.dot           Graphviz
      .railtracks/Trip planner.json   the state saved by the session itself
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import railtracks_nb as rt


@rt.function_node
def lookup_weather(city: str) -> str:
    """A sync node: runs in a worker thread, never blocks the loop."""
    time.sleep(0.05)
    return f"{city}: 21°C and sunny"


@rt.function_node
async def find_sights(city: str) -> list[str]:
    await asyncio.sleep(0.02)
    if city == "Atlantis":
        raise LookupError(f"no map of {city}")
    return [f"{city} old town", f"{city} museum"]


@rt.function_node
async def research(city: str) -> dict[str, object]:
    weather, sights = await asyncio.gather(
        rt.call(lookup_weather, city), rt.call(find_sights, city), return_exceptions=True
    )
    if isinstance(sights, Exception):
        await rt.broadcast(f"skipping sights for {city}: {sights}")
        sights = []
    return {"city": city, "weather": weather, "sights": sights}


@rt.function_node
async def write_summary(notes: list[dict[str, object]]) -> str:
    style = rt.prompt("Summary for {traveller}")
    lines = [f"- {n['city']}: {n['weather']}; {len(n['sights'])} sights" for n in notes]  # type: ignore[arg-type]
    return "\n".join([style, *lines])


@rt.function_node
async def plan_trip(cities: list[str]) -> str:
    notes = await rt.call_batch(research, cities)
    return await rt.call(write_summary, notes)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the demo flow and export its dashboard.")
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RAILTRACKS_HOME", str(out / ".railtracks"))

    flow = rt.Flow(
        "Trip planner",
        entry_point=plan_trip,
        context={"traveller": "Ada"},
        timeout=30,
        logging_setting="QUIET",
        broadcast_callback=lambda message: print(f"[broadcast] {message}"),
    )
    print(flow.invoke(["Lisbon", "Kyoto", "Atlantis", "Oslo"]))

    session = flow.last_session
    assert session is not None
    info = session.info
    print(f"\n{len(info.node_forest)} nodes, {len(info.all_stamps)} stamps, status {info.status}")
    for name in ["dashboard.html", "session.json", "session.graphml", "session.mmd", "session.dot"]:
        path = rt.export(session, out / name)
        print(f"wrote {path}")
    print(f"saved state: {session.saved_path}")


if __name__ == "__main__":
    main()

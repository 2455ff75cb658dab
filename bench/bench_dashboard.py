"""What the live dashboard costs, and how fast an exported page draws.

    .venv/bin/python bench/bench_dashboard.py [--nodes 10000] [--repeat 8] [--no-browser]

1. Wall (and CPU) time of a session that fans out to N async nodes with
   ``asyncio.gather``, without and with a ``SessionDashboard`` attached.
   Runs alternate (off, on, off, on, ...) so machine noise hits both alike; the
   table reports the minimum and the median of each and their ratio (target:
   dashboard / plain <= 1.15). With the dashboard attached every delta is
   JSON-encoded as the kernel's comm would (there is no front end here), so
   the figure includes the wire encoding, not only our bookkeeping.
2. The time for the exported ``.html`` of that N-node session to draw in
   headless Chromium (``/usr/bin/chromium``), from navigation start to the
   dashboard being rendered (``window.__railtracksReady``), median of 3 loads
   (target: < 1 s). Skipped if Chromium is missing or with ``--no-browser``.

Prints a table; exits 0 whatever the numbers (it is a measurement, not a test).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import railtracks_nb as rt
from railtracks_nb.notebook.widgets import SessionDashboard

# The browser as the tests start it (headless, no network of its own).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.helpers import fan_out


def run_once(n: int, dashboard: bool) -> tuple[float, float, int, rt.Session]:
    """One session of ``n`` leaves; returns (wall s, cpu s, deltas sent, session)."""
    session = rt.Session(save_state=False, logging_setting="NONE", name=f"bench-{n}")
    widget = None
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with session:
        if dashboard:
            widget = SessionDashboard(session)
            send = widget.send
            # No kernel here: encode what the comm would put on the wire.
            widget.send = lambda content, buffers=None: (
                json.dumps(content, default=str),
                send(content, buffers),
            )
        rt.call_sync(fan_out, n)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    sent = widget.updates_sent if widget else 0
    if widget is not None:
        widget.close()  # ipywidgets keeps every open widget alive; don't let them pile up
    return wall, cpu, sent, session


def bench_session(n: int, repeat: int) -> tuple[dict[str, list[float]], int, rt.Session]:
    times: dict[str, list[float]] = {
        "plain": [],
        "dashboard": [],
        "plain_cpu": [],
        "dashboard_cpu": [],
    }
    deltas = 0
    session = None
    run_once(min(n, 500), False)  # warm up imports and caches
    run_once(min(n, 500), True)
    for i in range(repeat):
        # Alternate which goes first, and start each run from a collected heap.
        for mode in ("plain", "dashboard") if i % 2 == 0 else ("dashboard", "plain"):
            session = None
            gc.collect()
            wall, cpu, sent, session = run_once(n, mode == "dashboard")
            times[mode].append(wall)
            times[f"{mode}_cpu"].append(cpu)
            if sent:
                deltas = sent
    return times, deltas, session


def bench_page(session: rt.Session, loads: int = 3) -> tuple[list[float], int]:
    from playwright.sync_api import sync_playwright

    export = importlib.import_module("railtracks_nb.notebook.export")
    with tempfile.TemporaryDirectory() as tmp:
        page_path = export.export(session, Path(tmp) / "bench.html")
        size = page_path.stat().st_size
        results = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for _ in range(loads):
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    page.goto(page_path.as_uri())
                    page.wait_for_function("window.__railtracksReady !== undefined", timeout=60_000)
                    # One more frame so the first paint of the drawn view is included.
                    page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
                    results.append(page.evaluate("window.__railtracksReady") / 1000.0)
                    page.close()
            finally:
                browser.close()
    return results, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=8)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)

    times, deltas, session = bench_session(args.nodes, args.repeat)
    rows = []
    for label, key in (("wall", ""), ("cpu", "_cpu")):
        plain, dash = times[f"plain{key}"], times[f"dashboard{key}"]
        rows.append((f"session {label}, min", min(plain), min(dash), min(dash) / min(plain)))
        rows.append(
            (
                f"session {label}, median",
                statistics.median(plain),
                statistics.median(dash),
                statistics.median(dash) / statistics.median(plain),
            )
        )
    print(
        f"\nrailtracks_nb dashboard benchmark: {args.nodes:,} gathered nodes, "
        f"{args.repeat} runs each\n"
    )
    print(f"{'measure':<24}{'plain (s)':>12}{'dashboard (s)':>16}{'ratio':>9}   target")
    for name, plain, dash, ratio in rows:
        print(f"{name:<24}{plain:>12.3f}{dash:>16.3f}{ratio:>8.2f}x   <= 1.15x")
    print(f"{'deltas sent per session':<24}{'':>12}{deltas:>16}")

    if args.no_browser:
        print("\nexported page: skipped (--no-browser)")
    elif not CHROMIUM.exists():
        print(f"\nexported page: skipped ({CHROMIUM} not found; apt-get install chromium)")
    else:
        loads, size = bench_page(session)
        print(
            f"\nexported page ({args.nodes + 1:,} nodes, {size / 1e6:.1f} MB): draw time "
            f"median {statistics.median(loads):.3f} s "
            f"(loads: {', '.join(f'{t:.3f}' for t in loads)})"
            "   target < 1 s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

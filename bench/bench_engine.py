"""Engine overhead, side by side with bare asyncio and (when importable) Railtracks.

    python bench/bench_engine.py            # sizes 1,000 / 10,000 / 100,000
    python bench/bench_engine.py --quick    # 100 / 1,000 (a smoke run)
    python bench/bench_engine.py --json out.json

Workloads, each inside one session (one run), with a trivial async leaf node:

* sequential: one node awaits ``rt.call(leaf, i)`` N times, one after the other;
  bare asyncio awaits ``asyncio.create_task(leaf(i))`` N times.
* fan-out: one node gathers N ``rt.call(leaf, i)``; bare asyncio gathers N
  ``create_task(leaf(i))``.

Every measurement runs in a fresh interpreter that imports only what it
measures: Python's garbage collector walks every live object of a process, so
measuring two engines in one process would charge one for the other's imports
(Railtracks brings litellm, hundreds of thousands of objects).

Reported: microseconds per call (best of ``--repeat`` runs), and the ratio to
bare asyncio measured the same way. Railtracks runs the same workload when
``import railtracks`` works in this interpreter's environment; its sizes are
capped (``--railtracks-max``) because its fan-out cost grows with the fan-out.
Import time is measured in fresh interpreters too (median of 5).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import importlib.util
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# -- workloads ------------------------------------------------------------------------


async def bare_leaf(i: int) -> int:
    return i


async def bare_sequential(n: int) -> None:
    for i in range(n):
        await asyncio.create_task(bare_leaf(i))


async def bare_fanout(n: int) -> None:
    await asyncio.gather(*(asyncio.create_task(bare_leaf(i)) for i in range(n)))


def make_engine(rt) -> dict[str, Callable[[int], Awaitable[None]]]:
    """The same two workloads written against a Railtracks-compatible module ``rt``."""

    @rt.function_node
    async def leaf(i: int) -> int:
        return i

    @rt.function_node
    async def sequential(n: int) -> None:
        for i in range(n):
            await rt.call(leaf, i)

    @rt.function_node
    async def fanout(n: int) -> None:
        await asyncio.gather(*(rt.call(leaf, i) for i in range(n)))

    options = {"save_state": False, "timeout": 3600.0}
    if "logging_setting" in inspect.signature(rt.Session).parameters:
        options["logging_setting"] = "NONE"  # Railtracks 1.7 dropped this option

    def runner(entry):
        async def run(n: int) -> None:
            with rt.Session(**options):
                await rt.call(entry, n)

        return run

    return {"sequential": runner(sequential), "fan-out": runner(fanout)}


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: Railtracks logs every node at INFO, and
    writing those lines would be measured as engine time."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def timed(fn: Callable[[int], Awaitable[None]], n: int, repeat: int) -> float:
    """Best wall time over ``repeat`` runs, each in a fresh event loop, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        with quiet_stderr():
            start = time.perf_counter()
            asyncio.run(fn(n))
            best = min(best, time.perf_counter() - start)
    return best


def worker(engine: str, workload: str, n: int, repeat: int) -> None:
    """Measure one (engine, workload, size) in this fresh process; print seconds."""
    if engine == "asyncio":
        fn = bare_sequential if workload == "sequential" else bare_fanout
    else:
        sys.path.insert(0, str(REPO))
        fn = make_engine(importlib.import_module(engine))[workload]
    print(timed(fn, n, repeat))


def measure(engine: str, workload: str, n: int, repeat: int) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", engine, workload, str(n), str(repeat)],
        capture_output=True,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},  # no network at import
    )
    if out.returncode != 0:
        raise RuntimeError(f"{engine} {workload} {n} failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def import_time(module: str, runs: int = 5) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode != 0:
            return float("nan")
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--railtracks-max", type=int, default=1_000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", nargs=4, metavar=("ENGINE", "WORKLOAD", "N", "REPEAT"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.json:
        args.json = args.json.resolve()
    # Railtracks writes event logs under the working directory: keep them out of the repo.
    os.chdir(tempfile.mkdtemp(prefix="rt-bench-"))
    if args.worker:
        engine, workload, n, repeat = args.worker
        worker(engine, workload, int(n), int(repeat))
        return
    sizes = [100, 1_000] if args.quick else [1_000, 10_000, 100_000]

    engines = {"railtracks_nb": "railtracks_nb"}
    if importlib.util.find_spec("railtracks") is not None:
        from importlib.metadata import version

        engines[f"railtracks {version('railtracks')}"] = "railtracks"
    else:
        print("(railtracks is not importable here: its columns are left out)\n")

    results: list[dict[str, object]] = []
    print(f"{'workload':<11} {'calls':>8} {'engine':<20} {'us/call':>9} {'x asyncio':>10}")
    for workload in ("sequential", "fan-out"):
        for n in sizes:
            base = measure("asyncio", workload, n, args.repeat) / n * 1e6
            rows = [("bare asyncio", base)]
            for label, module in engines.items():
                if module != "railtracks_nb" and n > args.railtracks_max:
                    continue
                rows.append((label, measure(module, workload, n, args.repeat) / n * 1e6))
            for label, us in rows:
                print(f"{workload:<11} {n:>8,} {label:<20} {us:>9.1f} {us / base:>10.2f}")
                results.append(
                    {
                        "workload": workload,
                        "calls": n,
                        "engine": label,
                        "us_per_call": us,
                        "ratio_to_asyncio": us / base,
                    }
                )
    imp = import_time("railtracks_nb")
    print(f"\nimport railtracks_nb: {imp * 1000:.0f} ms (median of 5 fresh interpreters)")
    results.append({"workload": "import", "engine": "railtracks_nb", "seconds": imp})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Engine overhead, side by side: our defaults, ``save_state=False``, bare asyncio, peers.

    python bench/bench_engine.py                # sizes 1,000 / 10,000 / 100,000
    python bench/bench_engine.py --quick        # 100 / 1,000 (a smoke run)
    python bench/bench_engine.py --rounds 3 --json out.json
    python bench/bench_engine.py --sizes 10000,100000 --ours-only --no-heavy \
        --baseline /tmp/base    # before/after: /tmp/base holds another railtracks_nb

Workloads (see ``bench/peers.py``), each with a trivial async leaf:

* sequential: one node awaits ``rt.call(leaf, i)`` N times, one after the other;
  bare asyncio awaits ``asyncio.create_task(leaf(i))`` N times.
* fan-out: one node gathers N ``rt.call(leaf, i)``; bare asyncio gathers N
  ``create_task(leaf(i))``.

Columns:

* ``railtracks_nb`` is an ``rt.Flow`` with its defaults (``save_state=True``:
  the session is saved to ``.railtracks/`` when it closes, in a scratch folder);
* ``save_state=False`` is the same flow not saving;
* ``baseline`` (with ``--baseline DIR``): the defaults again, with the
  ``railtracks_nb`` package found in ``DIR`` (``git archive main railtracks_nb |
  tar -x -C DIR``), so a change is measured against what it changes in the same
  alternating rounds;
* ``railtracks``, ``langgraph``, ``burr``, ``pydantic-graph``: the same workload on
  those engines, when they are importable in this interpreter's environment
  (they are not dependencies of the project); their sizes are capped
  (``--peer-max``, and ``PEER_MAX`` for the slowest).

Every measurement runs in a fresh interpreter that imports only what it
measures (the garbage collector walks every live object of a process, so one
engine's imports would slow another), and rounds alternate the engines so a
noisy machine hits all of them alike. Each figure is microseconds per call:
the minimum and the median over ``--rounds`` x ``--repeat`` runs.

The heavy-heap measurement runs the fan-out at 1,000 and 10,000 in a process
holding a million live objects (built by the worker), with the collector on
and never collected by hand: each figure is the total time of enough
consecutive sessions for 100,000 calls, divided by the calls, so full
collections of that heap are charged to the calls that cause them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import importlib.util
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: label -> importable module that must exist for the column to be measured.
PEERS = {
    "railtracks": "railtracks",
    "langgraph": "langgraph",
    "burr": "burr",
    "pydantic-graph": "pydantic_graph",
}
#: The largest size a peer runs a workload at (``--peer-max`` caps them all):
#: Railtracks' fan-out cost per call grows with the fan-out (tens of milliseconds a
#: call at 1,000: minutes a run), and pydantic-graph's builder graphs take
#: milliseconds a step.
PEER_MAX = {
    ("railtracks", "sequential"): 1_000,
    ("railtracks", "fan-out"): 100,
    ("pydantic-graph", "sequential"): 1_000,
    ("pydantic-graph", "fan-out"): 1_000,
}
OURS = ("railtracks_nb", "save_state=False")
#: Where the ``baseline`` engine imports its railtracks_nb from (``--baseline``).
BASELINE_ENV = "RT_BENCH_BASELINE"


async def bare_leaf(i: int) -> int:
    return i


async def bare_sequential(n: int) -> None:
    for i in range(n):
        await asyncio.create_task(bare_leaf(i))


async def bare_fanout(n: int) -> None:
    await asyncio.gather(*(asyncio.create_task(bare_leaf(i)) for i in range(n)))


def workloads(engine: str) -> dict[str, Callable[[int], Awaitable[None]]]:
    """The workloads of ``engine``, imported in this (worker) process only."""
    if engine == "asyncio":
        return {"sequential": bare_sequential, "fan-out": bare_fanout}
    import peers

    if engine in (*OURS, "baseline"):
        sys.path.insert(0, os.environ[BASELINE_ENV] if engine == "baseline" else str(REPO))
        import railtracks_nb

        if engine in ("railtracks_nb", "baseline"):
            return peers.make_flow(railtracks_nb)  # the defaults: saves its state
        return peers.make_flow(railtracks_nb, save_state=False)
    if engine == "railtracks":
        return peers.make_railtracks_like(importlib.import_module("railtracks"), save_state=False)
    if engine == "langgraph":
        return peers.make_langgraph()
    if engine == "burr":
        return peers.make_burr()
    if engine == "pydantic-graph":
        return peers.make_pydantic_graph()
    raise ValueError(f"unknown engine {engine!r}")


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


class _Live:
    """One of the million objects a notebook's kernel holds (each with a list: 2 objects)."""

    __slots__ = ("items", "n")

    def __init__(self, n: int) -> None:
        self.n = n
        self.items = [n]


def worker(engine: str, workload: str, n: int, repeat: int, heavy: bool) -> None:
    """Measure one (engine, workload, size) in this fresh process; print seconds per call."""
    fn = workloads(engine).get(workload)
    if fn is None:
        print(json.dumps(None))
        return
    asyncio.run(fn(min(n, 100)))  # warm up imports and caches
    samples = []
    if heavy:
        heap = [_Live(i) for i in range(500_000)]
        assert len(gc.get_objects()) >= 1_000_000
        sessions = max(1, 100_000 // n)
        gc.collect()
        for _ in range(repeat):
            with quiet_stderr():
                start = time.perf_counter()
                for _ in range(sessions):
                    asyncio.run(fn(n))
                samples.append((time.perf_counter() - start) / (sessions * n))
        del heap
    else:
        for _ in range(repeat):
            gc.collect()
            with quiet_stderr():
                start = time.perf_counter()
                asyncio.run(fn(n))
                samples.append((time.perf_counter() - start) / n)
    print(json.dumps(samples))


def measure(engine: str, workload: str, n: int, repeat: int, heavy: bool = False) -> list[float]:
    """Seconds per call of ``repeat`` runs in a fresh interpreter ([] if not applicable)."""
    args = [sys.executable, __file__, "--worker", engine, workload, str(n), str(repeat)]
    out = subprocess.run(
        [*args, *(["--heavy"] if heavy else [])],
        capture_output=True,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},  # no network at import
    )
    if out.returncode != 0:
        raise RuntimeError(
            f"{engine} {workload} {n} failed ({out.returncode}):\n"
            f"{out.stdout[-500:]}{out.stderr[-3000:]}"
        )
    return json.loads(out.stdout.strip().splitlines()[-1]) or []


def import_time(module: str, runs: int = 5) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
        if out.returncode != 0:
            return float("nan")
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def _us(samples: list[float]) -> tuple[float, float]:
    return min(samples) * 1e6, statistics.median(samples) * 1e6


def run_table(
    engines: list[str], sizes: list[int], rounds: int, repeat: int, peer_max: int
) -> list[dict[str, object]]:
    """Every (workload, size, engine), rounds alternating the engines' order."""
    samples: dict[tuple[str, int, str], list[float]] = {}
    for r in range(rounds):
        for workload in ("sequential", "fan-out"):
            for n in sizes:
                order = engines if r % 2 == 0 else engines[::-1]
                for engine in order:
                    cap = min(peer_max, PEER_MAX.get((engine, workload), peer_max))
                    if engine in PEERS and n > cap:
                        continue
                    got = measure(engine, workload, n, repeat)
                    shown = ", ".join(f"{x * 1e6:.1f}" for x in got) or "n/a"
                    print(f"  round {r + 1}: {workload} {n:,} {engine}: {shown} us/call",
                          flush=True)  # fmt: skip
                    if got:
                        samples.setdefault((workload, n, engine), []).extend(got)
    results = []
    for workload in ("sequential", "fan-out"):
        for n in sizes:
            base = samples.get((workload, n, "asyncio"))
            for engine in engines:
                got = samples.get((workload, n, engine))
                if not got or not base:
                    continue
                lo, med = _us(got)
                base_lo, base_med = _us(base)
                results.append(
                    {
                        "workload": workload,
                        "calls": n,
                        "engine": engine,
                        "us_per_call_min": lo,
                        "us_per_call_median": med,
                        "x_asyncio_min": lo / base_lo,
                        "x_asyncio_median": med / base_med,
                    }
                )
    return results


def run_heavy(rounds: int, repeat: int) -> list[dict[str, object]]:
    samples: dict[tuple[str, int], list[float]] = {}
    engines = ["asyncio", "save_state=False"]
    for r in range(rounds):
        for n in (1_000, 10_000):
            for engine in engines if r % 2 == 0 else engines[::-1]:
                got = measure(engine, "fan-out", n, repeat, heavy=True)
                shown = ", ".join(f"{x * 1e6:.1f}" for x in got)
                print(f"  round {r + 1}: heavy heap fan-out {n:,} {engine}: {shown} us/call",
                      flush=True)  # fmt: skip
                samples.setdefault((engine, n), []).extend(got)
    results = []
    for (engine, n), got in samples.items():
        lo, med = _us(got)
        results.append(
            {"workload": "fan-out, 1M live objects", "calls": n, "engine": engine,
             "us_per_call_min": lo, "us_per_call_median": med}
        )  # fmt: skip
    return results


def print_table(results: list[dict[str, object]]) -> None:
    print(f"{'workload':<11} {'calls':>8} {'engine':<18} {'us/call min':>12} {'median':>8} "
          f"{'x asyncio':>10}")  # fmt: skip
    for row in results:
        ratio = row.get("x_asyncio_median")
        print(
            f"{row['workload']:<11} {row['calls']:>8,} {row['engine']:<18} "
            f"{row['us_per_call_min']:>12.1f} {row['us_per_call_median']:>8.1f} "
            f"{'' if ratio is None else f'{ratio:.2f}':>10}"
        )


def targets(results: list[dict[str, object]], heavy: list[dict[str, object]]) -> list[str]:
    """Each target with its figures and whether it is met (by median; min in brackets)."""

    def row(workload: str, n: int, engine: str) -> dict[str, object] | None:
        return next(
            (
                r
                for r in results
                if (r["workload"], r["calls"], r["engine"]) == (workload, n, engine)
            ),
            None,
        )

    lines = []
    sizes = sorted({int(r["calls"]) for r in results})  # type: ignore[call-overload]
    for workload in ("sequential", "fan-out"):
        ratios = [row(workload, n, "save_state=False") for n in sizes]
        worst = max(float(r["x_asyncio_median"]) for r in ratios if r)  # type: ignore[arg-type]
        lines.append(
            f"{workload} within 3x of bare asyncio: {'met' if worst <= 3 else 'NOT met'} "
            f"(worst {worst:.2f}x)"
        )
    for engine, label in (
        ("railtracks_nb", "defaults within 1.2x of save_state=False"),
        ("baseline", "baseline (--baseline) vs save_state=False"),
    ):
        for workload in ("sequential", "fan-out"):
            for n in sizes:
                on, off = row(workload, n, engine), row(workload, n, "save_state=False")
                if not (on and off):
                    continue
                med = float(on["us_per_call_median"]) / float(off["us_per_call_median"])  # type: ignore[arg-type]
                lo = float(on["us_per_call_min"]) / float(off["us_per_call_min"])  # type: ignore[arg-type]
                verdict = ""
                if engine == "railtracks_nb":
                    verdict = "met " if med <= 1.2 else "NOT met "
                lines.append(
                    f"{label}, {workload} {n:,}: {verdict}({med:.2f}x median, {lo:.2f}x min)"
                )
    fan = {n: row("fan-out", n, "save_state=False") for n in sizes}
    if 1_000 in fan and 10_000 in fan and fan[1_000] and fan[10_000]:
        growth = float(fan[10_000]["us_per_call_median"]) / float(fan[1_000]["us_per_call_median"])  # type: ignore[index,arg-type]
        lines.append(
            f"fan-out 10k within 1.25x of 1k: {'met' if growth <= 1.25 else 'NOT met'} "
            f"({growth:.2f}x)"
        )
    h = {(r["engine"], r["calls"]): float(r["us_per_call_median"]) for r in heavy}  # type: ignore[arg-type]
    if h:
        growth = h[("save_state=False", 10_000)] / h[("save_state=False", 1_000)]
        vs = h[("save_state=False", 10_000)] / h[("asyncio", 10_000)]
        lines.append(
            f"heavy heap: fan-out 10k within 1.25x of 1k: {'met' if growth <= 1.25 else 'NOT met'}"
            f" ({growth:.2f}x); within 3x of bare asyncio: {'met' if vs <= 3 else 'NOT met'}"
            f" ({vs:.2f}x at 10k)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--repeat", type=int, default=3, help="runs per fresh interpreter")
    parser.add_argument("--peer-max", type=int, default=10_000)
    parser.add_argument("--no-heavy", action="store_true", help="skip the heavy-heap runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--sizes", help="comma-separated sizes (default 1000,10000,100000)")
    parser.add_argument("--ours-only", action="store_true",
                        help="only bare asyncio and railtracks_nb (no peers)")  # fmt: skip
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="add a 'baseline' column: defaults, DIR's railtracks_nb")  # fmt: skip
    parser.add_argument("--worker", nargs=4, metavar=("ENGINE", "WORKLOAD", "N", "REPEAT"),
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--heavy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        args.json = args.json.resolve()
    if args.baseline:
        args.baseline = args.baseline.resolve()
    # Sessions save under the working directory: keep them out of the repo.
    os.chdir(tempfile.mkdtemp(prefix="rt-bench-"))
    os.environ.pop("RAILTRACKS_HOME", None)
    if args.worker:
        engine, workload, n, repeat = args.worker
        worker(engine, workload, int(n), int(repeat), args.heavy)
        return
    sizes = [100, 1_000] if args.quick else [1_000, 10_000, 100_000]
    if args.sizes:
        sizes = [int(size) for size in args.sizes.split(",")]
    engines = ["asyncio", *OURS]
    if args.baseline:
        if not (args.baseline / "railtracks_nb" / "__init__.py").is_file():
            parser.error(f"--baseline {args.baseline}: no railtracks_nb package in it")
        os.environ[BASELINE_ENV] = str(args.baseline)
        engines.append("baseline")
    for label, module in PEERS.items():
        if args.ours_only:
            break
        if importlib.util.find_spec(module) is not None:
            engines.append(label)
        else:
            print(f"({label} is not importable here: its column is left out)")
    results = run_table(engines, sizes, args.rounds, args.repeat, args.peer_max)
    print()
    print_table(results)
    heavy: list[dict[str, object]] = []
    if not args.no_heavy and not args.quick:
        heavy = run_heavy(args.rounds, args.repeat)
        print("\nheavy heap (1,000,000 live objects, collector on)")
        print_table(heavy)
    imp = import_time("railtracks_nb")
    print(f"\nimport railtracks_nb: {imp * 1000:.0f} ms (median of 5 fresh interpreters)")
    print("\ntargets (by median):")
    for line in targets(results, heavy):
        print("  " + line)
    if args.json:
        args.json.write_text(
            json.dumps({"table": results, "heavy": heavy, "import_s": imp}, indent=2)
        )


if __name__ == "__main__":
    main()

"""flow.map on Dask: a CPU-bound batch on 1 process vs a 2-worker LocalCluster,
and what going through Dask costs per session.

    .venv/bin/python bench/bench_dask.py [--inputs 2000] [--work-ms 20] [--rounds 2]
                                         [--trivial 1000] [--quick]

1. **CPU-bound batch**: ``--inputs`` inputs of a sync node doing ``--work-ms``
   of pure-Python arithmetic (it holds the GIL; the loop count is calibrated
   here first). Run, alternating in each round so machine noise hits both:
   - *1 process*: the same flow, one session per input, ``await flow.ainvoke``
     in turn in this process (``rt.call_batch`` does no better: its sync nodes
     share the GIL);
   - *LocalCluster, 2 workers* (processes, one thread each): ``flow.amap`` with
     saving off (``save_state=False``) and on (each session written into this
     process's store as it comes back).
2. **Per-session overhead** for a trivial node (returns its input):
   ``--trivial`` sessions locally vs through the 2-worker cluster; the
   difference per session is what Dask adds (task, result trip, rows).
3. **Per-batch costs**: starting the LocalCluster and a batch of one input
   (subscribing the feed, pickling and sending the flow, one round trip).

Reports the best and the median of ``--rounds``; a measurement, not a test:
exits 0 whatever the numbers. The cluster start is timed once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

import railtracks_nb as rt


@rt.function_node
def burn(loops: int) -> int:
    """Pure-Python work: holds the GIL for about ``--work-ms``."""
    total = 0
    for i in range(loops):
        total += (i * i) % 7
    return total


@rt.function_node
def echo(x: int) -> int:
    return x


def _cpu(dask_worker=None) -> float:
    """CPU seconds used so far by the process this runs in (a worker, with client.run)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def calibrate(work_ms: float) -> int:
    """The loop count that makes ``burn`` take about ``work_ms`` here."""
    loops = 10_000
    while True:
        start = time.perf_counter()
        burn(loops)
        took = time.perf_counter() - start
        if took > 0.005:
            best = min(_time(lambda n=loops: burn(n)) for _ in range(5))
            return max(1, int(loops * (work_ms / 1000) / best))
        loops *= 4


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


async def local(flow: rt.Flow, inputs: list[int]) -> float:
    start = time.perf_counter()
    for x in inputs:
        await flow.ainvoke(x)
    return time.perf_counter() - start


async def on_cluster(flow: rt.Flow, inputs: list[int], client, save: bool) -> float:
    start = time.perf_counter()
    result = await flow.amap(inputs, client=client, display=False, save_state=save)
    took = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"the batch failed: {list(result.errors.items())[:3]}")
    return took


def fmt(samples: list[float]) -> str:
    return f"best {min(samples):7.2f} s  median {statistics.median(samples):7.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--work-ms", type=float, default=20.0)
    parser.add_argument("--trivial", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="200 inputs, 200 trivial, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.inputs, args.trivial, args.rounds = 200, 200, 1
    os.environ["RAILTRACKS_HOME"] = tempfile.mkdtemp(prefix="rt-bench-dask-")
    from distributed import Client, LocalCluster

    loops = calibrate(args.work_ms)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; burn({loops}) ≈ "
          f"{1000 * _time(lambda: burn(loops)):.1f} ms here")  # fmt: skip
    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    cluster_start = time.perf_counter() - started
    try:
        heavy = rt.Flow("burn", burn, logging_setting="NONE", save_state=False)
        trivial = rt.Flow("echo", echo, logging_setting="NONE", save_state=False)
        work = [loops] * args.inputs
        # Warm up: imports and first-call costs on both sides.
        asyncio.run(on_cluster(heavy, work[:4], client, save=False))
        asyncio.run(local(heavy, work[:4]))
        one_input = [asyncio.run(on_cluster(trivial, [1], client, save=False)) for _ in range(5)]

        results: dict[str, list[float]] = {"1 process": [], "2 workers": [], "2 workers, saved": []}
        for _ in range(args.rounds):
            results["1 process"].append(asyncio.run(local(heavy, work)))
            results["2 workers"].append(asyncio.run(on_cluster(heavy, work, client, save=False)))
            results["2 workers, saved"].append(
                asyncio.run(on_cluster(heavy, work, client, save=True))
            )
        trivial_in = list(range(args.trivial))
        t_local: list[float] = []
        t_dask: list[float] = []
        cpu_local: list[float] = []
        cpu_here: list[float] = []
        cpu_workers: list[float] = []
        for _ in range(args.rounds):
            c0 = time.process_time()
            t_local.append(asyncio.run(local(trivial, trivial_in)))
            cpu_local.append(time.process_time() - c0)
            w0, c0 = client.run(_cpu), time.process_time()
            t_dask.append(asyncio.run(on_cluster(trivial, trivial_in, client, save=False)))
            cpu_here.append(time.process_time() - c0)
            w1 = client.run(_cpu)
            cpu_workers.append(sum(w1[k] - w0[k] for k in w1 if k in w0))
    finally:
        client.close()
        cluster.close()

    ideal = args.inputs * args.work_ms / 1000
    print(f"\nCPU-bound batch: {args.inputs} inputs x {args.work_ms:g} ms "
          f"(pure Python, serial work {ideal:.1f} s), {args.rounds} round(s)")  # fmt: skip
    base = min(results["1 process"])
    for name, samples in results.items():
        print(f"  {name:<18} {fmt(samples)}   speed-up {base / min(samples):4.2f}x   "
              f"{args.inputs / min(samples):6.1f} sessions/s")  # fmt: skip
    per_local = min(t_local) / args.trivial
    per_dask = min(t_dask) / args.trivial
    print(f"\nTrivial node, {args.trivial} sessions:")
    print(f"  1 process          {1e3 * per_local:7.3f} ms/session  ({fmt(t_local)})")
    print(f"  2 workers          {1e3 * per_dask:7.3f} ms/session of batch wall time "
          f"({fmt(t_dask)})")  # fmt: skip
    print(f"  Dask adds          {1e3 * (per_dask - per_local):7.3f} ms per session "
          f"(wall, 2 workers in parallel)")  # fmt: skip
    n = args.trivial
    print(f"  CPU per session: 1 process {1e3 * min(cpu_local) / n:6.3f} ms; through Dask "
          f"{1e3 * min(cpu_workers) / n:6.3f} ms on the workers + "
          f"{1e3 * min(cpu_here) / n:6.3f} ms here (client, scheduler, saving off)")  # fmt: skip
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} CPUs)")
    print("\nPer batch:")
    print(f"  LocalCluster start (2 processes)   {cluster_start:6.2f} s")
    print(f"  a batch of one trivial input       best {min(one_input):6.3f} s, "
          f"median {statistics.median(one_input):6.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()

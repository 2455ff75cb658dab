"""What saving a session costs next to running it (target: at most 20 % of the run).

    python bench/bench_save.py                                  # 10,000 and 100,000 nodes
    python bench/bench_save.py --sizes 10000 --rounds 5 --baseline /tmp/base

The workloads are those of ``bench_engine.py`` (a chain and a fan-out of trivial
async nodes). For each workload and size, a fresh interpreter runs an
``rt.Flow`` with ``save_state=False`` (timed: the run), then saves that session
the way closing it with the defaults does (``store.persistence.save_session``;
timed: the save, wall clock and CPU), ``--repeat`` times. ``save / run`` is what
the defaults add to a run: at most 0.20 is the "defaults within 1.2x of
``save_state=False``" target, measured without the noise of two separate runs.

Next to each save, its floor: the same file decoded into ready-made msgspec
structs (untimed), then encoded by msgspec a slice of 250 records at a time and
streamed to disk by the checkout's own atomic writer (write, fsync, rename), as
the save does. That is about what saving would cost if building the records cost
nothing (about, not at least: the decoded structs share no strings, where the
engine's records do), so a ``floor / run`` above 0.20 says the target cannot be
met by building the records faster, only by writing less or elsewhere.

With ``--baseline DIR`` the same is measured with the ``railtracks_nb`` package in
``DIR`` (``git archive main railtracks_nb | tar -x -C DIR``), rounds alternating
the two, so a change to saving is measured against what it changes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent


def worker(code: str, workload: str, n: int, repeat: int) -> None:
    """In this fresh process: run and save ``repeat`` sessions; print their timings."""
    sys.path[:0] = [code, str(BENCH)]
    import peers

    import railtracks_nb as rt
    from railtracks_nb.store.persistence import save_session

    sequential, fanout = peers._entry_nodes(rt)
    entry = sequential if workload == "sequential" else fanout
    flow = rt.Flow(f"bench-save-{workload}", entry, save_state=False, timeout=3600.0)
    asyncio.run(flow.ainvoke(100))  # warm up imports and caches
    save_session(flow.last_session).unlink()
    samples = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        asyncio.run(flow.ainvoke(n))
        run = time.perf_counter() - start
        session = flow.last_session
        wall, cpu = time.perf_counter(), time.process_time()
        path = save_session(session)
        save_wall, save_cpu = time.perf_counter() - wall, time.process_time() - cpu
        size = path.stat().st_size
        samples.append((run, save_wall, save_cpu, *floor(path)))
        path.unlink()
        del session
    print(json.dumps({"samples": samples, "bytes": size}))


# The saved-state document as msgspec structs, for the floor (see floor()).
class Stamp(msgspec.Struct, gc=False):
    step: int
    time: float
    identifier: str

class Node(msgspec.Struct, gc=False):
    identifier: str
    node_type: str
    name: str
    stamp: Stamp
    details: Any
    parent: Node | None

class Edge(msgspec.Struct, gc=False):
    identifier: str
    source: str | None
    target: str
    stamp: Stamp
    details: Any
    parent: Edge | None

class Run(msgspec.Struct, gc=False):
    session_id: Any
    run_id: str
    name: str
    status: str
    start_time: float
    end_time: float | None
    nodes: list[Node]
    edges: list[Edge]
    steps: list[Stamp]

class Document(msgspec.Struct, gc=False, kw_only=True):
    flow_name: Any = None
    flow_id: Any = None
    session_id: str
    session_name: Any
    start_time: float
    end_time: float
    runs: list[Run]
    railtracks_nb: Any = None



def floor(path: Path) -> tuple[float, float]:
    """(encode s, write s) of ``path``'s document from ready-made structs: see the docstring.

    Encoded as the save encodes, a slice of 250 records at a time into one buffer,
    and written by the measured checkout's own atomic writer."""
    from railtracks_nb.store.files import atomic_write_chunks

    document = msgspec.json.decode(path.read_bytes(), type=Document)
    lists = [items for run in document.runs for items in (run.nodes, run.edges, run.steps)]
    document.runs = []
    gc.collect()
    encoder, buffer = msgspec.json.Encoder(), bytearray()
    encoding = [0.0]

    def pieces() -> Iterator[bytes]:  # streamed to the file as the save streams them
        start = time.perf_counter()
        yield encoder.encode(document)
        for items in lists:
            for at in range(0, len(items), 250):
                encoder.encode_into(items[at : at + 250], buffer)
                piece = bytes(buffer)
                encoding[0] += time.perf_counter() - start
                yield piece
                start = time.perf_counter()

    copy = path.with_name(f"floor-{path.name}")
    start = time.perf_counter()
    atomic_write_chunks(copy, pieces())
    total = time.perf_counter() - start
    copy.unlink()
    encoded = encoding[0]
    written = total - encoded
    return encoded, written


def measure(code: Path, workload: str, n: int, repeat: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(code), workload, str(n), str(repeat)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{code} {workload} {n} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--repeat", type=int, default=3, help="sessions per fresh interpreter")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also measure the railtracks_nb package in DIR")  # fmt: skip
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        os.chdir(tempfile.mkdtemp(prefix="rt-bench-save-"))
        os.environ.pop("RAILTRACKS_HOME", None)
        code, workload, n, repeat = args.worker
        worker(code, workload, int(n), int(repeat))
        return
    codes = {"this checkout": REPO}
    if args.baseline:
        if not (args.baseline / "railtracks_nb" / "__init__.py").is_file():
            parser.error(f"--baseline {args.baseline}: no railtracks_nb package in it")
        codes["baseline"] = args.baseline.resolve()
    sizes = [int(size) for size in args.sizes.split(",")]
    got: dict[tuple[str, int, str], list[list[float]]] = {}
    for r in range(args.rounds):
        for workload in ("sequential", "fan-out"):
            for n in sizes:
                order = list(codes) if r % 2 == 0 else list(codes)[::-1]
                for label in order:
                    result = measure(codes[label], workload, n, args.repeat)
                    samples = result["samples"]
                    got.setdefault((workload, n, label), []).extend(samples)  # type: ignore[arg-type]
                    shown = ", ".join(f"{s[1] / s[0]:.2f}" for s in samples)  # type: ignore[attr-defined]
                    print(f"  round {r + 1}: {workload} {n:,} {label}: save/run {shown}"
                          f" ({int(result['bytes']) / n:,.0f} bytes a node)", flush=True)  # type: ignore[call-overload]  # fmt: skip
    print(f"\n{'workload':<11} {'nodes':>8} {'code':<14} {'run s':>13} {'save s':>13} "
          f"{'save CPU s':>13} {'save/run':>11} {'floor/run':>11}   (min / median)")  # fmt: skip
    for (workload, n, label), samples in got.items():
        runs, saves, cpus, _, _ = zip(*samples, strict=True)
        ratios = [sample[1] / sample[0] for sample in samples]
        floors = [(sample[3] + sample[4]) / sample[0] for sample in samples]

        def pair(values: tuple[float, ...] | list[float]) -> str:
            return f"{min(values):.3f}/{statistics.median(values):.3f}"

        print(f"{workload:<11} {n:>8,} {label:<14} {pair(runs):>13} {pair(saves):>13} "
              f"{pair(cpus):>13} {pair(ratios):>11} {pair(floors):>11}")  # fmt: skip
    print("\ntarget: saving at most 20 % of the run (defaults within 1.2x of save_state=False)")
    for (workload, n, label), samples in got.items():
        median = statistics.median(sample[1] / sample[0] for sample in samples)
        least = statistics.median((sample[3] + sample[4]) / sample[0] for sample in samples)
        verdict = "met" if median <= 0.2 else "NOT met"
        print(f"  {workload} {n:,} {label}: {verdict} (save/run {median:.2f} median;"
              f" floor/run {least:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()

"""What drawing a session's call tree costs: the static display, the exports, networkx.

    .venv/bin/python bench/bench_views.py [--nodes 10000] [--repeat 5] [--rounds 3]
        [--baseline DIR]

One N-node session (an entry node calling ``sqrt(N)`` nodes that each call about
as many leaves, one in seven failing) is run once per worker process; then each
view of it is timed ``--repeat`` times: the rich display (``mimebundle``: text and
HTML/SVG) of the session, of its ``ExecutionInfo``, of the file it was saved to
(loaded with ``rt.load``) and of its payload dict; the Mermaid, DOT and GraphML
exports; ``to_networkx``; the JSON export (the file boundary, for reference).

``--baseline DIR``: a checkout of another version of the package (``DIR`` holds
its ``railtracks_nb/``). Workers of the two versions then alternate (baseline,
this one, baseline, ...) ``--rounds`` times, so machine noise hits both alike, and
the table gives the minimum and the median over every repeat of each and their
ratio. Prints a table; exits 0 whatever the numbers (a measurement, not a test).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _worker(nodes: int, repeat: int) -> dict[str, list[float]]:
    import railtracks_nb as rt
    from railtracks_nb.notebook.display import mimebundle

    width = max(1, round(math.sqrt(nodes)))

    @rt.function_node
    def leaf(i: int) -> int:
        if i % 7 == 3:
            raise ValueError(f"{i} is bad")
        return i

    @rt.function_node
    async def middle(first: int, count: int) -> int:
        total = 0
        for i in range(first, first + count):
            try:
                total += await rt.call(leaf, i)
            except ValueError:
                pass
        return total

    @rt.function_node
    async def entry(n: int) -> int:
        per = max(1, (n - 1) // width - 1)
        return sum([await rt.call(middle, k * per, per) for k in range(width)])

    with rt.Session(save_state=False, logging_setting="NONE", name="views") as session:
        rt.call_sync(entry, nodes)
    folder = Path(tempfile.mkdtemp(prefix="rt-bench-views-"))
    saved = rt.load(rt.export(session, folder / "saved.json"))
    payload = session.to_payload()
    info = session.rt_state.info
    assert len(info.node_forest) >= nodes * 0.95, len(info.node_forest)
    views = {
        "display(session)": lambda: mimebundle(session),
        "display(info)": lambda: mimebundle(info),
        "display(loaded file)": lambda: mimebundle(saved),
        "display(payload dict)": lambda: mimebundle(payload),
        "export .mmd": lambda: rt.export(session, folder / "g.mmd"),
        "export .dot": lambda: rt.export(session, folder / "g.dot"),
        "export .graphml": lambda: rt.export(session, folder / "g.graphml"),
        "to_networkx": info.to_networkx,
        "export .json": lambda: rt.export(session, folder / "g.json"),
    }
    times: dict[str, list[float]] = {name: [] for name in views}
    for _ in range(repeat):
        for name, view in views.items():
            start = time.perf_counter()
            view()
            times[name].append(time.perf_counter() - start)
    return times


def _run(root: Path, nodes: int, repeat: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, __file__, "--worker", "--nodes", str(nodes), "--repeat", str(repeat)]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.nodes, args.repeat)))
        return
    versions = {"this": HERE}
    if args.baseline is not None:
        versions = {"baseline": args.baseline.resolve(), **versions}
    times: dict[str, dict[str, list[float]]] = {v: {} for v in versions}
    for _ in range(args.rounds):
        for version, root in versions.items():
            for name, values in _run(root, args.nodes, args.repeat).items():
                times[version].setdefault(name, []).extend(values)
    print(f"{args.nodes} nodes, {args.rounds} rounds x {args.repeat} repeats; ms: min / median")
    header = f"{'view':<24}" + "".join(f"{v:>22}" for v in versions)
    print(header + ("   ratio (median)" if len(versions) == 2 else ""))
    for name in times["this"]:
        cells, medians = [], []
        for version in versions:
            values = times[version][name]
            medians.append(statistics.median(values))
            cells.append(f"{min(values) * 1e3:9.1f} / {medians[-1] * 1e3:9.1f}")
        ratio = f"   {medians[-1] / medians[0]:.2f}" if len(versions) == 2 else ""
        print(f"{name:<24}" + "".join(f"{c:>22}" for c in cells) + ratio)


if __name__ == "__main__":
    main()

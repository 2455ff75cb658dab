"""What the front end costs on big sessions, measured in headless Chromium.

    .venv/bin/python bench/bench_front_end.py [--nodes 100000] [--live-nodes 5000]
        [--loads 3] [--bundle NAME=path/to/standalone.js ...]

1. **First draw**: the exported ``.html`` page of an N-node fan-out (default
   100,000), from navigation start to the dashboard being rendered
   (``window.__railtracksReady``) plus one frame.
2. **Delta stream**: a live session of ``--live-nodes`` nodes recorded with the
   feed's rate limit off, so every message is its own delta (about two deltas
   per node: the default 5,000 nodes make a stream of some 10,000 deltas).
   Measured two ways in a dashboard mounted on the session's starting data:
   *store*: every delta applied and the call tree read (``store.index()``)
   after each, in one synchronous loop (what the store costs per delta, with a
   draw after each); *page*: the deltas posted ``BATCH`` to a task, as a comm
   delivers what arrived together, with the views drawing between tasks, until
   the graph has drawn every node.

``--bundle`` (repeatable) names other builds of ``standalone.js`` to compare
(e.g. the one of an earlier commit); the current bundle is always measured.
Rounds alternate between bundles, so machine noise hits them alike. Prints a
table; exits 0 whatever the numbers (a measurement, not a test).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import railtracks_nb as rt
from railtracks_nb.notebook import widgets
from railtracks_nb.notebook.export import export

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.bench_dashboard import fan_out  # noqa: E402  (the same N-leaf fan-out)
from tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

STATIC = ROOT / "railtracks_nb" / "static"


def finished_session(n: int) -> rt.Session:
    session = rt.Session(save_state=False, logging_setting="NONE", name=f"fan-out-{n}")
    with session:
        rt.call_sync(fan_out, n)
    return session


def recorded_stream(n: int) -> tuple[dict, list]:
    """The starting data and every delta of a live ``n``-node session, one delta per message."""
    sent: list = []
    session = rt.Session(save_state=False, logging_setting="NONE", name=f"live-{n}")
    old_interval = widgets._LiveFeed.MIN_INTERVAL
    widgets._LiveFeed.MIN_INTERVAL = 0.0
    try:
        with session:
            w = widgets.SessionDashboard(session)
            w.send = lambda content, buffers=None: sent.append(
                (json.loads(json.dumps(content)), [bytes(b).decode() for b in buffers or []])
            )
            start = json.loads(w.data)
            rt.call_sync(fan_out, n)
        w.close()
    finally:
        widgets._LiveFeed.MIN_INTERVAL = old_interval
    return start, [(m, b) for m, b in sent if m.get("type") == "delta"]


#: Deltas delivered per task in the page stream (a comm hands over what has arrived
#: together; one per task would time the display's frame rate, not our work).
BATCH = 20

HOST = """<!doctype html><meta charset="utf-8"><style>{css}</style>
<div id="app" style="width:1300px"></div><script>{script}</script>"""

MOUNT = """(start) => {
  const el = document.getElementById('app');
  window.__mounted = RailtracksWidgets.mount(el, start, {view: 'dashboard', height: 620});
  window.__view = el.rtView;
}"""

STORE_LOOP = """([deltas, total]) => {
  const store = window.__view.graph.store;
  const enc = new TextEncoder();
  const msgs = deltas.map(([d, bufs]) => [d, bufs.map((b) => new DataView(enc.encode(b).buffer))]);
  const t0 = performance.now();
  for (const [d, bufs] of msgs) { store.applyDelta(d, bufs); store.index(); }
  const ms = performance.now() - t0;
  if (store.index().nodes.size !== total) throw new Error('nodes: ' + store.index().nodes.size);
  return ms;
}"""

PAGE_STREAM = """([deltas, total, BATCH]) => new Promise((resolve, reject) => {
  const model = window.__mounted.model;
  const enc = new TextEncoder();
  const msgs = deltas.map(([d, bufs]) => [d, bufs.map((b) => new DataView(enc.encode(b).buffer))]);
  const channel = new MessageChannel();
  let i = 0;
  const t0 = performance.now();
  const graph = window.__view.graph;
  channel.port1.onmessage = () => {
    if (i < msgs.length) {
      const end = Math.min(i + BATCH, msgs.length);
      for (; i < end; i++) model.emit('msg:custom', ...msgs[i]);
      channel.port2.postMessage(0);
      return;
    }
    const done = () => {
      const store = graph.store;
      if (store.index().nodes.size >= total && graph.renderedVersion === store.version) {
        requestAnimationFrame(() => resolve(performance.now() - t0));
      } else if (performance.now() - t0 > 600000) reject(new Error('timed out'));
      else setTimeout(done, 5);
    };
    done();
  };
  channel.port2.postMessage(0);
})"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--live-nodes", type=int, default=5_000)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--bundle", action="append", default=[], metavar="NAME=PATH")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"skipped: {CHROMIUM} not found (apt-get install chromium)")
        return 0
    current = (STATIC / "standalone.js").read_text(encoding="utf-8")
    bundles = {"current": current}
    for spec in args.bundle:
        name, _, path = spec.partition("=")
        bundles[name] = Path(path).read_text(encoding="utf-8")
    css = (STATIC / "widget.css").read_text(encoding="utf-8")

    from playwright.sync_api import sync_playwright

    draw: dict[str, list[float]] = {name: [] for name in bundles}
    store_ms: dict[str, list[float]] = {name: [] for name in bundles}
    page_ms: dict[str, list[float]] = {name: [] for name in bundles}
    with tempfile.TemporaryDirectory() as tmp:
        html = export(finished_session(args.nodes), Path(tmp) / "big.html").read_text(
            encoding="utf-8"
        )
        assert current in html, "the exported page does not inline the current bundle"
        pages = {}
        for name, script in bundles.items():
            pages[name] = Path(tmp) / f"big-{name}.html"
            pages[name].write_text(html.replace(current, script), encoding="utf-8")
            (Path(tmp) / f"host-{name}.html").write_text(
                HOST.format(css=css, script=script), encoding="utf-8"
            )
        start, deltas = recorded_stream(args.live_nodes)
        total = args.live_nodes + 1  # the fan-out and its leaves
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for i in range(args.loads):
                    order = list(bundles) if i % 2 == 0 else list(reversed(bundles))
                    for name in order:
                        page = browser.new_page(viewport={"width": 1400, "height": 900})
                        page.goto(pages[name].as_uri())
                        page.wait_for_function(
                            "window.__railtracksReady !== undefined", timeout=120_000
                        )
                        page.evaluate(
                            "new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))"
                        )
                        draw[name].append(page.evaluate("window.__railtracksReady") / 1000.0)
                        page.close()
                        for loop, into in ((STORE_LOOP, store_ms), (PAGE_STREAM, page_ms)):
                            page = browser.new_page(viewport={"width": 1400, "height": 900})
                            page.set_default_timeout(600_000)
                            page.goto((Path(tmp) / f"host-{name}.html").as_uri())
                            page.evaluate(MOUNT, start)
                            into[name].append(page.evaluate(loop, [deltas, total, BATCH]) / 1000.0)
                            page.close()
            finally:
                browser.close()

    def fmt(values: list[float]) -> str:
        return f"median {statistics.median(values):7.3f} s  min {min(values):7.3f} s"

    print(f"\nfront end in Chromium: first draw of {args.nodes + 2:,} nodes (exported page);")
    print(
        f"a stream of {len(deltas):,} deltas ({args.live_nodes:,} live nodes), "
        f"{args.loads} rounds\n"
    )
    for name in bundles:
        print(f"{name:>10}  first draw  {fmt(draw[name])}")
        print(f"{'':>10}  deltas, store + index() each  {fmt(store_ms[name])}")
        print(f"{'':>10}  deltas, dashboard drawing     {fmt(page_ms[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

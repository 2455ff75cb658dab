// Session state: name, id, lifecycle state, elapsed time against the timeout,
// node counts by status, context variables and the last errors.

import { countsAt, type Store, timeAt } from "./store";
import { el, fmtDuration, fmtInt, fmtTime, frameScheduler, pretty } from "./util";

export class StatePanel {
  readonly root: HTMLDivElement;
  private step: number | null = null;
  private unsub: () => void;
  private timer: ReturnType<typeof setInterval> | null = null;
  readonly schedule: () => void;

  constructor(
    container: HTMLElement,
    private store: Store,
  ) {
    this.root = el("div", "rt-state");
    container.appendChild(this.root);
    this.schedule = frameScheduler(() => this.render());
    this.unsub = store.subscribe(() => this.schedule());
    // The elapsed-time bar moves on the client clock while a request is in flight,
    // so it keeps ticking even while the kernel is busy.
    this.timer = setInterval(() => {
      if (this.step === null && this.store.extras.state === "BUSY") this.render();
    }, 500);
    this.render();
  }

  destroy(): void {
    this.unsub();
    if (this.timer) clearInterval(this.timer);
    this.root.remove();
  }

  setStep(step: number | null): void {
    this.step = step;
    this.render();
  }

  private lifecycleAt(step: number | null): string {
    const x = this.store.extras;
    if (step === null || !x.state_history?.length) return x.state ?? "—";
    let state = x.state_history[0]?.old ?? "INIT";
    for (const h of x.state_history) {
      if (h.step !== undefined && h.step > step) break;
      state = h.new;
    }
    return state;
  }

  render(): void {
    const s = this.store;
    const x = s.extras;
    const index = s.index();
    const step = this.step;
    const counts = countsAt(index, step);
    const state = this.lifecycleAt(step);

    const head = el("div", "rt-state-head");
    head.append(
      el("span", "rt-state-name", s.title),
      el("span", `rt-badge rt-life rt-life-${state.toLowerCase()}`, state),
    );
    if (x.status) head.append(el("span", `rt-badge rt-status-${String(x.status).toLowerCase()}`, String(x.status)));
    const ids = el("div", "rt-state-ids");
    ids.append(el("span", "rt-muted", "id "), el("code", "rt-session-id", s.meta.session_id || "—"));
    if (x.parent_id) ids.append(el("span", "rt-muted", " · remixed from "), el("code", undefined, String(x.parent_id)));
    ids.append(el("span", "rt-muted", ` · started ${fmtTime(s.meta.start_time)}`));

    // Elapsed: of the run in flight, else of the latest run, against the per-request timeout.
    const runs = s.runHeaders();
    const current = [...runs].reverse().find((r) => r.status === "Open") ?? runs[runs.length - 1];
    let elapsed = 0;
    if (current) {
      let end: number;
      if (step !== null) end = timeAt(index, step);
      else if (current.status === "Open" && state === "BUSY") end = Date.now() / 1000;
      else end = current.end_time ?? index.lastTime;
      elapsed = Math.max(0, end - current.start_time);
    }
    const timeout = typeof x.timeout === "number" && x.timeout > 0 ? x.timeout : null;
    const progress = el("div", "rt-progress");
    const bar = el("div", "rt-progress-bar");
    const frac = timeout ? Math.min(1, elapsed / timeout) : 0;
    bar.style.width = `${(frac * 100).toFixed(1)}%`;
    if (frac > 0.9) bar.classList.add("rt-progress-late");
    progress.appendChild(bar);
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-valuenow", String(Math.round(frac * 100)));
    const elapsedText = el(
      "div",
      "rt-elapsed",
      timeout
        ? `elapsed ${fmtDuration(elapsed)} of ${fmtDuration(timeout)} timeout${current ? ` (run ${current.name})` : ""}`
        : `elapsed ${fmtDuration(elapsed)}`,
    );

    const countsEl = el("div", "rt-counts");
    for (const [label, n, cls] of [
      ["nodes", counts.total, "total"],
      ["open", counts.Open, "open"],
      ["completed", counts.Completed, "completed"],
      ["failed", counts.Failed, "failed"],
    ] as const) {
      const c = el("span", `rt-count rt-count-${cls}`);
      c.append(el("b", undefined, fmtInt(n)), el("span", undefined, ` ${label}`));
      countsEl.appendChild(c);
    }
    countsEl.append(el("span", "rt-count", `${fmtInt(runs.length)} run${runs.length === 1 ? "" : "s"}`));

    const cols = el("div", "rt-state-cols");
    const ctxBox = el("div", "rt-context");
    ctxBox.append(el("h4", undefined, "Context"));
    const ctx = x.context ?? {};
    if (!Object.keys(ctx).length) ctxBox.append(el("p", "rt-muted", "no context variables"));
    else {
      const table = el("table", "rt-kv");
      for (const [k, v] of Object.entries(ctx)) {
        const tr = el("tr");
        tr.append(el("th", undefined, k), el("td", undefined, pretty(v, 300)));
        table.appendChild(tr);
      }
      ctxBox.append(table);
    }
    const errBox = el("div", "rt-errors");
    const errors = (x.errors ?? []).filter((e) => step === null || e.step === undefined || e.step <= step);
    const total = step === null ? (x.error_count ?? errors.length) : errors.length;
    errBox.append(el("h4", undefined, `Errors (${fmtInt(total)})`));
    if (!errors.length) errBox.append(el("p", "rt-muted", "no errors"));
    else {
      const ul = el("ul", "rt-error-list");
      for (const e of errors.slice(-8).reverse()) {
        ul.append(el("li", undefined, `${e.node_name ?? "?"}: ${e.type ?? "Error"}: ${e.message ?? ""}`));
      }
      errBox.append(ul);
    }
    cols.append(ctxBox, errBox);
    this.root.replaceChildren(head, ids, progress, elapsedText, countsEl, cols);
    this.root.dataset.state = state;
    this.root.dataset.total = String(counts.total);
  }
}

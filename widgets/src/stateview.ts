// Session state: name, id, lifecycle state, elapsed time against the timeout,
// node counts by status, context variables and the last errors.

import { countsAt, edgeSnapAt, type ErrorEntry, type Index, type Store, timeAt } from "./store";
import { el, fmtDuration, fmtInt, fmtTime, pretty, Redrawing } from "./util";
import {
  LIFECYCLE_COLOURS,
  LIFECYCLE_LABEL,
  OUTCOME_COLOURS,
  OUTCOME_LABEL,
  type SessionOutcome,
  sessionOutcome,
  TEXT_ON_FILL,
} from "./vocabulary";

/** A labelled badge: "lifecycle IDLE", "outcome completed". */
function badge(label: string, word: string, fill: string | undefined, cls: string): HTMLSpanElement {
  const box = el("span", `rt-labelled ${cls}`);
  const b = el("span", "rt-badge", word);
  b.style.background = fill ?? "transparent";
  b.style.color = TEXT_ON_FILL;
  box.append(el("span", "rt-muted", `${label} `), b);
  box.dataset.value = word;
  return box;
}

export class StatePanel {
  readonly root: HTMLDivElement;
  private step: number | null = null;
  private readonly redrawing: Redrawing;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    container: HTMLElement,
    private store: Store,
  ) {
    this.root = el("div", "rt-state");
    container.appendChild(this.root);
    this.redrawing = new Redrawing(store, () => this.render());
    // The elapsed-time bar moves on the client clock while a request is in flight,
    // so it keeps ticking even while the kernel is busy.
    this.timer = setInterval(() => {
      if (this.step === null && this.store.extras.state === "BUSY") this.render();
    }, 500);
    this.render();
  }

  destroy(): void {
    this.redrawing.release();
    if (this.timer) clearInterval(this.timer);
    this.root.remove();
  }

  setStep(step: number | null): void {
    this.step = step;
    this.render();
  }

  /** The lifecycle state at `step`. A file with no lifecycle record (one saved by
   * Railtracks) was saved when its session closed: IDLE. */
  private lifecycleAt(step: number | null): string {
    const x = this.store.extras;
    const closed = this.store.meta.end_time !== null && this.store.meta.end_time !== undefined;
    if (step === null || !x.state_history?.length) return x.state ?? (closed ? "IDLE" : "INIT");
    let state = x.state_history[0]?.old ?? "INIT";
    for (const h of x.state_history) {
      if (h.step !== undefined && h.step > step) break;
      state = h.new;
    }
    return state;
  }

  /** The session's outcome at `step`: its saved outcome at the end; before that,
   * open while a node is open, else how the runs that had ended by then went. */
  private outcomeAt(index: Index, step: number | null, open: number, total: number): SessionOutcome {
    const s = this.store;
    const runs = s.runHeaders();
    if (step === null || step >= (index.steps[index.steps.length - 1]?.step ?? 0)) {
      const rolled = runs.some((r) => r.status === "Failed") ? "Failed" : runs.some((r) => r.status === "Open") ? "Open" : "Completed";
      return sessionOutcome(s.extras.status ?? rolled, runs.length);
    }
    if (total === 0) return "no runs";
    if (open > 0) return "open";
    const now = timeAt(index, step);
    const ended = runs.filter((r) => r.end_time !== null && r.end_time <= now);
    return ended.some((r) => r.status === "Failed") ? "failed" : "completed";
  }

  /** The errors shown at `step`: our recorded list, or, for a file that has none
   * (saved by Railtracks), the failed nodes' errors. */
  private errorsAt(index: Index, step: number | null): ErrorEntry[] {
    const recorded = this.store.extras.errors;
    if (recorded) return recorded.filter((e) => step === null || e.step === undefined || e.step <= step);
    const out: ErrorEntry[] = [];
    for (const rec of index.nodes.values()) {
      const snap = edgeSnapAt(rec, step);
      if (!snap || (snap.status !== "Failed" && snap.status !== "Cancelled")) continue;
      const err = (snap.output ?? {}) as { type?: string; message?: string };
      out.push({ node_id: rec.id, node_name: rec.name, type: err.type, message: err.message, step: snap.step });
    }
    return out.sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
  }

  render(): void {
    const s = this.store;
    const x = s.extras;
    const index = s.index();
    const step = this.step;
    const counts = countsAt(index, step);
    const state = this.lifecycleAt(step);

    const outcome = this.outcomeAt(index, step, counts.Open, counts.total);
    const head = el("div", "rt-state-head");
    head.append(
      el("span", "rt-state-name", s.title),
      badge(LIFECYCLE_LABEL, state, LIFECYCLE_COLOURS[state], "rt-life"),
      badge(OUTCOME_LABEL, outcome, OUTCOME_COLOURS[outcome], "rt-outcome"),
    );
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
      ...(counts.Cancelled ? ([["cancelled", counts.Cancelled, "cancelled"]] as const) : []),
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
    const errors = this.errorsAt(index, step);
    const total = step === null && x.errors ? (x.error_count ?? errors.length) : errors.length;
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
    this.root.dataset.outcome = outcome;
    this.root.dataset.errors = String(total);
    this.root.dataset.total = String(counts.total);
  }
}

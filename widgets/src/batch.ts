// The batch dashboard (view "batch"): a Dask batch of sessions of one flow.
//
// Counts by state, a progress bar, throughput, the workers and what each ran,
// and a table of the inputs. Clicking an input asks the kernel for its session
// and draws it below with the usual dashboard (graph, timeline, state); while
// that session runs on its worker the kernel sends it again as it changes.
//
// Data: the `summary` trait (a small dict), the `rows` trait (JSON bytes of
// every input's row, complete once the batch ends) and, while it runs, custom
// messages {type: "rows"} whose first buffer is JSON of the rows that changed.

import { type HostModel, type Mounted, mountView } from "./dashboard";
import type { BatchModel, WidgetTraits } from "./model";
import { type AnyPayload, Store } from "./store";
import { el } from "./util";

export interface BatchRow {
  index: number;
  status: string;
  session_id: string | null;
  worker: string | null;
  duration: number | null;
  attempts: number;
  error: string | null;
}

interface Summary {
  batch_id?: string;
  flow_name?: string;
  total?: number;
  counts?: Record<string, number>;
  throughput?: number;
  elapsed?: number;
  finished?: boolean;
  cancelled?: boolean;
  workers?: Record<string, number>;
}

const STATES = ["completed", "failed", "interrupted", "cancelled", "running", "pending"];
/** Rows drawn at once; the rest are counted (filter to see them). */
export const ROW_LIMIT = 200;

function decode(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  let text: string;
  if (typeof value === "string") text = value;
  else if (value instanceof DataView) text = new TextDecoder().decode(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) text = new TextDecoder().decode(value as ArrayBuffer);
  else return value;
  return text ? JSON.parse(text) : null;
}

function fmtDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(2)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}

/** One batch's rows, shared by every view of its widget (keyed on `uid`). */
class BatchData {
  rows = new Map<number, BatchRow>();
  listeners = new Set<() => void>();
  sessionListeners = new Set<(index: number, payload: AnyPayload) => void>();

  setAll(rows: BatchRow[] | null): void {
    this.rows.clear();
    for (const row of rows ?? []) this.rows.set(row.index, row);
  }
  merge(rows: BatchRow[]): void {
    for (const row of rows) this.rows.set(row.index, row);
  }
  changed(): void {
    for (const cb of this.listeners) cb();
  }
}

const batches = new Map<string, BatchData>();
const wired = new WeakSet<object>();

export function batchFor(model: BatchModel): BatchData {
  const uid = (model.get("uid") as string) || "";
  let data = batches.get(uid);
  if (!data) {
    data = new BatchData();
    data.setAll(decode(model.get("rows")) as BatchRow[] | null);
    batches.set(uid, data);
  }
  if (!wired.has(model)) {
    wired.add(model);
    const d = data;
    model.on("change:rows", () => {
      d.setAll(decode(model.get("rows")) as BatchRow[] | null);
      d.changed();
    });
    model.on("change:summary", () => d.changed());
    model.on("msg:custom", (msg: any, buffers?: unknown[]) => {
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "rows") {
        const rows = decode(buffers?.[0] ?? msg.rows) as BatchRow[] | null;
        if (msg.reset) d.setAll(rows);
        else d.merge(rows ?? []);
        d.changed();
      } else if (msg.type === "session") {
        const payload = decode(buffers?.[0] ?? msg.payload) as AnyPayload;
        for (const cb of d.sessionListeners) cb(msg.index, payload);
      }
    });
  }
  return data;
}

export function forgetBatch(model: BatchModel): void {
  batches.delete((model.get("uid") as string) || "");
}

/** A stand-in model for the drill-down dashboard: its settings, no kernel behind it. */
function drillModel(height: number): HostModel {
  const state: WidgetTraits = {
    view: "dashboard", height, step: null, selected: null, live: false, data: null, payload_seq: 0, seq: 0, uid: "",
  };
  return {
    get: (k) => state[k],
    set: (k, v) => {
      state[k] = v;
    },
    save_changes: () => undefined,
    on: () => undefined,
    off: () => undefined,
    send: () => undefined,
  };
}

export function mountBatch(target: HTMLElement, model: BatchModel): { destroy(): void } {
  const data = batchFor(model);
  const root = el("div", "rt-root rt-batch");
  root.dataset.rtView = "batch";
  target.appendChild(root);

  const head = el("div", "rt-batch-head");
  const title = el("span", "rt-title");
  const meta = el("span", "rt-muted rt-batch-meta");
  head.append(title, meta);
  const counts = el("div", "rt-batch-counts");
  const bar = el("div", "rt-batch-bar");
  const workers = el("ul", "rt-batch-workers");
  const tools = el("div", "rt-batch-tools");
  const filter = el("select", "rt-batch-filter");
  filter.setAttribute("aria-label", "Show inputs");
  for (const s of ["all", ...STATES]) {
    const o = el("option", undefined, s);
    o.value = s;
    filter.appendChild(o);
  }
  const shown = el("span", "rt-muted rt-batch-shown");
  tools.append(el("span", "rt-muted", "Show "), filter, shown);
  const tableBox = el("div", "rt-batch-table-box");
  const table = el("table", "rt-batch-table");
  const thead = el("thead");
  const hr = el("tr");
  for (const h of ["input", "status", "worker", "duration", "attempts", "error"]) hr.appendChild(el("th", undefined, h));
  thead.appendChild(hr);
  const tbody = el("tbody");
  table.append(thead, tbody);
  tableBox.appendChild(table);
  const drill = el("div", "rt-batch-session");
  root.append(head, counts, bar, workers, tools, tableBox, drill);

  let selected: number | null = model.get("selected_input") ?? null;
  let mounted: Mounted | null = null;
  let drillStore: Store | null = null;
  let drillIndex: number | null = null;
  let frame = 0;

  const draw = () => {
    frame = 0;
    const summary = (model.get("summary") ?? {}) as Summary;
    const c = summary.counts ?? {};
    const total = summary.total ?? data.rows.size;
    title.textContent = `Batch of ${summary.flow_name ?? "?"}`;
    meta.textContent = ` ${(summary.batch_id ?? "").slice(0, 8)} · ${total} inputs · ${
      summary.finished ? (summary.cancelled ? "cancelled" : "finished") : "running"
    } · ${fmtDuration(summary.elapsed ?? null)} · ${(summary.throughput ?? 0).toFixed(1)} sessions/s`;
    root.dataset.finished = summary.finished ? "1" : "0";
    counts.replaceChildren();
    bar.replaceChildren();
    for (const s of STATES) {
      const n = c[s] ?? 0;
      const chip = el("span", `rt-batch-count rt-status-${s}`, `${n} ${s}`);
      chip.dataset.status = s;
      chip.dataset.count = String(n);
      counts.appendChild(chip);
      if (n > 0 && total > 0) {
        const seg = el("span", `rt-batch-seg rt-status-${s}`);
        seg.style.width = `${(100 * n) / total}%`;
        seg.title = `${n} ${s}`;
        bar.appendChild(seg);
      }
    }
    workers.replaceChildren();
    for (const [w, n] of Object.entries(summary.workers ?? {}).sort()) {
      const li = el("li", "rt-batch-worker", `${w}: ${n} sessions`);
      li.dataset.worker = w;
      workers.appendChild(li);
    }
    const want = filter.value;
    const rows = [...data.rows.values()]
      .filter((r) => want === "all" || r.status === want)
      .sort((a, b) => a.index - b.index);
    tbody.replaceChildren();
    for (const r of rows.slice(0, ROW_LIMIT)) {
      const tr = el("tr", `rt-batch-row rt-status-${r.status}`);
      tr.dataset.index = String(r.index);
      tr.dataset.status = r.status;
      if (r.index === selected) tr.classList.add("rt-selected");
      tr.append(
        el("td", undefined, String(r.index)),
        el("td", "rt-batch-status", r.status),
        el("td", "rt-batch-worker-cell", r.worker ?? ""),
        el("td", undefined, fmtDuration(r.duration)),
        el("td", undefined, String(r.attempts)),
        el("td", "rt-batch-error", r.error ?? ""),
      );
      tr.addEventListener("click", () => choose(r.index));
      tbody.appendChild(tr);
    }
    shown.textContent = rows.length > ROW_LIMIT ? ` first ${ROW_LIMIT} of ${rows.length}` : ` ${rows.length}`;
    table.dataset.rows = String(Math.min(rows.length, ROW_LIMIT));
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  const choose = (index: number) => {
    selected = index;
    model.set("selected_input", index);
    model.save_changes();
    model.send({ type: "select", index });
    drill.replaceChildren(el("div", "rt-muted rt-batch-loading", `Loading the session of input ${index}…`));
    mounted?.destroy();
    mounted = null;
    drillStore = null;
    drillIndex = null;
    schedule();
  };

  const onSession = (index: number, payload: AnyPayload) => {
    if (index !== selected || !payload) return;
    if (drillStore && drillIndex === index) {
      drillStore.reset(payload, 0);
      return;
    }
    drill.replaceChildren();
    const label = el("div", "rt-batch-drill-title", `Input ${index}`);
    drill.appendChild(label);
    drillStore = new Store(payload);
    drillIndex = index;
    mounted = mountView(drill, drillStore, drillModel(Number(model.get("height")) || 560));
  };

  data.listeners.add(schedule);
  data.sessionListeners.add(onSession);
  filter.addEventListener("change", schedule);
  draw();
  root.dataset.rtReady = "1";
  if (selected !== null) model.send({ type: "select", index: selected });

  return {
    destroy() {
      data.listeners.delete(schedule);
      data.sessionListeners.delete(onSession);
      if (frame) cancelAnimationFrame(frame);
      mounted?.destroy();
      root.remove();
    },
  };
}

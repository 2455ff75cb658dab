// The client-side data model: a session received as a snapshot (plain,
// compact or a finished live feed) and live deltas, held as the call tree
// every view reads (calltree.ts) plus the session's header, run headers and
// extras. Rows are decoded once (rows.ts) and each touches only its node's
// record, so a delta costs what its rows cost. Replay is a pure function of
// (index, step): nothing is asked of the kernel once the data is here.

import { CallTree, type EdgeSnap, type Index, type NodeRec, type RunRef } from "./calltree";
import {
  type AnyPayload,
  COMPACT_FORMAT,
  type CompactPayload,
  type Delta,
  type EdgeJSON,
  type Extras,
  FEED_FORMAT,
  type FeedPayload,
  type NodeJSON,
  type Payload,
  recordJSON,
  type RunHeader,
  type RunJSON,
  type Status,
} from "./payload";
import { bufferText, type EventRow, RowDecoder, rowsOf, type Stamp } from "./rows";
import { NEUTRAL_COLOUR, OUTCOME_COLOURS } from "./vocabulary";

export { statusOf, type EdgeSnap, type Index, type NodeRec } from "./calltree";
export * from "./payload";
export { bufferText, type EventRow, type Stamp } from "./rows";

export const STATUSES: Status[] = ["Open", "Completed", "Failed", "Cancelled"];

interface RunStore extends RunRef {
  header: RunHeader;
  /** The run's own list of steps (what its saved file lists). */
  steps: Map<number, Stamp>;
  /** Its records, in the order they arrived (the saved file's order). */
  records: Set<NodeRec>;
}

function byStep(a: { step: number }, b: { step: number }): number {
  return a.step - b.step;
}

type Listener = () => void;

const EMPTY_META = { session_id: "", session_name: null, start_time: 0, end_time: null };

export class Store {
  meta: Omit<Payload, "runs" | "railtracks_nb"> = { ...EMPTY_META };
  extras: Extras = {};
  /** The sequence number of the last delta applied (0: none). */
  seq = 0;
  version = 0;
  private runs = new Map<string, RunStore>();
  private tree = new CallTree();
  /** The live feed's rows: one id table across snapshots, replaced by a resync. */
  private live = new RowDecoder(this.tree);
  private cached: Index | null = null;
  private cachedVersion = -1;
  private listeners = new Set<Listener>();

  constructor(payload?: AnyPayload | null) {
    if (payload) this.reset(payload);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.version += 1;
    for (const fn of this.listeners) fn();
  }

  /** Replace everything with `payload` (a full snapshot: plain, compact or a replayed feed). */
  reset(payload: AnyPayload | null | undefined, seq = 0): void {
    this.tree = new CallTree();
    this.live = new RowDecoder(this.tree);
    this.runs.clear();
    this.seq = seq;
    this.tree.beginBulk();
    try {
      const format = payload ? (payload as { format?: unknown }).format : undefined;
      if (format === COMPACT_FORMAT) this.loadCompact(payload as CompactPayload);
      else if (format === FEED_FORMAT) this.loadFeed(payload as FeedPayload);
      else this.loadPlain((payload ?? {}) as Partial<Payload>);
    } finally {
      this.tree.endBulk();
    }
    this.changed();
  }

  private setMeta(meta: Partial<Payload>): void {
    const { runs: _runs, railtracks_nb, ...fields } = meta;
    this.meta = { ...EMPTY_META, ...fields } as Store["meta"];
    this.extras = { ...(railtracks_nb ?? {}) };
  }

  /** A payload in the Railtracks schema: its snapshot chains, read as they are. */
  private loadPlain(p: Partial<Payload>): void {
    this.setMeta(p);
    for (const run of p.runs ?? []) {
      const { nodes, edges, steps, ...header } = run;
      const rs = this.run(header as RunHeader);
      this.addJSON(rs, nodes ?? [], edges ?? []);
      for (const s of steps ?? []) this.listStep(rs, s);
    }
  }

  /** The compact form (railtracks_nb/notebook/wire.py): rows, and the rest verbatim. */
  private loadCompact(c: CompactPayload): void {
    this.setMeta((c.meta ?? {}) as Partial<Payload>);
    for (const entry of c.runs ?? []) {
      const rs = this.run(entry.header);
      this.addJSON(rs, entry.nodes ?? [], entry.edges ?? []);
      // Each run of a compact payload has its own id table.
      this.applyRows(rs, entry.events ?? [], new RowDecoder(this.tree));
      for (const step of entry.unlisted_steps ?? []) rs.steps.delete(step);
      for (const st of entry.steps ?? []) this.listStep(rs, st);
    }
  }

  /** A replayed feed: its starting snapshot, then its deltas' rows in order. */
  private loadFeed(f: FeedPayload): void {
    this.loadCompact(f.base);
    for (const header of f.runs ?? []) this.run(header);
    for (const [runId, rows] of f.chunks ?? []) this.applyRows(this.runFor(runId), rows, this.live);
    Object.assign(this.meta, f.meta ?? {});
    if (f.extras) this.extras = { ...this.extras, ...f.extras };
  }

  private addJSON(rs: RunStore, nodes: NodeJSON[], edges: EdgeJSON[]): void {
    for (const n of nodes) {
      this.tree.addNodeJSON(n, rs);
      rs.records.add(this.tree.nodes.get(n.identifier)!);
    }
    // Edges second: a request may come before its callee's node.
    for (const e of edges) {
      this.tree.addEdgeJSON(e, rs);
      rs.records.add(this.tree.nodes.get(e.target)!);
    }
  }

  private listStep(rs: RunStore, stamp: Stamp): void {
    rs.steps.set(stamp.step, stamp);
    this.tree.addStep(stamp, true);
  }

  private applyRows(rs: RunStore, rows: EventRow[], decoder: RowDecoder): void {
    const tree = this.tree;
    for (const row of rows) {
      const event = decoder.decode(row);
      rs.steps.set(event.stamp.step, event.stamp);
      const rec = tree.apply(event, rs);
      if (rec) rs.records.add(rec);
    }
  }

  private run(header: RunHeader): RunStore {
    let rs = this.runs.get(header.run_id);
    if (!rs) {
      rs = {
        header: { ...header }, run_id: header.run_id, name: header.name ?? "",
        steps: new Map(), records: new Set(),
      };
      this.runs.set(header.run_id, rs);
    } else {
      Object.assign(rs.header, header);
      if (header.name !== undefined && header.name !== rs.name) {
        rs.name = header.name;
        for (const rec of rs.records) rec.runName = rs.name;
      }
    }
    return rs;
  }

  private runFor(runId: string): RunStore {
    return (
      this.runs.get(runId) ??
      this.run({ run_id: runId, name: "", status: "Open", start_time: 0, end_time: null })
    );
  }

  /** Merge one live update. Deltas already covered by a snapshot are skipped. */
  applyDelta(delta: Delta, buffers: unknown[] = []): void {
    if (delta.seq && delta.seq <= this.seq) return;
    if (delta.session) Object.assign(this.meta, delta.session);
    for (const header of delta.runs ?? []) this.run(header);
    for (const [runId, rows] of delta.events ?? []) this.applyRows(this.runFor(runId), rows, this.live);
    (delta.event_buffers ?? []).forEach((runId, i) => {
      this.applyRows(this.runFor(runId), rowsOf(buffers[i]), this.live);
    });
    if (delta.extras) this.extras = { ...this.extras, ...delta.extras };
    if (delta.seq) this.seq = delta.seq;
    this.changed();
  }

  /** Handle a custom message from the kernel. Returns whether it was ours. */
  handleMessage(msg: any, buffers: unknown[] = []): boolean {
    if (!msg || typeof msg !== "object") return false;
    if (msg.type === "delta") {
      this.applyDelta(msg as Delta, buffers ?? []);
      return true;
    }
    if (msg.type === "reset") {
      // Everything so far, as one binary buffer (the form of a finished `data`).
      const payload = buffers.length ? (JSON.parse(bufferText(buffers[0])) as AnyPayload) : (msg.payload as Payload);
      this.reset(payload, msg.seq ?? 0);
      return true;
    }
    return false;
  }

  /** The merged payload, in the Railtracks schema (what "Download JSON" saves). */
  toPayload(): Payload {
    const runs: RunJSON[] = [];
    for (const rs of this.runs.values()) {
      const nodes: NodeJSON[] = [];
      const edges: EdgeJSON[] = [];
      for (const rec of rs.records) {
        if (this.tree.nodes.get(rec.id) !== rec) continue; // replaced since
        const { node, edge } = recordJSON(rec, this.tree.verbatim.get(rec));
        if (node) nodes.push(node);
        if (edge) edges.push(edge);
      }
      runs.push({ ...rs.header, nodes, edges, steps: [...rs.steps.values()].sort(byStep) });
    }
    const out: Payload = { ...(this.meta as Payload), runs };
    if (Object.keys(this.extras).length) out.railtracks_nb = this.extras;
    return out;
  }

  runHeaders(): RunHeader[] {
    return [...this.runs.values()].map((r) => r.header);
  }

  get title(): string {
    return (
      this.meta.session_name ||
      (this.extras.flow_name as string | undefined) ||
      (this.meta.flow_name as string | undefined) ||
      this.meta.session_id ||
      "session"
    );
  }

  /**
   * The call tree, as of now. A new Index object per change (views cache what
   * they derive per index), over the same records, kept up to date as rows
   * arrive: reading it costs nothing.
   */
  index(): Index {
    if (this.cached && this.cachedVersion === this.version) return this.cached;
    this.cached = this.tree.index(Number(this.meta.start_time));
    this.cachedVersion = this.version;
    return this.cached;
  }
}

// -- replay: what a node looks like at a given step (null: the latest) --------

export function visibleAt(rec: NodeRec, step: number | null): boolean {
  return step === null || rec.createdStep <= step;
}

/** The snapshot of the node's request that is current at `step`. */
export function edgeSnapAt(rec: NodeRec, step: number | null): EdgeSnap | null {
  const snaps = rec.edgeSnaps;
  if (step === null) return snaps.length ? snaps[snaps.length - 1] : null;
  for (let i = snaps.length - 1; i >= 0; i--) if (snaps[i].step <= step) return snaps[i];
  return null;
}

export function statusAt(rec: NodeRec, step: number | null): Status {
  return edgeSnapAt(rec, step)?.status ?? "Open";
}

/** When the node finished (epoch seconds), or null if it is still open at `step`. */
export function finishedAt(rec: NodeRec, step: number | null): number | null {
  const snap = edgeSnapAt(rec, step);
  if (!snap || snap.status === "Open") return null;
  return snap.time;
}

export function stampsAt(rec: NodeRec, step: number | null): Stamp[] {
  const all = new Map<number, Stamp>();
  for (const s of rec.nodeStamps) all.set(s.step, s);
  for (const s of rec.edgeSnaps) all.set(s.step, { step: s.step, time: s.time, identifier: s.label });
  return [...all.values()].filter((s) => step === null || s.step <= step).sort(byStep);
}

/** The time of the latest stamp at or before `step` (the "now" of a replay). */
export function timeAt(index: Index, step: number | null): number {
  if (step === null) return index.lastTime;
  let t = index.startTime;
  for (const s of index.steps) {
    if (s.step > step) break;
    t = s.time;
  }
  return t;
}

export interface Counts {
  Open: number;
  Completed: number;
  Failed: number;
  Cancelled: number;
  total: number;
}

export function countsAt(index: Index, step: number | null): Counts {
  const c: Counts = { Open: 0, Completed: 0, Failed: 0, Cancelled: 0, total: 0 };
  for (const rec of index.nodes.values()) {
    if (!visibleAt(rec, step)) continue;
    c[statusAt(rec, step)] += 1;
    c.total += 1;
  }
  return c;
}

/** Every visible node in depth-first call order (parents before children). */
export function dfsOrder(index: Index, step: number | null): NodeRec[] {
  const out: NodeRec[] = [];
  const stack: NodeRec[] = [];
  for (let i = index.roots.length - 1; i >= 0; i--) stack.push(index.roots[i]);
  const seen = new Set<NodeRec>();
  while (stack.length) {
    const rec = stack.pop()!;
    if (seen.has(rec) || !visibleAt(rec, step)) continue;
    seen.add(rec);
    out.push(rec);
    for (let i = rec.children.length - 1; i >= 0; i--) stack.push(rec.children[i]);
  }
  return out;
}

export const STATUS_COLORS: Record<string, string> = {
  Open: OUTCOME_COLOURS.open,
  Completed: OUTCOME_COLOURS.completed,
  Failed: OUTCOME_COLOURS.failed,
  Cancelled: OUTCOME_COLOURS.cancelled,
  Session: NEUTRAL_COLOUR,
  More: NEUTRAL_COLOUR,
};

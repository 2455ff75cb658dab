// The client-side data model: the session payload (Railtracks saved-state
// schema, plus our optional `railtracks_nb` extras), merged from an initial
// snapshot and incremental deltas, and an index derived from it that every
// view reads. Replay is a pure function of (index, step): nothing is asked of
// the kernel once the data is here.

import { NEUTRAL_COLOUR, nodeOutcome, OUTCOME_COLOURS } from "./vocabulary";

/** A node's outcome, capitalised as the saved files' words are ("Cancelled": a
 * failure whose error is a CancelledError; see vocabulary.ts). */
export type Status = "Open" | "Completed" | "Failed" | "Cancelled";
export const STATUSES: Status[] = ["Open", "Completed", "Failed", "Cancelled"];

/** The Status of a request snapshot's saved `status` and `output`. */
export function statusOf(status: unknown, output: unknown): Status {
  const outcome = nodeOutcome(status, output);
  return (outcome[0].toUpperCase() + outcome.slice(1)) as Status;
}

export interface Stamp {
  step: number;
  time: number;
  identifier: string;
}

export interface NodeJSON {
  identifier: string;
  node_type: string;
  name: string;
  stamp: Stamp;
  details?: { internals?: Record<string, any> | null } | null;
  parent?: NodeJSON | null;
}

export interface EdgeJSON {
  identifier: string;
  source: string | null;
  target: string;
  stamp: Stamp;
  details: {
    input_args?: unknown[];
    input_kwargs?: Record<string, unknown>;
    status?: Status;
    output?: unknown;
  };
  parent?: EdgeJSON | null;
}

export interface RunHeader {
  run_id: string;
  name: string;
  status: Status;
  start_time: number;
  end_time: number | null;
  session_id?: string;
}

export interface RunJSON extends RunHeader {
  nodes: NodeJSON[];
  edges: EdgeJSON[];
  steps: Stamp[];
}

export interface ErrorEntry {
  node_id?: string | null;
  node_name?: string | null;
  type?: string;
  message?: string;
  step?: number;
  time?: number;
}

export interface Extras {
  state?: string;
  state_history?: { old: string; new: string; step?: number; time?: number }[];
  timeout?: number | null;
  context?: Record<string, unknown>;
  config?: Record<string, unknown>;
  errors?: ErrorEntry[];
  error_count?: number;
  status?: string;
  flow_name?: string | null;
  parent_id?: string | null;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Payload {
  session_id: string;
  session_name: string | null;
  start_time: number;
  end_time: number | null;
  runs: RunJSON[];
  flow_name?: string | null;
  flow_id?: string | null;
  railtracks_nb?: Extras;
}

/**
 * One message of the session, compact (see `_LiveFeed` in railtracks_nb/widgets.py):
 * ["c", step, time, text, request_id, caller, node_id, name, type, args, kwargs]  created
 * ["s", step, time, text, request, result, latency]                               succeeded
 * ["f", step, time, text, request, error, latency]                                failed
 * ["x", step, time, text]                                                         fatal failure
 * `caller` and `request` are indexes into an id table that every "c" row appends
 * its request_id and node_id to (a string is an id itself; null: no caller).
 * `text` null is the engine's default stamp text for that event.
 */
export type EventRow = [string, number, number, string, ...unknown[]];

/** A live update from the kernel: the events since the previous delta. */
export interface Delta {
  type: "delta";
  seq: number;
  session?: Partial<Payload>;
  runs?: RunHeader[];
  /** Rows inline, per run (tests, tools). */
  events?: [string, EventRow[]][];
  /** Run ids whose rows came as the message's binary buffers, in order (the kernel's way). */
  event_buffers?: string[];
  extras?: Extras;
}

/** A binary buffer (DataView, ArrayBuffer or typed array) or a string, as text. */
export function bufferText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof DataView) {
    return new TextDecoder().decode(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return new TextDecoder().decode(value as ArrayBuffer);
  throw new TypeError("railtracks_nb: a delta buffer is neither text nor binary");
}

export const COMPACT_FORMAT = "railtracks_nb/compact-1";

/** A payload in the compact form (see compact_payload in railtracks_nb/export.py). */
export interface CompactPayload {
  format: typeof COMPACT_FORMAT;
  meta: Omit<Payload, "runs">;
  runs: {
    header: RunHeader;
    events: EventRow[];
    nodes: NodeJSON[];
    edges: EdgeJSON[];
    steps: Stamp[];
    unlisted_steps: number[];
  }[];
}

export const FEED_FORMAT = "railtracks_nb/feed-1";

/**
 * What a widget that followed a session live holds once the session ends (see
 * `_LiveFeed.feed_bytes` in railtracks_nb/widgets.py): the compact payload it
 * started from, then every delta's rows in the order they were sent, and the
 * run headers, session fields and extras as they ended. Replaying it is
 * replaying the deltas.
 */
export interface FeedPayload {
  format: typeof FEED_FORMAT;
  seq: number;
  meta: Partial<Payload>;
  runs: RunHeader[];
  extras?: Extras;
  base: CompactPayload;
  chunks: [string, EventRow[]][];
}

export type AnyPayload = Payload | CompactPayload | FeedPayload;

export interface EdgeSnap {
  step: number;
  time: number;
  status: Status;
  output: unknown;
  label: string;
}

/** One node of the call tree, with its whole history (for replay). */
export interface NodeRec {
  id: string;
  name: string;
  type: string;
  runId: string;
  runName: string;
  callerId: string | null;
  edgeId: string | null;
  /** Node snapshots' stamps, oldest first. */
  nodeStamps: Stamp[];
  /** Snapshots of the request that created the node, oldest first. */
  edgeSnaps: EdgeSnap[];
  createdStep: number;
  createdTime: number;
  args: unknown[];
  kwargs: Record<string, unknown>;
  latency: number | null;
  internals: Record<string, any>;
  children: NodeRec[];
  depth: number;
}

export interface Index {
  nodes: Map<string, NodeRec>;
  /** Nodes with no known caller (each run's entry node), in creation order. */
  roots: NodeRec[];
  /** Every stamp of the session, one per step, in step order. */
  steps: Stamp[];
  startTime: number;
  lastTime: number;
}

interface RunStore {
  header: RunHeader;
  nodes: Map<string, NodeJSON>;
  edges: Map<string, EdgeJSON>;
  steps: Map<number, Stamp>;
}

function chain<T extends { parent?: T | null }>(snap: T): T[] {
  const out: T[] = [];
  let cur: T | null | undefined = snap;
  while (cur) {
    out.push(cur);
    cur = cur.parent;
  }
  return out.reverse();
}

function byStep(a: { step: number }, b: { step: number }): number {
  return a.step - b.step;
}

type Listener = () => void;

export class Store {
  meta: Omit<Payload, "runs" | "railtracks_nb"> = {
    session_id: "",
    session_name: null,
    start_time: 0,
    end_time: null,
  };
  extras: Extras = {};
  /** The sequence number of the last delta applied (0: none). */
  seq = 0;
  version = 0;
  private runs = new Map<string, RunStore>();
  /** The live feed's id table (see EventRow); kept across snapshots, replaced by a resync. */
  private liveIds: string[] = [];
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
    const format = payload ? (payload as { format?: unknown }).format : undefined;
    if (format === COMPACT_FORMAT) {
      this.resetCompact(payload as CompactPayload, seq);
      this.changed();
      return;
    }
    if (format === FEED_FORMAT) {
      this.resetFeed(payload as FeedPayload);
      this.changed();
      return;
    }
    this.liveIds = [];
    this.runs.clear();
    this.extras = {};
    this.seq = seq;
    const p = (payload ?? {}) as Partial<Payload>;
    const { runs, railtracks_nb, ...meta } = p;
    this.meta = {
      session_id: "",
      session_name: null,
      start_time: 0,
      end_time: null,
      ...meta,
    } as Store["meta"];
    this.extras = { ...(railtracks_nb ?? {}) };
    for (const run of runs ?? []) {
      const { nodes, edges, steps, ...header } = run;
      const rs = this.run(header as RunHeader);
      for (const n of nodes ?? []) rs.nodes.set(n.identifier, n);
      for (const e of edges ?? []) rs.edges.set(e.identifier, e);
      for (const s of steps ?? []) rs.steps.set(s.step, s);
    }
    this.changed();
  }

  /** The compact form (railtracks_nb/export.py, compact_payload): events + verbatim leftovers. */
  private resetCompact(c: CompactPayload, seq: number): void {
    this.liveIds = [];
    this.runs.clear();
    this.seq = seq;
    const { railtracks_nb, ...meta } = (c.meta ?? {}) as Partial<Payload>;
    this.meta = { session_id: "", session_name: null, start_time: 0, end_time: null, ...meta } as Store["meta"];
    this.extras = { ...(railtracks_nb ?? {}) };
    for (const entry of c.runs ?? []) {
      const rs = this.run(entry.header);
      for (const n of entry.nodes ?? []) rs.nodes.set(n.identifier, n);
      for (const e of entry.edges ?? []) rs.edges.set(e.identifier, e);
      this.applyEvents(rs, entry.events ?? [], []);
      for (const step of entry.unlisted_steps ?? []) rs.steps.delete(step);
      for (const st of entry.steps ?? []) rs.steps.set(st.step, st);
    }
  }

  /** A replayed feed: its starting snapshot, then its deltas' rows in order. */
  private resetFeed(f: FeedPayload): void {
    this.resetCompact(f.base, f.seq);
    for (const [runId, rows] of f.chunks ?? []) this.applyEvents(this.runFor(runId), rows, this.liveIds);
    for (const header of f.runs ?? []) this.run(header);
    Object.assign(this.meta, f.meta ?? {});
    if (f.extras) this.extras = { ...this.extras, ...f.extras };
  }

  private run(header: RunHeader): RunStore {
    let rs = this.runs.get(header.run_id);
    if (!rs) {
      rs = { header: { ...header }, nodes: new Map(), edges: new Map(), steps: new Map() };
      this.runs.set(header.run_id, rs);
    } else {
      Object.assign(rs.header, header);
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
    for (const [runId, rows] of delta.events ?? []) this.applyEvents(this.runFor(runId), rows, this.liveIds);
    (delta.event_buffers ?? []).forEach((runId, i) => {
      const rows = JSON.parse(bufferText(buffers[i])) as EventRow[];
      this.applyEvents(this.runFor(runId), rows, this.liveIds);
    });
    if (delta.extras) this.extras = { ...this.extras, ...delta.extras };
    if (delta.seq) this.seq = delta.seq;
    this.changed();
  }

  private nodeName(rs: RunStore, id: string): string | undefined {
    const here = rs.nodes.get(id);
    if (here) return here.name;
    for (const other of this.runs.values()) {
      const n = other.nodes.get(id);
      if (n) return n.name;
    }
    return undefined;
  }

  /** Rebuild saved-state snapshots from events, as the engine's ExecutionInfo records them. */
  private applyEvents(rs: RunStore, rows: EventRow[], table: string[]): void {
    const ref = (r: unknown): string | null =>
      r === null || r === undefined ? null : typeof r === "number" ? table[r] : String(r);
    for (const row of rows) {
      const [kind, step, time] = row;
      let text = row[3] as string | null;
      if (kind === "c") {
        const [, , , , requestId, callerRef, nodeId, name, type, args, kwargs] = row as unknown as [
          string, number, number, string | null, string, unknown, string, string, string,
          unknown[], Record<string, unknown>,
        ];
        const callerId = ref(callerRef);
        table.push(requestId, nodeId);
        if (text === null) text = `${callerId ? (this.nodeName(rs, callerId) ?? "") : "START"} CREATED ${name}`;
        const stamp: Stamp = { step, time, identifier: text };
        rs.steps.set(step, stamp);
        rs.nodes.set(nodeId, {
          identifier: nodeId, node_type: type, name, stamp, details: { internals: {} }, parent: null,
        });
        rs.edges.set(requestId, {
          identifier: requestId, source: callerId, target: nodeId, stamp,
          details: { input_args: args, input_kwargs: kwargs, status: "Open", output: null },
          parent: null,
        });
      } else if (kind === "s" || kind === "f") {
        const requestId = ref(row[4]) ?? "";
        const output = row[5];
        const latency = row[6] as number;
        const prevE = rs.edges.get(requestId) ?? null;
        const nodeId = prevE?.target ?? requestId;
        const prevN = rs.nodes.get(nodeId) ?? null;
        if (text === null) text = `${kind === "s" ? "Finished" : "Failed"} executing ${prevN?.name ?? ""}`;
        const stamp: Stamp = { step, time, identifier: text };
        rs.steps.set(step, stamp);
        rs.nodes.set(nodeId, {
          identifier: nodeId,
          node_type: prevN?.node_type ?? "Other",
          name: prevN?.name ?? nodeId,
          stamp,
          details: { internals: { latency: { total_time: latency } } },
          parent: prevN,
        });
        rs.edges.set(requestId, {
          identifier: requestId,
          source: prevE?.source ?? null,
          target: nodeId,
          stamp,
          details: {
            input_args: prevE?.details.input_args ?? [],
            input_kwargs: prevE?.details.input_kwargs ?? {},
            status: kind === "s" ? "Completed" : "Failed",
            output,
          },
          parent: prevE,
        });
      } else {
        rs.steps.set(step, { step, time, identifier: text ?? "" });
      }
    }
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
      runs.push({
        ...rs.header,
        nodes: [...rs.nodes.values()],
        edges: [...rs.edges.values()],
        steps: [...rs.steps.values()].sort(byStep),
      });
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

  /** The derived call tree (cached until the data changes). */
  index(): Index {
    if (this.cached && this.cachedVersion === this.version) return this.cached;
    this.cached = this.build();
    this.cachedVersion = this.version;
    return this.cached;
  }

  private build(): Index {
    const nodes = new Map<string, NodeRec>();
    // Step numbers count up from 0: an array indexed by step is several times faster
    // than a Map at 200,000 stamps; anything else (a foreign file) goes to the Map.
    const stepList: Stamp[] = [];
    const stepMap = new Map<number, Stamp>();
    const addStep = (s: Stamp | undefined) => {
      if (!s || typeof s.step !== "number") return;
      if (Number.isInteger(s.step) && s.step >= 0 && s.step < 1 << 26) {
        if (stepList[s.step] === undefined) stepList[s.step] = s;
      } else if (!stepMap.has(s.step)) stepMap.set(s.step, s);
    };
    for (const rs of this.runs.values()) {
      for (const s of rs.steps.values()) addStep(s);
      for (const node of rs.nodes.values()) {
        const history = chain(node);
        const first = history[0];
        const latest = history[history.length - 1];
        const internals = (latest.details?.internals ?? {}) as Record<string, any>;
        const latency = internals?.latency?.total_time;
        for (const h of history) addStep(h.stamp);
        nodes.set(node.identifier, {
          id: node.identifier,
          name: String(latest.name ?? ""),
          type: String(latest.node_type ?? "Other"),
          runId: rs.header.run_id,
          runName: rs.header.name,
          callerId: null,
          edgeId: null,
          nodeStamps: history.map((h) => h.stamp).sort(byStep),
          edgeSnaps: [],
          createdStep: first.stamp.step,
          createdTime: first.stamp.time,
          args: [],
          kwargs: {},
          latency: typeof latency === "number" ? latency : null,
          internals: internals ?? {},
          children: [],
          depth: 0,
        });
      }
    }
    // Edges second: a live delta may carry an edge before its callee's node.
    const edgesInOrder: { edge: EdgeJSON; first: EdgeJSON; snaps: EdgeJSON[] }[] = [];
    for (const rs of this.runs.values()) {
      for (const edge of rs.edges.values()) {
        const snaps = chain(edge);
        for (const s of snaps) addStep(s.stamp);
        let rec = nodes.get(edge.target);
        if (!rec) {
          rec = {
            id: edge.target,
            name: edge.target,
            type: "Other",
            runId: rs.header.run_id,
            runName: rs.header.name,
            callerId: null,
            edgeId: null,
            nodeStamps: [snaps[0].stamp],
            edgeSnaps: [],
            createdStep: snaps[0].stamp.step,
            createdTime: snaps[0].stamp.time,
            args: [],
            kwargs: {},
            latency: null,
            internals: {},
            children: [],
            depth: 0,
          };
          nodes.set(edge.target, rec);
        }
        rec.edgeId = edge.identifier;
        rec.callerId = edge.source ?? null;
        rec.args = edge.details?.input_args ?? [];
        rec.kwargs = edge.details?.input_kwargs ?? {};
        rec.edgeSnaps = snaps
          .map((s) => ({
            step: s.stamp.step,
            time: s.stamp.time,
            status: statusOf(s.details?.status, s.details?.output),
            output: s.details?.output,
            label: s.stamp.identifier,
          }))
          .sort(byStep);
        // A node is created no later than the request that created it.
        if (snaps[0].stamp.step < rec.createdStep) {
          rec.createdStep = snaps[0].stamp.step;
          rec.createdTime = snaps[0].stamp.time;
        }
        edgesInOrder.push({ edge, first: snaps[0], snaps });
      }
    }
    const roots: NodeRec[] = [];
    for (const rec of nodes.values()) {
      const caller = rec.callerId ? nodes.get(rec.callerId) : undefined;
      if (caller && caller !== rec) caller.children.push(rec);
      else roots.push(rec);
    }
    const byCreation = (a: NodeRec, b: NodeRec) => a.createdStep - b.createdStep;
    roots.sort(byCreation);
    // Depths, iteratively: call trees can be far deeper than the JS stack.
    const stack: NodeRec[] = [...roots];
    const seen = new Set<NodeRec>();
    while (stack.length) {
      const rec = stack.pop()!;
      if (seen.has(rec)) continue;
      seen.add(rec);
      rec.children.sort(byCreation);
      for (const child of rec.children) {
        child.depth = rec.depth + 1;
        stack.push(child);
      }
    }
    // filter() skips the holes, and keeps step order.
    const steps = stepMap.size ? [...stepList.filter(Boolean), ...stepMap.values()].sort(byStep) : stepList.filter(Boolean);
    // Time zero is the first stamp of any run (the session may have been opened
    // long before its first call); the session's start time only if nothing ran.
    const startTime = steps.length ? steps[0].time : Number(this.meta.start_time) || 0;
    const lastTime = Math.max(steps[steps.length - 1]?.time ?? startTime, startTime);
    return { nodes, roots, steps, startTime, lastTime };
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

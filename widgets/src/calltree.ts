// The call tree every view reads: one record per node, with its whole history
// (for replay), linked to its caller, kept up to date row by row. A decoded
// row touches one record, its caller's list of children and the list of steps,
// so a live delta costs what its rows cost, whatever the session's size.
// Saved-state JSON that rows cannot express (a foreign file, agent internals)
// is read into the same records, snapshot chain by chain.

import { type EdgeJSON, type NodeJSON, type Status, chain, type Verbatim } from "./payload";
import type { NodeNames, RowEvent, Stamp } from "./rows";
import { nodeOutcome } from "./vocabulary";

/** The Status of a request snapshot's saved `status` and `output`. */
export function statusOf(status: unknown, output: unknown): Status {
  const outcome = nodeOutcome(status, output);
  return (outcome[0].toUpperCase() + outcome.slice(1)) as Status;
}

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

/** The run a record belongs to. */
export interface RunRef {
  run_id: string;
  name: string;
}

function byStep(a: { step: number }, b: { step: number }): number {
  return a.step - b.step;
}

const byCreation = (a: NodeRec, b: NodeRec) => a.createdStep - b.createdStep;

/** Insert `item` into `list` (sorted by `key`), after any equal ones: usually a push. */
function insertSorted<T>(list: T[], item: T, key: (t: T) => number): void {
  const k = key(item);
  if (!list.length || key(list[list.length - 1]) <= k) {
    list.push(item);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(list[mid]) <= k) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, item);
}

function remove<T>(list: T[], item: T): void {
  const i = list.lastIndexOf(item);
  if (i >= 0) list.splice(i, 1);
}

const created = (r: NodeRec) => r.createdStep;

function newRecord(id: string, run: RunRef, stamp: Stamp): NodeRec {
  return {
    id, name: id, type: "Other", runId: run.run_id, runName: run.name, callerId: null, edgeId: null,
    nodeStamps: [], edgeSnaps: [], createdStep: stamp.step, createdTime: stamp.time,
    args: [], kwargs: {}, latency: null, internals: {}, children: [], depth: 0,
  };
}

export class CallTree implements NodeNames {
  readonly nodes = new Map<string, NodeRec>();
  readonly roots: NodeRec[] = [];
  /** Every stamp, one per step, in step order. */
  readonly steps: Stamp[] = [];
  /** Each record, by the request that created it. */
  private byRequest = new Map<string, NodeRec>();
  /** Records whose caller is not here yet (they are roots until it is), by caller id. */
  private orphans = new Map<string, Set<NodeRec>>();
  private stepNumbers = new Map<number, Stamp>();
  /** Records that began as saved-state JSON (see Verbatim). */
  readonly verbatim = new Map<NodeRec, Verbatim>();
  /** While loading a whole payload: link now, sort and count depths once at the end. */
  private bulk = false;

  // -- NodeNames (for the row decoder's default stamp texts) --
  nodeName(nodeId: string): string | undefined {
    return this.nodes.get(nodeId)?.name;
  }

  calleeName(requestId: string): string | undefined {
    return (this.byRequest.get(requestId) ?? this.nodes.get(requestId))?.name;
  }

  /** Load many records at once (a snapshot): the links are made once, by endBulk. */
  beginBulk(): void {
    this.bulk = true;
  }

  /** Link every record to its caller, order children and roots by creation, count depths. */
  endBulk(): void {
    this.bulk = false;
    this.roots.length = 0;
    this.orphans.clear();
    for (const rec of this.nodes.values()) rec.children = [];
    for (const rec of this.nodes.values()) this.link(rec, false);
    this.roots.sort(byCreation);
    const stack: NodeRec[] = [...this.roots];
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
  }

  /** A stamp of the session. `listed`: the run's own record of the step (it wins over a snapshot's copy). */
  addStep(stamp: Stamp, listed: boolean): void {
    if (!stamp || typeof stamp.step !== "number") return;
    const had = this.stepNumbers.get(stamp.step);
    if (had !== undefined) {
      if (!listed || had === stamp) return;
      this.steps[this.stepPosition(stamp.step)] = stamp;
    } else {
      insertSorted(this.steps, stamp, (s) => s.step);
    }
    this.stepNumbers.set(stamp.step, stamp);
  }

  private stepPosition(step: number): number {
    let lo = 0;
    let hi = this.steps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.steps[mid].step < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Apply one decoded row of run `run`; returns the record it touched (none for a fatal failure). */
  apply(event: RowEvent, run: RunRef): NodeRec | null {
    this.addStep(event.stamp, true);
    if (event.kind === "created") {
      const rec = newRecord(event.nodeId, run, event.stamp);
      rec.name = event.name;
      rec.type = event.type;
      rec.callerId = event.callerId;
      rec.edgeId = event.requestId;
      rec.args = event.args;
      rec.kwargs = event.kwargs;
      rec.nodeStamps.push(event.stamp);
      rec.edgeSnaps.push({ ...snapOf(event.stamp), status: "Open", output: null });
      this.add(rec);
      this.byRequest.set(event.requestId, rec);
      return rec;
    }
    if (event.kind === "ended") {
      let rec = this.byRequest.get(event.requestId) ?? this.nodes.get(event.requestId);
      if (!rec) {
        // The end of a request this tree never saw begin: a record of its own.
        rec = newRecord(event.requestId, run, event.stamp);
        rec.edgeId = event.requestId;
        this.add(rec);
        this.byRequest.set(event.requestId, rec);
      }
      const status = event.ok ? "Completed" : statusOf("Failed", event.output);
      rec.nodeStamps.push(event.stamp);
      rec.edgeSnaps.push({ ...snapOf(event.stamp), status, output: event.output });
      rec.latency = event.latency;
      rec.internals = { latency: { total_time: event.latency } };
      return rec;
    }
    return null;
  }

  /** A node's saved snapshot chain (`node`: its latest snapshot) of run `run`. */
  addNodeJSON(node: NodeJSON, run: RunRef): void {
    const history = chain(node);
    const first = history[0];
    const latest = history[history.length - 1];
    const rec = newRecord(node.identifier, run, first.stamp);
    rec.name = String(latest.name ?? "");
    rec.type = String(latest.node_type ?? "Other");
    rec.internals = (latest.details?.internals ?? {}) as Record<string, any>;
    const latency = rec.internals?.latency?.total_time;
    rec.latency = typeof latency === "number" ? latency : null;
    rec.nodeStamps = history.map((h) => h.stamp).sort(byStep);
    for (const s of rec.nodeStamps) this.addStep(s, false);
    this.add(rec);
    this.verbatim.set(rec, { node, edge: null, nodeStamps: rec.nodeStamps.length, edgeSnaps: 0 });
  }

  /** A request's saved snapshot chain (`edge`: its latest snapshot) of run `run`. */
  addEdgeJSON(edge: EdgeJSON, run: RunRef): void {
    const snaps = chain(edge);
    for (const s of snaps) this.addStep(s.stamp, false);
    let rec = this.nodes.get(edge.target);
    if (!rec) {
      // A request whose node is not in the file: the node as the request knows it.
      rec = newRecord(edge.target, run, snaps[0].stamp);
      rec.nodeStamps = [snaps[0].stamp];
      this.add(rec);
      this.verbatim.set(rec, { node: null, edge: null, nodeStamps: 1, edgeSnaps: 0 });
    }
    const wasCreated = rec.createdStep;
    rec.edgeId = edge.identifier;
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
    this.byRequest.set(edge.identifier, rec);
    const verbatim = this.verbatim.get(rec);
    if (verbatim) {
      verbatim.edge = edge;
      verbatim.edgeSnaps = rec.edgeSnaps.length;
    } else {
      this.verbatim.set(rec, { node: null, edge, nodeStamps: rec.nodeStamps.length, edgeSnaps: rec.edgeSnaps.length });
    }
    const caller = edge.source ?? null;
    if (this.bulk) rec.callerId = caller;
    else if (caller !== rec.callerId || rec.createdStep !== wasCreated) {
      this.unlink(rec);
      rec.callerId = caller;
      this.link(rec, true);
    }
  }

  /** Add a new record (replacing one of the same id, whose children it takes over). */
  private add(rec: NodeRec): void {
    const old = this.nodes.get(rec.id);
    if (old) {
      if (!this.bulk) this.unlink(old);
      rec.children = old.children;
      if (old.edgeId !== null && this.byRequest.get(old.edgeId) === old) this.byRequest.delete(old.edgeId);
      this.verbatim.delete(old);
    }
    this.nodes.set(rec.id, rec);
    if (this.bulk) return; // endBulk links everything
    this.link(rec, true);
    if (old) this.deepen(rec);
    const waiting = this.orphans.get(rec.id);
    if (waiting) {
      this.orphans.delete(rec.id);
      for (const child of waiting) {
        remove(this.roots, child);
        insertSorted(rec.children, child, created);
        this.deepen(child, rec.depth + 1);
      }
    }
  }

  /** Set `rec`'s depth (and its subtree's), iteratively: call trees can be far deeper than the JS stack. */
  private deepen(rec: NodeRec, depth = rec.depth): void {
    rec.depth = depth;
    const stack = [rec];
    const seen = new Set<NodeRec>();
    while (stack.length) {
      const r = stack.pop()!;
      if (seen.has(r)) continue;
      seen.add(r);
      for (const c of r.children) {
        c.depth = r.depth + 1;
        stack.push(c);
      }
    }
  }

  /**
   * Put `rec` under its caller, or among the roots until the caller arrives.
   * `sorted`: insert in creation order and count its depth now (a live row);
   * else append (endBulk sorts and counts once).
   */
  private link(rec: NodeRec, sorted: boolean): void {
    const caller = rec.callerId !== null ? this.nodes.get(rec.callerId) : undefined;
    if (caller && caller !== rec) {
      if (!sorted) caller.children.push(rec);
      else {
        insertSorted(caller.children, rec, created);
        this.deepen(rec, caller.depth + 1);
      }
      return;
    }
    if (rec.callerId !== null && !caller) {
      const waiting = this.orphans.get(rec.callerId);
      if (waiting) waiting.add(rec);
      else this.orphans.set(rec.callerId, new Set([rec]));
    }
    if (!sorted) {
      this.roots.push(rec);
      rec.depth = 0;
    } else {
      insertSorted(this.roots, rec, created);
      this.deepen(rec, 0);
    }
  }

  private unlink(rec: NodeRec): void {
    const caller = rec.callerId !== null ? this.nodes.get(rec.callerId) : undefined;
    if (caller && caller !== rec) remove(caller.children, rec);
    else {
      remove(this.roots, rec);
      if (rec.callerId !== null) this.orphans.get(rec.callerId)?.delete(rec);
    }
  }

  /** The view of the tree for `startTime` (the session's, used when nothing ran). */
  index(sessionStart: number): Index {
    const steps = this.steps;
    // Time zero is the first stamp of any run (the session may have been opened
    // long before its first call); the session's start time only if nothing ran.
    const startTime = steps.length ? steps[0].time : Number(sessionStart) || 0;
    const lastTime = Math.max(steps[steps.length - 1]?.time ?? startTime, startTime);
    return { nodes: this.nodes, roots: this.roots, steps, startTime, lastTime };
  }
}

function snapOf(stamp: Stamp): { step: number; time: number; label: string } {
  return { step: stamp.step, time: stamp.time, label: stamp.identifier };
}

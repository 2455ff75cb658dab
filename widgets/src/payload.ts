// The forms a session arrives in, and the Railtracks saved-state schema at the
// file boundary: a plain payload (the schema, plus our optional `railtracks_nb`
// extras), the compact form (rows plus what rows cannot express, verbatim), a
// finished live feed (a compact base and every delta's rows), and the deltas
// themselves. The store turns all of them into node records (calltree.ts);
// the schema comes back only for "Download JSON" (toPayloadRuns).

import type { EdgeSnap, NodeRec } from "./calltree";
import type { EventRow, Stamp } from "./rows";

/** A node's outcome, capitalised as the saved files' words are ("Cancelled": a
 * failure whose error is a CancelledError; see vocabulary.ts). */
export type Status = "Open" | "Completed" | "Failed" | "Cancelled";

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

export const COMPACT_FORMAT = "railtracks_nb/compact-1";

/** A payload in the compact form (see railtracks_nb/notebook/wire.py). */
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
 * `_LiveFeed.feed_bytes` in railtracks_nb/notebook/feed.py): the compact payload it
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

/** The snapshot chain ending at `snap`, oldest first. */
export function chain<T extends { parent?: T | null }>(snap: T): T[] {
  const out: T[] = [];
  let cur: T | null | undefined = snap;
  while (cur) {
    out.push(cur);
    cur = cur.parent;
  }
  return out.reverse();
}

/**
 * Where a record's history began when it came from saved-state JSON that rows
 * cannot express: the chains as they were read, and how many of the record's
 * stamps and request snapshots they account for (rows may have added more).
 */
export interface Verbatim {
  node: NodeJSON | null;
  edge: EdgeJSON | null;
  nodeStamps: number;
  edgeSnaps: number;
}

function savedStatus(snap: EdgeSnap): Status {
  return snap.status === "Cancelled" ? "Failed" : snap.status;
}

/**
 * The saved-state snapshots of one record, as the engine's ExecutionInfo
 * records them: per request snapshot, a node snapshot and a request snapshot
 * sharing its stamp, each the child of the previous one. Verbatim chains are
 * kept as read and extended.
 */
export function recordJSON(rec: NodeRec, verbatim: Verbatim | undefined): { node: NodeJSON | null; edge: EdgeJSON | null } {
  let node: NodeJSON | null = verbatim ? verbatim.node : null;
  let edge: EdgeJSON | null = verbatim ? verbatim.edge : null;
  const fromRows = rec.edgeSnaps.slice(verbatim ? verbatim.edgeSnaps : 0);
  for (const snap of fromRows) {
    const stamp: Stamp = { step: snap.step, time: snap.time, identifier: snap.label };
    const open = snap.status === "Open";
    node = {
      identifier: rec.id,
      node_type: rec.type,
      name: rec.name,
      stamp,
      details: { internals: open ? {} : { latency: { total_time: rec.latency } } },
      parent: node,
    };
    edge = {
      identifier: rec.edgeId ?? rec.id,
      source: rec.callerId,
      target: rec.id,
      stamp,
      details: { input_args: rec.args, input_kwargs: rec.kwargs, status: savedStatus(snap), output: open ? null : snap.output },
      parent: edge,
    };
  }
  return { node, edge };
}

// The event rows: the one form a session's nodes take on their way from the
// kernel to the store. This is the one decoder of what the one encoder,
// railtracks_nb/notebook/wire.py, sends (live deltas, finished sessions); the
// rows' layout is railtracks_nb/execution/rows.py's. Those docstrings and this
// comment describe the same format, and a change to one is a change to the
// others (widgets/test/rows.test.ts replays rows the Python side made).
//
// A row is one of
//
//   ["c", step, time, text, request_id, caller, node_id, name, type, args, kwargs]  created
//   ["s", step, time, text, request, result, latency]                               succeeded
//   ["f", step, time, text, request, error, latency]                                failed
//   ["x", step, time, text]                                                         fatal failure
//
// Ids are sent once: every "c" row appends its `request_id` and `node_id` to
// an id table, and later rows name an id by its index in that table (an int);
// any other id is sent as a string (an id from before the table started, or
// of a node that has finished). `caller` null: the node has no caller (a run's
// entry node). `text` (the stamp's identifier) null is the engine's default
// for that event: "<caller name> CREATED <name>" ("START" for no caller),
// "Finished executing <name>", "Failed executing <name>".
//
// One table spans a live feed (every delta, and the `railtracks_nb/feed-1`
// replay of them); each run of a compact payload starts its own.

/** A stamp: one step of the session. */
export interface Stamp {
  step: number;
  time: number;
  identifier: string;
}

/** An id, as a row names it: its index in the id table, the id itself, or null. */
export type IdRef = number | string | null;

export type CreatedRow = [
  "c", number, number, string | null, string, IdRef, string, string, string, unknown[], Record<string, unknown>,
];
export type EndedRow = ["s" | "f", number, number, string | null, IdRef, unknown, number | null];
export type FatalRow = ["x", number, number, string | null];
export type EventRow = CreatedRow | EndedRow | FatalRow;

/** A row decoded: ids resolved, the stamp's text filled in. */
export type RowEvent =
  | {
      kind: "created";
      stamp: Stamp;
      requestId: string;
      callerId: string | null;
      nodeId: string;
      name: string;
      type: string;
      args: unknown[];
      kwargs: Record<string, unknown>;
    }
  | { kind: "ended"; ok: boolean; stamp: Stamp; requestId: string; output: unknown; latency: number | null }
  | { kind: "fatal"; stamp: Stamp };

/** What the decoder needs to know of the nodes already decoded (for default texts). */
export interface NodeNames {
  /** The name of node `nodeId`, if known. */
  nodeName(nodeId: string): string | undefined;
  /** The name of the node that request `requestId` created, if known. */
  calleeName(requestId: string): string | undefined;
}

/** Decodes rows against one id table. */
export class RowDecoder {
  /** The id table: two ids per "c" row decoded, request id then node id. */
  readonly ids: string[] = [];

  constructor(private readonly names: NodeNames) {}

  /** The id a row names (see IdRef). */
  ref(value: unknown): string | null {
    if (value === null || value === undefined) return null;
    if (typeof value === "number") {
      const id = this.ids[value];
      if (id === undefined) throw new RangeError(`railtracks_nb: row names id #${value}, the table holds ${this.ids.length}`);
      return id;
    }
    return String(value);
  }

  /** One row as an event; a "c" row also extends the id table. */
  decode(row: EventRow): RowEvent {
    if (!Array.isArray(row) || row.length < 4) throw new TypeError(`railtracks_nb: not an event row: ${JSON.stringify(row)}`);
    const kind = row[0];
    const step = row[1];
    const time = row[2];
    const text = row[3];
    if (kind === "c") {
      const [, , , , requestId, callerRef, nodeId, name, type, args, kwargs] = row;
      const callerId = this.ref(callerRef);
      this.ids.push(requestId, nodeId);
      const identifier =
        text ?? `${callerId === null ? "START" : (this.names.nodeName(callerId) ?? "")} CREATED ${name}`;
      return {
        kind: "created", stamp: { step, time, identifier }, requestId, callerId, nodeId, name, type,
        args: args ?? [], kwargs: kwargs ?? {},
      };
    }
    if (kind === "s" || kind === "f") {
      const requestId = this.ref(row[4]) ?? "";
      const ok = kind === "s";
      const identifier = text ?? `${ok ? "Finished" : "Failed"} executing ${this.names.calleeName(requestId) ?? ""}`;
      const latency = row[6];
      return {
        kind: "ended", ok, stamp: { step, time, identifier }, requestId, output: row[5],
        latency: typeof latency === "number" ? latency : null,
      };
    }
    return { kind: "fatal", stamp: { step, time, identifier: text ?? "" } };
  }
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

/** The rows of one binary buffer (a JSON array of rows). */
export function rowsOf(buffer: unknown): EventRow[] {
  const rows = JSON.parse(bufferText(buffer)) as unknown;
  if (!Array.isArray(rows)) throw new TypeError("railtracks_nb: a delta buffer does not hold a list of rows");
  return rows as EventRow[];
}

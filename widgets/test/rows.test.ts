// The row decoder (src/rows.ts) on hand-written rows of every kind.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EventRow, RowDecoder, rowsOf } from "../src/rows";

/** A decoder whose known nodes are `names` (node id -> name; request id -> node id in `callees`). */
function decoder(names: Record<string, string> = {}, callees: Record<string, string> = {}) {
  return new RowDecoder({
    nodeName: (id) => names[id],
    calleeName: (req) => names[callees[req] ?? req],
  });
}

test("a created row appends its request and node ids to the table; no caller means START", () => {
  const d = decoder();
  const e = d.decode(["c", 1, 10.5, null, "req-a", null, "node-a", "alpha", "Tool", [1, "x"], { k: 2 }]);
  assert.deepEqual(e, {
    kind: "created", stamp: { step: 1, time: 10.5, identifier: "START CREATED alpha" },
    requestId: "req-a", callerId: null, nodeId: "node-a", name: "alpha", type: "Tool",
    args: [1, "x"], kwargs: { k: 2 },
  });
  assert.deepEqual(d.ids, ["req-a", "node-a"]);
});

test("a caller named by index (int) or by id (str); the default text names the caller", () => {
  const d = decoder({ "node-a": "alpha", "old-node": "elder" });
  d.decode(["c", 1, 1, null, "req-a", null, "node-a", "alpha", "Tool", [], {}]);
  const byIndex = d.decode(["c", 2, 2, null, "req-b", 1, "node-b", "beta", "Tool", [], {}]);
  assert.equal(byIndex.kind === "created" && byIndex.callerId, "node-a");
  assert.equal(byIndex.stamp.identifier, "alpha CREATED beta");
  const byId = d.decode(["c", 3, 3, null, "req-c", "old-node", "node-c", "gamma", "Agent", [], {}]);
  assert.equal(byId.kind === "created" && byId.callerId, "old-node");
  assert.equal(byId.stamp.identifier, "elder CREATED gamma");
  assert.deepEqual(d.ids, ["req-a", "node-a", "req-b", "node-b", "req-c", "node-c"]);
});

test("an explicit stamp text is kept as sent", () => {
  const d = decoder();
  const e = d.decode(["c", 4, 4, "entry CREATED top", "r", "n-entry", "n", "top", "Tool", [], {}]);
  assert.equal(e.stamp.identifier, "entry CREATED top");
  const s = d.decode(["s", 5, 5, "done early", 0, 1, 0.5]);
  assert.equal(s.stamp.identifier, "done early");
});

test("ended rows: succeeded and failed, the request by index or by id, default texts", () => {
  const d = decoder({ "node-a": "alpha", "node-z": "zeta" }, { "req-a": "node-a", "req-z": "node-z" });
  d.decode(["c", 1, 1, null, "req-a", null, "node-a", "alpha", "Tool", [], {}]);
  assert.deepEqual(d.decode(["s", 2, 2.5, null, 0, { ok: true }, 1.5]), {
    kind: "ended", ok: true, stamp: { step: 2, time: 2.5, identifier: "Finished executing alpha" },
    requestId: "req-a", output: { ok: true }, latency: 1.5,
  });
  const failed = d.decode(["f", 3, 3, null, "req-z", { type: "ValueError", message: "no" }, null]);
  assert.deepEqual(failed, {
    kind: "ended", ok: false, stamp: { step: 3, time: 3, identifier: "Failed executing zeta" },
    requestId: "req-z", output: { type: "ValueError", message: "no" }, latency: null,
  });
  // An ended row only reads the table: it does not extend it.
  assert.deepEqual(d.ids, ["req-a", "node-a"]);
});

test("a fatal failure's stamp, with and without text", () => {
  const d = decoder();
  assert.deepEqual(d.decode(["x", 9, 9.5, "Fatal: boom"]), { kind: "fatal", stamp: { step: 9, time: 9.5, identifier: "Fatal: boom" } });
  assert.deepEqual(d.decode(["x", 10, 10, null]), { kind: "fatal", stamp: { step: 10, time: 10, identifier: "" } });
});

test("bad rows are named in the error", () => {
  const d = decoder();
  assert.throws(() => d.decode(["s", 1, 1, null, 5, null, null]), /names id #5, the table holds 0/);
  assert.throws(() => d.decode(["c", 1] as unknown as EventRow), /not an event row/);
  assert.throws(() => rowsOf('{"rows": []}'), /does not hold a list of rows/);
  assert.throws(() => rowsOf(42), /neither text nor binary/);
});

test("rows from a binary buffer (as the comm hands them over) or text", () => {
  const text = '[["x",1,1,null]]';
  const bytes = new TextEncoder().encode(`xx${text}`);
  assert.deepEqual(rowsOf(new DataView(bytes.buffer, 2)), [["x", 1, 1, null]]);
  assert.deepEqual(rowsOf(text), [["x", 1, 1, null]]);
  assert.deepEqual(rowsOf(new TextEncoder().encode(text)), [["x", 1, 1, null]]);
});

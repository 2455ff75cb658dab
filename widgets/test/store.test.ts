// The store (src/store.ts, src/calltree.ts) against what the Python side says:
// sessions from widgets/test/fixtures/sessions.json (made by make_sessions.py),
// received as the kernel sends them, must give the node records that
// railtracks_nb.execution.calltree.call_records makes of the same session.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  type AnyPayload, type Delta, dfsOrder, edgeSnapAt, type EventRow, finishedAt, type NodeRec,
  type Payload, stampsAt, statusAt, Store,
} from "../src/store";

// The bundled test runs from widgets/.test-build.
const fixtures = JSON.parse(readFileSync(new URL("../test/fixtures/sessions.json", import.meta.url), "utf8"));

type Message = { msg: Delta; buffers: string[] };

const view = (text: string) => new DataView(new TextEncoder().encode(text).buffer);

/** A store fed `deltas` as the comm hands them over (buffers as DataViews). */
function live(start: AnyPayload, deltas: Message[]): Store {
  const store = new Store(start);
  for (const { msg, buffers } of deltas) assert.ok(store.handleMessage(msg, buffers.map(view)));
  return store;
}

/** A record as railtracks_nb.execution.calltree.call_records words it. */
function pythonRecord(rec: NodeRec) {
  const status = statusAt(rec, null);
  const saved = status === "Cancelled" ? "Failed" : status;
  const last = edgeSnapAt(rec, null);
  const output = last?.output ?? null;
  return {
    id: rec.id, name: rec.name, type: rec.type, status: saved, caller: rec.callerId,
    run_id: rec.runId, run_name: rec.runName, created: rec.createdTime, created_step: rec.createdStep,
    finished: finishedAt(rec, null), latency: rec.latency,
    steps: [...new Set(stampsAt(rec, null).map((s) => s.step))].sort((a, b) => a - b),
    args: rec.args, kwargs: rec.kwargs,
    output: saved === "Completed" ? output : null,
    error: saved === "Failed" ? output : null,
    depth: rec.depth, request_id: rec.edgeId,
  };
}

function assertSameAsPython(store: Store, expected: Record<string, unknown>[]): void {
  const index = store.index();
  const got = [...index.nodes.values()].map(pythonRecord).sort((a, b) => a.created_step - b.created_step);
  assert.deepEqual(got, expected);
  // Every record is reachable from the roots, callers before callees.
  assert.equal(dfsOrder(index, null).length, expected.length);
  const steps = index.steps.map((s) => s.step);
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b), "steps in step order");
}

const byId = <T extends { identifier: string }>(xs: T[]) => [...xs].sort((a, b) => a.identifier.localeCompare(b.identifier));

function assertSamePayload(got: Payload, want: Payload): void {
  assert.equal(got.runs.length, want.runs.length);
  for (let i = 0; i < want.runs.length; i++) {
    const g = got.runs[i];
    const w = want.runs[i];
    assert.deepEqual(byId(g.nodes), byId(w.nodes));
    assert.deepEqual(byId(g.edges), byId(w.edges));
    assert.deepEqual(g.steps, w.steps);
  }
  assert.equal(got.session_id, want.session_id);
}

test("a compact payload gives the Python side's node records", () => {
  const c = fixtures.compact;
  assert.ok(c.data.runs[0].events.some((r: EventRow) => r[0] === "f"), "the fixture has a failure");
  const store = new Store(c.data);
  assertSameAsPython(store, c.expected);
  assert.ok([...store.index().nodes.values()].some((r) => statusAt(r, null) === "Cancelled"), "a cancelled node reads as such");
});

test("a compact payload with a verbatim node, and the plain payload, give the same records", () => {
  const v = fixtures.verbatim;
  assert.equal(v.data.runs[0].nodes.length, 1, "one node kept verbatim");
  assertSameAsPython(new Store(v.data), v.expected);
  assertSameAsPython(new Store(v.plain), v.expected);
});

test("Download JSON: the payload rebuilt from records is the saved one (compact, verbatim and plain)", () => {
  const v = fixtures.verbatim;
  assertSamePayload(new Store(v.data).toPayload(), v.plain);
  const plain = new Store(v.plain).toPayload();
  assertSamePayload(plain, v.plain);
  // Read as they came: the very snapshot chains of a plain payload.
  const middle = v.plain.runs[0].nodes.find((n: { name: string }) => n.name === "middle");
  assert.ok(plain.runs[0].nodes.includes(middle));
});

test("a live session: the starting data, then every delta in order, gives the Python side's records", () => {
  const l = fixtures.live;
  const rows: EventRow[] = l.deltas.flatMap((d: Message) => d.buffers.flatMap((b) => JSON.parse(b)));
  assert.ok(rows.some((r) => r[0] === "c" && typeof r[5] === "number"), "a caller named by index");
  assert.ok(rows.some((r) => r[0] === "c" && typeof r[5] === "string"), "a caller named by id");
  assert.ok(rows.some((r) => r[0] !== "c" && typeof r[4] === "string"), "a request named by id");
  assert.ok(rows.some((r) => r[3] === null) && rows.some((r) => typeof r[3] === "string"), "default and explicit texts");
  const store = live(l.start, l.deltas);
  assertSameAsPython(store, l.expected);
  assert.equal(store.seq, l.deltas[l.deltas.length - 1].msg.seq);
});

test("deltas apply in order, each adding to what is there; one already applied is skipped", () => {
  const l = fixtures.live;
  const store = new Store(l.start);
  let before = store.index().nodes.size;
  const seen = new Map<string, NodeRec>();
  for (const { msg, buffers } of l.deltas) {
    store.applyDelta(msg, buffers.map(view));
    const nodes = store.index().nodes;
    assert.ok(nodes.size >= before);
    before = nodes.size;
    // A delta touches only its rows' records: the others are the same objects.
    const touched = new Set<string>();
    for (const b of buffers) for (const row of JSON.parse(b) as EventRow[]) if (row[0] === "c") touched.add(row[6] as string);
    for (const [id, rec] of seen) if (!touched.has(id)) assert.equal(nodes.get(id), rec, `record ${id} rebuilt`);
    for (const [id, rec] of nodes) seen.set(id, rec);
  }
  const version = store.version;
  const first = l.deltas[0];
  store.applyDelta(first.msg, first.buffers.map(view));
  assert.equal(store.version, version, "a delta already applied changes nothing");
  assertSameAsPython(store, l.expected);
});

test("the railtracks_nb/feed-1 joined bytes replay to the same records as the deltas", () => {
  const l = fixtures.live;
  assert.equal(l.final.format, "railtracks_nb/feed-1");
  const replayed = new Store(l.final);
  assertSameAsPython(replayed, l.expected);
  // The same header, except that the feed knows when the session ended (the last
  // delta went out as it turned idle, before the session recorded its end).
  const { end_time: ended, ...meta } = replayed.meta;
  const { end_time: _open, ...liveMeta } = live(l.start, l.deltas).meta;
  assert.deepEqual(meta, liveMeta);
  assert.equal(typeof ended, "number");
  assert.deepEqual(replayed.extras, live(l.start, l.deltas).extras);
});

test("a resync (everything so far as one binary buffer) replaces the store, and deltas continue on its id table", () => {
  const l = fixtures.live;
  const half = Math.floor(l.deltas.length / 2);
  const store = new Store({ session_id: "other", session_name: "stale", start_time: 0, end_time: null, runs: [] });
  store.handleMessage({ type: "reset", seq: 0 }, [view(JSON.stringify(l.start))]);
  for (const { msg, buffers } of l.deltas.slice(0, half)) store.handleMessage(msg, buffers.map(view));
  // A reloaded view asks for everything: the kernel answers with the start and the deltas so far, joined.
  const base = new Store(l.start);
  for (const { msg, buffers } of l.deltas.slice(0, half)) base.handleMessage(msg, buffers.map(view));
  const resynced = new Store();
  const chunks: [string, EventRow[]][] = [];
  for (const { msg, buffers } of l.deltas.slice(0, half)) {
    (msg.event_buffers ?? []).forEach((runId: string, i: number) => chunks.push([runId, JSON.parse(buffers[i])]));
  }
  const feed = { format: "railtracks_nb/feed-1", seq: l.deltas[half - 1].msg.seq, meta: {}, runs: base.runHeaders(), base: l.start, chunks };
  resynced.handleMessage({ type: "reset", seq: feed.seq }, [view(JSON.stringify(feed))]);
  assert.equal(resynced.seq, feed.seq);
  for (const { msg, buffers } of l.deltas) resynced.handleMessage(msg, buffers.map(view)); // the first half is skipped
  assertSameAsPython(resynced, l.expected);
});

test("a callee that arrives before its caller joins it when the caller comes", () => {
  const store = new Store({ session_id: "s", session_name: null, start_time: 0, end_time: null, runs: [] });
  const run = { run_id: "r", name: "run", status: "Open" as const, start_time: 0, end_time: null };
  store.applyDelta({ type: "delta", seq: 1, runs: [run], events: [["r", [["c", 5, 5, null, "q-child", "n-top", "n-child", "child", "Tool", [], {}]]]] });
  assert.deepEqual(store.index().roots.map((r) => r.id), ["n-child"]);
  store.applyDelta({ type: "delta", seq: 2, events: [["r", [
    ["c", 1, 1, null, "q-top", null, "n-top", "top", "Tool", [], {}],
    ["c", 2, 2, null, "q-early", 3, "n-early", "early", "Tool", [], {}],
  ]]] });
  const index = store.index();
  assert.deepEqual(index.roots.map((r) => r.id), ["n-top"]);
  const top = index.nodes.get("n-top")!;
  assert.deepEqual(top.children.map((r) => r.id), ["n-early", "n-child"], "children in creation order");
  assert.equal(index.nodes.get("n-child")!.depth, 1);
  assert.deepEqual(index.steps.map((s) => s.step), [1, 2, 5]);
  // Its caller was unknown when its row came: no name for the default text.
  assert.equal(index.nodes.get("n-child")!.edgeSnaps[0].label, " CREATED child");
});

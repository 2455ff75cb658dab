// The view state (src/viewstate.ts): step and selection, kept in step with the model.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HostModel, WidgetTraits } from "../src/model";
import { ViewState } from "../src/viewstate";

/** A model that records what the view state does to it. */
function fakeModel(traits: Partial<WidgetTraits>) {
  const state: Partial<WidgetTraits> = { ...traits };
  const handlers = new Map<string, Set<() => void>>();
  const log: string[] = [];
  const model = {
    get: (k: keyof WidgetTraits) => state[k],
    set: (k: keyof WidgetTraits, v: unknown) => {
      log.push(`set ${k}=${JSON.stringify(v)}`);
      (state as Record<string, unknown>)[k] = v;
    },
    save_changes: () => log.push("save"),
    on: (e: string, cb: () => void) => {
      if (!handlers.has(e)) handlers.set(e, new Set());
      handlers.get(e)!.add(cb);
    },
    off: (e?: string | null, cb?: (() => void) | null) => {
      if (e && cb) handlers.get(e)?.delete(cb);
    },
    send: () => undefined,
  } as unknown as HostModel;
  const fromPython = (k: keyof WidgetTraits, v: unknown) => {
    (state as Record<string, unknown>)[k] = v;
    for (const cb of handlers.get(`change:${k}`) ?? []) cb();
  };
  return { model, log, fromPython, handlers };
}

test("starts from the model's step and selection", () => {
  const { model } = fakeModel({ step: 7, selected: "n1" });
  const view = new ViewState(model);
  assert.equal(view.step, 7);
  assert.equal(view.selected, "n1");
});

test("a step the user picks is saved to the model; one set from Python is only followed", () => {
  const { model, log, fromPython } = fakeModel({ step: null, selected: null });
  const view = new ViewState(model);
  const seen: (number | null)[] = [];
  view.onStep(() => seen.push(view.step));
  view.setStep(3, true);
  assert.deepEqual(log, ["set step=3", "save"]);
  fromPython("step", 5);
  assert.equal(view.step, 5);
  assert.deepEqual(seen, [3, 5]);
  assert.deepEqual(log, ["set step=3", "save"], "no echo back to the model");
});

test("a selection is saved to the model and told to listeners", () => {
  const { model, log } = fakeModel({ step: null, selected: null });
  const view = new ViewState(model);
  let told = 0;
  view.onSelect(() => (told += 1));
  view.select("node-9");
  assert.equal(view.selected, "node-9");
  assert.equal(told, 1);
  assert.deepEqual(log, ['set selected="node-9"', "save"]);
});

test("destroy stops following the model", () => {
  const { model, fromPython, handlers } = fakeModel({ step: null, selected: null });
  const view = new ViewState(model);
  view.destroy();
  assert.equal(handlers.get("change:step")?.size, 0);
  fromPython("step", 2);
  assert.equal(view.step, null);
});

// anywidget entry: one module for GraphView, TimelineView, StateView and
// SessionDashboard (the `view` trait picks).
//
// One store per widget, shared by all its views. It is keyed on the widget's
// `uid` trait, not on the model object handed to initialize()/render(): front
// ends may wrap the same model afresh for every view (anywidget 0.11 does), and
// a store keyed on the wrapper would start a redisplayed or refreshed view from
// the widget's first snapshot instead of everything received since.

import type { AnyWidget } from "@anywidget/types";
import { batchFor, forgetBatch, mountBatch } from "./batch";
import { type Mounted, mountView } from "./dashboard";
import { type CommonTraits, type HostModel, type ModuleModel, widgetModel } from "./model";
import { bufferText } from "./rows";
import { type AnyPayload, Store } from "./store";

/** The element a view is mounted in, with the mounted view (for tooling and tests). */
export type ViewElement = HTMLElement & { rtView?: Mounted };

const stores = new Map<string, Store>();
/** Stores of models with no uid (hosts that predate it): keyed on the model object. */
const storesByModel = new WeakMap<object, Store>();
/** Model wrappers whose events are already routed to their store. */
const wired = new WeakSet<object>();

/** The `data` trait: JSON bytes from the kernel (a DataView), a string, or an object. */
export function decodePayload(value: unknown): AnyPayload | null {
  if (value === null || value === undefined) return null;
  const binary = value instanceof ArrayBuffer || ArrayBuffer.isView(value);
  if (typeof value !== "string" && !binary) return value as AnyPayload;
  const text = bufferText(value);
  return text ? (JSON.parse(text) as AnyPayload) : null;
}

/** The store of the widget behind `model`, created from its `data` the first time. */
export function storeFor(model: HostModel): Store {
  const uid = model.get("uid");
  let store = uid ? stores.get(uid) : storesByModel.get(model);
  if (!store) {
    store = new Store(decodePayload(model.get("data")));
    store.seq = model.get("payload_seq") ?? 0;
    if (uid) stores.set(uid, store);
    else storesByModel.set(model, store);
  }
  wire(model, store);
  return store;
}

/** What a store last received, so the same event from several wrappers is applied once. */
const lastSeen = new WeakMap<Store, { data: unknown; message: unknown }>();

/**
 * Route `model`'s events to `store`. Every wrapper of one model delivers the same
 * events, so each is applied once: a new `data` and a reset message by identity,
 * a delta by its sequence number (the store skips one it has).
 */
function wire(model: HostModel, store: Store): void {
  if (wired.has(model)) return;
  wired.add(model);
  let seen = lastSeen.get(store);
  if (!seen) lastSeen.set(store, (seen = { data: model.get("data"), message: null }));
  const last = seen;
  model.on("change:data", () => {
    const data = model.get("data");
    if (data === last.data) return;
    last.data = data;
    store.reset(decodePayload(data), model.get("payload_seq") ?? 0);
  });
  model.on("msg:custom", (msg: unknown, buffers?: DataView[]) => {
    if (msg === last.message) return;
    last.message = msg;
    store.handleMessage(msg, buffers ?? []);
  });
}

export default {
  initialize({ model: any }: { model: ModuleModel }) {
    const which = widgetModel(any);
    if ("batch" in which) {
      const batch = which.batch;
      batchFor(batch);
      // Rows sent before this module loaded: ask the kernel for all of them.
      if (batch.get("live")) batch.send({ type: "sync" });
      return () => forgetBatch(batch);
    }
    const model = which.session;
    const store = storeFor(model);
    // Deltas sent before this module loaded (a live session, or a page reloaded
    // during one) are not in `data`: ask the kernel for everything so far.
    if (model.get("live") || (model.get("seq") ?? 0) > (model.get("payload_seq") ?? 0)) {
      model.send({ type: "sync" });
    }
    const uid = model.get("uid");
    // Called when the widget is closed: no view of it is left.
    return () => {
      if (uid && stores.get(uid) === store) stores.delete(uid);
    };
  },
  render({ model: any, el }: { model: ModuleModel; el: ViewElement }) {
    const which = widgetModel(any);
    if ("batch" in which) {
      const batch = mountBatch(el, which.batch);
      return () => batch.destroy();
    }
    const model = which.session;
    const view = mountView(el, storeFor(model), model);
    el.rtView = view;
    return () => view.destroy();
  },
} satisfies AnyWidget<CommonTraits>;

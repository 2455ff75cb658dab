// anywidget entry: one module for GraphView, TimelineView, StateView and
// SessionDashboard (the `view` trait picks). The store lives per model, so
// several views of one widget share data and deltas are merged once.

import { type HostModel, mountView } from "./dashboard";
import { type CompactPayload, type Payload, Store } from "./store";

const stores = new WeakMap<object, Store>();

/** The `data` trait: JSON bytes from the kernel (a DataView), a string, or an object. */
export function decodePayload(value: unknown): Payload | CompactPayload | null {
  if (value === null || value === undefined) return null;
  let text: string | null = null;
  if (typeof value === "string") text = value;
  else if (value instanceof DataView) text = new TextDecoder().decode(value);
  else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) text = new TextDecoder().decode(value as ArrayBuffer);
  else return value as Payload;
  return text ? (JSON.parse(text) as Payload) : null;
}

export function storeFor(model: HostModel): Store {
  let store = stores.get(model);
  if (!store) {
    const s = new Store(decodePayload(model.get("data")));
    s.seq = model.get("payload_seq") ?? 0;
    model.on("change:data", () => s.reset(decodePayload(model.get("data")), model.get("payload_seq") ?? 0));
    model.on("msg:custom", (msg: unknown, buffers?: unknown[]) => s.handleMessage(msg, buffers ?? []));
    stores.set(model, s);
    store = s;
  }
  return store;
}

export default {
  initialize({ model }: { model: HostModel }) {
    storeFor(model);
    // Deltas sent before this module loaded (a live session, or a reloaded page
    // after one) are not in `data`: ask the kernel for a full snapshot.
    if (model.get("live") || (model.get("seq") ?? 0) > (model.get("payload_seq") ?? 0)) {
      model.send({ type: "sync" });
    }
  },
  render({ model, el }: { model: HostModel; el: HTMLElement }) {
    const view = mountView(el, storeFor(model), model);
    (el as any).rtView = view;
    return () => view.destroy();
  },
};

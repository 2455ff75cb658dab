// The host of the exported .html page: a tiny stand-in for the anywidget
// model API (get/set/on/off/send/save_changes) so the page runs the very same
// widget code offline, with the data inlined and no kernel.

import type { HostModel, WidgetTraits } from "./model";
import widget, { type ViewElement } from "./widget";

type Handler = (...args: any[]) => void;

/** The widget's model in a page without a kernel: the traits, held here. */
export class LocalModel implements HostModel {
  private state: WidgetTraits;
  private handlers = new Map<string, Set<Handler>>();

  constructor(state: WidgetTraits) {
    this.state = { ...state };
  }

  get<K extends keyof WidgetTraits>(name: K): WidgetTraits[K] {
    return this.state[name];
  }

  set<K extends keyof WidgetTraits>(name: K, value: WidgetTraits[K]): void {
    if (this.state[name] === value) return;
    this.state[name] = value;
    this.emit(`change:${name}`, value);
  }

  save_changes(): void {}

  send(_content: unknown): void {}

  on(event: string, cb: Handler): void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(cb);
  }

  off(event?: string | null, cb?: Handler | null): void {
    if (!event) this.handlers.clear();
    else if (!cb) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(cb);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const cb of this.handlers.get(event) ?? []) cb(...args);
  }
}

export interface MountOptions {
  view?: "graph" | "timeline" | "state" | "dashboard";
  height?: number;
}

/** Render the widget for `payload` into `el`; returns the model and a cleanup function. */
export function mount(el: HTMLElement, payload: unknown, opts: MountOptions = {}) {
  const model = new LocalModel({
    data: payload as WidgetTraits["data"],
    payload_seq: 0,
    seq: 0,
    uid: "",
    view: opts.view ?? "dashboard",
    height: opts.height ?? 620,
    step: null,
    selected: null,
    live: false,
  });
  widget.initialize({ model });
  const cleanup = widget.render({ model, el });
  return { model, cleanup };
}

/** Read the inlined data: plain JSON, or gzip+base64 for large sessions. */
export async function readData(dataEl: HTMLElement): Promise<unknown> {
  const text = dataEl.textContent ?? "";
  if (dataEl.dataset.encoding !== "gzip+base64") return JSON.parse(text);
  if (typeof DecompressionStream !== "function") {
    throw new Error("This browser cannot decompress the embedded session (no DecompressionStream).");
  }
  const binary = atob(text.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

/** Entry point of exported pages: decode the data element, mount, flag readiness. */
export async function boot(appEl: ViewElement, dataEl: HTMLElement, opts: MountOptions = {}) {
  try {
    const payload = await readData(dataEl);
    const mounted = mount(appEl, payload, opts);
    // For tooling and tests: the mounted views (graph.screenPosition, setStep, ...).
    (window as any).__railtracksView = appEl.rtView;
    (window as any).__railtracksReady = performance.now();
    return mounted;
  } catch (err) {
    const box = document.createElement("pre");
    box.className = "rt-load-error";
    box.textContent = `railtracks_nb: could not show this session: ${String(err)}`;
    appEl.appendChild(box);
    (window as any).__railtracksError = String(err);
    throw err;
  }
}

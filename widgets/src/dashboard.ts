// Mounting a view (graph, timeline, state, or the dashboard of all three)
// into an element, wired to a store and to an anywidget-style model.

import { renderDetails } from "./details";
import { GraphPanel, type VNode } from "./graph";
import { StatePanel } from "./stateview";
import type { Store } from "./store";
import { TimelinePanel } from "./timeline";
import { button, downloadBlob, el, fileStem, fmtDuration, fmtInt } from "./util";

/** The part of the anywidget model API the views use (the HTML export mimics it). */
export interface HostModel {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, cb: (...args: any[]) => void): void;
  off(event?: string | null, cb?: ((...args: any[]) => void) | null): void;
  send(content: unknown): void;
}

export type ViewKind = "graph" | "timeline" | "state" | "dashboard";

export interface Mounted {
  destroy(): void;
  graph: GraphPanel | null;
  timeline: TimelinePanel | null;
  state: StatePanel | null;
  setStep(step: number | null): void;
}

export function mountView(target: HTMLElement, store: Store, model: HostModel): Mounted {
  const kind = (model.get("view") as ViewKind) || "dashboard";
  const height = Number(model.get("height")) || 560;
  const root = el("div", `rt-root rt-view-${kind}`);
  root.dataset.rtView = kind;
  target.appendChild(root);

  let graph: GraphPanel | null = null;
  let timeline: TimelinePanel | null = null;
  let state: StatePanel | null = null;
  let details: HTMLDivElement | null = null;
  let step: number | null = model.get("step") ?? null;
  let selected: string | null = model.get("selected") ?? null;
  let selectedV: VNode | null = null;
  const cleanups: (() => void)[] = [];

  const showDetails = () => {
    if (details) renderDetails(details, store, selected, selectedV, step);
  };
  const select = (key: string | null, v: VNode | null = null) => {
    selected = key;
    selectedV = v;
    graph?.setSelected(key);
    timeline?.setSelected(key);
    showDetails();
    model.set("selected", key);
    model.save_changes();
  };

  // Toolbar (dashboard only): replay slider and downloads.
  let slider: HTMLInputElement | null = null;
  let stepLabel: HTMLSpanElement | null = null;
  if (kind === "dashboard") {
    const bar = el("div", "rt-toolbar");
    const title = el("span", "rt-title", store.title);
    const replay = el("label", "rt-replay-box");
    replay.append(el("span", "rt-muted", "Replay "));
    slider = el("input", "rt-replay");
    slider.type = "range";
    slider.min = "0";
    slider.step = "1";
    slider.setAttribute("aria-label", "Replay step");
    stepLabel = el("span", "rt-step-label");
    const latest = button("rt-latest", "Latest", "Jump to the latest step (follow a live session)");
    replay.append(slider, stepLabel);
    const dl = el("span", "rt-downloads");
    const bJson = button("rt-dl-json", "JSON", "Download the session (Railtracks saved-state JSON)");
    const bSvg = button("rt-dl-svg", "SVG", "Download the graph as drawn now (SVG)");
    const bPng = button("rt-dl-png", "PNG", "Download the graph as drawn now (PNG)");
    dl.append(el("span", "rt-muted", "Download "), bJson, bSvg, bPng);
    bar.append(title, replay, latest, dl);
    root.appendChild(bar);

    const stem = () => fileStem(store.title);
    bJson.addEventListener("click", () =>
      downloadBlob(new Blob([JSON.stringify(store.toPayload(), null, 1)], { type: "application/json" }), `${stem()}.json`),
    );
    bSvg.addEventListener("click", () => {
      if (graph) downloadBlob(new Blob([graph.toSVG()], { type: "image/svg+xml" }), `${stem()}.svg`);
    });
    bPng.addEventListener("click", async () => {
      if (graph) downloadBlob(await graph.toPNG(), `${stem()}.png`);
    });
    slider.addEventListener("input", () => {
      const steps = store.index().steps;
      const i = Number(slider!.value);
      setStep(i >= steps.length - 1 ? null : steps[i].step, true);
    });
    latest.addEventListener("click", () => setStep(null, true));
  }

  if (kind === "dashboard" || kind === "state") state = new StatePanel(root, store);
  if (kind === "dashboard" || kind === "graph" || kind === "timeline") {
    const main = el("div", "rt-main");
    const left = el("div", "rt-left");
    main.appendChild(left);
    details = el("div", "rt-details");
    details.setAttribute("aria-live", "polite");
    main.appendChild(details);
    root.appendChild(main);
    const graphH = kind === "dashboard" ? Math.round(height * 0.6) : height;
    if (kind !== "timeline") {
      graph = new GraphPanel(left, store, { onSelect: (key, v) => select(key, v) });
      graph.root.style.height = `${graphH}px`;
    }
    if (kind !== "graph") {
      timeline = new TimelinePanel(kind === "dashboard" ? root : left, store, {
        onSelect: (id) => {
          select(id, null);
          graph?.focus(id);
        },
      });
      timeline.root.style.height = `${kind === "dashboard" ? Math.max(200, height - graphH) : height}px`;
    }
    main.style.height = `${graphH + (kind === "timeline" ? 30 : 30)}px`;
    showDetails();
  }

  const syncSlider = () => {
    if (!slider || !stepLabel) return;
    const index = store.index();
    const steps = index.steps;
    slider.max = String(Math.max(0, steps.length - 1));
    slider.disabled = steps.length < 2;
    const i = step === null ? steps.length - 1 : Math.max(0, steps.findIndex((s) => s.step >= step!));
    slider.value = String(Math.max(0, i));
    const stamp = step === null ? steps[steps.length - 1] : steps[i];
    const where = step === null ? "latest" : `step ${step}`;
    stepLabel.textContent = stamp
      ? `${where} · ${fmtInt(i + 1)}/${fmtInt(steps.length)} · +${fmtDuration(stamp.time - index.startTime)} · ${stamp.identifier}`
      : "no steps yet";
    root.dataset.step = step === null ? "latest" : String(step);
  };

  function setStep(s: number | null, fromUser: boolean): void {
    step = s;
    graph?.setStep(s);
    timeline?.setStep(s);
    state?.setStep(s);
    syncSlider();
    showDetails();
    if (fromUser) {
      model.set("step", s);
      model.save_changes();
    }
  }

  const onStepChange = () => setStep(model.get("step") ?? null, false);
  model.on("change:step", onStepChange);
  cleanups.push(() => model.off("change:step", onStepChange));
  cleanups.push(
    store.subscribe(() => {
      syncSlider();
      if (slider) {
        const title = root.querySelector(".rt-title");
        if (title) title.textContent = store.title;
      }
      if (selected) showDetails();
    }),
  );
  if (step !== null) setStep(step, false);
  syncSlider();
  if (selected) select(selected, null);
  root.dataset.rtReady = "1";

  return {
    graph,
    timeline,
    state,
    setStep: (s) => setStep(s, true),
    destroy() {
      for (const c of cleanups) c();
      graph?.destroy();
      timeline?.destroy();
      state?.destroy();
      root.remove();
    },
  };
}

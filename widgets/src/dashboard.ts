// Mounting a view (graph, timeline, state, or the dashboard of all three)
// into an element, wired to a store and to the widget's model: the panels,
// their sizes, and a ViewState (step and selection) that they all follow.

import { renderDetails } from "./details";
import { GraphPanel } from "./graph";
import type { HostModel, ViewKind } from "./model";
import { StatePanel } from "./stateview";
import type { Store } from "./store";
import { TimelinePanel } from "./timeline";
import { Toolbar } from "./toolbar";
import { el } from "./util";
import { ViewState } from "./viewstate";

export type { HostModel, ViewKind } from "./model";

export interface Mounted {
  destroy(): void;
  graph: GraphPanel | null;
  timeline: TimelinePanel | null;
  state: StatePanel | null;
  setStep(step: number | null): void;
}

interface Panels {
  graph: GraphPanel | null;
  timeline: TimelinePanel | null;
  state: StatePanel | null;
  details: HTMLDivElement | null;
}

/** The panels of view `kind` in `root`, sized to `height` pixels in all. */
function mountPanels(root: HTMLElement, kind: ViewKind, height: number, store: Store, view: ViewState): Panels {
  const panels: Panels = { graph: null, timeline: null, state: null, details: null };
  if (kind === "dashboard" || kind === "state") panels.state = new StatePanel(root, store);
  if (kind === "state") return panels;
  const main = el("div", "rt-main");
  const left = el("div", "rt-left");
  main.appendChild(left);
  panels.details = el("div", "rt-details");
  panels.details.setAttribute("aria-live", "polite");
  main.appendChild(panels.details);
  root.appendChild(main);
  // The dashboard gives the graph 60 % of its height and the timeline the rest.
  const graphH = kind === "dashboard" ? Math.round(height * 0.6) : height;
  if (kind !== "timeline") {
    panels.graph = new GraphPanel(left, store, { onSelect: (key, box) => view.select(key, box) });
    panels.graph.root.style.height = `${graphH}px`;
  }
  if (kind !== "graph") {
    panels.timeline = new TimelinePanel(kind === "dashboard" ? root : left, store, {
      onSelect: (id) => {
        view.select(id, null);
        panels.graph?.focus(id);
      },
    });
    panels.timeline.root.style.height = `${kind === "dashboard" ? Math.max(200, height - graphH) : height}px`;
  }
  main.style.height = `${graphH + 30}px`;
  return panels;
}

export function mountView(target: HTMLElement, store: Store, model: HostModel): Mounted {
  const kind = model.get("view") || "dashboard";
  const height = Number(model.get("height")) || 560;
  const root = el("div", `rt-root rt-view-${kind}`);
  root.dataset.rtView = kind;
  target.appendChild(root);

  const view = new ViewState(model);
  const toolbar = kind === "dashboard" ? new Toolbar(store, view, () => panels.graph) : null;
  if (toolbar) root.appendChild(toolbar.root);
  const panels = mountPanels(root, kind, height, store, view);
  const { graph, timeline, state } = panels;

  const showDetails = () => {
    if (panels.details) renderDetails(panels.details, store, view.selected, view.selectedBox, view.step);
  };
  const syncToolbar = () => {
    if (!toolbar) return;
    toolbar.sync();
    root.dataset.step = view.step === null ? "latest" : String(view.step);
  };
  const cleanups: (() => void)[] = [
    view.onStep(() => {
      graph?.setStep(view.step);
      timeline?.setStep(view.step);
      state?.setStep(view.step);
      syncToolbar();
      showDetails();
    }),
    view.onSelect(() => {
      graph?.setSelected(view.selected);
      timeline?.setSelected(view.selected);
      showDetails();
    }),
    store.subscribe(() => {
      syncToolbar();
      if (view.selected) showDetails();
    }),
    () => view.destroy(),
  ];
  showDetails();
  if (view.step !== null) view.setStep(view.step, false);
  syncToolbar();
  if (view.selected) view.select(view.selected, null);
  root.dataset.rtReady = "1";

  return {
    graph,
    timeline,
    state,
    setStep: (s) => view.setStep(s, true),
    destroy() {
      for (const c of cleanups) c();
      graph?.destroy();
      timeline?.destroy();
      state?.destroy();
      root.remove();
    },
  };
}

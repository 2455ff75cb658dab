// The dashboard's toolbar: the session's title, the replay slider (one notch
// per step) with the "Latest" button, and the downloads (JSON, SVG, PNG).

import type { GraphPanel } from "./graph";
import type { Store } from "./store";
import { button, downloadBlob, el, fileStem, fmtDuration, fmtInt } from "./util";
import type { ViewState } from "./viewstate";

export class Toolbar {
  readonly root: HTMLDivElement;
  private title: HTMLSpanElement;
  private slider: HTMLInputElement;
  private stepLabel: HTMLSpanElement;

  /** `graph`: the graph drawn now (the SVG and PNG downloads are of it). */
  constructor(
    private readonly store: Store,
    private readonly state: ViewState,
    graph: () => GraphPanel | null,
  ) {
    this.root = el("div", "rt-toolbar");
    this.title = el("span", "rt-title", store.title);
    const replay = el("label", "rt-replay-box");
    replay.append(el("span", "rt-muted", "Replay "));
    this.slider = el("input", "rt-replay");
    this.slider.type = "range";
    this.slider.min = "0";
    this.slider.step = "1";
    this.slider.setAttribute("aria-label", "Replay step");
    this.stepLabel = el("span", "rt-step-label");
    const latest = button("rt-latest", "Latest", "Jump to the latest step (follow a live session)");
    replay.append(this.slider, this.stepLabel);
    const dl = el("span", "rt-downloads");
    const bJson = button("rt-dl-json", "JSON", "Download the session (Railtracks saved-state JSON)");
    const bSvg = button("rt-dl-svg", "SVG", "Download the graph as drawn now (SVG)");
    const bPng = button("rt-dl-png", "PNG", "Download the graph as drawn now (PNG)");
    dl.append(el("span", "rt-muted", "Download "), bJson, bSvg, bPng);
    this.root.append(this.title, replay, latest, dl);

    const stem = () => fileStem(store.title);
    bJson.addEventListener("click", () =>
      downloadBlob(new Blob([JSON.stringify(store.toPayload(), null, 1)], { type: "application/json" }), `${stem()}.json`),
    );
    bSvg.addEventListener("click", () => {
      const g = graph();
      if (g) downloadBlob(new Blob([g.toSVG()], { type: "image/svg+xml" }), `${stem()}.svg`);
    });
    bPng.addEventListener("click", async () => {
      const g = graph();
      if (g) downloadBlob(await g.toPNG(), `${stem()}.png`);
    });
    this.slider.addEventListener("input", () => {
      const steps = store.index().steps;
      const i = Number(this.slider.value);
      state.setStep(i >= steps.length - 1 ? null : steps[i].step, true);
    });
    latest.addEventListener("click", () => state.setStep(null, true));
  }

  /** Show the current title, steps and step (after any change of data or step). */
  sync(): void {
    const { store, state } = this;
    this.title.textContent = store.title;
    const index = store.index();
    const steps = index.steps;
    const step = state.step;
    this.slider.max = String(Math.max(0, steps.length - 1));
    this.slider.disabled = steps.length < 2;
    const i = step === null ? steps.length - 1 : Math.max(0, steps.findIndex((s) => s.step >= step));
    this.slider.value = String(Math.max(0, i));
    const stamp = step === null ? steps[steps.length - 1] : steps[i];
    const where = step === null ? "latest" : `step ${step}`;
    this.stepLabel.textContent = stamp
      ? `${where} · ${fmtInt(i + 1)}/${fmtInt(steps.length)} · +${fmtDuration(stamp.time - index.startTime)} · ${stamp.identifier}`
      : "no steps yet";
  }
}

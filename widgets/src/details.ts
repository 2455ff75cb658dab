// The details panel for a clicked box. All values are set with textContent.

import type { VNode } from "./graph";
import { edgeSnapAt, finishedAt, type Store, stampsAt, statusAt } from "./store";
import { el, fmtDuration, fmtInt, fmtTime, pretty } from "./util";

// Plain divs, not <dl>: notebook front ends style dl/dt/dd in rendered outputs.
function row(dl: HTMLElement, label: string, value: string, cls = ""): void {
  dl.append(el("div", "rt-dt", label), el("div", `rt-dd ${cls}`.trim(), value));
}

function block(parent: HTMLElement, label: string, value: unknown, cls = ""): void {
  parent.append(el("h4", undefined, label), el("pre", `rt-pre ${cls}`.trim(), pretty(value)));
}

export function renderDetails(
  panel: HTMLElement,
  store: Store,
  key: string | null,
  v: VNode | null,
  step: number | null,
): void {
  panel.replaceChildren();
  if (!key) {
    panel.append(el("p", "rt-muted", "Click a box in the graph (or a bar in the timeline) to see its details."));
    return;
  }
  const index = store.index();
  const rec = index.nodes.get(key);
  if (!rec) {
    if (v?.kind === "root") {
      panel.append(el("h3", "rt-details-title", store.title));
      const dl = el("div", "rt-dl");
      row(dl, "Session", store.meta.session_id || "—");
      row(dl, "Runs", fmtInt(store.runHeaders().length));
      row(dl, "Nodes", fmtInt(index.nodes.size));
      panel.append(dl);
    } else {
      panel.append(el("p", "rt-muted", "This node is not part of the session at this step."));
    }
    return;
  }
  const status = statusAt(rec, step);
  const snap = edgeSnapAt(rec, step);
  const end = finishedAt(rec, step);
  panel.append(el("h3", "rt-details-title", rec.name));
  const dl = el("div", "rt-dl");
  row(dl, "Type", rec.type);
  row(dl, "Status", status, `rt-badge rt-status-${status.toLowerCase()}`);
  row(dl, "Node id", rec.id);
  row(dl, "Run", `${rec.runName} (${rec.runId})`);
  if (rec.callerId) row(dl, "Called by", index.nodes.get(rec.callerId)?.name ?? rec.callerId);
  row(dl, "Started", fmtTime(rec.createdTime));
  row(dl, "Finished", end === null ? "still running" : fmtTime(end));
  const latency = step === null || end !== null ? rec.latency : null;
  row(dl, "Duration", fmtDuration(end === null ? null : (latency ?? end - rec.createdTime)));
  row(dl, "Calls made", fmtInt(rec.children.length));
  panel.append(dl);
  block(panel, "Inputs (args)", rec.args, "rt-inputs");
  block(panel, "Inputs (kwargs)", rec.kwargs, "rt-kwargs");
  if (status === "Failed") {
    const err = (snap?.output ?? {}) as { type?: string; message?: string; traceback?: string };
    panel.append(el("h4", undefined, "Error"));
    panel.append(el("pre", "rt-pre rt-error", `${err.type ?? "Error"}: ${err.message ?? pretty(err)}`));
    if (err.traceback) block(panel, "Traceback", err.traceback, "rt-traceback");
  } else if (status === "Completed") {
    block(panel, "Output", snap?.output, "rt-output");
  } else {
    panel.append(el("h4", undefined, "Output"), el("p", "rt-muted", "not finished yet"));
  }
  panel.append(el("h4", undefined, "Stamps"));
  const list = el("ol", "rt-stamps");
  for (const s of stampsAt(rec, step)) {
    list.append(el("li", undefined, `step ${s.step} · +${fmtDuration(s.time - index.startTime)} · ${s.identifier}`));
  }
  panel.append(list);
  const extra = { ...rec.internals };
  delete (extra as any).latency;
  if (Object.keys(extra).length) block(panel, "Internals", extra);
}

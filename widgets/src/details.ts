// The details panel for a clicked box. All values are set with textContent.

import { argSummary, durationText } from "./labels";
import { edgeSnapAt, finishedAt, type NodeRec, type Store, stampsAt, statusAt } from "./store";
import { countsText, groupAt, groupInfo, subtreeSums, type VNode } from "./tree";
import { el, fmtDuration, fmtInt, fmtTime, pretty } from "./util";

/** How many failed members a group's details list. */
const LISTED_FAILURES = 20;

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
    } else if (groupAt(index, key, step)) {
      // Recomputed from the data, not taken from the clicked box: a live group keeps growing.
      const g = groupAt(index, key, step)!;
      renderGroup(panel, store, g.name, g.members, step);
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

/** A group box: how many, how they ended, how long they took, and which failed. */
function renderGroup(panel: HTMLElement, store: Store, name: string, members: NodeRec[], step: number | null): void {
  const g = groupInfo(name, members, step);
  const failed = subtreeSums(store.index(), step, null).failed;
  const failedInside = members.reduce((n, m) => n + (failed.get(m) ?? 0), 0);
  panel.append(el("h3", "rt-details-title", `${name} ×${fmtInt(members.length)}`));
  const dl = el("div", "rt-dl");
  row(dl, "Calls", fmtInt(members.length));
  row(dl, "Outcomes", countsText(g.counts) || "—");
  row(dl, "Duration", `min ${fmtDuration(g.min)} · median ${fmtDuration(g.median)} · max ${fmtDuration(g.max)}`);
  if (failedInside) row(dl, "Failed inside", fmtInt(failedInside), "rt-error");
  panel.append(dl);
  panel.append(el("p", "rt-muted", "A click on the group box opens it (its calls are drawn to its right) or closes it."));
  const failedCalls = members.filter((m) => statusAt(m, step) === "Failed");
  if (failedCalls.length) {
    panel.append(el("h4", undefined, `Failed calls (${fmtInt(failedCalls.length)})`));
    const list = el("ol", "rt-stamps rt-group-failures");
    for (const m of failedCalls.slice(0, LISTED_FAILURES)) {
      list.append(el("li", undefined, `${argSummary(m)} · ${durationText(m, step)}`));
    }
    if (failedCalls.length > LISTED_FAILURES) {
      list.append(el("li", "rt-muted", `… ${fmtInt(failedCalls.length - LISTED_FAILURES)} more`));
    }
    panel.append(list);
  }
}

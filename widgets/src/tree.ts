// The tree the graph draws, derived from the session's call tree at a replay
// step: folded subtrees, same-named siblings aggregated into group boxes
// ("fetch ×300", paged when opened), the failures-only filter and search
// matches applied. Pure data, no DOM: graph.ts lays it out and paints it.

import { argSummary, durationAt, durationText, STATUS_WORDS, searchText } from "./labels";
import { dfsOrder, type Index, type NodeRec, type Status, STATUSES, statusAt, visibleAt } from "./store";
import { fmtDuration, fmtInt } from "./util";

/** More same-named siblings than this fold into one group box (as in the static picture). */
export const GROUP_MIN = 5;
/** An opened group shows its members this many at a time ("+N more" shows the next page). */
export const GROUP_PAGE = 50;

export const ROOT_KEY = "__session__";

export type VKind = "root" | "node" | "group" | "more";

export interface GroupInfo {
  name: string;
  members: NodeRec[];
  counts: Record<Status, number>;
  /** Durations of the finished members, in seconds (null: none finished). */
  min: number | null;
  median: number | null;
  max: number | null;
}

export interface VNode {
  key: string;
  kind: VKind;
  rec: NodeRec | null;
  /** First line: the node's name (a group: "name ×N"). */
  label: string;
  /** First line, right-aligned: duration or status word; a group's failure count. */
  right: string;
  /** Second line: the arguments; a group's min/median/max duration. */
  sub: string;
  status: Status | "Session" | "Group" | "More";
  children: VNode[];
  /** Children exist but are folded away (a folded subtree, a closed group). */
  collapsed: boolean;
  hasChildren: boolean;
  /** Nodes hidden inside (folded subtree, closed group, unshown page). */
  hiddenCount: number;
  /** Failed nodes in this box's subtree (a group: in its members' subtrees). */
  failedInside: number;
  /** Search matches in this box's subtree, itself included. */
  matchInside: number;
  /** The node itself matches the search. */
  match: boolean;
  /** Shown by the failures filter only as the way to a failure. */
  context: boolean;
  group?: GroupInfo;
  /** A "+N more" box: the key of the group whose next page it shows. */
  moreOf?: string;
}

export interface TreeOptions {
  step: number | null;
  collapsed: Set<string>;
  /** Opened groups: key -> pages shown. */
  openGroups: Map<string, number>;
  /** Nodes shown even outside their group's shown pages (a search result, a selection). */
  pinned: Set<string>;
  failuresOnly: boolean;
  matches: Set<string> | null;
}

export function groupKey(parentKey: string, name: string): string {
  return `${parentKey}::group::${name}`;
}

/** The name and current members of the group box `key` (null: `key` is no group, or it is empty). */
export function groupAt(index: Index, key: string, step: number | null): { name: string; members: NodeRec[] } | null {
  // Parent keys are node ids or ROOT_KEY, so the first marker is the one groupKey() put there.
  const at = key.indexOf("::group::");
  if (at < 0) return null;
  const parentKey = key.slice(0, at);
  const name = key.slice(at + "::group::".length);
  const kids = parentKey === ROOT_KEY ? index.roots : index.nodes.get(parentKey)?.children;
  const members = (kids ?? []).filter((r) => r.name === name && visibleAt(r, step));
  return members.length ? { name, members } : null;
}

/** The key of the box a node hangs under (its caller, or the session box). */
export function parentKeyOf(rec: NodeRec, index: Index): string {
  return rec.callerId && index.nodes.has(rec.callerId) && rec.callerId !== rec.id ? rec.callerId : ROOT_KEY;
}

export interface Sums {
  size: Map<NodeRec, number>;
  failed: Map<NodeRec, number>;
  hits: Map<NodeRec, number>;
}

// Derived per (index, step) and reused until the data changes: at 100,000 nodes a
// depth-first walk is tens of milliseconds, and every click would otherwise redo it.
const orders = new WeakMap<Index, Map<number | null, NodeRec[]>>();
const sizesAndFailures = new WeakMap<Index, Map<number | null, Omit<Sums, "hits">>>();

/** Every visible node in depth-first call order (cached per index and step). */
export function orderAt(index: Index, step: number | null): NodeRec[] {
  let byStep = orders.get(index);
  if (!byStep) orders.set(index, (byStep = new Map()));
  let order = byStep.get(step);
  if (!order) {
    if (byStep.size > 8) byStep.clear();
    byStep.set(step, (order = dfsOrder(index, step)));
  }
  return order;
}

/** Per node: subtree size, failures and search matches in its subtree (itself included). */
export function subtreeSums(index: Index, step: number | null, matches: Set<string> | null): Sums {
  let byStep = sizesAndFailures.get(index);
  if (!byStep) sizesAndFailures.set(index, (byStep = new Map()));
  let base = byStep.get(step);
  if (!base) {
    const order = orderAt(index, step);
    const size = new Map<NodeRec, number>();
    const failed = new Map<NodeRec, number>();
    for (const r of order) {
      size.set(r, 1);
      failed.set(r, statusAt(r, step) === "Failed" ? 1 : 0);
    }
    // Children come after their parents in depth-first order: walk it backwards.
    for (let i = order.length - 1; i >= 0; i--) {
      const r = order[i];
      const parent = r.callerId ? index.nodes.get(r.callerId) : undefined;
      if (!parent || parent === r || !size.has(parent)) continue;
      size.set(parent, size.get(parent)! + size.get(r)!);
      failed.set(parent, failed.get(parent)! + failed.get(r)!);
    }
    if (byStep.size > 8) byStep.clear();
    byStep.set(step, (base = { size, failed }));
  }
  // Matches are counted up their callers: a search rarely finds more than a few thousand.
  const hits = new Map<NodeRec, number>();
  for (const id of matches ?? []) {
    const seen = new Set<NodeRec>();
    for (let r = index.nodes.get(id); r && !seen.has(r) && base.size.has(r); ) {
      seen.add(r);
      hits.set(r, (hits.get(r) ?? 0) + 1);
      r = r.callerId ? index.nodes.get(r.callerId) : undefined;
    }
  }
  return { ...base, hits };
}

function median(sorted: number[]): number | null {
  if (!sorted.length) return null;
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

export function groupInfo(name: string, members: NodeRec[], step: number | null): GroupInfo {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  const durations: number[] = [];
  for (const r of members) {
    counts[statusAt(r, step)] += 1;
    const d = durationAt(r, step);
    if (d !== null) durations.push(d);
  }
  durations.sort((a, b) => a - b);
  return {
    name,
    members,
    counts,
    min: durations.length ? durations[0] : null,
    median: median(durations),
    max: durations.length ? durations[durations.length - 1] : null,
  };
}

export function countsText(counts: Record<Status, number>): string {
  return STATUSES.filter((s) => counts[s])
    .map((s) => `${fmtInt(counts[s])} ${s.toLowerCase()}`)
    .join(", ");
}

/** The tree that is drawn. */
export function buildVisibleTree(index: Index, title: string, opts: TreeOptions): VNode {
  const { step, collapsed, openGroups, pinned, failuresOnly, matches } = opts;
  const sums = subtreeSums(index, step, matches);
  const shown = (r: NodeRec) => visibleAt(r, step) && (!failuresOnly || (sums.failed.get(r) ?? 0) > 0);
  const inside = (rs: NodeRec[], m: Map<NodeRec, number>) => rs.reduce((n, r) => n + (m.get(r) ?? 0), 0);

  const blank = (key: string, kind: VKind, rec: NodeRec | null): VNode => ({
    key, kind, rec, label: "", right: "", sub: "", status: "Session", children: [], collapsed: false,
    hasChildren: false, hiddenCount: 0, failedInside: 0, matchInside: 0, match: false, context: false,
  }); // fmt: skip

  const root = blank(ROOT_KEY, "root", null);
  root.label = title;
  root.collapsed = collapsed.has(ROOT_KEY);
  const nodeV = (rec: NodeRec): VNode => {
    const v = blank(rec.id, "node", rec);
    const status = statusAt(rec, step);
    v.label = rec.name;
    v.status = status;
    // The fill says the outcome; a failure also says it in words (colour is not for everyone).
    v.right = status === "Failed" ? `${STATUS_WORDS.Failed} · ${durationText(rec, step)}` : durationText(rec, step);
    v.sub = argSummary(rec);
    v.collapsed = collapsed.has(rec.id);
    v.match = matches?.has(rec.id) ?? false;
    v.context = failuresOnly && status !== "Failed";
    v.failedInside = (sums.failed.get(rec) ?? 0) - (status === "Failed" ? 1 : 0);
    v.matchInside = sums.hits.get(rec) ?? 0;
    return v;
  };

  const work: [VNode, NodeRec[]][] = [[root, index.roots]];
  while (work.length) {
    const [parent, kids] = work.pop()!;
    const visible = kids.filter(shown);
    parent.hasChildren = visible.length > 0;
    if (parent.kind === "root") {
      const total = inside(visible, sums.size);
      root.sub = failuresOnly
        ? `${fmtInt(inside(visible, sums.failed))} failed nodes`
        : `${fmtInt(total)} node${total === 1 ? "" : "s"}`;
      root.failedInside = inside(visible, sums.failed);
      root.matchInside = inside(visible, sums.hits);
    }
    if (parent.collapsed) {
      parent.hiddenCount = inside(visible, sums.size);
      continue;
    }
    const byName = new Map<string, NodeRec[]>();
    for (const r of visible) {
      const list = byName.get(r.name);
      if (list) list.push(r);
      else byName.set(r.name, [r]);
    }
    const emitted = new Set<string>();
    for (const r of visible) {
      const members = byName.get(r.name)!;
      if (members.length <= GROUP_MIN) {
        const v = nodeV(r);
        parent.children.push(v);
        work.push([v, r.children]);
        continue;
      }
      if (emitted.has(r.name)) continue;
      emitted.add(r.name);
      const key = groupKey(parent.key, r.name);
      const info = groupInfo(r.name, members, step);
      const g = blank(key, "group", null);
      g.group = info;
      g.status = "Group";
      g.label = `${r.name} ×${fmtInt(members.length)}`;
      g.failedInside = inside(members, sums.failed);
      g.matchInside = inside(members, sums.hits);
      g.right = g.failedInside
        ? `${fmtInt(g.failedInside)} failed`
        : info.counts.Open
          ? `${fmtInt(info.counts.Open)} running`
          : "";
      g.sub =
        info.min === null
          ? "none finished yet"
          : `med ${fmtDuration(info.median)} (${fmtDuration(info.min)}–${fmtDuration(info.max)})`;
      g.hasChildren = true;
      g.context = failuresOnly;
      const pages = openGroups.get(key);
      g.collapsed = pages === undefined;
      parent.children.push(g);
      if (g.collapsed) {
        g.hiddenCount = inside(members, sums.size);
        continue;
      }
      const limit = pages! * GROUP_PAGE;
      const page = members.filter((m, i) => i < limit || pinned.has(m.id));
      for (const m of page) {
        const v = nodeV(m);
        g.children.push(v);
        work.push([v, m.children]);
      }
      const rest = members.length - page.length;
      if (rest > 0) {
        const more = blank(`${key}::more`, "more", null);
        more.status = "More";
        more.moreOf = key;
        more.label = `+${fmtInt(rest)} more ${r.name}`;
        more.sub = `click to show ${fmtInt(Math.min(GROUP_PAGE, rest))} more`;
        const hidden = members.filter((m, i) => !(i < limit || pinned.has(m.id)));
        more.hiddenCount = inside(hidden, sums.size);
        more.failedInside = inside(hidden, sums.failed);
        more.matchInside = inside(hidden, sums.hits);
        if (more.failedInside) more.right = `${fmtInt(more.failedInside)} failed`;
        g.children.push(more);
      }
    }
  }
  return root;
}

/**
 * The nodes a search finds, in depth-first call order: the query is looked for
 * in names and inputs (case-insensitive); a status ("failed", "running",
 * "status:completed") finds the nodes with that outcome.
 */
export function findNodes(index: Index, step: number | null, query: string, within?: (r: NodeRec) => boolean): NodeRec[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const wantStatus = q.startsWith("status:") ? q.slice(7).trim() : null;
  const out: NodeRec[] = [];
  for (const r of orderAt(index, step)) {
    if (within && !within(r)) continue;
    const status = statusAt(r, step);
    const isStatus = (w: string) => w === status.toLowerCase() || w === STATUS_WORDS[status];
    if (wantStatus !== null ? isStatus(wantStatus) : isStatus(q) || searchText(r).includes(q)) out.push(r);
  }
  return out;
}

// The call-tree view. Layout by d3-hierarchy's tidy tree (callers on the
// left, callees to the right), pan/zoom by d3-zoom. Small trees are drawn as
// SVG (crisp, selectable, accessible); past SVG_LIMIT visible boxes the same
// layout is painted on a canvas so 10,000 nodes stay fluid. Large fan-outs are
// folded into one "+N more" box (click it to show them all), which keeps the
// default picture readable and cheap however wide a gather is.

import { hierarchy, tree, type HierarchyPointNode } from "d3-hierarchy";
import { select } from "d3-selection";
import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from "d3-zoom";
import {
  type Index,
  type NodeRec,
  type Status,
  STATUS_COLORS,
  type Store,
  statusAt,
  visibleAt,
} from "./store";
import { button, el, fmtInt, frameScheduler, SVG_NS, svgEl, truncate } from "./util";
import { TEXT_ON_FILL } from "./vocabulary";

export const NODE_W = 160;
export const NODE_H = 24;
const COL_W = 210;
const ROW_H = 32;
/** More visible boxes than this and the view switches from SVG to canvas. */
export const SVG_LIMIT = 1500;
/** A caller with more children than this shows FANOUT_SHOWN of them and a "+N more" box. */
export const FANOUT_LIMIT = 40;
const FANOUT_SHOWN = 25;

export type VKind = "root" | "node" | "more";

export interface VNode {
  key: string;
  kind: VKind;
  rec: NodeRec | null;
  label: string;
  status: Status | "Session" | "More";
  children: VNode[];
  /** Children exist but are folded away by the user. */
  collapsed: boolean;
  hasChildren: boolean;
  /** Descendants hidden by folding (for the "(+N)" hint). */
  hiddenCount: number;
  /** For a "+N more" box: the caller whose fan-out it stands for, and its make-up. */
  moreOf?: string;
  moreCounts?: Record<Status, number>;
}

export interface Placed {
  v: VNode;
  x: number;
  y: number;
}

export interface Layout {
  placed: Placed[];
  links: [Placed, Placed][];
  byKey: Map<string, Placed>;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export const ROOT_KEY = "__session__";

function countDescendants(rec: NodeRec, step: number | null): number {
  let n = 0;
  const stack = [...rec.children];
  while (stack.length) {
    const r = stack.pop()!;
    if (!visibleAt(r, step)) continue;
    n += 1;
    for (const c of r.children) stack.push(c);
  }
  return n;
}

/** The tree that is drawn: folding and fan-out aggregation applied. */
export function buildVisibleTree(
  index: Index,
  title: string,
  step: number | null,
  collapsed: Set<string>,
  expandedFanouts: Set<string>,
): VNode {
  const root: VNode = {
    key: ROOT_KEY,
    kind: "root",
    rec: null,
    label: title,
    status: "Session",
    children: [],
    collapsed: collapsed.has(ROOT_KEY),
    hasChildren: false,
    hiddenCount: 0,
  };
  const work: [VNode, NodeRec[], string][] = [[root, index.roots, ROOT_KEY]];
  while (work.length) {
    const [parent, kids, parentKey] = work.pop()!;
    const visible = kids.filter((k) => visibleAt(k, step));
    parent.hasChildren = visible.length > 0;
    if (parent.collapsed) {
      parent.hiddenCount = parent.rec
        ? countDescendants(parent.rec, step)
        : visible.reduce((n, r) => n + 1 + countDescendants(r, step), 0);
      continue;
    }
    let shown = visible;
    let rest: NodeRec[] = [];
    if (visible.length > FANOUT_LIMIT && !expandedFanouts.has(parentKey)) {
      // Failures first: they are what one opens a big fan-out to find.
      const failed = visible.filter((r) => statusAt(r, step) === "Failed").slice(0, FANOUT_SHOWN);
      const chosen = new Set(failed);
      for (const r of visible) {
        if (chosen.size >= FANOUT_SHOWN) break;
        chosen.add(r);
      }
      shown = visible.filter((r) => chosen.has(r));
      rest = visible.filter((r) => !chosen.has(r));
    }
    for (const rec of shown) {
      const v: VNode = {
        key: rec.id,
        kind: "node",
        rec,
        label: rec.name,
        status: statusAt(rec, step),
        children: [],
        collapsed: collapsed.has(rec.id),
        hasChildren: false,
        hiddenCount: 0,
      };
      parent.children.push(v);
      work.push([v, rec.children, rec.id]);
    }
    if (rest.length) {
      const counts: Record<Status, number> = { Open: 0, Completed: 0, Failed: 0, Cancelled: 0 };
      for (const r of rest) counts[statusAt(r, step)] += 1;
      parent.children.push({
        key: `${parentKey}::more`,
        kind: "more",
        rec: null,
        label: `+${fmtInt(rest.length)} more`,
        status: "More",
        children: [],
        collapsed: false,
        hasChildren: false,
        hiddenCount: rest.reduce((n, r) => n + 1 + countDescendants(r, step), 0),
        moreOf: parentKey,
        moreCounts: counts,
      });
    }
  }
  return root;
}

export function layoutTree(root: VNode): Layout {
  const h = hierarchy<VNode>(root, (d) => d.children);
  const laid: HierarchyPointNode<VNode> = tree<VNode>().nodeSize([ROW_H, COL_W])(h);
  const placed: Placed[] = [];
  const byKey = new Map<string, Placed>();
  const links: [Placed, Placed][] = [];
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const d of laid.descendants()) {
    // d3's tree grows downwards; we turn it so depth runs left to right.
    const p: Placed = { v: d.data, x: d.y, y: d.x };
    placed.push(p);
    byKey.set(d.data.key, p);
    x0 = Math.min(x0, p.x);
    x1 = Math.max(x1, p.x + NODE_W);
    y0 = Math.min(y0, p.y - NODE_H / 2);
    y1 = Math.max(y1, p.y + NODE_H / 2);
  }
  for (const d of laid.descendants()) {
    if (!d.parent) continue;
    links.push([byKey.get(d.parent.data.key)!, byKey.get(d.data.key)!]);
  }
  return { placed, links, byKey, x0, x1, y0, y1 };
}

function linkPath(a: Placed, b: Placed): string {
  const sx = a.x + NODE_W;
  const mx = (sx + b.x) / 2;
  return `M${sx},${a.y}C${mx},${a.y} ${mx},${b.y} ${b.x},${b.y}`;
}

export function boxLabel(v: VNode): string {
  const base = truncate(v.label, 22);
  return v.collapsed && v.hiddenCount ? `${truncate(v.label, 15)} (+${fmtInt(v.hiddenCount)})` : base;
}

function tooltip(v: VNode): string {
  if (v.kind === "more" && v.moreCounts) {
    const c = v.moreCounts;
    const cancelled = c.Cancelled ? `, ${c.Cancelled} cancelled` : "";
    return `${v.label}: ${c.Completed} completed, ${c.Failed} failed${cancelled}, ${c.Open} open. Click to show all.`;
  }
  if (v.kind === "root") return `Session ${v.label}`;
  const r = v.rec!;
  return `${r.name} (${r.type}) · ${v.status}`;
}


export interface GraphOptions {
  onSelect?: (key: string | null, v: VNode | null) => void;
}

/** Draws the call tree of a store at a replay step. */
export class GraphPanel {
  readonly root: HTMLDivElement;
  private stage: HTMLDivElement;
  private svg: SVGSVGElement;
  private viewport: SVGGElement;
  private canvas: HTMLCanvasElement;
  private zoomer: ZoomBehavior<HTMLDivElement, unknown>;
  private transform: ZoomTransform = zoomIdentity;
  private userMoved = false;
  private layout: Layout | null = null;
  private mode: "svg" | "canvas" = "svg";
  private step: number | null = null;
  private collapsed = new Set<string>();
  private expandedFanouts = new Set<string>();
  private selected: string | null = null;
  private renderedVersion = -1;
  private unsub: () => void;
  private resizeObs: ResizeObserver | null = null;
  readonly schedule: () => void;

  constructor(
    container: HTMLElement,
    private store: Store,
    private opts: GraphOptions = {},
  ) {
    this.root = el("div", "rt-graph");
    const bar = el("div", "rt-graph-bar");
    const fit = button("rt-fit", "Fit", "Fit the whole tree in view", () => this.fit(true));
    const expand = button("rt-expand-all", "Expand all", "Unfold every collapsed subtree", () => {
      this.collapsed.clear();
      this.refresh(true);
    });
    const hint = el("span", "rt-hint", "drag to pan · wheel to zoom · click a box for details · ± folds a subtree");
    bar.append(fit, expand, hint);
    this.stage = el("div", "rt-graph-stage");
    this.svg = document.createElementNS(SVG_NS, "svg");
    this.svg.setAttribute("class", "rt-graph-svg");
    this.viewport = svgEl("g", { class: "rt-viewport" });
    this.svg.appendChild(this.viewport);
    this.canvas = el("canvas", "rt-graph-canvas");
    this.canvas.style.display = "none";
    this.stage.append(this.svg, this.canvas);
    this.root.append(bar, this.stage);
    container.appendChild(this.root);

    this.zoomer = zoom<HTMLDivElement, unknown>()
      .scaleExtent([0.005, 4])
      .on("zoom", (event) => {
        this.transform = event.transform;
        if (event.sourceEvent) this.userMoved = true;
        this.applyTransform();
      });
    select(this.stage).call(this.zoomer).on("dblclick.zoom", null);

    this.svg.addEventListener("click", (e) => this.onSvgClick(e));
    this.svg.addEventListener("dblclick", (e) => {
      const key = (e.target as Element).closest(".rt-node")?.getAttribute("data-key");
      if (key) this.toggle(key);
    });
    this.canvas.addEventListener("click", (e) => this.onCanvasClick(e));

    this.schedule = frameScheduler(() => this.render());
    this.unsub = store.subscribe(() => this.schedule());
    if (typeof ResizeObserver === "function") {
      this.resizeObs = new ResizeObserver(() => {
        if (this.mode === "canvas") this.drawCanvas();
        if (!this.userMoved) this.fit(false);
      });
      this.resizeObs.observe(this.stage);
    }
    this.render();
  }

  destroy(): void {
    this.unsub();
    this.resizeObs?.disconnect();
    select(this.stage).on(".zoom", null);
    this.root.remove();
  }

  setStep(step: number | null): void {
    if (step === this.step) return;
    this.step = step;
    this.refresh(false);
  }

  setSelected(key: string | null): void {
    this.selected = key;
    if (this.mode === "svg") {
      for (const g of this.viewport.querySelectorAll(".rt-node.rt-selected")) g.classList.remove("rt-selected");
      if (key) {
        const g = this.viewport.querySelector(`.rt-node[data-key="${CSS.escape(key)}"]`);
        g?.classList.add("rt-selected");
      }
    } else this.drawCanvas();
  }

  toggle(key: string): void {
    if (this.collapsed.has(key)) this.collapsed.delete(key);
    else this.collapsed.add(key);
    this.refresh(false);
  }

  /** Show every child of a folded fan-out. */
  expandFanout(parentKey: string): void {
    this.expandedFanouts.add(parentKey);
    this.refresh(false);
  }

  get visibleCount(): number {
    return this.layout?.placed.length ?? 0;
  }

  get currentMode(): "svg" | "canvas" {
    return this.mode;
  }

  private refresh(refit: boolean): void {
    this.renderedVersion = -1;
    if (refit) this.userMoved = false;
    this.render();
  }

  render(): void {
    if (this.renderedVersion === this.store.version && this.layout) return;
    this.renderedVersion = this.store.version;
    const index = this.store.index();
    const vroot = buildVisibleTree(index, this.store.title, this.step, this.collapsed, this.expandedFanouts);
    this.layout = layoutTree(vroot);
    this.mode = this.layout.placed.length > SVG_LIMIT ? "canvas" : "svg";
    this.root.dataset.mode = this.mode;
    this.root.dataset.visibleNodes = String(this.layout.placed.length);
    this.svg.style.display = this.mode === "svg" ? "" : "none";
    this.canvas.style.display = this.mode === "canvas" ? "" : "none";
    if (this.mode === "svg") this.drawSvg();
    else this.viewport.replaceChildren();
    if (!this.userMoved) this.fit(false);
    else this.applyTransform();
  }

  fit(animateless: boolean): void {
    if (animateless) this.userMoved = false;
    const L = this.layout;
    const w = this.stage.clientWidth;
    const h = this.stage.clientHeight;
    if (!L || !w || !h) return;
    const bw = L.x1 - L.x0 + 40;
    const bh = L.y1 - L.y0 + 40;
    // Never blow a small tree up past 1:1, never shrink a big one past legibility of its shape.
    const k = Math.max(0.005, Math.min(1.2, w / bw, h / bh));
    const tx = (w - (L.x1 - L.x0) * k) / 2 - L.x0 * k;
    const ty = (h - (L.y1 - L.y0) * k) / 2 - L.y0 * k;
    select(this.stage).call(this.zoomer.transform, zoomIdentity.translate(tx, ty).scale(k));
  }

  private applyTransform(): void {
    if (this.mode === "svg") this.viewport.setAttribute("transform", this.transform.toString());
    else this.drawCanvas();
  }

  private drawSvg(): void {
    const L = this.layout!;
    const links = svgEl("g", { class: "rt-links" });
    // One path element for all links: thousands of edges cost one DOM node.
    const d: string[] = [];
    for (const [a, b] of L.links) d.push(linkPath(a, b));
    links.appendChild(svgEl("path", { d: d.join(""), class: "rt-link" }));
    const nodes = svgEl("g", { class: "rt-nodes" });
    for (const p of L.placed) nodes.appendChild(this.svgNode(p, true));
    this.viewport.replaceChildren(links, nodes);
  }

  private svgNode(p: Placed, interactive: boolean): SVGGElement {
    const v = p.v;
    const statusClass = `rt-status-${v.status.toLowerCase()}`;
    const g = svgEl("g", {
      class: `rt-node rt-kind-${v.kind} ${statusClass}${v.key === this.selected ? " rt-selected" : ""}`,
      transform: `translate(${p.x},${p.y - NODE_H / 2})`,
      "data-key": v.key,
      "data-status": v.status,
    });
    if (v.rec) g.setAttribute("data-name", v.rec.name);
    const rect = svgEl("rect", {
      width: NODE_W,
      height: NODE_H,
      rx: 6,
      ry: 6,
      fill: STATUS_COLORS[v.status],
    });
    const text = svgEl("text", { x: 8, y: NODE_H / 2 + 4, class: "rt-node-label", fill: TEXT_ON_FILL });
    text.textContent = boxLabel(v);
    const title = svgEl("title");
    title.textContent = tooltip(v);
    g.append(title, rect, text);
    if (interactive && v.hasChildren && v.kind !== "more") {
      const t = svgEl("g", { class: "rt-toggle", transform: `translate(${NODE_W},${NODE_H / 2})` });
      t.append(
        svgEl("circle", { r: 7 }),
        Object.assign(svgEl("text", { x: 0, y: 4, "text-anchor": "middle" }), {
          textContent: v.collapsed ? "+" : "−",
        }),
      );
      const tt = svgEl("title");
      tt.textContent = v.collapsed ? "Expand this subtree" : "Collapse this subtree";
      t.appendChild(tt);
      g.appendChild(t);
    }
    return g;
  }

  private onSvgClick(e: MouseEvent): void {
    const target = e.target as Element;
    const node = target.closest(".rt-node");
    if (!node) return;
    const key = node.getAttribute("data-key")!;
    if (target.closest(".rt-toggle")) {
      this.toggle(key);
      return;
    }
    this.activate(key);
  }

  private activate(key: string): void {
    const p = this.layout?.byKey.get(key);
    if (!p) return;
    if (p.v.kind === "more" && p.v.moreOf) {
      this.expandFanout(p.v.moreOf);
      return;
    }
    this.selected = key;
    this.setSelected(key);
    this.opts.onSelect?.(key, p.v);
  }

  /** Pan (and zoom to 1:1) so the box `key` is in the middle of the view. */
  focus(key: string): boolean {
    const p = this.layout?.byKey.get(key);
    const w = this.stage.clientWidth;
    const h = this.stage.clientHeight;
    if (!p || !w || !h) return false;
    const k = Math.max(this.transform.k, 1);
    this.userMoved = true;
    select(this.stage).call(
      this.zoomer.transform,
      zoomIdentity.translate(w / 2 - (p.x + NODE_W / 2) * k, h / 2 - p.y * k).scale(k),
    );
    return true;
  }

  /** Page position of a box's centre (for tests and tooling). */
  screenPosition(key: string): { x: number; y: number } | null {
    const p = this.layout?.byKey.get(key);
    if (!p) return null;
    const [x, y] = this.transform.apply([p.x + NODE_W / 2, p.y]);
    const r = this.stage.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  }

  private hit(clientX: number, clientY: number): { p: Placed; toggle: boolean } | null {
    const L = this.layout;
    if (!L) return null;
    const r = this.stage.getBoundingClientRect();
    const [x, y] = this.transform.invert([clientX - r.left, clientY - r.top]);
    // Zoomed far out a box is a sliver: accept clicks within a few screen pixels of it.
    const tol = 3 / this.transform.k;
    let best: Placed | null = null;
    let bestD = Infinity;
    for (const p of L.placed) {
      if (p.v.hasChildren && p.v.kind !== "more" && Math.hypot(x - (p.x + NODE_W), y - p.y) <= 8) {
        return { p, toggle: true };
      }
      if (x >= p.x - tol && x <= p.x + NODE_W + tol && Math.abs(y - p.y) <= NODE_H / 2 + tol) {
        const d = Math.abs(y - p.y);
        if (d < bestD) {
          best = p;
          bestD = d;
        }
      }
    }
    return best ? { p: best, toggle: false } : null;
  }

  private onCanvasClick(e: MouseEvent): void {
    const h = this.hit(e.clientX, e.clientY);
    if (!h) return;
    if (h.toggle) this.toggle(h.p.v.key);
    else this.activate(h.p.v.key);
  }

  private drawCanvas(): void {
    const L = this.layout;
    if (!L || this.mode !== "canvas") return;
    const w = this.stage.clientWidth;
    const h = this.stage.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${h}px`;
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const t = this.transform;
    ctx.translate(t.x, t.y);
    ctx.scale(t.k, t.k);
    // Only what is on screen is painted.
    const [vx0, vy0] = t.invert([0, 0]);
    const [vx1, vy1] = t.invert([w, h]);
    paintLayout(ctx, L, t.k, this.selected, { x0: vx0, y0: vy0, x1: vx1, y1: vy1 });
  }

  /** The current view (folding and replay step applied) as a standalone SVG document. */
  toSVG(): string {
    const L = this.layout;
    const pad = 20;
    const x0 = (L?.x0 ?? 0) - pad;
    const y0 = (L?.y0 ?? 0) - pad;
    const w = (L ? L.x1 - L.x0 : 0) + 2 * pad + 10;
    const h = (L ? L.y1 - L.y0 : 0) + 2 * pad;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("xmlns", SVG_NS);
    svg.setAttribute("viewBox", `${x0} ${y0} ${w} ${h}`);
    svg.setAttribute("width", String(Math.ceil(w)));
    svg.setAttribute("height", String(Math.ceil(h)));
    svg.setAttribute("font-family", "system-ui, sans-serif");
    svg.setAttribute("font-size", "12");
    svg.appendChild(svgEl("rect", { x: x0, y: y0, width: w, height: h, fill: "#ffffff" }));
    if (L) {
      const d = L.links.map(([a, b]) => linkPath(a, b)).join("");
      svg.appendChild(svgEl("path", { d, fill: "none", stroke: "#9aa3ad", "stroke-width": 1.2 }));
      for (const p of L.placed) svg.appendChild(this.svgNode(p, false));
    }
    return new XMLSerializer().serializeToString(svg);
  }

  /** The current view as a PNG (the whole tree, at most 4096 px a side). */
  toPNG(): Promise<Blob> {
    const L = this.layout;
    const pad = 20;
    const bw = (L ? L.x1 - L.x0 : 100) + 2 * pad + 10;
    const bh = (L ? L.y1 - L.y0 : 50) + 2 * pad;
    const k = Math.min(2, 4096 / bw, 4096 / bh);
    const canvas = el("canvas");
    canvas.width = Math.max(1, Math.ceil(bw * k));
    canvas.height = Math.max(1, Math.ceil(bh * k));
    const ctx = canvas.getContext("2d")!;
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (L) {
      ctx.scale(k, k);
      ctx.translate(pad - L.x0, pad - L.y0);
      paintLayout(ctx, L, k, this.selected, null);
    }
    return new Promise((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG encoding failed"))), "image/png"),
    );
  }
}

function paintLayout(
  ctx: CanvasRenderingContext2D,
  L: Layout,
  k: number,
  selected: string | null,
  view: { x0: number; y0: number; x1: number; y1: number } | null,
): void {
  const inView = (p: Placed) =>
    !view || (p.x + NODE_W + 10 >= view.x0 && p.x <= view.x1 && p.y + NODE_H >= view.y0 && p.y - NODE_H <= view.y1);
  ctx.lineWidth = 1.2 / Math.max(k, 0.2);
  ctx.strokeStyle = "#9aa3ad";
  ctx.beginPath();
  for (const [a, b] of L.links) {
    if (!inView(a) && !inView(b)) continue;
    const sx = a.x + NODE_W;
    const mx = (sx + b.x) / 2;
    ctx.moveTo(sx, a.y);
    ctx.bezierCurveTo(mx, a.y, mx, b.y, b.x, b.y);
  }
  ctx.stroke();
  // Batch boxes by colour: one fill per status instead of one per box.
  const groups = new Map<string, Placed[]>();
  for (const p of L.placed) {
    if (!inView(p)) continue;
    const list = groups.get(p.v.status) ?? [];
    list.push(p);
    groups.set(p.v.status, list);
  }
  for (const [status, list] of groups) {
    ctx.fillStyle = STATUS_COLORS[status];
    ctx.beginPath();
    for (const p of list) ctx.rect(p.x, p.y - NODE_H / 2, NODE_W, NODE_H);
    ctx.fill();
  }
  if (selected) {
    const p = L.byKey.get(selected);
    if (p) {
      ctx.strokeStyle = "#1f5fbf";
      ctx.lineWidth = 3 / Math.max(k, 0.2);
      ctx.strokeRect(p.x - 2, p.y - NODE_H / 2 - 2, NODE_W + 4, NODE_H + 4);
    }
  }
  if (k * NODE_H >= 10) {
    // Labels only once they would be legible.
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (const list of groups.values()) {
      for (const p of list) {
        ctx.fillStyle = TEXT_ON_FILL;
        ctx.fillText(boxLabel(p.v), p.x + 8, p.y + 1);
        if (p.v.hasChildren && p.v.kind !== "more") {
          ctx.fillStyle = "#ffffff";
          ctx.strokeStyle = "#56606b";
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.arc(p.x + NODE_W, p.y, 7, 0, Math.PI * 2);
          ctx.fill();
          ctx.stroke();
          ctx.fillStyle = "#222";
          ctx.textAlign = "center";
          ctx.fillText(p.v.collapsed ? "+" : "−", p.x + NODE_W, p.y + 1);
          ctx.textAlign = "start";
        }
      }
    }
  }
}

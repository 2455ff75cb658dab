// The call-tree view. Layout by d3-hierarchy's tidy tree (callers on the
// left, callees to the right), pan/zoom by d3-zoom. Small trees are drawn as
// SVG (crisp, selectable, accessible); past SVG_LIMIT visible boxes the same
// layout is painted on a canvas. Same-named siblings are folded into group
// boxes (tree.ts), so a 100,000-node fan-out is a handful of boxes until one
// is opened, a page at a time. Labels are never drawn below a readable size:
// fitting stops at the smallest readable scale and the view pans from there,
// with a minimap for the overview; zooming out further shows shapes only.

import { hierarchy, tree, type HierarchyPointNode } from "d3-hierarchy";
import { select } from "d3-selection";
import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from "d3-zoom";
import { GraphFinder } from "./finder";
import { fitText, measure, MIN_LABEL_PX, SMALL_FONT_PX } from "./labels";
import { Minimap } from "./minimap";
import { type NodeRec, type Status, STATUS_COLORS, STATUSES, type Store } from "./store";
import {
  buildVisibleTree,
  countsText,
  groupKey,
  parentKeyOf,
  ROOT_KEY,
  type VNode,
} from "./tree";
import { button, clearedContext, el, fmtInt, frameScheduler, Redrawing, SVG_NS, svgEl } from "./util";
import { NEUTRAL_COLOUR, OUTCOME_COLOURS, TEXT_ON_FILL } from "./vocabulary";

export type { VNode } from "./tree";

export const NODE_W = 220;
export const NODE_H = 42;
const COL_W = 270;
const ROW_H = 52;
const NAME_PX = 12;
/** More visible boxes than this and the view switches from SVG to canvas. */
export const SVG_LIMIT = 1500;
/** The smallest zoom at which every label is still at least MIN_LABEL_PX on screen. */
export const MIN_READABLE_K = MIN_LABEL_PX / SMALL_FONT_PX;

const HALO = "#1f5fbf";
const MATCH = OUTCOME_COLOURS.open;

/** Group boxes use the neutral fill (as the session box), with a solid border and an outcome bar. */
function fillOf(v: VNode): string {
  return v.kind === "group" ? NEUTRAL_COLOUR : STATUS_COLORS[v.status];
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

export const NAME_FONT = `600 12px system-ui, sans-serif`;
export const SMALL_FONT = `${SMALL_FONT_PX}px system-ui, sans-serif`;

/** The three texts of a box, cut to fit it: name (first line), right of it, and the second line. */
export function boxTexts(v: VNode): { name: string; right: string; sub: string } {
  const right = fitText(v.right, SMALL_FONT, NODE_W / 2);
  const rightW = right ? measure(right, SMALL_FONT) + 8 : 0;
  const folded = v.collapsed && v.hiddenCount && v.kind !== "group" ? ` (+${fmtInt(v.hiddenCount)})` : "";
  const room = NODE_W - 16 - rightW;
  const name = folded
    ? `${fitText(v.label, NAME_FONT, Math.max(30, room - measure(folded, NAME_FONT)))}${folded}`
    : fitText(v.label, NAME_FONT, room);
  return { name, right, sub: fitText(v.sub, SMALL_FONT, NODE_W - 16) };
}

function tooltip(v: VNode): string {
  if (v.kind === "group" && v.group) {
    const g = v.group;
    return `${v.label}: ${countsText(g.counts)}. Click to ${v.collapsed ? "open" : "close"} the group.`;
  }
  if (v.kind === "more") return `${v.label}: ${v.sub}.`;
  if (v.kind === "root") return `Session ${v.label}`;
  const r = v.rec!;
  const inside = v.failedInside ? ` · ${fmtInt(v.failedInside)} failed below` : "";
  return `${r.name} (${r.type}) · ${v.status} · ${v.right}\n${v.sub}${inside}`;
}

/** The status bar of a group: the share of each outcome among its members. */
function statusSegments(v: VNode): [Status, number, number][] {
  const g = v.group!;
  const total = g.members.length || 1;
  const width = NODE_W - 16;
  const out: [Status, number, number][] = [];
  let x = 8;
  // Failures last (at the right end), where the eye finds them; any other outcome before.
  for (const s of [...STATUSES.filter((x) => x !== "Failed"), "Failed"] as Status[]) {
    if (!g.counts[s]) continue;
    // A single failure among 100,000 still gets a visible sliver.
    const w = Math.max(3, (g.counts[s] / total) * width);
    out.push([s, x, w]);
    x += w;
  }
  const over = x - 8 - width;
  if (over > 0 && out.length) {
    const widest = out.reduce((a, b) => (b[2] > a[2] ? b : a));
    widest[2] -= over;
    let cx = 8;
    for (const seg of out) {
      seg[1] = cx;
      cx += seg[2];
    }
  }
  return out;
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
  private crumbs: HTMLDivElement;
  private minimap: Minimap;
  readonly finder: GraphFinder;
  private zoomer: ZoomBehavior<HTMLDivElement, unknown>;
  private transform: ZoomTransform = zoomIdentity;
  private userMoved = false;
  private layout: Layout | null = null;
  private mode: "svg" | "canvas" = "svg";
  private step: number | null = null;
  private collapsed = new Set<string>();
  private openGroups = new Map<string, number>();
  private pinned = new Set<string>();
  private failuresOnly = false;
  private selected: string | null = null;
  private renderedVersion = -1;
  private readonly redrawing: Redrawing;
  /** The smallest label drawn by the last canvas paint, in screen px (null: none drawn). */
  private canvasLabelPx: number | null = null;
  private scheduleMinimap: () => void;

  constructor(
    container: HTMLElement,
    private store: Store,
    private opts: GraphOptions = {},
  ) {
    this.root = el("div", "rt-graph");
    const bar = el("div", "rt-graph-bar");
    const fit = button("rt-fit", "Fit", "Fit the tree in view, as far as labels stay readable", () => this.fit(true));
    const expand = button("rt-expand-all", "Expand all", "Unfold every folded subtree (groups stay grouped)", () => {
      this.collapsed.clear();
      this.refresh(true);
    });
    this.finder = new GraphFinder(bar, {
      store,
      step: () => this.step,
      failuresOnly: () => this.failuresOnly,
      setFailuresOnly: (on) => {
        this.failuresOnly = on;
        this.root.dataset.failuresOnly = on ? "1" : "0";
        this.refresh(true);
      },
      changed: () => this.refresh(false),
      goTo: (rec) => {
        this.reveal(rec);
        this.focus(rec.id);
        this.activate(rec.id);
      },
    });
    const hint = el("span", "rt-hint", "drag to pan · wheel to zoom · click a box for details, a group to open it");
    bar.prepend(fit, expand);
    bar.append(hint);
    this.crumbs = el("div", "rt-breadcrumb");
    this.stage = el("div", "rt-graph-stage");
    this.svg = document.createElementNS(SVG_NS, "svg");
    this.svg.setAttribute("class", "rt-graph-svg");
    this.viewport = svgEl("g", { class: "rt-viewport" });
    this.svg.appendChild(this.viewport);
    this.canvas = el("canvas", "rt-graph-canvas");
    this.canvas.style.display = "none";
    this.stage.append(this.svg, this.canvas);
    this.minimap = new Minimap(this.stage, (x, y) => {
      this.userMoved = true;
      select(this.stage).call(this.zoomer.translateTo, x, y);
    });
    this.root.append(bar, this.crumbs, this.stage);
    container.appendChild(this.root);

    this.zoomer = zoom<HTMLDivElement, unknown>()
      .scaleExtent([0.01, 4])
      .on("zoom", (event) => {
        this.transform = event.transform;
        if (event.sourceEvent) this.userMoved = true;
        this.applyTransform();
      });
    select(this.stage).call(this.zoomer).on("dblclick.zoom", null);

    this.svg.addEventListener("click", (e) => this.onSvgClick(e));
    this.svg.addEventListener("dblclick", (e) => {
      const key = (e.target as Element).closest(".rt-kind-node")?.getAttribute("data-key");
      if (key) this.toggle(key);
    });
    this.canvas.addEventListener("click", (e) => this.onCanvasClick(e));

    this.redrawing = new Redrawing(store, () => this.render());
    this.scheduleMinimap = frameScheduler(() => this.drawMinimap());
    this.redrawing.onResize(this.stage, () => {
      if (this.mode === "canvas") this.drawCanvas();
      if (!this.userMoved) this.fit(false);
      this.scheduleMinimap();
    });
    this.render();
  }

  destroy(): void {
    this.redrawing.release();
    this.finder.destroy();
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
    this.showCrumbs();
  }

  /** Fold or unfold a node's subtree; open or close a group. */
  toggle(key: string): void {
    const p = this.layout?.byKey.get(key);
    if (p?.v.kind === "group") {
      if (this.openGroups.has(key)) this.openGroups.delete(key);
      else this.openGroups.set(key, 1);
    } else if (this.collapsed.has(key)) this.collapsed.delete(key);
    else this.collapsed.add(key);
    this.refresh(false);
  }

  /** Show the next page of an opened group's members. */
  showMore(groupKeyOf: string): void {
    this.openGroups.set(groupKeyOf, (this.openGroups.get(groupKeyOf) ?? 0) + 1);
    this.refresh(false);
  }

  /** Make a node drawn: unfold its ancestors, open (and pin it in) the groups on its way. */
  reveal(rec: NodeRec): void {
    const index = this.store.index();
    let cur: NodeRec | undefined = rec;
    const seen = new Set<NodeRec>();
    while (cur && !seen.has(cur)) {
      seen.add(cur);
      const parentKey = parentKeyOf(cur, index);
      this.collapsed.delete(parentKey);
      const gk = groupKey(parentKey, cur.name);
      if (!this.openGroups.has(gk)) this.openGroups.set(gk, 1);
      this.pinned.add(cur.id);
      cur = parentKey === ROOT_KEY ? undefined : index.nodes.get(parentKey);
    }
    this.refresh(false);
  }

  get visibleCount(): number {
    return this.layout?.placed.length ?? 0;
  }

  get currentMode(): "svg" | "canvas" {
    return this.mode;
  }

  /** The current zoom scale (1: boxes at their natural size). */
  get scale(): number {
    return this.transform.k;
  }

  /** The smallest label on screen in px, or null when labels are hidden (zoomed out too far). */
  get smallestLabelPx(): number | null {
    if (this.mode === "canvas") return this.canvasLabelPx;
    return this.labelsShown() ? SMALL_FONT_PX * this.transform.k : null;
  }

  private labelsShown(): boolean {
    return SMALL_FONT_PX * this.transform.k >= MIN_LABEL_PX - 1e-6;
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
    const vroot = buildVisibleTree(index, this.store.title, {
      step: this.step,
      collapsed: this.collapsed,
      openGroups: this.openGroups,
      pinned: this.pinned,
      failuresOnly: this.failuresOnly,
      matches: this.finder.matchIds(),
    });
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
    this.showCrumbs();
  }

  /**
   * Fit the tree in view, but never below the smallest readable scale: a big
   * tree starts at its entry node, readable, and is panned from there.
   */
  fit(fromUser: boolean): void {
    if (fromUser) this.userMoved = false;
    const L = this.layout;
    const w = this.stage.clientWidth;
    const h = this.stage.clientHeight;
    if (!L || !w || !h) return;
    const bw = L.x1 - L.x0 + 40;
    const bh = L.y1 - L.y0 + 40;
    const k = Math.max(MIN_READABLE_K, Math.min(1.2, w / bw, h / bh));
    let tx = (w - (L.x1 - L.x0) * k) / 2 - L.x0 * k;
    let ty = (h - (L.y1 - L.y0) * k) / 2 - L.y0 * k;
    if (bw * k > w) tx = 20 - L.x0 * k;
    if (bh * k > h) {
      // Too tall: centre on the entry node, which sits in the middle of its callees.
      const rootY = L.byKey.get(ROOT_KEY)?.y ?? 0;
      ty = h / 2 - rootY * k;
    }
    select(this.stage).call(this.zoomer.transform, zoomIdentity.translate(tx, ty).scale(k));
  }

  private applyTransform(): void {
    this.root.dataset.labels = this.labelsShown() ? "on" : "off";
    if (this.mode === "svg") this.viewport.setAttribute("transform", this.transform.toString());
    else this.drawCanvas();
    this.scheduleMinimap();
  }

  private drawMinimap(): void {
    const L = this.layout;
    const w = this.stage.clientWidth;
    const h = this.stage.clientHeight;
    if (!L || !w || !h) return;
    const t = this.transform;
    const [vx0, vy0] = t.invert([0, 0]);
    const [vx1, vy1] = t.invert([w, h]);
    const boxes = L.placed.map((p) => ({
      x: p.x,
      y: p.y - NODE_H / 2,
      w: NODE_W,
      h: NODE_H,
      color: p.v.failedInside && p.v.kind !== "node" ? STATUS_COLORS.Failed : fillOf(p.v),
    }));
    this.minimap.draw(boxes, { x0: L.x0, y0: L.y0, x1: L.x1, y1: L.y1 }, { x0: vx0, y0: vy0, x1: vx1, y1: vy1 });
    this.root.dataset.minimap = this.minimap.visible ? "1" : "0";
  }

  /** The way from the session to the selected node, each step clickable. */
  private showCrumbs(): void {
    const index = this.store.index();
    const rec = this.selected ? index.nodes.get(this.selected) : undefined;
    this.crumbs.replaceChildren();
    if (!rec) {
      this.crumbs.append(el("span", "rt-muted", this.store.title));
      return;
    }
    const path: NodeRec[] = [];
    const seen = new Set<NodeRec>();
    for (let cur: NodeRec | undefined = rec; cur && !seen.has(cur); ) {
      seen.add(cur);
      path.unshift(cur);
      const pk = parentKeyOf(cur, index);
      cur = pk === ROOT_KEY ? undefined : index.nodes.get(pk);
    }
    const items: HTMLElement[] = [el("span", "rt-muted", this.store.title)];
    const shown = path.length > 6 ? [...path.slice(0, 2), null, ...path.slice(-3)] : path;
    for (const r of shown) {
      items.push(el("span", "rt-crumb-sep", "›"));
      if (!r) {
        items.push(el("span", "rt-muted", "…"));
        continue;
      }
      const b = button("rt-crumb", r.name, `Show ${r.name}`, () => {
        this.reveal(r);
        this.focus(r.id);
      });
      items.push(b);
    }
    this.crumbs.append(...items);
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
    const classes = [
      "rt-node",
      `rt-kind-${v.kind}`,
      `rt-status-${v.status.toLowerCase()}`,
      v.key === this.selected ? "rt-selected" : "",
      v.match ? "rt-match" : "",
      v.rec && v.rec.id === this.finder.currentId ? "rt-current" : "",
      v.context ? "rt-context" : "",
      v.failedInside ? "rt-has-failure" : "",
      v.kind === "group" ? (v.collapsed ? "rt-closed" : "rt-open") : "",
    ].filter(Boolean);
    const g = svgEl("g", {
      class: classes.join(" "),
      transform: `translate(${p.x},${p.y - NODE_H / 2})`,
      "data-key": v.key,
      "data-status": v.status,
    });
    if (v.rec) g.setAttribute("data-name", v.rec.name);
    if (v.group) {
      g.setAttribute("data-name", v.group.name);
      g.setAttribute("data-members", String(v.group.members.length));
    }
    if (v.failedInside) g.setAttribute("data-failed-inside", String(v.failedInside));
    const title = svgEl("title");
    title.textContent = tooltip(v);
    g.appendChild(title);
    if (v.match || v.matchInside) {
      g.appendChild(svgEl("rect", { class: "rt-halo", x: -4, y: -4, width: NODE_W + 8, height: NODE_H + 8, rx: 9 }));
    }
    g.appendChild(svgEl("rect", { class: "rt-box", width: NODE_W, height: NODE_H, rx: 6, ry: 6, fill: fillOf(v) }));
    const t = boxTexts(v);
    const color = TEXT_ON_FILL;
    const name = svgEl("text", { x: 8, y: 16, class: "rt-node-label", fill: color });
    name.textContent = t.name;
    g.appendChild(name);
    if (t.right) {
      const right = svgEl("text", { x: NODE_W - 8, y: 16, class: "rt-node-right", fill: color, "text-anchor": "end" });
      right.textContent = t.right;
      g.appendChild(right);
    }
    const sub = svgEl("text", { x: 8, y: 31, class: "rt-node-sub", fill: color });
    sub.textContent = t.sub;
    g.appendChild(sub);
    if (v.kind === "group") {
      for (const [s, x, w] of statusSegments(v)) {
        g.appendChild(svgEl("rect", { class: "rt-group-bar", x, y: NODE_H - 7, width: w, height: 4, fill: STATUS_COLORS[s] }));
      }
    }
    if (interactive && v.hasChildren && v.kind !== "more") {
      const tg = svgEl("g", { class: "rt-toggle", transform: `translate(${NODE_W},${NODE_H / 2})` });
      tg.append(
        svgEl("circle", { r: 7 }),
        Object.assign(svgEl("text", { x: 0, y: 4, "text-anchor": "middle" }), {
          textContent: v.collapsed ? "+" : "−",
        }),
      );
      const tt = svgEl("title");
      tt.textContent = v.collapsed ? "Expand" : "Collapse";
      tg.appendChild(tt);
      g.appendChild(tg);
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
      this.showMore(p.v.moreOf);
      return;
    }
    if (p.v.kind === "group") {
      this.toggle(key);
      // Opened: bring the group to the left third, its calls fill the rest of the view.
      if (this.openGroups.has(key)) this.focus(key, 0.25);
      const again = this.layout?.byKey.get(key);
      this.selected = key;
      this.setSelected(key);
      this.opts.onSelect?.(key, again?.v ?? p.v);
      return;
    }
    this.selected = key;
    this.setSelected(key);
    this.opts.onSelect?.(key, p.v);
  }

  /**
   * Pan (and zoom to at least 1:1) so the box `key` is in view, vertically
   * centred, its centre at `across` of the view's width (default: the middle).
   */
  focus(key: string, across = 0.5): boolean {
    if (!this.layout?.byKey.has(key)) {
      // A node folded away or inside a closed group (clicked in the timeline, say): show it first.
      const rec = this.store.index().nodes.get(key);
      if (rec) this.reveal(rec);
    }
    const p = this.layout?.byKey.get(key);
    const w = this.stage.clientWidth;
    const h = this.stage.clientHeight;
    if (!p || !w || !h) return false;
    const k = Math.max(this.transform.k, 1);
    this.userMoved = true;
    select(this.stage).call(
      this.zoomer.transform,
      zoomIdentity.translate(w * across - (p.x + NODE_W / 2) * k, h / 2 - p.y * k).scale(k),
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

  /** The keys of the boxes drawn now, with their kind and status (for tests and tooling). */
  drawnBoxes(): { key: string; kind: string; status: string; name: string; members: number }[] {
    return (this.layout?.placed ?? []).map((p) => ({
      key: p.v.key,
      kind: p.v.kind,
      status: p.v.status,
      name: p.v.rec?.name ?? p.v.group?.name ?? p.v.label,
      members: p.v.group?.members.length ?? 0,
    }));
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
    const ctx = clearedContext(this.canvas, w, h);
    if (!ctx) return;
    const t = this.transform;
    ctx.translate(t.x, t.y);
    ctx.scale(t.k, t.k);
    // Only what is on screen is painted.
    const [vx0, vy0] = t.invert([0, 0]);
    const [vx1, vy1] = t.invert([w, h]);
    this.canvasLabelPx = paintLayout(ctx, L, t.k, this.selected, this.finder.currentId, {
      x0: vx0,
      y0: vy0,
      x1: vx1,
      y1: vy1,
    });
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
    svg.setAttribute("font-size", String(SMALL_FONT_PX));
    svg.appendChild(svgEl("rect", { x: x0, y: y0, width: w, height: h, fill: "#ffffff" }));
    if (L) {
      const d = L.links.map(([a, b]) => linkPath(a, b)).join("");
      svg.appendChild(svgEl("path", { d, fill: "none", stroke: "#9aa3ad", "stroke-width": 1.2 }));
      for (const p of L.placed) {
        const g = this.svgNode(p, false);
        g.querySelector(".rt-node-label")?.setAttribute("font-weight", "600");
        g.querySelector(".rt-box")?.setAttribute("stroke", p.v.failedInside ? STATUS_COLORS.Failed : "#56606b");
        svg.appendChild(g);
      }
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
      paintLayout(ctx, L, k, this.selected, this.finder.currentId, null);
    }
    return new Promise((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG encoding failed"))), "image/png"),
    );
  }
}

/** Paint a layout on a canvas; returns the smallest label drawn, in screen px (null: none). */
function paintLayout(
  ctx: CanvasRenderingContext2D,
  L: Layout,
  k: number,
  selected: string | null,
  current: string | null,
  view: { x0: number; y0: number; x1: number; y1: number } | null,
): number | null {
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
  const shown = L.placed.filter(inView);
  // Halos of search matches, under the boxes.
  ctx.fillStyle = MATCH;
  ctx.beginPath();
  for (const p of shown) if (p.v.match || p.v.matchInside) ctx.rect(p.x - 4, p.y - NODE_H / 2 - 4, NODE_W + 8, NODE_H + 8);
  ctx.fill();
  // Batch boxes by colour: one fill per colour instead of one per box.
  const groups = new Map<string, Placed[]>();
  for (const p of shown) {
    const fill = fillOf(p.v);
    const list = groups.get(fill);
    if (list) list.push(p);
    else groups.set(fill, [p]);
  }
  for (const [fill, list] of groups) {
    ctx.fillStyle = fill;
    ctx.beginPath();
    for (const p of list) ctx.rect(p.x, p.y - NODE_H / 2, NODE_W, NODE_H);
    ctx.fill();
  }
  ctx.strokeStyle = STATUS_COLORS.Failed;
  ctx.lineWidth = 2.5 / Math.max(k, 0.2);
  ctx.beginPath();
  for (const p of shown) if (p.v.failedInside) ctx.rect(p.x, p.y - NODE_H / 2, NODE_W, NODE_H);
  ctx.stroke();
  for (const p of shown) {
    if (p.v.kind !== "group") continue;
    for (const [s, x, w] of statusSegments(p.v)) {
      ctx.fillStyle = STATUS_COLORS[s];
      ctx.fillRect(p.x + x, p.y + NODE_H / 2 - 7, w, 4);
    }
  }
  for (const key of [selected, current]) {
    const p = key ? L.byKey.get(key) : undefined;
    if (!p) continue;
    ctx.strokeStyle = HALO;
    ctx.lineWidth = 3 / Math.max(k, 0.2);
    ctx.strokeRect(p.x - 2, p.y - NODE_H / 2 - 2, NODE_W + 4, NODE_H + 4);
  }
  // Labels only where they are readable: never below MIN_LABEL_PX on screen.
  if (SMALL_FONT_PX * k < MIN_LABEL_PX - 1e-6) return null;
  ctx.textBaseline = "alphabetic";
  for (const p of shown) {
    const v = p.v;
    const t = boxTexts(v);
    const top = p.y - NODE_H / 2;
    ctx.fillStyle = TEXT_ON_FILL;
    ctx.font = NAME_FONT;
    ctx.textAlign = "start";
    ctx.fillText(t.name, p.x + 8, top + 16);
    ctx.font = SMALL_FONT;
    ctx.fillText(t.sub, p.x + 8, top + 31);
    if (t.right) {
      ctx.textAlign = "end";
      ctx.fillText(t.right, p.x + NODE_W - 8, top + 16);
      ctx.textAlign = "start";
    }
    if (v.hasChildren && v.kind !== "more") {
      ctx.fillStyle = "#ffffff";
      ctx.strokeStyle = "#56606b";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(p.x + NODE_W, p.y, 7, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = "#222";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = `${NAME_PX}px system-ui, sans-serif`;
      ctx.fillText(v.collapsed ? "+" : "−", p.x + NODE_W, p.y + 1);
      ctx.textAlign = "start";
      ctx.textBaseline = "alphabetic";
    }
  }
  return SMALL_FONT_PX * k;
}

// The stamp timeline: one row per node in call order (a trace/Gantt view),
// a bar from creation to completion coloured by status, the node's stamps as
// ticks on its bar, and every session stamp as a tick under the axis. Bars are
// painted on a canvas (10,000 rows cost one draw); the axis is d3-axis SVG.
// Wheel zooms the time axis around the pointer (d3-zoom, x only), dragging
// pans time and scrolls rows, shift+wheel scrolls rows.

import { axisBottom } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";
import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from "d3-zoom";
import {
  dfsOrder,
  finishedAt,
  type NodeRec,
  STATUS_COLORS,
  type Store,
  stampsAt,
  statusAt,
  timeAt,
} from "./store";
import { button, el, fmtDuration, frameScheduler, svgEl, truncate } from "./util";

const GUTTER = 150;
const AXIS_H = 26;
const MARKS_H = 8;
const MAX_ROW = 18;

export interface TimelineOptions {
  onSelect?: (id: string) => void;
}

export class TimelinePanel {
  readonly root: HTMLDivElement;
  private canvas: HTMLCanvasElement;
  private axisSvg: SVGSVGElement;
  private tip: HTMLDivElement;
  private zoomer: ZoomBehavior<HTMLCanvasElement, unknown>;
  private transform: ZoomTransform = zoomIdentity;
  private lastY = 0;
  private scrollY = 0;
  private step: number | null = null;
  private rows: NodeRec[] = [];
  private t0 = 0;
  private t1 = 1;
  private now = 0;
  private selected: string | null = null;
  private builtVersion = -1;
  private unsub: () => void;
  private resizeObs: ResizeObserver | null = null;
  readonly schedule: () => void;

  constructor(
    container: HTMLElement,
    private store: Store,
    private opts: TimelineOptions = {},
  ) {
    this.root = el("div", "rt-timeline");
    const head = el("div", "rt-timeline-head");
    const reset = button("rt-timeline-reset", "Reset zoom", "Back to the whole time range", () => {
      this.scrollY = 0;
      select(this.canvas).call(this.zoomer.transform, zoomIdentity);
    });
    head.append(reset, el("span", "rt-hint", "wheel zooms time · drag pans · shift+wheel scrolls rows · hover a bar"));
    const body = el("div", "rt-timeline-body");
    this.canvas = el("canvas", "rt-timeline-canvas");
    this.axisSvg = svgEl("svg", { class: "rt-timeline-axis" });
    this.tip = el("div", "rt-tooltip");
    this.tip.style.display = "none";
    body.append(this.canvas, this.axisSvg, this.tip);
    this.root.append(head, body);
    container.appendChild(this.root);

    this.zoomer = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1, 1e6])
      .filter((event: any) => (!event.ctrlKey || event.type === "wheel") && !event.button && !(event.type === "wheel" && event.shiftKey))
      .on("zoom", (event) => {
        const t = event.transform as ZoomTransform;
        const src = event.sourceEvent as Event | null;
        // Time is zoomed by d3; rows only follow drags (a wheel zoom must not jump rows).
        if (src && src.type !== "wheel") this.scrollY += t.y - this.lastY;
        this.lastY = t.y;
        this.transform = t;
        this.clampScroll();
        this.draw();
      });
    select(this.canvas).call(this.zoomer).on("dblclick.zoom", null);
    this.canvas.addEventListener(
      "wheel",
      (e) => {
        if (!e.shiftKey) return;
        e.preventDefault();
        this.scrollY -= e.deltaY || e.deltaX;
        this.clampScroll();
        this.draw();
      },
      { passive: false },
    );
    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    this.canvas.addEventListener("mouseleave", () => {
      this.tip.style.display = "none";
    });
    this.canvas.addEventListener("click", (e) => {
      const rec = this.pick(e);
      if (rec) this.opts.onSelect?.(rec.id);
    });
    this.schedule = frameScheduler(() => this.draw());
    this.unsub = store.subscribe(() => this.schedule());
    if (typeof ResizeObserver === "function") {
      this.resizeObs = new ResizeObserver(() => this.draw());
      this.resizeObs.observe(body);
    }
    this.draw();
  }

  destroy(): void {
    this.unsub();
    this.resizeObs?.disconnect();
    this.root.remove();
  }

  setStep(step: number | null): void {
    this.step = step;
    this.builtVersion = -1;
    this.draw();
  }

  setSelected(id: string | null): void {
    this.selected = id;
    this.draw();
  }

  get rowCount(): number {
    return this.rows.length;
  }

  private rebuild(): void {
    if (this.builtVersion === this.store.version) return;
    this.builtVersion = this.store.version;
    const index = this.store.index();
    this.rows = dfsOrder(index, this.step);
    this.now = timeAt(index, this.step);
    this.t0 = index.startTime;
    let t1 = this.now;
    for (const r of this.rows) t1 = Math.max(t1, finishedAt(r, this.step) ?? r.createdTime);
    this.t1 = t1 > this.t0 ? t1 : this.t0 + 1e-3;
    this.root.dataset.bars = String(this.rows.length);
  }

  private size(): { w: number; h: number; plotH: number; rowH: number } {
    const body = this.canvas.parentElement!;
    const w = Math.max(body.clientWidth, 50);
    const h = Math.max(body.clientHeight, 60);
    const plotH = h - AXIS_H - MARKS_H;
    const rowH = Math.max(1, Math.min(MAX_ROW, plotH / Math.max(this.rows.length, 1)));
    return { w, h, plotH, rowH };
  }

  private clampScroll(): void {
    const { plotH, rowH } = this.size();
    const content = this.rows.length * rowH;
    this.scrollY = Math.min(0, Math.max(this.scrollY, Math.min(0, plotH - content)));
  }

  private xScale(w: number) {
    const base = scaleLinear()
      .domain([0, this.t1 - this.t0])
      .range([GUTTER + 4, w - 12]);
    return this.transform.rescaleX(base);
  }

  draw(): void {
    this.rebuild();
    const { w, h, plotH, rowH } = this.size();
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
    const x = this.xScale(w);
    const t0 = this.t0;
    const step = this.step;
    const first = Math.max(0, Math.floor(-this.scrollY / rowH));
    const last = Math.min(this.rows.length, Math.ceil((plotH - this.scrollY) / rowH));

    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, 0, w - GUTTER, plotH);
    ctx.clip();
    // Bars, batched by colour.
    const byColor = new Map<string, [number, number, number, number][]>();
    const ticks: [number, number, number][] = [];
    for (let i = first; i < last; i++) {
      const r = this.rows[i];
      const status = statusAt(r, step);
      const end = finishedAt(r, step) ?? this.now;
      const xa = x(r.createdTime - t0);
      const xb = Math.max(x(end - t0), xa + 2);
      const y = this.scrollY + i * rowH;
      const bh = Math.max(1, rowH > 4 ? rowH - 3 : rowH);
      const list = byColor.get(status) ?? [];
      list.push([xa, y + (rowH - bh) / 2, xb - xa, bh]);
      byColor.set(status, list);
      if (rowH >= 6) for (const s of stampsAt(r, step)) ticks.push([x(s.time - t0), y, rowH]);
    }
    for (const [status, list] of byColor) {
      ctx.fillStyle = STATUS_COLORS[status];
      ctx.beginPath();
      for (const [a, b, c, d] of list) ctx.rect(a, b, c, d);
      ctx.fill();
    }
    ctx.fillStyle = "rgba(20,20,20,0.65)";
    for (const [tx, ty, th] of ticks) ctx.fillRect(tx - 0.75, ty + 1, 1.5, th - 2);
    if (this.selected) {
      const i = this.rows.findIndex((r) => r.id === this.selected);
      if (i >= 0) {
        ctx.strokeStyle = "#1f5fbf";
        ctx.lineWidth = 2;
        ctx.strokeRect(GUTTER + 1, this.scrollY + i * rowH, w - GUTTER - 2, rowH);
      }
    }
    // The replay cursor: "now" at this step.
    ctx.strokeStyle = "#1f5fbf";
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x(this.now - t0), 0);
    ctx.lineTo(x(this.now - t0), plotH);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.restore();

    // Names in the gutter, when rows are tall enough to read.
    if (rowH >= 10) {
      ctx.font = "11px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      ctx.fillStyle = getComputedStyle(this.root).color || "#222";
      for (let i = first; i < last; i++) {
        const r = this.rows[i];
        const y = this.scrollY + i * rowH + rowH / 2;
        if (y < 0 || y > plotH) continue;
        ctx.fillText(truncate(`${"  ".repeat(Math.min(r.depth, 8))}${r.name}`, 24), 4, y);
      }
    } else {
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillStyle = getComputedStyle(this.root).color || "#222";
      ctx.fillText(`${this.rows.length.toLocaleString("en-US")} nodes`, 4, 12);
    }
    // Every session stamp as a tick just above the axis.
    ctx.fillStyle = "#56606b";
    for (const s of this.store.index().steps) {
      if (step !== null && s.step > step) break;
      const sx = x(s.time - t0);
      if (sx < GUTTER || sx > w) continue;
      ctx.fillRect(sx - 0.5, plotH + 1, 1, MARKS_H - 2);
    }

    const axis = axisBottom(x)
      .ticks(Math.max(2, Math.floor((w - GUTTER) / 90)))
      .tickFormat((v) => fmtDuration(Number(v)));
    this.axisSvg.setAttribute("width", String(w));
    this.axisSvg.setAttribute("height", String(AXIS_H));
    this.axisSvg.style.top = `${plotH + MARKS_H}px`;
    select(this.axisSvg).selectAll("g").remove();
    select(this.axisSvg).append("g").attr("class", "rt-axis").call(axis as any);
  }

  private pick(e: MouseEvent): NodeRec | null {
    const r = this.canvas.getBoundingClientRect();
    const mx = e.clientX - r.left;
    const my = e.clientY - r.top;
    const { w, plotH, rowH } = this.size();
    if (my > plotH || mx < GUTTER) return null;
    const i = Math.floor((my - this.scrollY) / rowH);
    const rec = this.rows[i];
    if (!rec) return null;
    const x = this.xScale(w);
    const end = finishedAt(rec, this.step) ?? this.now;
    const xa = x(rec.createdTime - this.t0);
    const xb = Math.max(x(end - this.t0), xa + 2);
    return mx >= xa - 4 && mx <= xb + 4 ? rec : null;
  }

  private hover(e: MouseEvent): void {
    const rec = this.pick(e);
    if (!rec) {
      this.tip.style.display = "none";
      return;
    }
    const status = statusAt(rec, this.step);
    const end = finishedAt(rec, this.step);
    const lines = [
      `${rec.name} (${rec.type})`,
      `status: ${status}`,
      `start: +${fmtDuration(rec.createdTime - this.t0)}`,
      end === null ? "running" : `duration: ${fmtDuration(end - rec.createdTime)}`,
      `stamps: ${stampsAt(rec, this.step)
        .map((s) => s.step)
        .join(", ")}`,
    ];
    this.tip.replaceChildren(...lines.map((l) => el("div", undefined, l)));
    const r = this.canvas.getBoundingClientRect();
    this.tip.style.display = "block";
    this.tip.style.left = `${Math.min(e.clientX - r.left + 12, r.width - 220)}px`;
    this.tip.style.top = `${e.clientY - r.top + 12}px`;
  }
}

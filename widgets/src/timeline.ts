// The stamp timeline. Nodes are grouped into lanes by name (in call order):
// a lane of many calls is one row with a concurrency band (how many of them
// run at each moment, coloured by outcome, a failure always visible), and it
// opens into one bar per call when clicked, or by itself once zooming in
// leaves few of its calls in view. A lane of one call is its bar. Bars are
// painted on a canvas (only the rows in view); the axis is d3-axis SVG. Rows
// keep a readable height and scroll (drag, shift+wheel); wheel zooms time.

import { axisBottom } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";
import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from "d3-zoom";
import { argSummary, durationText, SMALL_FONT_PX } from "./labels";
import {
  finishedAt,
  type NodeRec,
  type Status,
  STATUS_COLORS,
  STATUSES,
  type Store,
  stampsAt,
  statusAt,
  timeAt,
} from "./store";
import { countsText, groupInfo, orderAt } from "./tree";
import { button, clearedContext, el, fmtDuration, fmtInt, Redrawing, svgEl, truncate } from "./util";

const GUTTER = 200;
const AXIS_H = 26;
const MARKS_H = 8;
/** Every row is this tall: rows scroll rather than shrink below a readable label. */
export const ROW_H = 18;
/** A lane opens into bars by itself once this few of its calls are in the time window. */
export const AUTO_OPEN = 12;
/** The time span drawn for a session with no nodes yet (seconds). */
const EMPTY_SPAN = 1;

interface Lane {
  name: string;
  depth: number;
  /** Calls, by start time. */
  members: NodeRec[];
  starts: Float64Array;
  ends: Float64Array;
  statuses: Status[];
  failed: number;
}

type Row = { kind: "lane"; lane: Lane; open: boolean } | { kind: "bar"; lane: Lane; rec: NodeRec; i: number };

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
  private lanes: Lane[] = [];
  private rows: Row[] = [];
  private count = 0;
  private t0 = 0;
  private t1 = 1;
  private now = 0;
  private selected: string | null = null;
  /** Lanes opened (true) or closed (false) by a click; the others follow the zoom. */
  private userOpen = new Map<string, boolean>();
  private builtVersion = -1;
  private readonly redrawing: Redrawing;

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
    head.append(
      reset,
      el("span", "rt-hint", "one lane per node name · click a lane's name to open it · wheel zooms time · drag pans · shift+wheel scrolls"),
    );
    const body = el("div", "rt-timeline-body");
    this.canvas = el("canvas", "rt-timeline-canvas");
    this.axisSvg = svgEl("svg", { class: "rt-timeline-axis" });
    this.tip = el("div", "rt-tooltip");
    this.tip.style.display = "none";
    body.append(this.canvas, this.axisSvg, this.tip);
    this.root.append(head, body);
    container.appendChild(this.root);

    this.zoomer = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1, 1e7])
      .filter((event: any) => (!event.ctrlKey || event.type === "wheel") && !event.button && !(event.type === "wheel" && event.shiftKey))
      .on("zoom", (event) => {
        const t = event.transform as ZoomTransform;
        const src = event.sourceEvent as Event | null;
        // Time is zoomed by d3; rows only follow drags (a wheel zoom must not jump rows).
        if (src && src.type !== "wheel") this.scrollY += t.y - this.lastY;
        this.lastY = t.y;
        this.transform = t;
        this.draw();
      });
    select(this.canvas).call(this.zoomer).on("dblclick.zoom", null);
    this.canvas.addEventListener(
      "wheel",
      (e) => {
        if (!e.shiftKey) return;
        e.preventDefault();
        this.scrollY -= e.deltaY || e.deltaX;
        this.draw();
      },
      { passive: false },
    );
    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    this.canvas.addEventListener("mouseleave", () => {
      this.tip.style.display = "none";
    });
    this.canvas.addEventListener("click", (e) => this.click(e));
    this.redrawing = new Redrawing(store, () => this.draw());
    this.redrawing.onResize(body, () => this.draw());
    this.draw();
  }

  destroy(): void {
    this.redrawing.release();
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

  /** Nodes on the timeline (at the current step). */
  get rowCount(): number {
    return this.count;
  }

  /** Open (true) or close (false) the lane of a node name; null: follow the zoom again. */
  setLaneOpen(name: string, open: boolean | null): void {
    if (open === null) this.userOpen.delete(name);
    else this.userOpen.set(name, open);
    this.draw();
  }

  private rebuild(): void {
    if (this.builtVersion === this.store.version) return;
    this.builtVersion = this.store.version;
    const index = this.store.index();
    const step = this.step;
    const order = orderAt(index, step);
    this.now = timeAt(index, step);
    const byName = new Map<string, Lane>();
    const lanes: Lane[] = [];
    for (const r of order) {
      let lane = byName.get(r.name);
      if (!lane) {
        lane = { name: r.name, depth: r.depth, members: [], starts: new Float64Array(0), ends: new Float64Array(0), statuses: [], failed: 0 };
        byName.set(r.name, lane);
        lanes.push(lane);
      }
      lane.members.push(r);
      lane.depth = Math.min(lane.depth, r.depth);
    }
    let t1 = this.now;
    for (const lane of lanes) {
      lane.members.sort((a, b) => a.createdTime - b.createdTime || a.createdStep - b.createdStep);
      const n = lane.members.length;
      lane.starts = new Float64Array(n);
      lane.ends = new Float64Array(n);
      lane.statuses = new Array(n);
      lane.members.forEach((r, i) => {
        const status = statusAt(r, step);
        lane.starts[i] = r.createdTime;
        lane.ends[i] = finishedAt(r, step) ?? this.now;
        lane.statuses[i] = status;
        if (status === "Failed") lane.failed += 1;
        t1 = Math.max(t1, lane.ends[i]);
      });
    }
    this.lanes = lanes;
    this.count = order.length;
    // An empty session still gets a sensible axis: its first second.
    this.t0 = index.startTime;
    this.t1 = order.length && t1 > this.t0 ? t1 : this.t0 + EMPTY_SPAN;
    this.root.dataset.bars = String(order.length);
    this.root.dataset.lanes = String(lanes.length);
  }

  private size(): { w: number; h: number; plotH: number } {
    const body = this.canvas.parentElement!;
    const w = Math.max(body.clientWidth, 50);
    const h = Math.max(body.clientHeight, 60);
    return { w, h, plotH: h - AXIS_H - MARKS_H };
  }

  private xScale(w: number) {
    const base = scaleLinear()
      .domain([0, this.t1 - this.t0])
      .range([GUTTER + 4, w - 12]);
    return this.transform.rescaleX(base);
  }

  /** The rows for the time window [ta, tb] (seconds since t0). */
  private layoutRows(ta: number, tb: number): Row[] {
    const rows: Row[] = [];
    const a = this.t0 + ta;
    const b = this.t0 + tb;
    for (const lane of this.lanes) {
      if (lane.members.length === 1) {
        rows.push({ kind: "bar", lane, rec: lane.members[0], i: 0 });
        continue;
      }
      const inView: number[] = [];
      for (let i = 0; i < lane.members.length && inView.length <= AUTO_OPEN; i++) {
        if (lane.starts[i] <= b && lane.ends[i] >= a) inView.push(i);
      }
      const user = this.userOpen.get(lane.name);
      const open = user ?? inView.length <= AUTO_OPEN;
      rows.push({ kind: "lane", lane, open });
      if (!open) continue;
      if (user) lane.members.forEach((rec, i) => rows.push({ kind: "bar", lane, rec, i }));
      else for (const i of inView) rows.push({ kind: "bar", lane, rec: lane.members[i], i });
    }
    return rows;
  }

  draw(): void {
    this.rebuild();
    const { w, h, plotH } = this.size();
    const ctx = clearedContext(this.canvas, w, h);
    if (!ctx) return;
    const x = this.xScale(w);
    const [ta, tb] = [x.invert(GUTTER + 4), x.invert(w - 12)];
    this.rows = this.layoutRows(ta, tb);
    this.scrollY = Math.min(0, Math.max(this.scrollY, Math.min(0, plotH - this.rows.length * ROW_H)));
    const t0 = this.t0;
    const step = this.step;
    const first = Math.max(0, Math.floor(-this.scrollY / ROW_H));
    const last = Math.min(this.rows.length, Math.ceil((plotH - this.scrollY) / ROW_H));
    this.root.dataset.rows = String(this.rows.length);
    this.root.dataset.barRows = String(this.rows.filter((r) => r.kind === "bar").length);
    this.root.dataset.openLanes = JSON.stringify(this.rows.flatMap((r) => (r.kind === "lane" && r.open ? [r.lane.name] : [])));

    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, 0, w - GUTTER, plotH);
    ctx.clip();
    const byColor = new Map<string, [number, number, number, number][]>();
    const put = (color: string, r: [number, number, number, number]) => {
      const list = byColor.get(color);
      if (list) list.push(r);
      else byColor.set(color, [r]);
    };
    const ticks: [number, number][] = [];
    for (let ri = first; ri < last; ri++) {
      const row = this.rows[ri];
      const y = this.scrollY + ri * ROW_H;
      if (ri % 2 === 1) put("rgba(127,127,127,0.06)", [GUTTER, y, w - GUTTER, ROW_H]);
      if (row.kind === "bar") {
        const { lane, i } = row;
        const xa = x(lane.starts[i] - t0);
        const xb = Math.max(x(lane.ends[i] - t0), xa + 2);
        put(STATUS_COLORS[lane.statuses[i]], [xa, y + 3, xb - xa, ROW_H - 6]);
        for (const s of stampsAt(row.rec, step)) ticks.push([x(s.time - t0), y]);
      } else {
        this.band(row.lane, x, y, w, put);
      }
    }
    for (const [color, list] of byColor) {
      ctx.fillStyle = color;
      ctx.beginPath();
      for (const [a, b, c, d] of list) ctx.rect(a, b, c, d);
      ctx.fill();
    }
    ctx.fillStyle = "rgba(20,20,20,0.65)";
    for (const [tx, ty] of ticks) ctx.fillRect(tx - 0.75, ty + 4, 1.5, ROW_H - 8);
    if (this.selected) {
      const i = this.rows.findIndex((r) => r.kind === "bar" && r.rec.id === this.selected);
      if (i >= 0) {
        ctx.strokeStyle = "#1f5fbf";
        ctx.lineWidth = 2;
        ctx.strokeRect(GUTTER + 1, this.scrollY + i * ROW_H, w - GUTTER - 2, ROW_H);
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

    this.gutter(ctx, first, last, plotH);
    // Every session stamp as a tick just above the axis (one per pixel column: 200,000 stamps are one path).
    ctx.fillStyle = "#56606b";
    ctx.beginPath();
    let lastCol = -1;
    for (const s of this.store.index().steps) {
      if (step !== null && s.step > step) break;
      const col = Math.round(x(s.time - t0));
      if (col === lastCol || col < GUTTER || col > w) continue;
      lastCol = col;
      ctx.rect(col - 0.5, plotH + 1, 1, MARKS_H - 2);
    }
    ctx.fill();

    const axis = axisBottom(x)
      .ticks(Math.max(2, Math.floor((w - GUTTER) / 90)))
      .tickFormat((v) => fmtDuration(Number(v)));
    this.axisSvg.setAttribute("width", String(w));
    this.axisSvg.setAttribute("height", String(AXIS_H));
    this.axisSvg.style.top = `${plotH + MARKS_H}px`;
    select(this.axisSvg).selectAll("g").remove();
    select(this.axisSvg).append("g").attr("class", "rt-axis").call(axis as any);
  }

  /** A lane's concurrency band: calls running per pixel column, stacked by outcome. */
  private band(
    lane: Lane,
    x: (t: number) => number,
    y: number,
    w: number,
    put: (color: string, r: [number, number, number, number]) => void,
  ): void {
    const x0 = GUTTER;
    const cols = Math.max(1, Math.ceil(w - GUTTER));
    // Failures at the bottom of the stack, so even one is never hidden under the others.
    const order: Status[] = ["Failed", ...STATUSES.filter((x) => x !== "Failed")];
    const diff = order.map(() => new Float64Array(cols + 1));
    const failedAt: number[] = [];
    for (let i = 0; i < lane.members.length; i++) {
      const a = Math.floor(x(lane.starts[i] - this.t0) - x0);
      const b = Math.floor(x(lane.ends[i] - this.t0) - x0);
      if (b < 0 || a >= cols) continue;
      const ca = Math.max(0, a);
      const cb = Math.min(cols - 1, Math.max(b, a));
      const found = order.indexOf(lane.statuses[i]);
      const k = found < 0 ? order.length - 1 : found;
      diff[k][ca] += 1;
      diff[k][cb + 1] -= 1;
      if (k === 0) failedAt.push(ca);
    }
    const sums = diff.map((d) => {
      const out = new Float64Array(cols);
      let run = 0;
      for (let c = 0; c < cols; c++) out[c] = run += d[c];
      return out;
    });
    let peak = 1;
    for (let c = 0; c < cols; c++) peak = Math.max(peak, sums.reduce((n, col) => n + col[c], 0));
    const bandH = ROW_H - 4;
    const base = y + ROW_H - 2;
    for (let c = 0; c < cols; c++) {
      let top = base;
      for (let k = 0; k < order.length; k++) {
        const n = sums[k][c];
        if (!n) continue;
        // A single failure among thousands still shows: at least 3 px tall.
        const hh = Math.max(k === 0 ? 3 : 1, (n / peak) * bandH);
        top -= hh;
        put(STATUS_COLORS[order[k]], [x0 + c, top, 1, hh]);
      }
    }
    // And a full-height mark where a call failed, so a failure is seen in a wide band.
    for (const c of failedAt) put(STATUS_COLORS.Failed, [x0 + c - 0.5, y + 1, 2, ROW_H - 2]);
  }

  private gutter(ctx: CanvasRenderingContext2D, first: number, last: number, plotH: number): void {
    ctx.font = `${SMALL_FONT_PX}px system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    const fg = getComputedStyle(this.root).color || "#222";
    if (!this.rows.length) {
      ctx.fillStyle = fg;
      ctx.fillText(this.count ? "" : "no nodes yet", 4, 12);
      return;
    }
    for (let ri = first; ri < last; ri++) {
      const row = this.rows[ri];
      const y = this.scrollY + ri * ROW_H + ROW_H / 2;
      if (y < 0 || y > plotH) continue;
      const indent = "  ".repeat(Math.min(row.lane.depth, 6));
      let text: string;
      if (row.kind === "lane") text = `${indent}${row.open ? "▾" : "▸"} ${row.lane.name} ×${fmtInt(row.lane.members.length)}`;
      else if (row.lane.members.length === 1) text = `${indent}${row.lane.name}`;
      else text = `${indent}    ${argSummary(row.rec, 26)}`;
      ctx.fillStyle = fg;
      ctx.textAlign = "start";
      const failures = row.kind === "lane" && row.lane.failed ? `${fmtInt(row.lane.failed)} failed` : "";
      ctx.fillText(truncate(text, failures ? 22 : 32), 4, y);
      if (failures) {
        // Text in the page's colour beside a failed-colour bar: red text reads badly on dark themes.
        ctx.textAlign = "end";
        ctx.fillText(failures, GUTTER - 6, y);
        ctx.textAlign = "start";
        ctx.fillStyle = STATUS_COLORS.Failed;
        ctx.fillRect(GUTTER - 10 - ctx.measureText(failures).width, y - 6, 3, 12);
      }
    }
  }

  private rowAt(e: MouseEvent): { row: Row; mx: number } | null {
    const r = this.canvas.getBoundingClientRect();
    const mx = e.clientX - r.left;
    const my = e.clientY - r.top;
    const { plotH } = this.size();
    if (my > plotH || my < 0) return null;
    const row = this.rows[Math.floor((my - this.scrollY) / ROW_H)];
    return row ? { row, mx } : null;
  }

  private pick(e: MouseEvent): NodeRec | null {
    const at = this.rowAt(e);
    if (!at || at.mx < GUTTER || at.row.kind !== "bar") return null;
    const { lane, i, rec } = at.row;
    const x = this.xScale(this.size().w);
    const xa = x(lane.starts[i] - this.t0);
    const xb = Math.max(x(lane.ends[i] - this.t0), xa + 2);
    return at.mx >= xa - 4 && at.mx <= xb + 4 ? rec : null;
  }

  private click(e: MouseEvent): void {
    const at = this.rowAt(e);
    if (at && at.row.kind === "lane" && at.mx < GUTTER) {
      // Closing a lane the user opened hands it back to the zoom; otherwise the click decides.
      const name = at.row.lane.name;
      this.setLaneOpen(name, at.row.open && this.userOpen.get(name) ? null : !at.row.open);
      return;
    }
    const rec = this.pick(e);
    if (rec) this.opts.onSelect?.(rec.id);
  }

  private hover(e: MouseEvent): void {
    const at = this.rowAt(e);
    let lines: string[] | null = null;
    const rec = this.pick(e);
    if (rec) {
      const status = statusAt(rec, this.step);
      const end = finishedAt(rec, this.step);
      lines = [
        `${rec.name} (${rec.type})`,
        argSummary(rec, 60),
        `status: ${status}`,
        `start: +${fmtDuration(rec.createdTime - this.t0)}`,
        end === null ? "running" : `duration: ${durationText(rec, this.step)}`,
        `stamps: ${stampsAt(rec, this.step)
          .map((s) => s.step)
          .join(", ")}`,
      ];
    } else if (at && at.row.kind === "lane") {
      const lane = at.row.lane;
      const info = groupInfo(lane.name, lane.members, this.step);
      const t = this.t0 + this.xScale(this.size().w).invert(at.mx);
      let running = 0;
      for (let i = 0; i < lane.members.length; i++) if (lane.starts[i] <= t && lane.ends[i] >= t) running += 1;
      lines = [
        `${lane.name} ×${fmtInt(lane.members.length)}`,
        countsText(info.counts),
        `duration: min ${fmtDuration(info.min)} · median ${fmtDuration(info.median)} · max ${fmtDuration(info.max)}`,
        at.mx >= GUTTER ? `running at +${fmtDuration(t - this.t0)}: ${fmtInt(running)}` : "click to open or close",
      ];
    }
    if (!lines) {
      this.tip.style.display = "none";
      return;
    }
    this.tip.replaceChildren(...lines.map((l) => el("div", undefined, l)));
    const r = this.canvas.getBoundingClientRect();
    this.tip.style.display = "block";
    this.tip.style.left = `${Math.min(e.clientX - r.left + 12, r.width - 260)}px`;
    this.tip.style.top = `${e.clientY - r.top + 12}px`;
  }
}

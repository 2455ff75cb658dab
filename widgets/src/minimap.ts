// The overview of a graph larger than its view: every box as a dot of its
// status colour, the part on screen as a rectangle. Click or drag in it to
// move the view there. Shown only when the tree does not fit the view.

import { el } from "./util";

export interface MiniBox {
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
}

export interface MiniWorld {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const W = 180;
const H = 120;
const PAD = 4;
/** The tree may be this much larger than the view (each way) before the minimap shows. */
const SLACK = 1.3;

export class Minimap {
  readonly canvas: HTMLCanvasElement;
  private world: MiniWorld = { x0: 0, y0: 0, x1: 1, y1: 1 };
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private dragging = false;

  /** `onPan(x, y)`: centre the main view on world point (x, y). */
  constructor(
    parent: HTMLElement,
    private onPan: (x: number, y: number) => void,
  ) {
    this.canvas = el("canvas", "rt-minimap");
    this.canvas.title = "Overview: click or drag to move the view";
    this.canvas.style.display = "none";
    parent.appendChild(this.canvas);
    const toWorld = (e: PointerEvent) => {
      const r = this.canvas.getBoundingClientRect();
      return [(e.clientX - r.left - this.ox) / this.scale, (e.clientY - r.top - this.oy) / this.scale] as const;
    };
    // The graph's zoom behaviour must not see these events (it would pan too).
    this.canvas.addEventListener("pointerdown", (e) => {
      e.stopPropagation();
      e.preventDefault();
      this.dragging = true;
      this.canvas.setPointerCapture?.(e.pointerId);
      this.onPan(...toWorld(e));
    });
    this.canvas.addEventListener("pointermove", (e) => {
      if (!this.dragging) return;
      e.stopPropagation();
      this.onPan(...toWorld(e));
    });
    const stop = (e: PointerEvent) => {
      this.dragging = false;
      e.stopPropagation();
    };
    this.canvas.addEventListener("pointerup", stop);
    this.canvas.addEventListener("pointercancel", stop);
    for (const type of ["wheel", "mousedown", "dblclick", "click"]) {
      this.canvas.addEventListener(type, (e) => e.stopPropagation());
    }
  }

  get visible(): boolean {
    return this.canvas.style.display !== "none";
  }

  /**
   * Draw `boxes` in `world`, with `view` (the world rectangle on screen) outlined.
   * Hidden while the tree is at most a little larger than the view: panning a few
   * pixels needs no overview, and the minimap would cover part of a small tree.
   */
  draw(boxes: MiniBox[], world: MiniWorld, view: MiniWorld): void {
    const fits =
      world.x1 - world.x0 <= SLACK * (view.x1 - view.x0) && world.y1 - world.y0 <= SLACK * (view.y1 - view.y0);
    this.canvas.style.display = fits ? "none" : "";
    if (fits) return;
    this.world = world;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== W * dpr) {
      this.canvas.width = W * dpr;
      this.canvas.height = H * dpr;
      this.canvas.style.width = `${W}px`;
      this.canvas.style.height = `${H}px`;
    }
    const ww = Math.max(world.x1 - world.x0, 1);
    const wh = Math.max(world.y1 - world.y0, 1);
    this.scale = Math.min((W - 2 * PAD) / ww, (H - 2 * PAD) / wh);
    this.ox = PAD - world.x0 * this.scale + (W - 2 * PAD - ww * this.scale) / 2;
    this.oy = PAD - world.y0 * this.scale + (H - 2 * PAD - wh * this.scale) / 2;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const s = this.scale;
    const byColor = new Map<string, MiniBox[]>();
    for (const b of boxes) {
      const list = byColor.get(b.color);
      if (list) list.push(b);
      else byColor.set(b.color, [b]);
    }
    for (const [color, list] of byColor) {
      ctx.fillStyle = color;
      ctx.beginPath();
      for (const b of list) {
        ctx.rect(this.ox + b.x * s, this.oy + b.y * s, Math.max(1.5, b.w * s), Math.max(1.5, b.h * s));
      }
      ctx.fill();
    }
    ctx.strokeStyle = "#1f5fbf";
    ctx.lineWidth = 1.5;
    const vx = this.ox + view.x0 * s;
    const vy = this.oy + view.y0 * s;
    ctx.strokeRect(vx, vy, Math.max(3, (view.x1 - view.x0) * s), Math.max(3, (view.y1 - view.y0) * s));
  }
}

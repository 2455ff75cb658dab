// Small DOM helpers. Every piece of text coming from a session goes through
// `textContent` (never as markup), so node names, inputs and outputs are
// shown as characters and can never become markup.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A toolbar button (``type="button"``, so it never submits a surrounding form). */
export function button(cls: string, text: string, title: string, onClick?: () => unknown): HTMLButtonElement {
  const b = el("button", `rt-btn ${cls}`, text);
  b.type = "button";
  b.title = title;
  if (onClick) b.addEventListener("click", onClick);
  return b;
}

export const SVG_NS = "http://www.w3.org/2000/svg";

export function svgEl<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** A JSON value as readable text, cut at `limit` characters. */
export function pretty(value: unknown, limit = 4000): string {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value, null, 2) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length - limit} more characters)` : text;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds === 0) return "0";
  // Rounded first, so 0.000999999 s reads "1.0 ms", not "1000 µs".
  if (Math.abs(seconds) < 0.9995e-3) return `${(seconds * 1e6).toFixed(0)} µs`;
  if (seconds < 1) return `${(seconds * 1e3).toFixed(1)} ms`;
  if (seconds < 120) return `${seconds.toFixed(2)} s`;
  return `${Math.floor(seconds / 60)} min ${(seconds % 60).toFixed(0)} s`;
}

export function fmtTime(epochSeconds: number | null | undefined): string {
  if (epochSeconds === null || epochSeconds === undefined || !Number.isFinite(epochSeconds)) return "—";
  const d = new Date(epochSeconds * 1000);
  const ms = String(d.getMilliseconds()).padStart(3, "0");
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${ms}`;
}

export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}

/** Run `fn` at most once per animation frame, however often it is asked for. */
export function frameScheduler(fn: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    const run = () => {
      pending = false;
      fn();
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    else setTimeout(run, 16);
  };
}

/**
 * What keeps a view in step with its store and its size: `schedule()` redraws it at most
 * once a frame, and every change of the store schedules it; `onResize` calls `fn` when
 * `target` changes size; `release()` lets go of both (when the view is destroyed).
 */
export class Redrawing {
  readonly schedule: () => void;
  private readonly unsubscribe: () => void;
  private resizeObs: ResizeObserver | null = null;

  constructor(store: { subscribe(fn: () => void): () => void }, draw: () => void) {
    this.schedule = frameScheduler(draw);
    this.unsubscribe = store.subscribe(() => this.schedule());
  }

  /** Call `fn` whenever `target` is resized (where the browser has a ResizeObserver). */
  onResize(target: Element, fn: () => void): void {
    if (typeof ResizeObserver !== "function") return;
    this.resizeObs = new ResizeObserver(fn);
    this.resizeObs.observe(target);
  }

  release(): void {
    this.unsubscribe();
    this.resizeObs?.disconnect();
  }
}

export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = el("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file-name-safe stem from a session name. */
export function fileStem(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "");
  return cleaned.slice(0, 80) || "session";
}

/**
 * The 2D context of `canvas`, sized to `w`×`h` CSS pixels at the screen's pixel
 * ratio (resized only when that changed, which clears it) and cleared, with
 * drawing in CSS pixels. `null` if the browser gives no 2D context.
 */
export function clearedContext(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D | null {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

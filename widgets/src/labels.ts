// What a box says about its node, and what a search looks through: a short
// summary of the node's first arguments (so four `research` boxes can be told
// apart), its duration, and the text a search matches. Plain strings only:
// callers set them with textContent / SVG text / canvas fillText, never as markup.

import { finishedAt, type NodeRec, type Status, statusAt } from "./store";
import { fmtDuration, truncate } from "./util";

/** The smallest font drawn in a box or a row, in CSS pixels at scale 1. */
export const SMALL_FONT_PX = 11;
/** Text is never drawn smaller than this on screen: the view pans instead. */
export const MIN_LABEL_PX = 10;

/** The words shown for each outcome (the colour says it too; the word is for everyone). */
export const STATUS_WORDS: Record<Status, string> = {
  Open: "running",
  Completed: "done",
  Failed: "failed",
  Cancelled: "cancelled",
};

function short(value: unknown, max: number): string {
  if (typeof value === "string") return JSON.stringify(truncate(value, max));
  if (value === null || typeof value !== "object") return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return truncate(text, max);
}

const summaries = new WeakMap<NodeRec, string>();

/** `"alpha.example", 100` — the first arguments as one short line (cached per node). */
export function argSummary(rec: NodeRec, max = 40): string {
  const cached = summaries.get(rec);
  if (cached !== undefined) return cached;
  const parts: string[] = [];
  for (const a of rec.args.slice(0, 3)) parts.push(short(a, 24));
  for (const [k, v] of Object.entries(rec.kwargs ?? {}).slice(0, 3 - parts.length)) parts.push(`${k}=${short(v, 20)}`);
  const more = rec.args.length + Object.keys(rec.kwargs ?? {}).length > parts.length ? ", …" : "";
  const text = truncate(parts.join(", ") + more, max);
  summaries.set(rec, text);
  return text;
}

const haystacks = new WeakMap<NodeRec, string>();

/** Everything a search looks through for a node: its name and its whole inputs, lower-cased. */
export function searchText(rec: NodeRec): string {
  let text = haystacks.get(rec);
  if (text === undefined) {
    let inputs: string;
    try {
      inputs = JSON.stringify([rec.args, rec.kwargs]);
    } catch {
      inputs = String(rec.args);
    }
    text = `${rec.name}\n${inputs}`.toLowerCase();
    haystacks.set(rec, text);
  }
  return text;
}

/** Seconds the node took, or null while it runs at `step`. */
export function durationAt(rec: NodeRec, step: number | null): number | null {
  const end = finishedAt(rec, step);
  if (end === null) return null;
  return step === null && rec.latency !== null ? rec.latency : end - rec.createdTime;
}

/** "12.3 ms", or the status word while the node has not finished. */
export function durationText(rec: NodeRec, step: number | null): string {
  const d = durationAt(rec, step);
  return d === null ? STATUS_WORDS[statusAt(rec, step)] : fmtDuration(d);
}

// Text measured with the fonts the boxes use, so a cut label never runs into its neighbour.
let measurer: CanvasRenderingContext2D | null | undefined;
const fitted = new Map<string, string>();

/** The width of `text` in `font`, in px (an estimate where no canvas is available). */
export function measure(text: string, font: string): number {
  if (measurer === undefined) measurer = document.createElement("canvas").getContext("2d");
  if (!measurer) return text.length * 6.6;
  measurer.font = font;
  return measurer.measureText(text).width;
}

/** `text`, cut with "…" so it is at most `width` px wide in `font` (a CSS font shorthand). */
export function fitText(text: string, font: string, width: number): string {
  const key = `${font}|${width}|${text}`;
  const hit = fitted.get(key);
  if (hit !== undefined) return hit;
  if (measurer === undefined) measurer = document.createElement("canvas").getContext("2d");
  let out = text;
  if (measurer) {
    measurer.font = font;
    if (measurer.measureText(text).width > width) {
      // The longest prefix that fits with its ellipsis (binary search on the length).
      let lo = 0;
      let hi = text.length;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (measurer.measureText(`${text.slice(0, mid)}…`).width <= width) lo = mid;
        else hi = mid - 1;
      }
      out = `${text.slice(0, lo)}…`;
    }
  } else out = truncate(text, Math.floor(width / 6.6));
  if (fitted.size > 20_000) fitted.clear();
  fitted.set(key, out);
  return out;
}

// The graph's find bar: a search box (names, argument text, statuses) whose
// matches are highlighted, counted and visited one by one (each centred in
// the view), and the "failures only" filter.

import type { NodeRec, Store } from "./store";
import { findNodes, subtreeSums } from "./tree";
import { button, el, fmtInt } from "./util";

export interface FinderHost {
  store: Store;
  step(): number | null;
  failuresOnly(): boolean;
  setFailuresOnly(on: boolean): void;
  /** The set of matches changed: redraw. */
  changed(): void;
  /** Show this match: unfold and open what hides it, centre it, select it. */
  goTo(rec: NodeRec): void;
}

export class GraphFinder {
  readonly input: HTMLInputElement;
  private count: HTMLSpanElement;
  private failures: HTMLInputElement;
  private matches: NodeRec[] = [];
  private ids: Set<string> | null = null;
  private cursor = -1;
  private computedFor = "";
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    bar: HTMLElement,
    private host: FinderHost,
  ) {
    const box = el("span", "rt-find");
    this.input = el("input", "rt-search");
    this.input.type = "search";
    this.input.placeholder = "Find: name, argument, status";
    this.input.setAttribute("aria-label", "Find nodes by name, argument text or status");
    this.count = el("span", "rt-search-count rt-muted");
    const prev = button("rt-search-prev", "↑", "Previous match (Shift+Enter)", () => this.step(-1));
    const next = button("rt-search-next", "↓", "Next match (Enter)", () => this.step(1));
    const label = el("label", "rt-failures-box");
    this.failures = el("input", "rt-failures-only");
    this.failures.type = "checkbox";
    label.append(this.failures, el("span", undefined, " failures only"));
    label.title = "Show only failed nodes and the calls that lead to them";
    box.append(this.input, this.count, prev, next, label);
    bar.appendChild(box);

    this.input.addEventListener("input", () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(), 150);
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
        this.run();
      } else this.step(e.shiftKey ? -1 : 1);
    });
    this.failures.addEventListener("change", () => {
      this.host.setFailuresOnly(this.failures.checked);
      if (this.query) this.run();
    });
  }

  destroy(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  get query(): string {
    return this.input.value.trim();
  }

  /** The id of the match being visited, if any. */
  get currentId(): string | null {
    return this.cursor >= 0 ? (this.matches[this.cursor]?.id ?? null) : null;
  }

  get matchCount(): number {
    return this.matches.length;
  }

  /** The ids of every match (recomputed if the data, the step or the filter changed), or null. */
  matchIds(): Set<string> | null {
    if (!this.query) return null;
    if (this.computedFor !== this.signature()) this.compute();
    return this.ids;
  }

  /** Search for `query` and visit its first match; returns the number of matches. */
  search(query: string): number {
    this.input.value = query;
    this.run();
    return this.matches.length;
  }

  /** Turn the failures-only filter on or off. */
  setFailuresOnly(on: boolean): void {
    this.failures.checked = on;
    this.failures.dispatchEvent(new Event("change"));
  }

  /** Visit the next (+1) or previous (-1) match. */
  step(delta: number): void {
    if (!this.matches.length) return;
    this.cursor = (this.cursor + delta + this.matches.length) % this.matches.length;
    this.show();
  }

  private signature(): string {
    const s = this.host.store;
    return `${s.version}|${this.host.step()}|${this.host.failuresOnly()}|${this.query.toLowerCase()}`;
  }

  private compute(): void {
    const keep = this.currentId;
    const index = this.host.store.index();
    const step = this.host.step();
    let within: ((r: NodeRec) => boolean) | undefined;
    if (this.host.failuresOnly()) {
      const failed = subtreeSums(index, step, null).failed;
      within = (r) => (failed.get(r) ?? 0) > 0;
    }
    this.matches = findNodes(index, step, this.query, within);
    this.ids = this.query ? new Set(this.matches.map((r) => r.id)) : null;
    this.cursor = keep ? this.matches.findIndex((r) => r.id === keep) : -1;
    this.computedFor = this.signature();
    this.showCount();
  }

  private run(): void {
    this.timer = null;
    this.compute();
    this.cursor = this.matches.length ? 0 : -1;
    if (this.cursor >= 0) this.show();
    else {
      this.showCount();
      this.host.changed();
    }
  }

  private show(): void {
    this.showCount();
    this.host.goTo(this.matches[this.cursor]);
  }

  private showCount(): void {
    const n = this.matches.length;
    this.count.textContent = !this.query ? "" : n ? `${fmtInt(this.cursor + 1)} / ${fmtInt(n)}` : "no match";
    this.count.dataset.matches = String(n);
  }
}

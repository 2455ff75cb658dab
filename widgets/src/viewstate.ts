// What one mounted view shows besides the data: the replay step and the
// selected node, kept in step with the model's `step` and `selected` traits
// (a user's change is saved to the model; a change from Python is followed).

import type { VNode } from "./graph";
import type { HostModel } from "./model";

type Listener = () => void;

export class ViewState {
  /** The replay step shown (null: the latest). */
  step: number | null;
  /** The selected node's key (a node id, or a group box's key), and its box if known. */
  selected: string | null;
  selectedBox: VNode | null = null;
  private stepListeners = new Set<Listener>();
  private selectListeners = new Set<Listener>();
  private readonly onModelStep = () => this.setStep(this.model.get("step") ?? null, false);

  constructor(private readonly model: HostModel) {
    this.step = model.get("step") ?? null;
    this.selected = model.get("selected") ?? null;
    model.on("change:step", this.onModelStep);
  }

  /** Call `fn` after every change of step; returns its removal. */
  onStep(fn: Listener): () => void {
    this.stepListeners.add(fn);
    return () => this.stepListeners.delete(fn);
  }

  /** Call `fn` after every change of selection; returns its removal. */
  onSelect(fn: Listener): () => void {
    this.selectListeners.add(fn);
    return () => this.selectListeners.delete(fn);
  }

  /** Show step `step`; `fromUser`: the user chose it here, so the model learns it. */
  setStep(step: number | null, fromUser: boolean): void {
    this.step = step;
    for (const fn of this.stepListeners) fn();
    if (fromUser) {
      this.model.set("step", step);
      this.model.save_changes();
    }
  }

  /** Select `key` (null: nothing); the model learns it. */
  select(key: string | null, box: VNode | null = null): void {
    this.selected = key;
    this.selectedBox = box;
    for (const fn of this.selectListeners) fn();
    this.model.set("selected", key);
    this.model.save_changes();
  }

  destroy(): void {
    this.model.off("change:step", this.onModelStep);
    this.stepListeners.clear();
    this.selectListeners.clear();
  }
}

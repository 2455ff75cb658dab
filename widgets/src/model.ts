// The widget's model, typed against anywidget's own types: the traits of
// `_RTWidget` (railtracks_nb/notebook/widgets.py) as the front end receives them.

import type { AnyModel } from "@anywidget/types";
import type { AnyPayload } from "./payload";

export type ViewKind = "graph" | "timeline" | "state" | "dashboard";

/** The synced traits of `_RTWidget`, by name, as the front end sees their values. */
export interface WidgetTraits {
  /** Which view to draw. */
  view: ViewKind;
  /** The session: JSON bytes from the kernel (a DataView), or text or an object (the exported page). */
  data: DataView | ArrayBuffer | string | AnyPayload | null;
  /** The number of the last delta already folded into `data`. */
  payload_seq: number;
  /** The number of deltas the kernel sent (set when a live session closes). */
  seq: number;
  /** Whether deltas are still coming. */
  live: boolean;
  /** The widget's identity in the page (every view of it shares one store). */
  uid: string;
  height: number;
  /** The replay step shown (null: the latest). */
  step: number | null;
  /** The node id selected (null: none). */
  selected: string | null;
}

/** The widget's model as anywidget hands it to initialize() and render(). */
export type WidgetModel = AnyModel<WidgetTraits>;

type Used = "get" | "set" | "on" | "off" | "save_changes" | "send";

/** The part of a session view's model the widget uses: what the exported page's stand-in provides too. */
export type HostModel = Pick<WidgetModel, Used>;

/** The synced traits of `BatchDashboard` (railtracks_nb/notebook/batch.py), the `batch` view. */
export interface BatchTraits {
  view: "batch";
  uid: string;
  height: number;
  /** Counts, throughput, workers (a small dict). */
  summary: Record<string, unknown> | null;
  /** Every input's row: JSON bytes (a DataView) or text. */
  rows: DataView | ArrayBuffer | string | null;
  live: boolean;
  /** The input whose session is drawn below the table (null: none). */
  selected_input: number | null;
}

export type BatchModel = Pick<AnyModel<BatchTraits>, Used>;

/** What every model of this module has, whichever widget it is (its `view` tells). */
export interface CommonTraits {
  view: ViewKind | "batch";
  uid: string;
  live: boolean;
}

export type ModuleModel = Pick<AnyModel<CommonTraits>, Used>;

/**
 * The model as the widget its `view` trait names. anywidget's model type is
 * generic in its traits and cannot be narrowed on one of them; this is the
 * one place that does it, on the trait that decides.
 */
export function widgetModel(model: ModuleModel): { batch: BatchModel } | { session: HostModel } {
  return model.get("view") === "batch"
    ? { batch: model as unknown as BatchModel }
    : { session: model as unknown as HostModel };
}

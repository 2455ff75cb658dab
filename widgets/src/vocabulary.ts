// The words and colours every view uses: a session's lifecycle state (what it is
// doing now) and the outcome of a node or a session (how its work went) are two
// different things, labelled as such. This is the front end's copy of
// railtracks_nb/core/vocabulary.py; tests/core/test_vocabulary.py keeps the two identical.

export const LIFECYCLE_STATES = ["INIT", "READY", "BUSY", "IDLE", "ERROR"] as const;
export const NODE_OUTCOMES = ["open", "completed", "failed", "cancelled"] as const;
export const SESSION_OUTCOMES = ["no runs", "open", "completed", "failed", "interrupted"] as const;

export type Lifecycle = (typeof LIFECYCLE_STATES)[number];
export type Outcome = (typeof NODE_OUTCOMES)[number];
export type SessionOutcome = (typeof SESSION_OUTCOMES)[number];

export const LIFECYCLE_COLOURS: Record<string, string> = {
  INIT: "#c3cad4",
  READY: "#7fb3e6",
  BUSY: "#f5b83d",
  IDLE: "#c3cad4",
  ERROR: "#e06a66",
};

export const OUTCOME_COLOURS: Record<string, string> = {
  open: "#f5b83d",
  completed: "#3fa66a",
  failed: "#e06a66",
  cancelled: "#a98bd6",
  interrupted: "#a98bd6",
  "no runs": "#c3cad4",
};

export const NEUTRAL_COLOUR = "#8e9aab";
export const TEXT_ON_FILL = "#1d1d1d";
export const LIFECYCLE_LABEL = "lifecycle";
export const OUTCOME_LABEL = "outcome";

/** A node's outcome from its request's saved status and output (see node_outcome). */
export function nodeOutcome(status: unknown, output: unknown): Outcome {
  if (status === "Completed") return "completed";
  if (status === "Failed") {
    const type = output && typeof output === "object" ? (output as { type?: unknown }).type : undefined;
    return type === "CancelledError" ? "cancelled" : "failed";
  }
  return "open";
}

/** A session's outcome from its status extra and its number of runs (see session_outcome). */
export function sessionOutcome(status: unknown, runs: number): SessionOutcome {
  if (runs === 0) return "no runs";
  const word = String(status ?? "").toLowerCase();
  return (SESSION_OUTCOMES as readonly string[]).includes(word) ? (word as SessionOutcome) : "open";
}

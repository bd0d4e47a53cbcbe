/**
 * A machine's legal moves written down as data, beside the machine (`machines/OrderTransitions.ts`).
 * A test runs every (situation × event sample) pair through the machine with XState's pure
 * `transition()` and checks the answer against the rows; the audit visualizer and the diagrams
 * read the same data.
 *
 * Vocabulary:
 * - A *state* is a dotted path of a state the snapshot can be in (`"SENT_TO_BROKER.awaitingAck"`).
 * - A *sample* is a named example of one event type (`broker.filled` → `first`, `duplicate`,
 *   `completing`). Guarded events have one sample per guard outcome; `at` is stamped by whoever
 *   runs the table, as the runtime stamps it.
 * - A *situation* is a state reached with a particular context, named `"<state>"` or
 *   `"<state>#<variant>"` (`"SENT_TO_BROKER.unknown#lastLookup"`), with the events that reach it
 *   from the initial state. Every situation is reachable by construction, never hand-built.
 * - A *row* says where a sample takes a situation. A (situation, sample) pair with no row is
 *   refused: the machine returns the very same snapshot and declares nothing.
 */
import type { Json } from "./Json.js"

/** The fields of an event sample, without `type` (the key it is filed under) and `at`. */
export type EventSampleFields = { readonly [k: string]: Json }

/**
 * A reference to one sample: `"<type>:<sample>"`, or just `"<type>"` when the type has a single
 * sample.
 */
export type SampleRef = string

/** One legal move. */
export interface TransitionRow {
  /** A situation: a key of `reach`. */
  readonly from: string
  /** The event type. */
  readonly event: string
  /** The sample the row is about; absent when every sample of the event type moves alike. */
  readonly sample?: string
  /** The state the snapshot is in afterwards (the same state for an internal move). */
  readonly to: string
  /** The guard that decides the row, as named in the machine (`!hasLookupsLeft` for its failure). */
  readonly guard?: string
  /**
   * What the step declares for the runtime, in order, one string per non-null declaration:
   * `effect <name>`, `timer.arm <name>`, `timer.cancel <name>`, `spawn <actorType> <actorId>`,
   * `send <actorId> <eventType>`. Absent means nothing.
   */
  readonly declares?: ReadonlyArray<string>
  /** Why an odd row is right (a fill after a cancel is a real-world possibility, not an error). */
  readonly note?: string
}

/** The legal moves of one machine. */
export interface TransitionTable {
  /** The actor type the machine is registered under (`machines/Machines.ts`). */
  readonly machine: string
  /** The machine version the table describes. */
  readonly version: string
  /** The input the actor is created with when the table is run. */
  readonly input: Json
  /** Every state a snapshot can be in (atomic and final states), as dotted paths. */
  readonly states: ReadonlyArray<string>
  /** Event samples by event type, then by sample name. */
  readonly events: { readonly [eventType: string]: { readonly [sample: string]: EventSampleFields } }
  /** Situations: how each one is reached from the initial state. Every state has at least one. */
  readonly reach: { readonly [situation: string]: ReadonlyArray<SampleRef> }
  /** The legal moves. Any (situation, sample) pair not listed is refused. */
  readonly rows: ReadonlyArray<TransitionRow>
}

/** The state a situation is in: its name up to the `#` of a variant. */
export const stateOfSituation = (situation: string): string => situation.split("#")[0]!

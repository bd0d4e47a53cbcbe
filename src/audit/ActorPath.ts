/**
 * An actor's path through its chart: how often each state was entered, how often each transition
 * was taken, and the state and context after every journal row (the step control's data).
 *
 * Exact when the actor's journal replays on the machine running here (same version): the replay
 * reports the transitions XState took. Otherwise (another version) it is read off the journal's
 * from → to: the transition is the first candidate for that event whose source is active before
 * and whose target is active after, innermost source first; the context is known only at the end.
 */
import type { AnyStateMachine } from "xstate"
import type { StoredJournalRow } from "../store/ActorStore.js"
import { replaySteps } from "./AuditReplay.js"
import { activeNodes, type ChartDefinition, type ChartEdge } from "./ChartDefinition.js"
import type { PathOverlay } from "./ChartSvg.js"

/** The state after one journal row, and the context keys that row changed (refused rows change nothing). */
export interface PathStep {
  readonly seq: number
  /** The event of the journal row. */
  readonly event: string
  readonly state: string
  /** Keys of the transitions this row took (`transitionKey`), when the path is exact. */
  readonly transitions?: ReadonlyArray<string>
  /** Top-level context keys set by this row (all of them on the first row); absent when unknown. */
  readonly changes?: Record<string, unknown>
  readonly removed?: ReadonlyArray<string>
}

/** An actor's path: the chart overlay, the steps, and whether it is exact. */
export interface ActorPath {
  readonly overlay: PathOverlay
  readonly steps: ReadonlyArray<PathStep>
  readonly exact: boolean
  /** Why the path is not exact, when it is not. */
  readonly note: string | null
}

const diff = (before: Record<string, unknown> | null, after: Record<string, unknown>) => {
  const changes: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(after))
    if (before === null || JSON.stringify(before[k]) !== JSON.stringify(v)) changes[k] = v
  const removed = before === null ? [] : Object.keys(before).filter((k) => !(k in after))
  return removed.length > 0 ? { changes, removed } : { changes }
}

/** Counts entries: nodes active after a step that were not active before it. */
const countEntries = (def: ChartDefinition, states: ReadonlyArray<string>): Record<string, number> => {
  const visits: Record<string, number> = { [def.root.id]: states.length > 0 ? 1 : 0 }
  let before = new Set<string>()
  for (const s of states) {
    const now = new Set(activeNodes(def, s).map((n) => n.id))
    for (const id of now) if (!before.has(id)) visits[id] = (visits[id] ?? 0) + 1
    before = now
  }
  return visits
}

const currentOf = (def: ChartDefinition, state: string | undefined) =>
  state === undefined ? [] : activeNodes(def, state).map((n) => n.id)

/** The exact path, by replaying the journal on the machine. */
const replayedPath = (
  def: ChartDefinition,
  machine: AnyStateMachine,
  rows: ReadonlyArray<StoredJournalRow>,
): ActorPath => {
  const replayed = new Map(replaySteps(machine, rows).map((s) => [s.seq, s]))
  const taken: Record<string, number> = {}
  const steps: Array<PathStep> = []
  const entered: Array<string> = []
  let context: Record<string, unknown> | null = null
  let state = ""
  for (const row of rows) {
    const r = replayed.get(row.seq)
    if (!r || row.refused !== null) {
      steps.push({ seq: row.seq, event: row.event_type, state })
      continue
    }
    for (const t of r.transitions) taken[t] = (taken[t] ?? 0) + 1
    steps.push({
      seq: row.seq,
      event: row.event_type,
      state: r.state,
      transitions: r.transitions,
      ...diff(context, r.context),
    })
    context = r.context
    state = r.state
    entered.push(r.state)
  }
  return {
    overlay: { visits: countEntries(def, entered), taken, current: currentOf(def, state) },
    steps,
    exact: true,
    note: null,
  }
}

/** The transition a journal row most likely took, read off its from → to. */
export const matchTransition = (def: ChartDefinition, row: StoredJournalRow): ChartEdge | undefined => {
  if (row.from_state === null) return undefined
  const before = activeNodes(def, row.from_state)
  const after = new Set(activeNodes(def, row.to_state).map((n) => n.id))
  const depth = new Map(before.map((n, i) => [n.id, i]))
  return def.edges
    .filter((e) => e.event === row.event_type && depth.has(e.source))
    .filter((e) => (e.internal ? row.from_state === row.to_state : after.has(e.target)))
    .sort((a, b) => depth.get(b.source)! - depth.get(a.source)!)[0]
}

/** The path read off the journal's from → to states (another version's journal). */
const journalPath = (def: ChartDefinition, rows: ReadonlyArray<StoredJournalRow>, note: string): ActorPath => {
  const taken: Record<string, number> = {}
  const accepted = rows.filter((r) => r.refused === null)
  for (const row of accepted) {
    const e = matchTransition(def, row)
    if (e) taken[e.transition] = (taken[e.transition] ?? 0) + 1
  }
  const steps = rows.map((r) => ({ seq: r.seq, event: r.event_type, state: r.to_state }))
  const last = accepted[accepted.length - 1]?.to_state
  return {
    overlay: {
      visits: countEntries(
        def,
        accepted.map((r) => r.to_state),
      ),
      taken,
      current: currentOf(def, last),
    },
    steps,
    exact: false,
    note,
  }
}

/** The path of an actor with these journal rows on this chart; `machine` when its version runs here. */
export const actorPath = (
  def: ChartDefinition,
  rows: ReadonlyArray<StoredJournalRow>,
  machine: AnyStateMachine | null,
): ActorPath => {
  if (machine === null)
    return journalPath(def, rows, `journal of ${def.version}, replayed here only by its from → to states`)
  try {
    return replayedPath(def, machine, rows)
  } catch (e) {
    return journalPath(
      def,
      rows,
      `replay failed (${e instanceof Error ? e.message : String(e)}); path read off from → to`,
    )
  }
}

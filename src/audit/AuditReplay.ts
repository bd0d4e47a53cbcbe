/**
 * The audit's replay of one actor's journal: the same pure steps the runtime took, watched through
 * XState's microstep inspection, so that each journal row yields the snapshot it produced and the
 * exact transitions it took (eventless ones included, which the journal's from → to hides).
 *
 * Only a journal written by the machine version running here can be replayed; for another
 * version the audit falls back to the journal's from → to states (see `ActorPath.ts`).
 */
import { type AnyMachineSnapshot, type AnyStateMachine, type AnyStateNode, createActor } from "xstate"
import { stateKeyOf } from "../runtime/Step.js"
import type { StoredJournalRow } from "../store/ActorStore.js"
import { transitionKey } from "./ChartDefinition.js"

/** What one accepted journal row did, replayed. */
export interface ReplayedStep {
  readonly seq: number
  /** The state key after the step. */
  readonly state: string
  readonly context: Record<string, unknown>
  /** Keys of the transitions taken, in order (`transitionKey`). */
  readonly transitions: ReadonlyArray<string>
}

interface Microstep {
  readonly _transitions?: ReadonlyArray<{
    readonly source: AnyStateNode
    readonly eventType: string | null
    readonly guard?: unknown
  }>
}

/** An XState actor scope whose microsteps are reported to `onStep`. */
const inspectingScope = (machine: AnyStateMachine, onStep: (m: Microstep) => void) => {
  const self = createActor(machine, {
    inspect: (ev) => {
      if (ev.type === "@xstate.microstep") onStep(ev as unknown as Microstep)
    },
  })
  return {
    self,
    defer: () => {},
    id: "",
    logger: () => {},
    sessionId: "",
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: () => {},
  }
}

/** The key of a transition definition as XState hands it out in a microstep. */
const keyOf = (
  t: { readonly source: AnyStateNode; readonly eventType: string | null },
  raw: unknown,
): string | null => {
  const source = t.source
  if (t.eventType === null || t.eventType === "") {
    const i = ((source.always ?? []) as ReadonlyArray<unknown>).indexOf(raw)
    return i < 0 ? null : transitionKey(source.id, "always", i)
  }
  const list = (source.transitions.get(t.eventType) ?? []) as ReadonlyArray<unknown>
  const i = list.indexOf(raw)
  return i < 0 ? null : transitionKey(source.id, t.eventType, i)
}

/** Replays the accepted rows of a journal; one step per accepted row, creation included. */
export const replaySteps = (
  machine: AnyStateMachine,
  rows: ReadonlyArray<StoredJournalRow>,
): ReadonlyArray<ReplayedStep> => {
  let taken: Array<string> = []
  const scope = inspectingScope(machine, (m) => {
    for (const t of m._transitions ?? []) {
      const key = keyOf(t, t)
      if (key !== null) taken.push(key)
    }
  })
  const steps: Array<ReplayedStep> = []
  let snapshot: AnyMachineSnapshot | null = null
  for (const row of rows) {
    if (row.refused !== null) continue
    const event = JSON.parse(row.event) as { type: string; input?: unknown }
    taken = []
    if (row.seq === 0) snapshot = machine.getInitialSnapshot(scope as never, event.input as never) as AnyMachineSnapshot
    else if (snapshot) snapshot = machine.transition(snapshot, event as never, scope as never) as AnyMachineSnapshot
    else continue
    steps.push({
      seq: row.seq,
      state: stateKeyOf(snapshot.value),
      context: snapshot.context as Record<string, unknown>,
      transitions: taken,
    })
  }
  return steps
}

/**
 * XState's pure `transition()` / `initialTransition()`, without their per-call cost. XState builds
 * a throw-away inert actor for every call, and that actor computes the machine's initial snapshot
 * (context factory included) before the real step is taken; on the hot path that doubles the work.
 * Here one inert scope per machine is built once and reused: same logic, same snapshots, same
 * actions (test/runtime/PureTransition.test.ts checks it against XState's own functions).
 */
import { type AnyMachineSnapshot, type AnyStateMachine, createActor } from "xstate"

/** An action as the step returns it. */
export interface StepAction {
  readonly type: string
  readonly params?: unknown
}

interface Scope {
  actions: Array<StepAction>
  readonly scope: unknown
}

const scopes = new WeakMap<AnyStateMachine, Scope>()

const scopeOf = (machine: AnyStateMachine): Scope => {
  let s = scopes.get(machine)
  if (!s) {
    const self = createActor(machine)
    const holder: Scope = { actions: [], scope: undefined }
    ;(holder as { scope: unknown }).scope = {
      self,
      defer: () => {},
      id: "",
      logger: () => {},
      sessionId: "",
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: (action: StepAction) => holder.actions.push(action),
    }
    scopes.set(machine, holder)
    s = holder
  }
  s.actions = []
  return s
}

/** The next snapshot and the actions to execute, as `xstate`'s `transition()` returns them. */
export const pureTransition = (
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: { readonly type: string; readonly [k: string]: unknown },
): [AnyMachineSnapshot, ReadonlyArray<StepAction>] => {
  const s = scopeOf(machine)
  const next = machine.transition(snapshot, event as never, s.scope as never) as AnyMachineSnapshot
  return [next, s.actions]
}

/** The initial snapshot and its actions, as `xstate`'s `initialTransition()` returns them. */
export const pureInitialTransition = (
  machine: AnyStateMachine,
  input: unknown,
): [AnyMachineSnapshot, ReadonlyArray<StepAction>] => {
  const s = scopeOf(machine)
  const next = machine.getInitialSnapshot(s.scope as never, input as never) as AnyMachineSnapshot
  return [next, s.actions]
}

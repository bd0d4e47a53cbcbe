/**
 * The side effects a machine may declare. Machines are pure: an action whose params are a
 * `Declared` value does nothing when the machine runs; the durable runtime collects it from
 * XState's pure `transition()`, commits it with the step (outbox row, timer row, spawned or
 * messaged actor) and acts on it only after the commit.
 */
import type { Json } from "./Json.js"

/** An external effect (a broker call), run after commit, idempotent by `key`. */
export interface DeclaredEffect {
  readonly kind: "effect"
  /** Name of the effect handler, e.g. `broker.place`. */
  readonly effect: string
  /** Idempotency key: a second run for the same key is looked up, never repeated blindly. */
  readonly key: string
  readonly payload: Json
}

/** Arm a durable timer: `timer.<name>` is delivered to this actor `delayMs` after the step. */
export interface DeclaredTimerArm {
  readonly kind: "timer.arm"
  readonly name: string
  readonly delayMs: number
}

/** Disarm a durable timer of this actor (no-op when it is not armed). */
export interface DeclaredTimerCancel {
  readonly kind: "timer.cancel"
  readonly name: string
}

/** Create another actor in the same commit. */
export interface DeclaredSpawn {
  readonly kind: "spawn"
  readonly actorType: string
  readonly actorId: string
  readonly input: Json
}

/** Deliver an event to another actor in the same commit. */
export interface DeclaredSend {
  readonly kind: "send"
  readonly to: string
  readonly event: { readonly type: string } & { readonly [k: string]: Json }
}

/** Everything a machine may ask of the runtime. */
export type Declared = DeclaredEffect | DeclaredTimerArm | DeclaredTimerCancel | DeclaredSpawn | DeclaredSend

const kinds = new Set(["effect", "timer.arm", "timer.cancel", "spawn", "send"])

/** True when an action's params are a declaration for the runtime. */
export const isDeclared = (params: unknown): params is Declared =>
  typeof params === "object" && params !== null && kinds.has((params as { kind?: unknown }).kind as string)

/** Builders for declarations, used in machines' action params. */
export const declare = {
  effect: (effect: string, key: string, payload: Json): DeclaredEffect => ({ kind: "effect", effect, key, payload }),
  armTimer: (name: string, delayMs: number): DeclaredTimerArm => ({ kind: "timer.arm", name, delayMs }),
  cancelTimer: (name: string): DeclaredTimerCancel => ({ kind: "timer.cancel", name }),
  spawn: (actorType: string, actorId: string, input: Json): DeclaredSpawn => ({
    kind: "spawn",
    actorType,
    actorId,
    input,
  }),
  send: (to: string, event: DeclaredSend["event"]): DeclaredSend => ({ kind: "send", to, event }),
} as const

/**
 * The implementation every declared action has inside a machine: nothing. The runtime reads the
 * action's params from `transition()`'s result; running the machine never performs I/O. Params of
 * `null` mean "nothing this time" (a notice to a parent the actor does not have).
 */
export const declared = (_args: unknown, _params: Declared | null): void => {}

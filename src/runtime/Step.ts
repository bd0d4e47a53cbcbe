/**
 * One event to one actor, computed: XState's pure transition (`pureTransition`) on the actor's snapshot, and
 * every row the step must commit (journal, snapshot, outbox, timers) and every actor it creates
 * or messages in the same commit. Nothing here performs I/O; the runtime commits the result and
 * only then acts on it.
 */
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode } from "xstate"
import { type ActorType, machines } from "../../machines/Machines.js"
import { isDeclared } from "../domain/Declared.js"
import type { Json } from "../domain/Json.js"
import { pureInitialTransition, pureTransition } from "./PureTransition.js"

/** An actor as the runtime holds it: its persisted snapshot, and the resolved one while hot. */
export interface Cell {
  readonly id: string
  readonly type: ActorType
  readonly version: string
  /** Seq of the last journal row (accepted or refused). */
  readonly seq: number
  readonly stateKey: string
  readonly status: "active" | "done"
  /** The persisted snapshot as stored. */
  readonly json: string
  readonly createdAt: number
  readonly updatedAt: number
  /** The resolved snapshot, kept for hot actors only (see `hotActorsMax`). */
  snapshot: AnyMachineSnapshot | null
}

/** An event offered to an actor, or a creation, with what caused it. */
export interface Envelope {
  readonly actorId: string
  readonly event: { readonly type: string; readonly [k: string]: unknown } | null
  readonly cause: string | null
  /** Creates the actor instead of sending it an event. */
  readonly create?: { readonly actorType: ActorType; readonly input: Json }
  /** The outbox row whose outcome this envelope carries; marked done in the same commit. */
  readonly outboxId?: number
  readonly outboxResult?: string
  /** The durable timer this event fires; a stale timer (re-armed or cancelled since) is dropped. */
  readonly timer?: { readonly name: string; readonly armedSeq: number }
  /** Archives the actor if it is still in a terminal state and unchanged since `quietSince`. */
  readonly archive?: { readonly quietSince: number }
}

/** A journal row. */
export interface JournalRow {
  /** 0 until the commit that writes it numbers it (in commit order, across actors). */
  id: number
  readonly actorId: string
  readonly actorType: ActorType
  readonly seq: number
  readonly eventType: string
  readonly event: string
  readonly from: string | null
  readonly to: string
  readonly at: number
  readonly cause: string | null
  readonly refused: string | null
}

/** A declared effect, as committed to the outbox. */
export interface OutboxRow {
  id: number
  readonly actorId: string
  readonly seq: number
  readonly effect: string
  readonly key: string
  readonly payload: string
  readonly createdAt: number
}

/** A change to the durable timers. */
export type TimerOp =
  | {
      readonly op: "arm"
      readonly actorId: string
      readonly name: string
      readonly dueAt: number
      readonly armedSeq: number
    }
  | { readonly op: "clear"; readonly actorId: string; readonly name: string }

/** A step that could not be taken: journaled as refused with this reason. */
export class Refusal {
  constructor(readonly reason: string) {}
}

/** Everything one unit of work (an envelope and what it cascades into) writes. */
export interface UnitWrites {
  readonly journal: Array<JournalRow>
  readonly cells: Map<string, Cell>
  readonly outbox: Array<OutboxRow>
  readonly timers: Array<TimerOp>
  readonly outboxDone: Array<{ readonly id: number; readonly result: string | null }>
}

export const emptyWrites = (): UnitWrites => ({ journal: [], cells: new Map(), outbox: [], timers: [], outboxDone: [] })

/** The machine of an actor type. */
export const machineOf = (type: ActorType): AnyStateMachine => machines[type] as unknown as AnyStateMachine

/** The version of an actor type's machine. */
export const versionOf = (type: ActorType): string => String(machineOf(type).version ?? "0")

/** A state value as one string: `SENT_TO_BROKER.awaitingAck`; parallel regions joined by `|`. */
export const stateKeyOf = (value: unknown): string => {
  if (typeof value === "string") return value
  if (value && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => {
        const inner = stateKeyOf(v)
        return inner === "" ? k : `${k}.${inner}`
      })
      .join("|")
  }
  return ""
}

const terminalKeys = new Map<ActorType, ReadonlySet<string>>()

/**
 * Whether an actor's state is tagged `terminal` (itself or a parent): ended in meaning, though
 * XState may not call it final (a cancelled order still takes a late fill; a dark intent never
 * changes again).
 */
export const isTerminal = (type: ActorType, stateKey: string): boolean => {
  let keys = terminalKeys.get(type)
  if (!keys) {
    const found = new Set<string>()
    const walk = (node: AnyStateNode, tagged: boolean) => {
      const here = tagged || node.tags.includes("terminal")
      const children = Object.values(node.states)
      if (children.length === 0 && here) found.add(node.path.join("."))
      for (const child of children) walk(child, here)
    }
    walk(machineOf(type).root, false)
    keys = found
    terminalKeys.set(type, keys)
  }
  return keys.has(stateKey)
}

/**
 * Archives an actor that has been terminal and quiet long enough: it stops being live (not
 * rehydrated, not held in memory; events to it are refused as to a final actor) and its journal
 * says so. The snapshot is unchanged, so replay still rebuilds it.
 */
export const archive = (ctx: StepContext, env: Envelope, at: number, out: UnitWrites): void => {
  const cell = ctx.cell(env.actorId)
  if (cell?.status !== "active" || !isTerminal(cell.type, cell.stateKey)) return
  if (cell.updatedAt > env.archive!.quietSince) return
  const seq = cell.seq + 1
  out.cells.set(cell.id, { ...cell, seq, status: "done", updatedAt: at, snapshot: null })
  out.journal.push(journalRow(cell, seq, { type: "runtime.archived", at }, cell.stateKey, env.cause, null))
}

/** The resolved snapshot of a cell, from cache or from its JSON. */
export const resolveCell = (cell: Cell): AnyMachineSnapshot => {
  if (cell.snapshot) return cell.snapshot
  const persisted = JSON.parse(cell.json) as { value: unknown; context: unknown }
  const snap = machineOf(cell.type).resolveState({
    value: persisted.value as never,
    context: persisted.context as never,
  })
  cell.snapshot = snap
  return snap
}

/** The persisted form of a snapshot, as JSON text. */
export const persist = (_type: ActorType, snapshot: AnyMachineSnapshot): string =>
  // Warden's machines have no children and no history states (test/machines/MachineStyle.test.ts),
  // and a snapshot is restored with `resolveState({ value, context })`: status, value and context are
  // the whole of it. (XState's getPersistedSnapshot walks the context for actor refs on every step.)
  JSON.stringify({ status: snapshot.status, value: snapshot.value, context: snapshot.context })

/** Why an event was not accepted: no transition for it here, or every guard said no. */
export const refusalReason = (snapshot: AnyMachineSnapshot, eventType: string): string => {
  const state = stateKeyOf(snapshot.value)
  const guards: Array<string> = []
  const nodes =
    (snapshot as unknown as { _nodes?: ReadonlyArray<{ on?: Record<string, ReadonlyArray<{ guard?: unknown }>> }> })
      ._nodes ?? []
  for (const node of nodes) {
    for (const t of node.on?.[eventType] ?? []) {
      const g = t.guard
      guards.push(
        typeof g === "string"
          ? g
          : g && typeof g === "object" && "type" in g
            ? String((g as { type: unknown }).type)
            : "guard",
      )
    }
  }
  return guards.length > 0
    ? `${eventType} refused in ${state}: guard ${[...new Set(guards)].join(", ")} not met`
    : `${eventType} is not accepted in ${state}`
}

/** What a step produced, besides its rows. */
export interface StepEffects {
  /** Events for other actors, processed in the same commit after this step. */
  readonly sends: Array<Envelope>
}

/**
 * Applies the declared actions of a step: outbox rows, timers, spawns (created now, in this
 * unit) and sends (queued for this unit). Throws `Refusal` when a declaration cannot be honoured.
 */
const applyActions = (
  ctx: StepContext,
  actorId: string,
  seq: number,
  at: number,
  actions: ReadonlyArray<{ type: string; params?: unknown }>,
  out: UnitWrites,
  effects: StepEffects,
): void => {
  for (const action of actions) {
    const p = action.params
    if (!isDeclared(p)) {
      if (p === null || p === undefined || action.type.startsWith("xstate.")) continue
      throw new Refusal(`defect: action ${action.type} is not a declared effect`)
    }
    switch (p.kind) {
      case "effect":
        if (!ctx.hasEffect(p.effect)) throw new Refusal(`no handler for effect ${p.effect}`)
        out.outbox.push({
          id: 0,
          actorId,
          seq,
          effect: p.effect,
          key: p.key,
          payload: JSON.stringify(p.payload),
          createdAt: at,
        })
        break
      case "timer.arm":
        out.timers.push({ op: "arm", actorId, name: p.name, dueAt: at + p.delayMs, armedSeq: seq })
        break
      case "timer.cancel":
        out.timers.push({ op: "clear", actorId, name: p.name })
        break
      case "spawn":
        if (!(p.actorType in machines)) throw new Refusal(`cannot spawn unknown actor type ${p.actorType}`)
        create(
          ctx,
          {
            actorId: p.actorId,
            event: null,
            cause: `${actorId}#${seq}`,
            create: { actorType: p.actorType as ActorType, input: p.input },
          },
          at,
          out,
          effects,
        )
        break
      case "send":
        effects.sends.push({ actorId: p.to, event: p.event, cause: `${actorId}#${seq}` })
        break
    }
  }
}

/** What a step needs from its surroundings. */
export interface StepContext {
  /** The actor's current cell: this unit's writes first, then memory, then the store. */
  readonly cell: (id: string) => Cell | undefined
  readonly hasEffect: (name: string) => boolean
}

/** Creates an actor: its initial snapshot, journal row seq 0 and its entry actions. */
export const create = (ctx: StepContext, env: Envelope, at: number, out: UnitWrites, effects: StepEffects): void => {
  const spec = env.create!
  if (ctx.cell(env.actorId)) throw new Refusal(`actor ${env.actorId} already exists`)
  const machine = machineOf(spec.actorType)
  let snapshot: AnyMachineSnapshot
  let actions: ReadonlyArray<{ type: string; params?: unknown }>
  try {
    ;[snapshot, actions] = pureInitialTransition(machine, spec.input as never) as unknown as [
      AnyMachineSnapshot,
      typeof actions,
    ]
  } catch (e) {
    throw new Refusal(`invalid input for ${spec.actorType}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const stateKey = stateKeyOf(snapshot.value)
  const cell: Cell = {
    id: env.actorId,
    type: spec.actorType,
    version: versionOf(spec.actorType),
    seq: 0,
    stateKey,
    status: snapshot.status === "done" ? "done" : "active",
    json: persist(spec.actorType, snapshot),
    createdAt: at,
    updatedAt: at,
    snapshot,
  }
  out.cells.set(env.actorId, cell)
  out.journal.push({
    id: 0,
    actorId: env.actorId,
    actorType: spec.actorType,
    seq: 0,
    eventType: "xstate.init",
    event: JSON.stringify({ type: "xstate.init", input: spec.input, at }),
    from: null,
    to: stateKey,
    at,
    cause: env.cause,
    refused: null,
  })
  applyActions(ctx, env.actorId, 0, at, actions, out, effects)
}

/**
 * Offers one event to one actor. Accepted: a new cell, a journal row and the step's declared
 * actions. Not accepted: a journal row with the reason, and nothing else changes.
 */
export const step = (ctx: StepContext, env: Envelope, at: number, out: UnitWrites, effects: StepEffects): void => {
  const cell = ctx.cell(env.actorId)
  if (!cell) throw new Refusal(`no actor ${env.actorId}`)
  const event = { ...env.event!, at }
  const seq = cell.seq + 1
  const refuse = (reason: string) => {
    out.cells.set(cell.id, { ...cell, seq, snapshot: cell.snapshot })
    out.journal.push(journalRow(cell, seq, event, cell.stateKey, env.cause, reason))
  }
  if (cell.status === "done") {
    refuse(`actor is in final state ${cell.stateKey}`)
    return
  }
  const before = resolveCell(cell)
  const [after, actions] = pureTransition(machineOf(cell.type), before, event as never) as unknown as [
    AnyMachineSnapshot,
    ReadonlyArray<{ type: string; params?: unknown }>,
  ]
  // XState returns the very same snapshot when no transition is enabled, but also when an
  // enabled one changes nothing; only the first is a refusal.
  if (after === before && actions.length === 0 && !before.can(event as never)) {
    refuse(refusalReason(before, event.type))
    return
  }
  const stateKey = stateKeyOf(after.value)
  out.cells.set(cell.id, {
    id: cell.id,
    type: cell.type,
    version: cell.version,
    seq,
    stateKey,
    status: after.status === "done" ? "done" : "active",
    json: persist(cell.type, after),
    createdAt: cell.createdAt,
    updatedAt: at,
    snapshot: after,
  })
  out.journal.push(journalRow(cell, seq, event, stateKey, env.cause, null))
  applyActions(ctx, cell.id, seq, at, actions, out, effects)
}

const journalRow = (
  cell: Cell,
  seq: number,
  event: { type: string; at: number },
  to: string,
  cause: string | null,
  refused: string | null,
): JournalRow => ({
  id: 0,
  actorId: cell.id,
  actorType: cell.type,
  seq,
  eventType: event.type,
  event: JSON.stringify(event),
  from: cell.stateKey,
  to,
  at: event.at,
  cause,
  refused,
})

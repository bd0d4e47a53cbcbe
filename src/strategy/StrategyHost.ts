/**
 * The strategy host: loads the configured strategies and runs each in its own fibers, one for its
 * ticks (its own sliding subscription: a slow strategy loses old ticks, never holds up the feed)
 * and one for the committed transitions of its orders. A strategy's only way to the broker is
 * `ctx.submit`, which goes through `OrderEntry` with source `strategy` and a command id prefixed
 * by its name (so its orders are found again after a restart).
 *
 * Isolation: a strategy that fails to load is reported and skipped; one whose callback throws,
 * rejects or overruns `callbackTimeoutMs` is FAULTED: its entries (and adjustments) are refused
 * from then on, logged and counted, while its exits still go through and it still gets its ticks
 * and events. Nothing a strategy does stops another strategy, another account or the exits.
 * Limitation: a synchronous endless loop in a strategy blocks the process (no worker isolation).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Cause, Clock, Context, Effect, Either, Layer, Metric, Queue, Runtime, Schema } from "effect"
import { type CommandOutcome, UniversalOrderCommand } from "../domain/Commands.js"
import { TickHub } from "../market/TickHub.js"
import { OrderEntry } from "../orders/OrderEntry.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { Ids } from "../runtime/Ids.js"
import type { Callback, Strategy, StrategyCommand, StrategyContext } from "./Strategy.js"
import { loadStrategyModule } from "./StrategyLoader.js"

/** One configured strategy: a module path (or, embedded, the strategy itself), its account and parameters. */
export interface StrategySpec {
  readonly module?: string
  readonly strategy?: Strategy
  readonly accountId: string
  readonly params?: Readonly<Record<string, unknown>>
}

/** One strategy in a configuration file: `{ "module": "strategies/Mine.ts", "accountId": "PAPER1", "params": {…} }`. */
export const StrategyConfigSchema = Schema.Struct({
  module: Schema.String.pipe(Schema.minLength(1)),
  accountId: Schema.String.pipe(Schema.minLength(1)),
  params: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
})

/** The host's configuration. */
export interface StrategyHostOptions {
  readonly strategies: ReadonlyArray<StrategySpec>
  /** Longest a callback may run before the strategy is faulted, in ms. */
  readonly callbackTimeoutMs: number
  /** Failures after the first are logged at most once per this many ms (all are counted). */
  readonly faultLogIntervalMs: number
}

/** No strategies; one-second callbacks. */
export const defaultStrategyHostOptions: StrategyHostOptions = {
  strategies: [],
  callbackTimeoutMs: 1_000,
  faultLogIntervalMs: 60_000,
}

/** How a strategy is doing. */
export interface StrategyStatus {
  readonly name: string
  readonly accountId: string
  readonly state: "RUNNING" | "FAULTED" | "LOAD_FAILED"
  readonly error: string | null
  readonly failures: number
  readonly entriesRefused: number
}

/** Strategy callbacks that failed (tags `strategy`, `phase`). */
export const strategyFailures = Metric.counter("warden_strategy_failures_total", {
  description: "strategy loads and callbacks that failed",
})
/** Entries of faulted strategies refused (tag `strategy`). */
export const strategyEntriesRefused = Metric.counter("warden_strategy_entries_refused_total", {
  description: "entries refused because their strategy is faulted",
})

type Slot = {
  -readonly [K in keyof StrategyStatus]: StrategyStatus[K]
} & { loggedAt: number; readonly owned: Set<string> }

const refused = (commandId: string, reason: string): CommandOutcome => ({
  commandId,
  status: "REFUSED",
  orderId: null,
  tradeId: null,
  reason,
  duplicate: false,
})

const messageOf = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return e instanceof Error ? e.message : String(e)
}

/** The running strategies. */
export class StrategyHost extends Context.Tag("warden/StrategyHost")<
  StrategyHost,
  {
    /** Every configured strategy's state. */
    readonly status: Effect.Effect<ReadonlyArray<StrategyStatus>>
  }
>() {
  /** Loads and runs these strategies for the life of the layer. */
  static readonly layer = (options: Partial<StrategyHostOptions> = {}) =>
    Layer.scoped(StrategyHost, make({ ...defaultStrategyHostOptions, ...options }))
}

/** Builds the host: loads every strategy and forks its fibers in the layer's scope. */
export const make = (options: StrategyHostOptions) =>
  Effect.gen(function* () {
    const entry = yield* OrderEntry
    const hub = yield* TickHub
    const rt = yield* ActorRuntime
    const ids = yield* Ids
    const sql = yield* SqlClient.SqlClient
    const runtime = yield* Effect.runtime<never>()
    const slots: Array<Slot> = []

    const fault = (slot: Slot, phase: string, cause: Cause.Cause<unknown>) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const first = slot.failures === 0
        slot.failures++
        if (slot.state !== "LOAD_FAILED") slot.state = "FAULTED"
        slot.error ??= `${phase}: ${messageOf(cause)}`
        yield* Metric.increment(Metric.tagged(Metric.tagged(strategyFailures, "strategy", slot.name), "phase", phase))
        if (!first && now - slot.loggedAt < options.faultLogIntervalMs) return
        slot.loggedAt = now
        yield* Effect.logError(
          first
            ? `strategy ${slot.name} failed in ${phase}: its entries stop, its exits go on`
            : `strategy ${slot.name} failed again in ${phase} (${slot.failures} failures)`,
          cause,
        )
      }).pipe(Effect.annotateLogs({ strategy: slot.name }))

    /** Runs one callback, bounded in time; a throw, rejection or overrun faults the strategy. */
    const call = (slot: Slot, phase: string, callback: () => Callback) =>
      Effect.tryPromise({ try: () => Promise.resolve().then(callback), catch: (e) => e }).pipe(
        Effect.timeoutFail({
          duration: options.callbackTimeoutMs,
          onTimeout: () => new Error(`${phase} ran longer than ${options.callbackTimeoutMs} ms`),
        }),
        Effect.catchAllCause((cause) => fault(slot, phase, cause)),
      )

    const submitOf = (slot: Slot, spec: StrategySpec) => (command: StrategyCommand) =>
      Effect.gen(function* () {
        const commandId = `${slot.name}:${command.commandId ?? (yield* ids.next("cmd"))}`
        const accountId = command.accountId ?? spec.accountId
        if (accountId !== spec.accountId)
          return refused(commandId, `ACCOUNT: strategy ${slot.name} trades only account ${spec.accountId}`)
        const decoded = Schema.decodeUnknownEither(UniversalOrderCommand)(
          { ...command, commandId, accountId, source: "strategy" },
          { onExcessProperty: "error" },
        )
        if (Either.isLeft(decoded)) return refused(commandId, `INVALID: ${decoded.left.message}`)
        const c = decoded.right
        if (slot.state !== "RUNNING" && c.executionType !== "EXIT") {
          slot.entriesRefused++
          yield* Metric.increment(Metric.tagged(strategyEntriesRefused, "strategy", slot.name))
          yield* Effect.logWarning(`strategy ${slot.name} is faulted: ${c.executionType} ${c.commandId} refused`)
          return refused(commandId, `STRATEGY_FAULTED: ${slot.name} stopped taking entries after: ${slot.error}`)
        }
        const outcome = yield* entry
          .submit(c)
          .pipe(
            Effect.catchTag("CommandRefused", (r) =>
              Effect.succeed(refused(commandId, `INVALID: ${r.field}: ${r.message}`)),
            ),
          )
        if (outcome.orderId !== null) slot.owned.add(outcome.orderId)
        return outcome
      })

    const contextOf = (slot: Slot, spec: StrategySpec): StrategyContext => ({
      name: slot.name,
      accountId: spec.accountId,
      params: spec.params ?? {},
      submit: (command) => Runtime.runPromise(runtime)(submitOf(slot, spec)(command)),
      last: (symbol) => hub.last(symbol),
      now: () => Runtime.runSync(runtime)(Clock.currentTimeMillis),
      log: (message) =>
        Runtime.runSync(runtime)(Effect.logInfo(message).pipe(Effect.annotateLogs({ strategy: slot.name }))),
    })

    /** The strategy's orders from earlier runs: those of its (prefixed) commands. */
    const ownedBefore = (name: string) =>
      Effect.map(
        Effect.orDie(sql<{ order_id: string }>`
          SELECT order_id FROM commands WHERE order_id IS NOT NULL
          AND substr(command_id, 1, ${name.length + 1}) = ${`${name}:`}`),
        (rows) => rows.map((r) => r.order_id),
      )

    const run = (slot: Slot, strategy: Strategy, ctx: StrategyContext) =>
      Effect.gen(function* () {
        const { onStart, onTick, onOrderEvent } = strategy
        if (onTick) {
          const ticks = yield* hub.subscribe
          yield* Effect.forkScoped(
            Effect.forever(Effect.flatMap(Queue.take(ticks), (t) => call(slot, "onTick", () => onTick(t, ctx)))),
          )
        }
        if (onOrderEvent) {
          const transitions = yield* rt.subscribe
          yield* Effect.forkScoped(
            Effect.forever(
              Effect.flatMap(Queue.take(transitions), (t) => {
                if (t.actorType !== "order") return Effect.void
                // Known from its creation (caused by one of the strategy's commands), before any fill.
                if (t.cause?.startsWith(`command:${slot.name}:`)) slot.owned.add(t.actorId)
                return slot.owned.has(t.actorId) ? call(slot, "onOrderEvent", () => onOrderEvent(t, ctx)) : Effect.void
              }),
            ),
          )
        }
        if (onStart) yield* Effect.forkScoped(call(slot, "onStart", () => onStart(ctx)))
      })

    const start = (spec: StrategySpec) =>
      Effect.gen(function* () {
        const slot: Slot = {
          name: spec.strategy?.name ?? spec.module ?? "(unnamed)",
          accountId: spec.accountId,
          state: "RUNNING",
          error: null,
          failures: 0,
          entriesRefused: 0,
          loggedAt: 0,
          owned: new Set(),
        }
        slots.push(slot)
        const loaded = yield* Effect.either(
          spec.strategy ? Effect.succeed(spec.strategy) : loadStrategyModule(spec.module ?? ""),
        )
        if (Either.isLeft(loaded)) {
          slot.state = "LOAD_FAILED"
          return yield* fault(slot, "load", Cause.fail(loaded.left))
        }
        const strategy = loaded.right
        slot.name = strategy.name
        if (slots.some((s) => s !== slot && s.name === slot.name && s.state !== "LOAD_FAILED")) {
          slot.state = "LOAD_FAILED"
          return yield* fault(slot, "load", Cause.fail(new Error(`a strategy named ${slot.name} is already loaded`)))
        }
        for (const id of yield* ownedBefore(slot.name)) slot.owned.add(id)
        yield* run(slot, strategy, contextOf(slot, spec))
        yield* Effect.logInfo(`strategy ${slot.name} started on account ${spec.accountId}`)
      })

    yield* Effect.forEach(options.strategies, start, { discard: true })
    return {
      status: Effect.sync(
        (): ReadonlyArray<StrategyStatus> =>
          slots.map(({ name, accountId, state, error, failures, entriesRefused }) => ({
            name,
            accountId,
            state,
            error,
            failures,
            entriesRefused,
          })),
      ),
    }
  })

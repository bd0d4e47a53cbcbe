/**
 * A scenario's steps, each run against the engine the harness holds: entries through
 * `OrderEntry`, exits through `ExitService.requestExit`, webhook bodies through the webhook's
 * decision path, forced unwind through `ForcedUnwind`, limits in the risk configuration, and the
 * harness's own faults (feed down, broker down, crash).
 */
import { Clock, Effect, Either } from "effect"
import type { ExitReason } from "../domain/Trading.js"
import { ExitService } from "../exits/ExitService.js"
import { OrderEntry } from "../orders/OrderEntry.js"
import { ForcedUnwind } from "../risk/ForcedUnwind.js"
import type { Scenario, Step } from "./Scenario.js"
import { crashEngine, type LimitsByAccount, type RunningEngine, setBrokerDown } from "./SimEngine.js"
import { exchangeOf } from "./TickSchedule.js"
import { runWebhook } from "./WebhookStep.js"

/** The harness's state across the run (and across crashes). */
export interface Harness {
  readonly scenario: Scenario
  readonly startMs: number
  readonly limits: LimitsByAccount
  engine: RunningEngine
  readonly rebuild: () => Effect.Effect<RunningEngine>
  ticks: number
  crashes: number
  readonly lastPrice: Map<string, number>
  /** Symbol → epoch ms until which its feed is silent. */
  readonly feedDownUntil: Map<string, number>
  /** Account (or "*") → epoch ms until which its broker is down. */
  readonly brokerDownUntil: Map<string, number>
  exitAllAt: number | null
  lastEntryAt: number | null
  /** What each step did, in order. */
  readonly stepResults: Array<{ readonly atMs: number; readonly action: string; readonly result: unknown }>
}

/** The step's action name. */
export const actionOf = (step: Step): string =>
  (["entry", "exit", "webhook", "forcedUnwind", "feedDown", "brokerDown", "crash", "setLimit"] as const).find(
    (a) => step[a] !== undefined,
  ) ?? "none"

const inEngine = <A, E, R>(h: Harness, effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, h.engine.context as never) as Effect.Effect<A, E>

const entry = (h: Harness, e: NonNullable<Step["entry"]>, index: number) =>
  inEngine(
    h,
    Effect.flatMap(OrderEntry, (entries) =>
      entries.submit({
        commandId: e.id ?? `sim-step-${index}`,
        executionType: "ENTRY",
        source: "simulation",
        accountId: e.account,
        symbol: e.symbol,
        exchange: e.exchange ?? exchangeOf(h.scenario, e.symbol),
        side: e.side,
        qty: e.qty,
        product: e.product,
        orderType: e.orderType,
        price: e.price,
        triggerPrice: null,
        stopLoss: e.stopLoss,
        target: e.target,
        trailing: e.trailing,
      }),
    ).pipe(
      Effect.either,
      Effect.map(Either.match({ onLeft: (l) => ({ refused: l.field, message: l.message }), onRight: (r) => r })),
    ),
  )

const exit = (h: Harness, x: NonNullable<Step["exit"]>) =>
  inEngine(
    h,
    Effect.flatMap(ExitService, (exits) =>
      exits.requestExit({
        scope: x.scope,
        symbols: x.symbols ?? null,
        product: x.product,
        reason: x.reason as ExitReason,
        source: x.source,
      }),
    ),
  )

const forcedUnwind = (h: Harness, f: NonNullable<Step["forcedUnwind"]>) =>
  inEngine(
    h,
    Effect.flatMap(ForcedUnwind, (u) => u.set(f.account, f.on, f.reason ?? "forced unwind", "simulation")).pipe(
      Effect.either,
    ),
  )

/** Drops the engine without a clean stop and builds it again from the database file. */
export const crash = (h: Harness) =>
  Effect.gen(function* () {
    yield* crashEngine(h.engine)
    h.crashes++
    h.engine = yield* h.rebuild()
    const now = yield* Clock.currentTimeMillis
    // The broker's outage is the world's, not the engine's: it outlives the crash.
    for (const [account, until] of h.brokerDownUntil)
      if (until > now) yield* setBrokerDown(h.engine, true, account === "*" ? undefined : account)
  })

/** Runs one step; its result is kept for the report. */
export const runStep = (h: Harness, step: Step, index: number) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const action = actionOf(step)
    let result: unknown = null
    if (step.entry) {
      result = yield* entry(h, step.entry, index)
      h.lastEntryAt = now
    } else if (step.exit) {
      result = yield* exit(h, step.exit)
      if (step.exit.scope === "ALL") h.exitAllAt = now
    } else if (step.webhook) {
      const answer = yield* inEngine(h, runWebhook(step.webhook.body, h.scenario.accounts[0]!.id))
      const acted = String(step.webhook.body.action ?? "").toUpperCase()
      if (answer.status === 202 && acted !== "EXIT") h.lastEntryAt = now
      result = answer
    } else if (step.forcedUnwind) {
      result = yield* forcedUnwind(h, step.forcedUnwind)
      if (step.forcedUnwind.on) h.exitAllAt = now
    } else if (step.feedDown) {
      h.feedDownUntil.set(step.feedDown.symbol, now + step.feedDown.forMs)
    } else if (step.brokerDown) {
      h.brokerDownUntil.set(step.brokerDown.account ?? "*", now + step.brokerDown.forMs)
      yield* setBrokerDown(h.engine, true, step.brokerDown.account)
    } else if (step.crash) {
      yield* crash(h)
    } else if (step.setLimit) {
      const { account, ...fields } = step.setLimit
      const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))
      h.limits[account] = { ...h.limits[account], ...set }
    }
    h.stepResults.push({ atMs: step.atMs, action, result })
  })

/** Brings back the brokers whose outage ended by now; the next such moment, or null. */
export const restoreBrokers = (h: Harness) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    let next: number | null = null
    for (const [account, until] of [...h.brokerDownUntil]) {
      if (until <= now) {
        h.brokerDownUntil.delete(account)
        yield* setBrokerDown(h.engine, false, account === "*" ? undefined : account)
      } else next = next === null ? until : Math.min(next, until)
    }
    return next
  })

/**
 * The continuous exit enforcer (seed "exit logic continuous firing"): an independent fiber, forked
 * in the layer's scope, that checks every account every `enforceIntervalMs` whatever the
 * strategies, the tick feed or the main loop are doing. Per account, first match wins:
 *
 * - forced unwind on (the Account actor's flag) → exit all (FORCED_UNWIND) while any position is
 *   open; turning the flag on wakes a cycle at once (committed transitions are watched);
 * - the day's loss at the limit → `risk.halt` and exit all (DAILY_LOSS); an account halted for
 *   its daily loss keeps being flattened;
 * - more positions than the cap → `risk.reduce` and close the smallest (by notional) first until
 *   within it (POSITION_CAP); back within the cap, an account reduced for it resumes.
 *
 * Otherwise (exiting everything asks again for every position anyway), requested exits follow
 * through (FOLLOW_THROUGH): a trade still open whose latest exit intent was asked for (an
 * exit-all, a close, a webhook exit: any reason but the automatic ones, whose signals re-arm and
 * fire again, and the enforcer's own, which it fires again every cycle) and FAILED at the broker
 * (rejected, or not found after its lookups: no order of it is live, so another cannot take the
 * position through zero) is exited again for the same reason, through its own exit intent as a
 * close is, until `followThroughAttemptsMax` failures within `followThroughWindowMs`; then the
 * enforcer gives up, once, with an intervention (and so an alert) that says so. An operator's
 * exit-all is not defeated by one rejected order. The same holds for what a request placed beyond
 * the engine's trades (a plain EXIT order for a position, or the part of one no trade explains):
 * when it failed and nothing was placed on that position since, the position is asked for again
 * through the exit service, which skips it if it is flat by now.
 *
 * The other exits go through `ExitService.requestExit` only. A position with an exit already
 * working (an EXIT order or a live exit intent) is not asked for again, so a slow exit is not
 * spammed. Each account's check is bounded in time and isolated: a failure is logged and counted,
 * and the next cycle runs. Every intervention is logged, counted and written to `risk_interventions`.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Cause, Clock, Effect, Metric, Queue } from "effect"
import { Brokers } from "../broker/Brokers.js"
import type { ExitReason, Product } from "../domain/Trading.js"
import { ExitQualification } from "../exits/ExitQualification.js"
import { type ExitRequest, ExitService } from "../exits/ExitService.js"
import { TickHub } from "../market/TickHub.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { RiskConfig } from "./RiskConfig.js"
import { keyOf, notionalOf, openPositions, type PositionRow, rupees, type Standing } from "./RiskFacts.js"
import { RiskManager } from "./RiskManager.js"
import { accountChecks, checkFailures, interventions, lastCheckGauge } from "./RiskMetrics.js"

/** How the enforcer is doing. */
export interface EnforcerStatus {
  /** Epoch ms of the last completed cycle; null before the first. */
  readonly lastCheckAt: number | null
  readonly cycles: number
  /** Account checks that failed since start. */
  readonly failures: number
  readonly lastError: string | null
}

/** The positions the cap closes: the smallest by notional first, counting those already exiting. */
export const capExits = (
  open: ReadonlyArray<PositionRow>,
  cap: number,
  exiting: ReadonlySet<string>,
): ReadonlyArray<PositionRow> => {
  const need = open.length - cap - open.filter((p) => exiting.has(keyOf(p))).length
  if (need <= 0) return []
  return open
    .filter((p) => !exiting.has(keyOf(p)))
    .sort((a, b) => notionalOf(a) - notionalOf(b) || a.symbol.localeCompare(b.symbol))
    .slice(0, need)
}

/** An exit request for one account; ExitService scopes it to `accountId` (see the report of issue 5). */
const accountScoped = (accountId: string, request: ExitRequest): ExitRequest => {
  const scoped: ExitRequest & { readonly accountId: string } = { ...request, accountId }
  return scoped
}

type Kind = "POSITION_CAP" | "DAILY_LOSS" | "FORCED_UNWIND" | "FOLLOW_THROUGH"

/**
 * Exit reasons a failed exit is not followed through for: the automatic ones (their signals re-arm
 * after the cooldown and fire again while the price is beyond the level) and the enforcer's own.
 */
const selfFiringReasons = [
  "STOP_LOSS",
  "TARGET",
  "TRAILING_STOP",
  "SQUARE_OFF",
  "EXPIRY",
  "FORCED_UNWIND",
  "DAILY_LOSS",
  "POSITION_CAP",
] as const

/** Failed exits of one trade, for one requested reason, after which the enforcer gives up. */
export const followThroughAttemptsMax = 3
/** How far back a failed requested exit is followed through (ms). */
export const followThroughWindowMs = 600_000

/** A trade whose latest exit intent, asked for, failed at the broker. */
/** A request's plain EXIT order that failed; `cause` is its creation's (`request:<source>:<reason>`). */
interface FailedRequestOrder {
  readonly order_id: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly error: string | null
  readonly cause: string | null
  readonly failures: number
}

interface FailedRequest {
  readonly intent_id: string
  readonly trade_id: string
  readonly exit_reason: string
  readonly error: string | null
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly entry_price: number
  readonly failures: number
}

/** The continuous enforcer, running. */
export class ExitEnforcer extends Effect.Service<ExitEnforcer>()("warden/ExitEnforcer", {
  scoped: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rt = yield* ActorRuntime
    const brokers = yield* Brokers
    const exits = yield* ExitService
    const risk = yield* RiskManager
    const config = yield* RiskConfig
    const qualification = yield* ExitQualification
    const hub = yield* TickHub
    const status = { lastCheckAt: null as number | null, cycles: 0, failures: 0, lastError: null as string | null }

    /** Position keys with an exit already working: an EXIT order, or a live exit intent. */
    const exitingKeys = (accountId: string) =>
      Effect.map(
        Effect.orDie(sql<{ symbol: string; exchange: string; product: Product }>`
          SELECT symbol, exchange, product FROM orders WHERE account_id = ${accountId} AND purpose = 'EXIT'
            AND status IN ('CREATED', 'SENT_TO_BROKER', 'PARTIAL')
          UNION SELECT t.symbol, t.exchange, t.product FROM exit_intents i JOIN trades t ON t.trade_id = i.trade_id
            WHERE i.user_broker_id = ${accountId} AND (i.status IN ('PENDING', 'PLACED') OR i.state = 'APPROVED.live')`),
        (rows) => new Set(rows.map(keyOf)),
      )

    const intervene = (accountId: string, kind: Kind, action: string, detail: string, orders = 0) =>
      Effect.gen(function* () {
        yield* risk.recordIntervention(accountId, kind, action, detail, orders)
        yield* Metric.increment(Metric.tagged(interventions, "kind", kind))
        yield* Effect.logWarning(`enforcer ${kind}: ${action} ${accountId}: ${detail}`)
      })

    /** Asks the exit service for these exits, again (bounded) while the broker could not be read. */
    const requestExits = (accountId: string, kind: Kind, request: ExitRequest, detail: string) =>
      Effect.gen(function* () {
        for (let attempt = 0; ; attempt++) {
          const result = yield* exits.requestExit(accountScoped(accountId, request))
          const placed = result.placed.filter((p) => p.accountId === accountId)
          const skipped = result.skipped.filter((s) => s.accountId === accountId)
          if (placed.length > 0) {
            const what = placed.map((p) => `${p.side} ${p.qty} ${p.symbol} ${p.product}`).join(", ")
            yield* intervene(accountId, kind, "exit", `${detail}; placed ${what}`, placed.length)
          }
          const unread = placed.length === 0 && skipped.some((s) => s.reason.startsWith("BROKER"))
          if (unread && attempt < config.exitRetriesMax) {
            yield* Effect.sleep(config.exitRetryDelayMs)
            continue
          }
          const blocked = skipped.filter((s) => !/^(EXIT_WORKING|FLAT|CNC)/.test(s.reason))
          if (blocked.length > 0)
            yield* Effect.logWarning(
              `enforcer ${kind}: exits not placed for ${accountId}: ${blocked.map((s) => `${s.symbol ?? "*"}: ${s.reason}`).join("; ")}`,
            )
          return
        }
      })

    /** Exits every open position of the account, when one is not already exiting. */
    const exitEverything = (accountId: string, kind: Kind, uncovered: ReadonlyArray<PositionRow>, detail: string) =>
      uncovered.length === 0
        ? Effect.void
        : requestExits(accountId, kind, { scope: "ALL", product: "ALL", reason: kind, source: "risk" }, detail)

    /** Closes the smallest positions until the account is within its cap; resumes it once it is. */
    const enforceCap = (
      accountId: string,
      standing: Standing,
      open: ReadonlyArray<PositionRow>,
      exiting: ReadonlySet<string>,
    ) =>
      Effect.gen(function* () {
        const cap = risk.limitsOf(accountId).maxOpenPositions
        if (open.length <= cap) {
          if (standing.state === "REDUCING" && standing.reason?.startsWith("POSITION_CAP")) {
            yield* risk.resume(accountId, "risk:enforcer")
            yield* intervene(accountId, "POSITION_CAP", "resume", `${open.length} open, within the cap of ${cap}`)
          }
          return
        }
        const detail = `${open.length} positions open, cap ${cap}`
        if (standing.state === "ACTIVE") {
          yield* risk.reduce(accountId, `POSITION_CAP: ${detail}`, "risk:enforcer")
          yield* intervene(accountId, "POSITION_CAP", "reduce", detail)
        }
        const chosen = capExits(open, cap, exiting)
        for (const product of ["MIS", "NRML"] as const) {
          const symbols = chosen.filter((p) => p.product === product).map((p) => p.symbol)
          if (symbols.length === 0) continue
          const request = {
            scope: "SYMBOLS",
            symbols,
            product,
            reason: "POSITION_CAP" as ExitReason,
            source: "risk",
          } as const
          yield* requestExits(
            accountId,
            "POSITION_CAP",
            request,
            `${detail}: closing the smallest ${symbols.join(", ")}`,
          )
        }
      })

    /**
     * Open trades of the account whose latest exit intent was asked for and failed at the broker,
     * lately: a trade's own intents and the positions' exits it was a member of alike.
     */
    const failedRequests = (accountId: string, now: number) =>
      Effect.orDie(sql<FailedRequest>`
        WITH links AS (
          SELECT trade_id, intent_id FROM exit_intents WHERE user_broker_id = ${accountId}
          UNION SELECT m.trade_id, m.intent_id FROM exit_intent_members m
            JOIN exit_intents x ON x.intent_id = m.intent_id WHERE x.user_broker_id = ${accountId})
        SELECT i.intent_id, l.trade_id, i.exit_reason, i.error, t.symbol, t.exchange, t.product, t.entry_price,
          (SELECT COUNT(*) FROM links lk JOIN exit_intents k ON k.intent_id = lk.intent_id
             WHERE lk.trade_id = l.trade_id AND k.exit_reason = i.exit_reason
             AND k.status = 'FAILED' AND k.updated_at >= ${now - followThroughWindowMs}) AS failures
        FROM links l JOIN exit_intents i ON i.intent_id = l.intent_id JOIN trades t ON t.trade_id = l.trade_id
        WHERE i.status = 'FAILED' AND t.status = 'OPEN' AND t.product <> 'CNC'
          AND i.exit_reason NOT IN ${sql.in(selfFiringReasons)} AND i.updated_at >= ${now - followThroughWindowMs}
          AND NOT EXISTS (SELECT 1 FROM links lj JOIN exit_intents j ON j.intent_id = lj.intent_id
            WHERE lj.trade_id = l.trade_id
            AND (j.created_at > i.created_at OR (j.created_at = i.created_at AND j.episode_id > i.episode_id)))
        ORDER BY i.created_at, l.trade_id`)

    /**
     * The account's plain EXIT orders of a request (what a position held beyond the engine's
     * trades: no trade, no intent) that failed at the broker lately, each the last order on its
     * position: nothing was placed on the position since, neither another exit nor an entry, so
     * asking again exits only what the request meant to.
     */
    const failedRequestOrders = (accountId: string, now: number) =>
      Effect.orDie(sql<FailedRequestOrder>`
        SELECT o.order_id, o.symbol, o.exchange, o.product, o.reason AS error, j.cause,
          (SELECT COUNT(*) FROM orders k WHERE k.account_id = o.account_id AND k.symbol = o.symbol
             AND k.product = o.product AND k.purpose = 'EXIT' AND k.parent_id IS NULL AND k.status = 'FAILED'
             AND k.updated_at >= ${now - followThroughWindowMs}) AS failures
        FROM orders o JOIN journal j ON j.actor_id = o.order_id AND j.seq = 0
        WHERE o.account_id = ${accountId} AND o.purpose = 'EXIT' AND o.parent_id IS NULL AND o.status = 'FAILED'
          AND o.product <> 'CNC' AND o.updated_at >= ${now - followThroughWindowMs}
          AND NOT EXISTS (SELECT 1 FROM orders n WHERE n.account_id = o.account_id AND n.symbol = o.symbol
            AND n.product = o.product AND n.created_at > o.created_at)
        ORDER BY o.created_at`)

    /** Failed requests given up on, so the give-up is said once (per process). */
    const givenUp = new Set<string>()

    /** Gives up following an exit through, saying so once (an intervention, so an alert). */
    const giveUp = (
      accountId: string,
      key: string,
      what: string,
      f: { readonly failures: number; readonly error: string | null },
    ) =>
      givenUp.has(key)
        ? Effect.void
        : Effect.suspend(() => {
            givenUp.add(key)
            return intervene(
              accountId,
              "FOLLOW_THROUGH",
              "give_up",
              `${what} failed ${f.failures} times, last: ${f.error ?? "?"}; not asked again`,
            )
          })

    /** Exits again, for the same reason, the trades whose requested exit failed at the broker. */
    const followThrough = (accountId: string, exiting: ReadonlySet<string>) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        for (const f of yield* failedRequests(accountId, now)) {
          if (exiting.has(keyOf(f))) continue
          const what = `${f.exit_reason} exit of trade ${f.trade_id} (${f.symbol} ${f.product})`
          if (f.failures >= followThroughAttemptsMax) {
            yield* giveUp(accountId, `${f.intent_id}/${f.trade_id}`, what, f)
            continue
          }
          const q = yield* qualification.submit(
            {
              tradeId: f.trade_id,
              accountId,
              symbol: f.symbol,
              exchange: f.exchange,
              product: f.product,
              reason: f.exit_reason as ExitReason,
              price: hub.last(f.symbol)?.ltp ?? f.entry_price,
              at: now,
            },
            { source: "risk:follow-through", bypassCooldown: true },
          )
          const detail = `${what} failed (${f.error ?? "?"})`
          if (q._tag === "NotEligible") {
            // BUSY: another fiber is exiting it now; the next cycle looks again.
            if (q.reason !== "BUSY")
              yield* Effect.logWarning(`enforcer FOLLOW_THROUGH: ${detail}; not asked again: ${q.reason}: ${q.detail}`)
          } else if (!q.decision.approved)
            yield* Effect.logWarning(
              `enforcer FOLLOW_THROUGH: ${detail}; asked again, refused: ${q.decision.code}: ${q.decision.reason}`,
            )
          else
            yield* intervene(
              accountId,
              "FOLLOW_THROUGH",
              "exit",
              `${detail}; asked again (intent ${q.intentId})`,
              q.decision.executed ? 1 : 0,
            )
        }
        // What a request placed beyond the engine's trades (plain EXIT orders): asked again, for
        // that position, through the exit service (broker truth: a position flat by now is skipped).
        for (const o of yield* failedRequestOrders(accountId, now)) {
          if (exiting.has(keyOf(o))) continue
          const reason = (o.cause?.split(":").at(-1) ?? "MANUAL") as ExitReason
          const what = `${reason} exit order ${o.order_id} (${o.symbol} ${o.product})`
          if (o.failures >= followThroughAttemptsMax) {
            yield* giveUp(accountId, o.order_id, what, o)
            continue
          }
          const request = {
            scope: "SYMBOLS",
            symbols: [o.symbol],
            product: o.product === "NRML" ? "NRML" : "MIS",
            reason,
            source: "risk:follow-through",
          } as const
          yield* requestExits(accountId, "FOLLOW_THROUGH", request, `${what} failed (${o.error ?? "?"})`)
        }
      })

    /** One account's check. */
    const enforceAccount = (accountId: string) =>
      Effect.gen(function* () {
        const facts = yield* risk.gather(accountId)
        const limits = risk.limitsOf(accountId)
        const open = openPositions(facts.positions)
        const exiting = yield* exitingKeys(accountId)
        const uncovered = open.filter((p) => !exiting.has(keyOf(p)))
        const { standing, pnl } = facts
        if (standing.forcedUnwind)
          return yield* exitEverything(
            accountId,
            "FORCED_UNWIND",
            uncovered,
            `forced unwind (${standing.unwindReason})`,
          )
        const breached = pnl.total <= -limits.maxDailyLoss
        const detail = `day P&L ${rupees(pnl.total)}, loss limit ${limits.maxDailyLoss}`
        if (breached && standing.state !== "HALTED") {
          yield* risk.halt(accountId, `DAILY_LOSS: ${detail}`, "risk:enforcer")
          yield* intervene(accountId, "DAILY_LOSS", "halt", detail)
        }
        if (breached || (standing.state === "HALTED" && standing.reason?.startsWith("DAILY_LOSS")))
          return yield* exitEverything(accountId, "DAILY_LOSS", uncovered, detail)
        // (Exiting everything above asks again for every open position anyway.)
        yield* followThrough(accountId, exiting)
        yield* enforceCap(accountId, standing, open, exiting)
      })

    const checkAccount = (accountId: string) =>
      enforceAccount(accountId).pipe(
        Effect.timeoutFail({
          duration: config.accountCheckTimeoutMs,
          onTimeout: () => new Error(`check timed out after ${config.accountCheckTimeoutMs} ms`),
        }),
        Effect.zipRight(Metric.increment(accountChecks)),
        Effect.catchAllCause((cause) =>
          Effect.gen(function* () {
            status.failures++
            status.lastError = `${accountId}: ${Cause.pretty(cause)}`
            yield* Metric.increment(checkFailures)
            yield* Effect.logError(`enforcer: the check of ${accountId} failed; the next cycle runs`, cause)
          }),
        ),
        Effect.annotateLogs({ accountId }),
      )

    const cycle = Effect.gen(function* () {
      yield* Effect.forEach(brokers.all.keys(), checkAccount, { concurrency: "unbounded", discard: true })
      // Exit requests a working exit stood in the way of: carried out once it is gone, until flat.
      yield* exits.retryPending.pipe(
        Effect.catchAllCause((cause) =>
          Effect.logError("enforcer: kept exit requests failed; the next cycle retries", cause),
        ),
      )
      const now = yield* Clock.currentTimeMillis
      status.lastCheckAt = now
      status.cycles++
      yield* Metric.set(lastCheckGauge, now)
    }).pipe(Effect.catchAllCause((cause) => Effect.logError("enforcer: the cycle failed; the next one runs", cause)))

    const lock = yield* Effect.makeSemaphore(1)
    const runCycle = lock.withPermits(1)(cycle)
    const wake = yield* Queue.sliding<string>(64)

    // Forced unwind switched on: a cycle at once, not at the next interval.
    const transitions = yield* rt.subscribe
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.flatMap(Queue.take(transitions), (t) =>
          t.actorType === "account" && t.eventType === "unwind.on" && t.refused === null
            ? Queue.offer(wake, t.actorId)
            : Effect.void,
        ),
      ),
    )
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* runCycle
          yield* Effect.race(Effect.sleep(config.enforceIntervalMs), Queue.take(wake))
          yield* Queue.takeAll(wake)
        }),
      ),
    )
    yield* Effect.logInfo(`exit enforcer started: every ${config.enforceIntervalMs} ms`)

    return {
      /** Runs one cycle now (after the one running, if any). */
      runOnce: runCycle,
      /** Epoch ms of the last completed cycle; null before the first. */
      lastCheckAt: (): number | null => status.lastCheckAt,
      /** Cycles, failures and the last error. */
      status: Effect.sync((): EnforcerStatus => ({ ...status })),
    }
  }),
}) {}

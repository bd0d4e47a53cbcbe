/**
 * Stage 2 of the exit pipeline, execution qualification: a candidate becomes an ExitSignal
 * (DETECTED), the signal is published with its ExitIntent (PENDING), and the operational gates
 * answer `gate.approved` (executed or dark) or `gate.rejected` with a code. The three are offered
 * to the runtime back to back and usually share one group commit; each is committed after the
 * row it is about. Everything goes through the runtime: rows first, events after.
 *
 * Exactly once: a trade is qualified by one fiber at a time (others get BUSY); a signal's id is
 * deterministic from (trade, reason, episode), so a duplicate spawn is refused by the runtime and
 * by the UNIQUE key; a trade with a signal still cooling (its durable timer, in the database)
 * gets no new automatic signal, so a restart cannot fire it again. The episode is chosen here
 * (the V010 episode generator): the trade's episode, or one past the trade's last signal, so an
 * exit refused by a gate can be tried again once the cooldown has passed. A dark intent does not
 * hold the cooldown (nothing was executed), but records its (trade, reason) once while dark.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Fiber, Metric, Option } from "effect"
import type { ExitIntentContext } from "../../machines/ExitIntentMachine.js"
import type { ExitSignalInput } from "../../machines/ExitSignalMachine.js"
import type { TradeContext } from "../../machines/TradeMachine.js"
import { exitSideOf, type Side } from "../domain/Trading.js"
import { TickHub } from "../market/TickHub.js"
import { Brokers } from "../broker/Brokers.js"
import { ActorRuntime, type StepOutcome } from "../runtime/ActorRuntime.js"
import type { OutcomeEvent } from "../runtime/EffectHandlers.js"
import { Ids } from "../runtime/Ids.js"
import { ExitConfig, instrumentOf } from "./ExitConfig.js"
import { decide } from "./ExitGates.js"
import { intentsApproved, intentsRejected, signalsDetected, signalsPublished } from "./ExitMetrics.js"
import { ExitSettings } from "./ExitSettings.js"
import type { ExitCandidate } from "./TradeIndex.js"

/** The gates' answer, once committed. */
export type Decided =
  | { readonly approved: true; readonly executed: boolean; readonly orderId: string }
  | { readonly approved: false; readonly code: string; readonly reason: string }

/** Why a candidate made no signal. */
export type NotEligibleReason =
  | "BUSY"
  | "NO_TRADE"
  | "TRADE_NOT_OPEN"
  | "COOLDOWN"
  | "RECORDED_DARK"
  | "DUPLICATE"
  | "REFUSED"

/** What became of a candidate. */
export type Qualified =
  | { readonly _tag: "Published"; readonly signalId: string; readonly intentId: string; readonly decision: Decided }
  | { readonly _tag: "NotEligible"; readonly reason: NotEligibleReason; readonly detail: string }

/** How a candidate is submitted. */
export interface SubmitOptions {
  /** Where the exit came from, for the journal's cause: `tick`, `sweep`, `requestExit:dashboard`. */
  readonly source: string
  /** Skips the cooldown (an operator's or the risk manager's exit does not wait). */
  readonly bypassCooldown?: boolean
}

/** The signal id of (trade, reason, episode). */
export const signalIdOf = (tradeId: string, reason: string, episode: number): string =>
  `sig_${tradeId}_${reason}_${episode}`

/** The intent id of a signal (one intent per signal). */
export const intentIdOf = (signalId: string): string => `exi_${signalId.slice(4)}`

/** Exit intent states in which the intent is still working. */
export const liveIntentStates = ["PENDING", "APPROVED.live", "PLACED"] as const

/** What the gates need of an intent. */
interface IntentTerms {
  readonly intentId: string
  readonly tradeId: string
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly side: Side
  readonly qty: number
}

const notEligible = (reason: NotEligibleReason, detail: string): Qualified => ({ _tag: "NotEligible", reason, detail })

/** Stage 2: candidates to signals, intents and gate decisions. */
export class ExitQualification extends Effect.Service<ExitQualification>()("warden/ExitQualification", {
  effect: Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const sql = yield* SqlClient.SqlClient
    const ids = yield* Ids
    const hub = yield* TickHub
    const settings = yield* ExitSettings
    const config = yield* ExitConfig
    const brokers = yield* Brokers
    const busy = new Set<string>()
    // One gate decision at a time per position (account, symbol, product), held until the
    // approval (which creates the exit order) is committed: two trades on one position firing on
    // the same tick cannot both be approved against the same net quantity.
    const positionLocks = new Map<string, Effect.Semaphore>()
    const onPosition = (accountId: string, symbol: string, product: string) => {
      const key = `${accountId}|${symbol}|${product}`
      let lock = positionLocks.get(key)
      if (!lock) {
        lock = Effect.unsafeMakeSemaphore(1)
        positionLocks.set(key, lock)
      }
      return lock.withPermits(1)
    }

    /** Runs `work` holding the trade; BUSY when another fiber holds it. */
    const holding = (tradeId: string, work: Effect.Effect<Qualified>): Effect.Effect<Qualified> =>
      Effect.suspend(() => {
        if (busy.has(tradeId)) return Effect.succeed(notEligible("BUSY", "the trade is being qualified"))
        busy.add(tradeId)
        return Effect.ensuring(
          work,
          Effect.sync(() => busy.delete(tradeId)),
        )
      })

    const tradeOf = (tradeId: string) =>
      Effect.map(
        rt.view(tradeId),
        Option.map((v) => ({ view: v, c: v.context as unknown as TradeContext })),
      )

    const firstRow = <A extends object>(rows: Effect.Effect<ReadonlyArray<A>, unknown>) =>
      Effect.map(Effect.orDie(rows), (r) => r[0])

    // A dark intent executed nothing, so its signal's cooldown protects nothing: it does not count.
    const cooling = (tradeId: string) =>
      firstRow(sql<{ signal_id: string }>`
        SELECT s.signal_id FROM exit_signals s LEFT JOIN exit_intents i ON i.signal_id = s.signal_id
        WHERE s.trade_id = ${tradeId} AND s.state IN ('DETECTED', 'PUBLISHED.cooling')
        AND (i.state IS NULL OR i.state <> 'APPROVED.dark') LIMIT 1`)

    const recordedDark = (tradeId: string, reason: string) =>
      firstRow(sql<{ intent_id: string }>`
        SELECT intent_id FROM exit_intents
        WHERE trade_id = ${tradeId} AND exit_reason = ${reason} AND state = 'APPROVED.dark' LIMIT 1`)

    const nextEpisode = (tradeId: string, tradeEpisode: number) =>
      Effect.map(
        firstRow(sql<{ e: number | null }>`SELECT MAX(episode_id) AS e FROM exit_signals WHERE trade_id = ${tradeId}`),
        (row) => Math.max(tradeEpisode, (row?.e ?? -1) + 1),
      )

    const otherLiveIntents = (tradeId: string, intentId: string) =>
      Effect.map(
        firstRow(sql<{ n: number }>`
          SELECT COUNT(*) AS n FROM exit_intents
          WHERE trade_id = ${tradeId} AND intent_id <> ${intentId} AND state IN ${sql.in(liveIntentStates)}`),
        (row) => row?.n ?? 0,
      )

    /** The broker's net quantity this exit side reduces, less exit orders working on it; null when unreadable. */
    const positionRoom = (accountId: string, symbol: string, product: string, side: Side) =>
      Effect.gen(function* () {
        const broker = yield* brokers.forAccount(accountId)
        const net = (yield* broker.positions).find((p) => p.symbol === symbol && p.product === product)?.netQty ?? 0
        const working = yield* firstRow(
          sql<{ q: number | null }>`
            SELECT SUM(qty - filled_qty) AS q FROM orders
            WHERE account_id = ${accountId} AND symbol = ${symbol} AND product = ${product} AND purpose = 'EXIT'
              AND side = ${side} AND status IN ('CREATED', 'SENT_TO_BROKER', 'PARTIAL')`,
        )
        return Math.max(0, side === "SELL" ? net : -net) - (working?.q ?? 0)
      }).pipe(Effect.catchAll(() => Effect.succeed(null)))

    /** The gates' decision on an intent's terms, as the event that commits it. */
    const decisionFor = (terms: IntentTerms, detectedPrice: number | null) =>
      Effect.gen(function* () {
        const trade = yield* tradeOf(terms.tradeId)
        const decision = decide({
          tradeState: Option.match(trade, { onNone: () => null, onSome: (t) => t.view.state }),
          openQty: Option.match(trade, { onNone: () => 0, onSome: (t) => t.c.qty - t.c.exitedQty }),
          intentQty: terms.qty,
          side: terms.side,
          otherLiveIntents: yield* otherLiveIntents(terms.tradeId, terms.intentId),
          positionRoom:
            config.capByNetPosition && Option.isSome(trade)
              ? yield* positionRoom(terms.accountId, terms.symbol, trade.value.c.product, terms.side)
              : null,
          exitsHalted: settings.exitsHalted(terms.accountId),
          instrument: instrumentOf(config.instruments, terms.exchange, terms.symbol),
          detectedPrice,
          ltp: hub.last(terms.symbol)?.ltp ?? null,
          priceBandPct: config.priceBandPct,
          limitBand: config.limitBand,
        })
        if (!decision.approved) {
          const event = { type: "gate.rejected", code: decision.code, reason: decision.reason }
          return { event, decided: { approved: false, code: decision.code, reason: decision.reason } as Decided }
        }
        const orderId = yield* ids.next("ord")
        const executed = settings.executes(terms.accountId, terms.symbol)
        const event = {
          type: "gate.approved",
          orderId,
          clientTag: orderId,
          execute: executed,
          orderType: decision.orderType,
          price: decision.price,
        }
        return { event, decided: { approved: true, executed, orderId } as Decided }
      })

    /** Commits a decision to its (PENDING) intent. */
    const commitDecision = (intentId: string, d: { event: OutcomeEvent; decided: Decided }) =>
      Effect.gen(function* () {
        const out = yield* rt.send(intentId, d.event, "exit:gate")
        if (out.refused !== null) return { approved: false, code: "REFUSED", reason: out.refused } as Decided
        yield* Metric.increment(d.decided.approved ? intentsApproved : intentsRejected)
        return d.decided
      }).pipe(Effect.annotateLogs({ intentId }))

    /** Gates a PENDING intent found at start (its decision was lost in a crash). */
    const gate = (intentId: string, detectedPrice: number | null): Effect.Effect<Decided> =>
      Effect.gen(function* () {
        const ic = Option.getOrThrow(yield* rt.view(intentId)).context as unknown as ExitIntentContext
        return yield* onPosition(
          ic.accountId,
          ic.symbol,
          ic.product,
        )(Effect.flatMap(decisionFor(ic, detectedPrice), (d) => commitDecision(intentId, d)))
      })

    /**
     * Publishes a signal with its intent and the gates' decision on it, offered back to back (after
     * the signal's creation, when `create` is given) so that they usually share one group commit.
     * The inbox is FIFO, so each is committed after the row it is about; should the creation's
     * fiber offer late, the publication and the decision are refused for want of the signal and
     * are offered again. The decision is taken before any of them is offered.
     */
    const publish = (
      signalId: string,
      t: TradeContext,
      detectedPrice: number | null,
      cause: string,
      create?: Effect.Effect<StepOutcome>,
    ): Effect.Effect<Qualified> =>
      Effect.gen(function* () {
        const intentId = intentIdOf(signalId)
        const side = exitSideOf(t.direction)
        const qty = t.qty - t.exitedQty
        const terms = {
          intentId,
          tradeId: t.tradeId,
          accountId: t.accountId,
          symbol: t.symbol,
          exchange: t.exchange,
          side,
          qty,
        }
        return yield* onPosition(
          t.accountId,
          t.symbol,
          t.product,
        )(publishLocked(signalId, intentId, terms, t, detectedPrice, cause, create))
      })

    const publishLocked = (
      signalId: string,
      intentId: string,
      terms: IntentTerms,
      t: TradeContext,
      detectedPrice: number | null,
      cause: string,
      create?: Effect.Effect<StepOutcome>,
    ): Effect.Effect<Qualified> =>
      Effect.gen(function* () {
        const { side, qty } = terms
        const decision = yield* decisionFor(terms, detectedPrice)
        const event = { type: "signal.publish", intentId, side, qty, exchange: t.exchange, product: t.product }
        const offer = Effect.zipRight(rt.post(signalId, event, cause), commitDecision(intentId, decision))
        const creating = create ? yield* Effect.fork(create) : undefined
        if (creating) yield* Effect.yieldNow()
        let decided = yield* offer
        if (creating) {
          const spawned = yield* Fiber.join(creating)
          if (spawned.refused !== null)
            return notEligible(spawned.refused.includes("already exists") ? "DUPLICATE" : "REFUSED", spawned.refused)
          yield* Metric.increment(signalsDetected)
          if (Option.isNone(yield* rt.view(intentId))) decided = yield* offer
        }
        if (Option.isNone(yield* rt.view(intentId)))
          return notEligible("REFUSED", `signal ${signalId} was not published`)
        yield* Metric.increment(signalsPublished)
        return { _tag: "Published", signalId, intentId, decision: decided } as const
      })

    const qualify = (c: ExitCandidate, options: SubmitOptions): Effect.Effect<Qualified> =>
      Effect.gen(function* () {
        const trade = yield* tradeOf(c.tradeId)
        if (Option.isNone(trade)) return notEligible("NO_TRADE", `no trade ${c.tradeId}`)
        const { view, c: t } = trade.value
        if (view.state !== "OPEN") return notEligible("TRADE_NOT_OPEN", `the trade is ${view.state}`)
        const cool = options.bypassCooldown ? undefined : yield* cooling(c.tradeId)
        if (cool) return notEligible("COOLDOWN", `signal ${cool.signal_id} is cooling down`)
        if (!settings.executes(t.accountId, t.symbol)) {
          const dark = yield* recordedDark(c.tradeId, c.reason)
          if (dark) return notEligible("RECORDED_DARK", `intent ${dark.intent_id} already recorded it, dark`)
        }
        const episode = yield* nextEpisode(c.tradeId, t.episode)
        const signalId = signalIdOf(c.tradeId, c.reason, episode)
        const cause = `exit:${options.source}`
        const input = signalInput(signalId, episode, t, c, config.cooldownMs)
        return yield* publish(signalId, t, c.price, cause, rt.spawn("exitSignal", signalId, input, cause))
      }).pipe(Effect.annotateLogs({ tradeId: c.tradeId, exitReason: c.reason }))

    /** Finishes what a crash interrupted: DETECTED signals are published (or suppressed), PENDING intents gated. */
    const recover = Effect.gen(function* () {
      const detected = yield* Effect.orDie(sql<{ signal_id: string; trade_id: string; detected_price: number | null }>`
        SELECT signal_id, trade_id, detected_price FROM exit_signals WHERE state = 'DETECTED'`)
      for (const s of detected) yield* holding(s.trade_id, resume(s.signal_id, s.trade_id, s.detected_price))
      const pending = yield* Effect.orDie(sql<{ intent_id: string; trade_id: string; detected_price: number | null }>`
        SELECT i.intent_id, i.trade_id, s.detected_price FROM exit_intents i
        JOIN exit_signals s ON s.signal_id = i.signal_id WHERE i.state = 'PENDING'`)
      for (const i of pending)
        yield* holding(
          i.trade_id,
          Effect.map(gate(i.intent_id, i.detected_price), (decision) => ({
            _tag: "Published" as const,
            signalId: "",
            intentId: i.intent_id,
            decision,
          })),
        )
      return detected.length + pending.length
    })

    const resume = (signalId: string, tradeId: string, price: number | null): Effect.Effect<Qualified> =>
      Effect.gen(function* () {
        const trade = yield* tradeOf(tradeId)
        if (Option.isSome(trade) && trade.value.view.state === "OPEN")
          return yield* publish(signalId, trade.value.c, price, "exit:recover")
        const reason = Option.isSome(trade) ? `the trade is ${trade.value.view.state}` : "no such trade"
        yield* rt.send(signalId, { type: "signal.suppress", reason }, "exit:recover")
        return notEligible("TRADE_NOT_OPEN", reason)
      })

    yield* recover

    return {
      /** Qualifies one candidate: a signal, its intent and the gates' decision, or why not. */
      submit: (c: ExitCandidate, options: SubmitOptions): Effect.Effect<Qualified> =>
        holding(c.tradeId, qualify(c, options)),
      /** True while a trade is being qualified. */
      isBusy: (tradeId: string): boolean => busy.has(tradeId),
    }
  }),
}) {}

const signalInput = (signalId: string, episodeId: number, t: TradeContext, c: ExitCandidate, cooldownMs: number) =>
  ({
    signalId,
    tradeId: t.tradeId,
    accountId: t.accountId,
    symbol: t.symbol,
    exitReason: c.reason,
    episodeId,
    detectedPrice: c.price,
    detectedAt: c.at,
    cooldownMs,
  }) satisfies ExitSignalInput

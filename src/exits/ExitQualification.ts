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
import { Effect, Metric, Option } from "effect"
import { type ExitIntentContext, type ExitMember, membersOf } from "../../machines/ExitIntentMachine.js"
import type { ExitSignalInput } from "../../machines/ExitSignalMachine.js"
import type { TradeContext } from "../../machines/TradeMachine.js"
import { exitSideOf, type Product, type Side } from "../domain/Trading.js"
import { TickHub } from "../market/TickHub.js"
import { isWorking, positionOf } from "../broker/Broker.js"
import { Brokers } from "../broker/Brokers.js"
import { ActorRuntime, type Offer, type StepOutcome } from "../runtime/ActorRuntime.js"
import type { OutcomeEvent } from "../runtime/EffectHandlers.js"
import { Ids } from "../runtime/Ids.js"
import { Limiter } from "../runtime/Limiter.js"
import { SqliteConnection } from "../store/SqliteConnection.js"
import { ExitConfig, instrumentOf } from "./ExitConfig.js"
import { decide } from "./ExitGates.js"
import { intentsApproved, intentsRejected, signalsDetected, signalsPublished } from "./ExitMetrics.js"
import { ExitSettings } from "./ExitSettings.js"
import type { ExitCandidate } from "./TradeIndex.js"

/** The gates' answer, once committed. */
export type Decided =
  | {
      readonly approved: true
      readonly executed: boolean
      /** The first slice's order. */
      readonly orderId: string
      /** Every slice's order, in placing order (one unless the exit is at or above the freeze). */
      readonly orderIds: ReadonlyArray<string>
    }
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
  /** A position's exit: every trade it exits, this intent's trade first (see `ExitIntentInput`). */
  readonly members?: ReadonlyArray<ExitMember>
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
    const positionLocks = new Map<string, Limiter>()
    const onPosition = (accountId: string, symbol: string, product: string) => {
      const key = `${accountId}|${symbol}|${product}`
      let lock = positionLocks.get(key)
      if (!lock) {
        lock = new Limiter(1)
        positionLocks.set(key, lock)
      }
      return <A, E, R>(effect: Effect.Effect<A, E, R>) => lock.withPermit(effect)
    }

    /** Takes the trades no other fiber holds; BUSY for the rest. Released when `work` ends. */
    const holdingAll = <A extends { readonly tradeId: string }>(
      items: ReadonlyArray<A>,
      work: (taken: ReadonlyArray<A>) => Effect.Effect<ReadonlyMap<A, Qualified>>,
    ): Effect.Effect<ReadonlyArray<Qualified>> =>
      Effect.suspend(() => {
        const taken: Array<A> = []
        const answers = new Map<A, Qualified>()
        for (const item of items) {
          if (busy.has(item.tradeId)) answers.set(item, notEligible("BUSY", "the trade is being qualified"))
          else {
            busy.add(item.tradeId)
            taken.push(item)
          }
        }
        return work(taken).pipe(
          Effect.map((done) => items.map((i) => answers.get(i) ?? done.get(i)!)),
          Effect.ensuring(
            Effect.sync(() => {
              for (const i of taken) busy.delete(i.tradeId)
            }),
          ),
        )
      })

    const tradeOf = (tradeId: string) =>
      Effect.map(
        rt.view(tradeId),
        Option.map((v) => ({ view: v, c: v.context as unknown as TradeContext })),
      )

    /**
     * The read models this stage reads (signals, intents, orders) are written only by the runtime's
     * commit, so they are read at once, synchronously (`selectNow`): a firing tick's gates do not
     * wait their turn behind every commit and query queued on the connection. A list goes in as JSON.
     */
    const conn = yield* SqliteConnection
    const select = <A extends object>(query: string, ...params: ReadonlyArray<unknown>) =>
      Effect.sync(() => conn.selectNow<A>(query, params))

    /** Rows of a query over some trades (`json_each(?)` of their ids), keyed by trade. */
    const byTrade = <A extends { readonly trade_id: string }>(
      tradeIds: ReadonlyArray<string>,
      query: string,
      ...params: ReadonlyArray<unknown>
    ): Effect.Effect<ReadonlyMap<string, A>> =>
      Effect.map(
        select<A>(query, JSON.stringify(tradeIds), ...params),
        (rows) => new Map(rows.map((r) => [r.trade_id, r])),
      )

    // A dark intent executed nothing, so its signal's cooldown protects nothing: it does not count.
    const cooling = (tradeIds: ReadonlyArray<string>) =>
      byTrade<{ trade_id: string; signal_id: string }>(
        tradeIds,
        `SELECT s.trade_id, MIN(s.signal_id) AS signal_id FROM exit_signals s
          LEFT JOIN exit_intents i ON i.signal_id = s.signal_id
          WHERE s.trade_id IN (SELECT value FROM json_each(?)) AND s.state IN ('DETECTED', 'PUBLISHED.cooling')
          AND (i.state IS NULL OR i.state <> 'APPROVED.dark') GROUP BY s.trade_id`,
      )

    const recordedDark = (tradeId: string, reason: string) =>
      Effect.map(
        select<{ intent_id: string }>(
          `SELECT intent_id FROM exit_intents
          WHERE trade_id = ? AND exit_reason = ? AND state = 'APPROVED.dark' LIMIT 1`,
          tradeId,
          reason,
        ),
        (rows) => rows[0],
      )

    const lastEpisodes = (tradeIds: ReadonlyArray<string>) =>
      byTrade<{ trade_id: string; e: number }>(
        tradeIds,
        `SELECT trade_id, MAX(episode_id) AS e FROM exit_signals
          WHERE trade_id IN (SELECT value FROM json_each(?)) GROUP BY trade_id`,
      )

    /**
     * Live exit intents of these trades, the given intents (being gated) left out: the trades' own,
     * and the positions' exits they are members of.
     */
    const liveIntents = (tradeIds: ReadonlyArray<string>, gating: ReadonlyArray<string>) =>
      byTrade<{ trade_id: string; n: number }>(
        tradeIds,
        `SELECT trade_id, COUNT(*) AS n FROM (
            SELECT trade_id, intent_id, state FROM exit_intents WHERE trade_id IN (SELECT value FROM json_each(?))
            UNION
            SELECT m.trade_id, m.intent_id, i.state FROM exit_intent_members m
              JOIN exit_intents i ON i.intent_id = m.intent_id WHERE m.trade_id IN (SELECT value FROM json_each(?)))
          WHERE intent_id NOT IN (SELECT value FROM json_each(?)) AND state IN (SELECT value FROM json_each(?))
          GROUP BY trade_id`,
        JSON.stringify(tradeIds),
        JSON.stringify(gating),
        JSON.stringify(liveIntentStates),
      )

    /** The exit orders working on a position's side, as the engine has them. */
    const workingExits = (accountId: string, symbol: string, product: Product, side: Side) =>
      select<{ client_tag: string; qty: number; filled_qty: number }>(
        `SELECT client_tag, qty, filled_qty FROM orders
          WHERE account_id = ? AND symbol = ? AND product = ? AND purpose = 'EXIT'
            AND side = ? AND status IN ('CREATED', 'SENT_TO_BROKER', 'PARTIAL')`,
        accountId,
        symbol,
        product,
        side,
      )

    /**
     * The room as the engine's own books have it, for when the broker's cannot be read (the broker
     * is down): what the engine's trades on the position add up to, net, less its working exits.
     * An exit approved blind would go out once the broker is back, and where a LONG and a SHORT
     * trade net each other out (the broker's position is flat), it would take the position
     * through zero; this finds that room 0 as the broker would have.
     */
    const engineRoom = (accountId: string, symbol: string, product: Product, side: Side) =>
      Effect.gen(function* () {
        const [net] = yield* select<{ net: number | null }>(
          `SELECT SUM(CASE direction WHEN 'LONG' THEN qty - exited_qty ELSE exited_qty - qty END) AS net
            FROM trades WHERE account_id = ? AND symbol = ? AND product = ? AND status <> 'CLOSED'`,
          accountId,
          symbol,
          product,
        )
        const unfilled = (yield* workingExits(accountId, symbol, product, side)).reduce(
          (n, o) => n + o.qty - o.filled_qty,
          0,
        )
        const held = net?.net ?? 0
        return Math.max(0, side === "SELL" ? held : -held) - unfilled
      })

    /**
     * The broker's net quantity this exit side reduces, less what the exit orders working on it
     * have still to fill; the engine's own figure (`engineRoom`) when the broker's book cannot be
     * read. A working exit's fills are read from the broker before its position (a fill the
     * watcher has not committed yet is already in the net quantity), so a fill between the two
     * reads can only make the room smaller, never larger.
     */
    const positionRoom = (accountId: string, symbol: string, exchange: string, product: Product, side: Side) =>
      Effect.gen(function* () {
        const broker = yield* brokers.forAccount(accountId)
        const working = yield* workingExits(accountId, symbol, product, side)
        let unfilled = 0
        for (const o of working) {
          const at = yield* broker.orderByTag(o.client_tag)
          unfilled += Option.match(at, {
            onNone: () => o.qty - o.filled_qty,
            onSome: (b) => (isWorking(b.status) ? o.qty - Math.max(o.filled_qty, b.filledQty) : 0),
          })
        }
        const net = Option.match(yield* positionOf(broker, symbol, exchange, product), {
          onNone: () => 0,
          onSome: (p) => p.netQty,
        })
        return Math.max(0, side === "SELL" ? net : -net) - unfilled
      }).pipe(Effect.catchAll(() => engineRoom(accountId, symbol, product, side)))

    /**
     * The gates' decisions on the intents of one position, in order, as the events that commit
     * them. The position is read once; each approval that will place orders takes the quantity of
     * all its slices from the room the next one sees. An approval names one order per slice.
     */
    const decisionsFor = (
      group: ReadonlyArray<{ readonly terms: IntentTerms; readonly detectedPrice: number | null }>,
      gating: boolean,
    ) =>
      Effect.gen(function* () {
        const first = group[0]!.terms
        const tradeIds = group.flatMap((g) => membersOf(g.terms).map((m) => m.tradeId))
        const live = yield* liveIntents(tradeIds, gating ? group.map((g) => g.terms.intentId) : [])
        let room: number | null = null
        const out: Array<{ event: OutcomeEvent; decided: Decided }> = []
        for (const { terms, detectedPrice } of group) {
          const trade = yield* tradeOf(terms.tradeId)
          if (config.capByNetPosition && Option.isSome(trade) && room === null && out.length === 0)
            room = yield* positionRoom(first.accountId, first.symbol, first.exchange, trade.value.c.product, first.side)
          const members = yield* memberFacts(terms, trade, live)
          const decision = decide({
            ...members,
            intentQty: terms.qty,
            side: terms.side,
            positionRoom: config.capByNetPosition && Option.isSome(trade) ? room : null,
            exitsHalted: settings.exitsHalted(terms.accountId),
            instrument: instrumentOf(config.instruments, terms.exchange, terms.symbol),
            detectedPrice,
            ltp: hub.last(terms.symbol)?.ltp ?? null,
            priceBandPct: config.priceBandPct,
            limitBand: config.limitBand,
          })
          if (!decision.approved) {
            const event = { type: "gate.rejected", code: decision.code, reason: decision.reason }
            out.push({ event, decided: { approved: false, code: decision.code, reason: decision.reason } })
            continue
          }
          const slices: Array<{ orderId: string; clientTag: string; qty: number }> = []
          for (const qty of decision.slices) {
            const orderId = yield* ids.next("ord")
            slices.push({ orderId, clientTag: orderId, qty })
          }
          const executed = settings.executes(terms.accountId, terms.symbol)
          if (executed && room !== null) room -= slices.reduce((n, s) => n + s.qty, 0)
          const event = {
            type: "gate.approved",
            slices,
            execute: executed,
            orderType: decision.orderType,
            price: decision.price,
          }
          const orderIds = slices.map((s) => s.orderId)
          out.push({ event, decided: { approved: true, executed, orderId: orderIds[0]!, orderIds } })
        }
        return out
      })

    /**
     * The trade facts of an intent's gates, over all its members: the first member not OPEN names
     * the state; a member exiting more than its trade holds makes the open quantity short of the
     * intent's; the members' other live intents add up.
     */
    const memberFacts = (
      terms: IntentTerms,
      lead: Option.Option<{ view: { state: string }; c: TradeContext }>,
      live: ReadonlyMap<string, { n: number }>,
    ) =>
      Effect.gen(function* () {
        let tradeState: string | null = "OPEN"
        let openQty = 0
        let otherLiveIntents = 0
        for (const m of membersOf(terms)) {
          const trade = m.tradeId === terms.tradeId ? lead : yield* tradeOf(m.tradeId)
          const state = Option.match(trade, { onNone: () => null, onSome: (t) => t.view.state })
          if (tradeState === "OPEN" && state !== "OPEN") tradeState = state
          const holds = Option.match(trade, { onNone: () => 0, onSome: (t) => t.c.qty - t.c.exitedQty })
          // A lone trade's own figure; a member counts up to its share (its excess is no one else's).
          openQty += terms.members === undefined ? holds : Math.min(holds, m.qty)
          otherLiveIntents += live.get(m.tradeId)?.n ?? 0
        }
        return { tradeState, openQty, otherLiveIntents }
      })

    /** What a committed decision step says. */
    const decidedBy = (step: StepOutcome, d: { decided: Decided }) =>
      Effect.gen(function* () {
        if (step.refused !== null) return { approved: false, code: "REFUSED", reason: step.refused } as Decided
        yield* Metric.increment(d.decided.approved ? intentsApproved : intentsRejected)
        return d.decided
      })

    /** A signal to publish (and to create first, when `create` is given) with its intent's terms. */
    interface ToPublish {
      readonly signalId: string
      readonly terms: IntentTerms
      readonly t: TradeContext
      readonly detectedPrice: number | null
      readonly cause: string
      readonly create?: ReturnType<typeof signalInput>
    }

    const positionKey = (accountId: string, symbol: string, product: string) => `${accountId}|${symbol}|${product}`

    /**
     * Publishes signals with their intents and the gates' decisions, one position at a time under
     * its lock: the decisions are taken first, then every creation, publication and decision is
     * offered in order in one go, so that they share group commits and each is committed after the
     * row it is about.
     */
    const publishAll = (items: ReadonlyArray<ToPublish>): Effect.Effect<ReadonlyMap<ToPublish, Qualified>> =>
      Effect.gen(function* () {
        const groups = new Map<string, Array<ToPublish>>()
        for (const item of items) {
          const key = positionKey(item.t.accountId, item.t.symbol, item.t.product)
          const group = groups.get(key)
          if (group) group.push(item)
          else groups.set(key, [item])
        }
        const answers = new Map<ToPublish, Qualified>()
        yield* Effect.forEach(
          groups.values(),
          (group) => {
            const { accountId, symbol, product } = group[0]!.t
            return onPosition(
              accountId,
              symbol,
              product,
            )(
              Effect.gen(function* () {
                const decisions = yield* decisionsFor(group, false)
                const steps: Array<Offer> = []
                group.forEach((item, i) => {
                  const { signalId, terms, t, cause } = item
                  if (item.create)
                    steps.push({ actorId: signalId, create: { actorType: "exitSignal", input: item.create }, cause })
                  const publish = { type: "signal.publish", intentId: terms.intentId, side: terms.side, qty: terms.qty }
                  steps.push({
                    actorId: signalId,
                    event: { ...publish, exchange: t.exchange, product: t.product },
                    cause,
                  })
                  steps.push({ actorId: terms.intentId, event: decisions[i]!.event, cause: "exit:gate" })
                })
                const outcomes = yield* rt.offerAll(steps)
                let k = 0
                for (let i = 0; i < group.length; i++) {
                  const item = group[i]!
                  const created = item.create ? outcomes[k++]! : null
                  const published = outcomes[k++]!
                  const decided = outcomes[k++]!
                  if (created && created.refused !== null) {
                    const duplicate = created.refused.includes("already exists")
                    answers.set(item, notEligible(duplicate ? "DUPLICATE" : "REFUSED", created.refused))
                    continue
                  }
                  if (created) yield* Metric.increment(signalsDetected)
                  if (published.refused !== null) {
                    answers.set(item, notEligible("REFUSED", `signal ${item.signalId} was not published`))
                    continue
                  }
                  yield* Metric.increment(signalsPublished)
                  const decision = yield* decidedBy(decided, decisions[i]!)
                  answers.set(item, {
                    _tag: "Published",
                    signalId: item.signalId,
                    intentId: item.terms.intentId,
                    decision,
                  })
                }
              }).pipe(Effect.annotateLogs({ accountId, symbol, product })),
            )
          },
          // One position (a firing tick) runs in this fiber: a forked one would wait its turn behind
          // every task queued on the scheduler, milliseconds on a busy engine.
          { concurrency: groups.size > 1 ? "unbounded" : 1, discard: true },
        )
        return answers
      })

    const termsOf = (signalId: string, t: TradeContext): IntentTerms => ({
      intentId: intentIdOf(signalId),
      tradeId: t.tradeId,
      accountId: t.accountId,
      symbol: t.symbol,
      exchange: t.exchange,
      side: exitSideOf(t.direction),
      qty: t.qty - t.exitedQty,
    })

    /** The candidates whose trade is OPEN, with it; the others answered NO_TRADE or TRADE_NOT_OPEN. */
    const openOnes = (cs: ReadonlyArray<ExitCandidate>, answers: Map<ExitCandidate, Qualified>) =>
      Effect.gen(function* () {
        const open: Array<{ c: ExitCandidate; t: TradeContext }> = []
        for (const c of cs) {
          const trade = yield* tradeOf(c.tradeId)
          if (Option.isNone(trade)) answers.set(c, notEligible("NO_TRADE", `no trade ${c.tradeId}`))
          else if (trade.value.view.state !== "OPEN")
            answers.set(c, notEligible("TRADE_NOT_OPEN", `the trade is ${trade.value.view.state}`))
          else open.push({ c, t: trade.value.c })
        }
        return open
      })

    /** Stage 2 for candidates the caller holds: the trade checks, then signals, intents and decisions. */
    const qualifyAll = (cs: ReadonlyArray<ExitCandidate>, options: SubmitOptions) =>
      Effect.gen(function* () {
        const answers = new Map<ExitCandidate, Qualified>()
        const open = yield* openOnes(cs, answers)
        const tradeIds = open.map((o) => o.c.tradeId)
        const cool = options.bypassCooldown || open.length === 0 ? new Map() : yield* cooling(tradeIds)
        const episodes = open.length === 0 ? new Map() : yield* lastEpisodes(tradeIds)
        const cause = `exit:${options.source}`
        const toPublish = new Map<ToPublish, ExitCandidate>()
        for (const { c, t } of open) {
          const cooled = cool.get(c.tradeId)
          if (cooled) {
            answers.set(c, notEligible("COOLDOWN", `signal ${cooled.signal_id} is cooling down`))
            continue
          }
          if (!settings.executes(t.accountId, t.symbol)) {
            const dark = yield* recordedDark(c.tradeId, c.reason)
            if (dark) {
              answers.set(c, notEligible("RECORDED_DARK", `intent ${dark.intent_id} already recorded it, dark`))
              continue
            }
          }
          const episode = Math.max(t.episode, (episodes.get(c.tradeId)?.e ?? -1) + 1)
          const signalId = signalIdOf(c.tradeId, c.reason, episode)
          const create = signalInput(signalId, episode, t, c, config.cooldownMs)
          toPublish.set({ signalId, terms: termsOf(signalId, t), t, detectedPrice: c.price, cause, create }, c)
        }
        const published = yield* publishAll([...toPublish.keys()])
        for (const [item, c] of toPublish) answers.set(c, published.get(item)!)
        return answers as ReadonlyMap<ExitCandidate, Qualified>
      })

    /**
     * Stage 2 for the trades of one position exited together (an exit request), candidates the
     * caller holds, oldest first: one signal on the oldest open trade and one intent over every
     * open trade (its members, each for what it holds), gated as one; so one order (one per slice)
     * exits the lot. Every member's candidate gets the intent's answer. One open trade alone goes
     * the usual way.
     */
    const qualifyPosition = (cs: ReadonlyArray<ExitCandidate>, options: SubmitOptions) =>
      Effect.gen(function* () {
        const answers = new Map<ExitCandidate, Qualified>()
        const open = yield* openOnes(cs, answers)
        if (open.length <= 1) {
          for (const [c, q] of yield* qualifyAll(
            open.map((o) => o.c),
            options,
          ))
            answers.set(c, q)
          return answers as ReadonlyMap<ExitCandidate, Qualified>
        }
        const { c, t } = open[0]!
        const everyOne = (q: Qualified) => {
          for (const o of open) answers.set(o.c, q)
          return answers as ReadonlyMap<ExitCandidate, Qualified>
        }
        const cooled = options.bypassCooldown ? undefined : (yield* cooling([c.tradeId])).get(c.tradeId)
        if (cooled) return everyOne(notEligible("COOLDOWN", `signal ${cooled.signal_id} is cooling down`))
        // While dark, an exit is recorded once (as for one trade), by its first trade.
        const dark = settings.executes(t.accountId, t.symbol) ? undefined : yield* recordedDark(c.tradeId, c.reason)
        if (dark) return everyOne(notEligible("RECORDED_DARK", `intent ${dark.intent_id} already recorded it, dark`))
        const episode = Math.max(t.episode, ((yield* lastEpisodes([c.tradeId])).get(c.tradeId)?.e ?? -1) + 1)
        const signalId = signalIdOf(c.tradeId, c.reason, episode)
        const members = open.map((o) => ({ tradeId: o.c.tradeId, qty: o.t.qty - o.t.exitedQty }))
        const terms = { ...termsOf(signalId, t), qty: members.reduce((n, m) => n + m.qty, 0), members }
        const create = { ...signalInput(signalId, episode, t, c, config.cooldownMs), members }
        const item = { signalId, terms, t, detectedPrice: c.price, cause: `exit:${options.source}`, create }
        return everyOne((yield* publishAll([item])).get(item)!)
      })

    /** Gates a PENDING intent found at start (its decision was lost in a crash). */
    const gate = (intentId: string, detectedPrice: number | null): Effect.Effect<Decided> =>
      Effect.gen(function* () {
        const ic = Option.getOrThrow(yield* rt.view(intentId)).context as unknown as ExitIntentContext
        return yield* onPosition(
          ic.accountId,
          ic.symbol,
          ic.product,
        )(
          Effect.gen(function* () {
            const [d] = yield* decisionsFor([{ terms: ic, detectedPrice }], true)
            return yield* decidedBy(yield* rt.send(intentId, d!.event, "exit:gate"), d!)
          }),
        )
      })

    /** Finishes what a crash interrupted: DETECTED signals are published (or suppressed), PENDING intents gated. */
    const recover = Effect.gen(function* () {
      const detected = yield* Effect.orDie(sql<{ signal_id: string; trade_id: string; detected_price: number | null }>`
        SELECT signal_id, trade_id, detected_price FROM exit_signals WHERE state = 'DETECTED'`)
      for (const s of detected) yield* holdingAll([{ tradeId: s.trade_id }], () => resume(s))
      const pending = yield* Effect.orDie(sql<{ intent_id: string; trade_id: string; detected_price: number | null }>`
        SELECT i.intent_id, i.trade_id, s.detected_price FROM exit_intents i
        JOIN exit_signals s ON s.signal_id = i.signal_id WHERE i.state = 'PENDING'`)
      for (const i of pending) {
        const key = { tradeId: i.trade_id }
        yield* holdingAll([key], () =>
          Effect.map(
            gate(i.intent_id, i.detected_price),
            (decision) =>
              new Map([[key, { _tag: "Published" as const, signalId: "", intentId: i.intent_id, decision }]]),
          ),
        )
      }
      return detected.length + pending.length
    })

    const resume = (s: { signal_id: string; trade_id: string; detected_price: number | null }) =>
      Effect.gen(function* () {
        const key = { tradeId: s.trade_id }
        const trade = yield* tradeOf(s.trade_id)
        if (Option.isSome(trade) && trade.value.view.state === "OPEN") {
          const t = trade.value.c
          // A position's exit goes on over the members it was detected with; the gates check them again.
          const signal = yield* rt.view(s.signal_id)
          const members = Option.match(signal, {
            onNone: () => undefined,
            onSome: (v) => (v.context as unknown as ExitSignalInput).members,
          })
          const terms = members
            ? { ...termsOf(s.signal_id, t), qty: members.reduce((n, m) => n + m.qty, 0), members }
            : termsOf(s.signal_id, t)
          const item = { signalId: s.signal_id, terms, t, detectedPrice: s.detected_price }
          const published = yield* publishAll([{ ...item, cause: "exit:recover" }])
          return new Map([[key, [...published.values()][0]!]])
        }
        const reason = Option.isSome(trade) ? `the trade is ${trade.value.view.state}` : "no such trade"
        yield* rt.send(s.signal_id, { type: "signal.suppress", reason }, "exit:recover")
        return new Map([[key, notEligible("TRADE_NOT_OPEN", reason)]])
      })

    yield* recover

    return {
      /** Qualifies one candidate: a signal, its intent and the gates' decision, or why not. */
      submit: (c: ExitCandidate, options: SubmitOptions): Effect.Effect<Qualified> =>
        Effect.map(
          holdingAll([c], (taken) => qualifyAll(taken, options)),
          (answers) => answers[0]!,
        ),
      /**
       * Qualifies many candidates at once (an exit request): each position's trades are gated
       * together and their steps share group commits. Answers in the candidates' order.
       */
      submitAll: (cs: ReadonlyArray<ExitCandidate>, options: SubmitOptions): Effect.Effect<ReadonlyArray<Qualified>> =>
        holdingAll(cs, (taken) => qualifyAll(taken, options)),
      /**
       * Qualifies the trades of one position as one exit (see `qualifyPosition`): candidates of one
       * account, symbol and product, oldest first. Answers in the candidates' order.
       */
      submitPosition: (
        cs: ReadonlyArray<ExitCandidate>,
        options: SubmitOptions,
      ): Effect.Effect<ReadonlyArray<Qualified>> => holdingAll(cs, (taken) => qualifyPosition(taken, options)),
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

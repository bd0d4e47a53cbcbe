/**
 * The trade manager: the single writer of trades. It opens a Trade actor from an executed entry,
 * either directly (`open`, for callers that already hold the fill) or from an entry order: placed
 * by itself (`enter`) or elsewhere (`prepare`, e.g. by the entry pipeline). The opening is written
 * first (migrations/0006), the entry Order actor carries the trade id as its parent, and when that
 * order ends with fills the trade opens with the order's quantity and average price. Trades are
 * closed only by their machine; nothing here closes one.
 *
 * Late exit fills: a fill that reaches an exit order after its intent has ended (FAILED: a slice
 * cancelled but filled at the exchange first) is recorded on the Order, whose notice to the intent
 * is refused (the intent is final) and journaled in the same commit. The manager follows those
 * refusals and tells the trade (`exit.lateFill`, keyed by order and fill id, so a fill counts once
 * however often it is told; a position's exit shares it out over its members, oldest first, where
 * its failure's share left off). Rows first, events after: at start it goes over the refused notices
 * of the FAILED intents of trades not CLOSED and tells each trade what it has not recorded yet, so
 * a crash between the fill's commit and the trade's loses nothing.
 *
 * Limitation: the trade opens when its entry order ends (EXECUTED, or CANCELLED / EXPIRED /
 * FAILED with fills); a fill that arrives after a cancel is not added to the trade.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Data, Effect, Either, Option, Queue } from "effect"
import { allocation, type ExitIntentContext, slicesOf } from "../../machines/ExitIntentMachine.js"
import type { OrderContext, OrderInput } from "../../machines/OrderMachine.js"
import type { TradeContext, TradeInput, Trailing } from "../../machines/TradeMachine.js"
import type { Direction, Product, Side } from "../domain/Trading.js"
import { directionOf } from "../domain/Trading.js"
import { ExitConfig, instrumentOf } from "../exits/ExitConfig.js"
import { TickHub } from "../market/TickHub.js"
import { shapeOrder } from "../orders/OrderShaping.js"
import { ActorRuntime, type Transition } from "../runtime/ActorRuntime.js"
import { Ids } from "../runtime/Ids.js"

/** A trailing stop as an entry gives it: a distance in price (no unit), percent or ticks. */
export interface TrailingSpec {
  readonly distance: number
  readonly unit?: "price" | "percent" | "ticks"
}

/** The exit levels of a trade. */
export interface ExitLevels {
  readonly stopLoss?: number | null
  readonly target?: number | null
  readonly trailing?: TrailingSpec | null
}

/** An executed entry a trade is opened from. */
export interface OpenTrade extends ExitLevels {
  /** The trade id; one from the Ids service when absent. */
  readonly tradeId?: string
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly direction: Direction
  readonly qty: number
  readonly entryPrice: number
  readonly entryOrderId?: string | null
  /** Epoch ms of the entry fill; the Clock's now when absent. */
  readonly openedAt?: number
}

/** The trade an entry opens: where, which side, and its exit levels. */
export interface OpeningPlan extends ExitLevels {
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly side: Side
}

/** An entry to place; its trade opens when the order executes. */
export interface EntryPlan extends OpeningPlan {
  readonly qty: number
  /** MARKET (sent as a protective limit where market orders are refused) or LIMIT at `price`. */
  readonly orderType?: "MARKET" | "LIMIT"
  readonly price?: number | null
}

/** A trade or an entry the manager would not create, and why. */
export class TradeRefused extends Data.TaggedError("TradeRefused")<{ readonly reason: string }> {}

interface Opening {
  readonly trade_id: string
  readonly order_id: string
  readonly account_id: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly direction: Direction
  readonly stop_loss: number | null
  readonly target: number | null
  readonly trailing: string | null
}

const endedStates = new Set(["EXECUTED", "CANCELLED", "EXPIRED", "FAILED"])
/** The ends of an exit intent: an order fill it refuses in one of them is the trade's late fill. */
const intentEnds = new Set(["FILLED", "FAILED", "REJECTED"])

/** An exit order's fill notice (`order.filled`), as its intent's journal holds it. */
interface FillNotice {
  readonly orderId: string
  readonly fillId: string
  readonly qty: number
  readonly price: number
}

const fillNoticeOf = (event: string): FillNotice | null => {
  try {
    const e = JSON.parse(event) as Partial<FillNotice> & { type?: string }
    if (e.type !== "order.filled" || typeof e.orderId !== "string" || typeof e.fillId !== "string") return null
    if (typeof e.qty !== "number" || typeof e.price !== "number") return null
    return { orderId: e.orderId, fillId: e.fillId, qty: e.qty, price: e.price }
  } catch {
    return null
  }
}

/** The trade manager: opens trades, from a fill or by placing their entry. */
export class TradeManager extends Effect.Service<TradeManager>()("warden/TradeManager", {
  scoped: Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const sql = yield* SqlClient.SqlClient
    const ids = yield* Ids
    const hub = yield* TickHub
    const config = yield* ExitConfig
    const openings = new Map<string, Opening>()

    const trailingOf = (t: OpenTrade | OpeningPlan, spec: TrailingSpec | null | undefined): Trailing | null => {
      if (!spec) return null
      const unit = spec.unit ?? "price"
      if (unit !== "ticks") return { distance: spec.distance, unit }
      return {
        distance: spec.distance,
        unit,
        tickSize: instrumentOf(config.instruments, t.exchange, t.symbol).tickSize,
      }
    }

    const open = (t: OpenTrade): Effect.Effect<string, TradeRefused> =>
      Effect.gen(function* () {
        const tradeId = t.tradeId ?? (yield* ids.next("trd"))
        const input = {
          tradeId,
          accountId: t.accountId,
          symbol: t.symbol,
          exchange: t.exchange,
          product: t.product,
          direction: t.direction,
          qty: t.qty,
          entryPrice: t.entryPrice,
          stopLoss: t.stopLoss ?? null,
          target: t.target ?? null,
          trailing: trailingOf(t, t.trailing),
          entryOrderId: t.entryOrderId ?? null,
          openedAt: t.openedAt ?? (yield* Clock.currentTimeMillis),
        } satisfies TradeInput
        const out = yield* rt.spawn("trade", tradeId, input, "trades:open")
        if (out.refused !== null) return yield* new TradeRefused({ reason: out.refused })
        return tradeId
      })

    /** Records the trade an entry order will open; the order's parent id must be the trade id returned. */
    /** Records the trade an entry order will open; idempotent by order id (a resumed command asks again). */
    const prepare = (plan: OpeningPlan, orderId: string): Effect.Effect<string> =>
      Effect.gen(function* () {
        const known = yield* Effect.orDie(
          sql<{ trade_id: string }>`SELECT trade_id FROM trade_openings WHERE order_id = ${orderId}`,
        )
        if (known[0]) return known[0].trade_id
        const tradeId = yield* ids.next("trd")
        const now = yield* Clock.currentTimeMillis
        const opening: Opening = {
          trade_id: tradeId,
          order_id: orderId,
          account_id: plan.accountId,
          symbol: plan.symbol,
          exchange: plan.exchange,
          product: plan.product,
          direction: directionOf(plan.side),
          stop_loss: plan.stopLoss ?? null,
          target: plan.target ?? null,
          trailing: plan.trailing ? JSON.stringify(trailingOf(plan, plan.trailing)) : null,
        }
        const row = { ...opening, status: "PENDING", created_at: now, updated_at: now }
        yield* Effect.orDie(sql`INSERT INTO trade_openings ${sql.insert(row)}`)
        openings.set(orderId, opening)
        return tradeId
      })

    const enter = (plan: EntryPlan): Effect.Effect<{ tradeId: string; orderId: string }, TradeRefused> =>
      Effect.gen(function* () {
        const instrument = instrumentOf(config.instruments, plan.exchange, plan.symbol)
        const orderType = plan.orderType ?? "MARKET"
        const draft = { side: plan.side, qty: plan.qty, orderType, price: plan.price ?? null, triggerPrice: null }
        const shaped = shapeOrder(draft, instrument, { ltp: hub.last(plan.symbol)?.ltp ?? null, roundPrices: true })
        if (Either.isLeft(shaped))
          return yield* new TradeRefused({ reason: `${shaped.left.field}: ${shaped.left.message}` })
        if (shaped.right.length > 1) return yield* new TradeRefused({ reason: "entry at or above the freeze quantity" })
        const order = shaped.right[0]!
        const orderId = yield* ids.next("ord")
        const tradeId = yield* prepare(plan, orderId)
        const input = {
          orderId,
          accountId: plan.accountId,
          symbol: plan.symbol,
          exchange: plan.exchange,
          side: plan.side,
          qty: order.qty,
          product: plan.product,
          orderType: order.orderType,
          price: order.price,
          triggerPrice: null,
          clientTag: orderId,
          purpose: "ENTRY",
          parentId: tradeId,
          createdAt: yield* Clock.currentTimeMillis,
        } satisfies OrderInput
        const spawned = yield* rt.spawn("order", orderId, input, "trades:enter")
        if (spawned.refused !== null) return yield* new TradeRefused({ reason: spawned.refused })
        yield* rt.send(orderId, { type: "cmd.place" }, "trades:enter")
        return { tradeId, orderId }
      })

    const mark = (o: Opening, status: "OPENED" | "FAILED") =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        yield* Effect.orDie(
          sql`UPDATE trade_openings SET status = ${status}, updated_at = ${now} WHERE trade_id = ${o.trade_id}`,
        )
        openings.delete(o.order_id)
      })

    /** Opens the trade of an ended entry order with its fills (or gives the opening up without any). */
    const settle = (o: Opening) =>
      Effect.gen(function* () {
        const view = yield* rt.view(o.order_id)
        if (Option.isNone(view)) return yield* mark(o, "FAILED")
        if (!endedStates.has(view.value.state)) return
        const c = view.value.context as unknown as OrderContext
        if (c.filledQty <= 0) return yield* mark(o, "FAILED")
        const opened = yield* Effect.either(
          open({
            tradeId: o.trade_id,
            accountId: o.account_id,
            symbol: o.symbol,
            exchange: o.exchange,
            product: o.product,
            direction: o.direction,
            qty: c.filledQty,
            entryPrice: c.avgPrice,
            stopLoss: o.stop_loss,
            target: o.target,
            trailing: o.trailing === null ? null : (JSON.parse(o.trailing) as TrailingSpec),
            entryOrderId: o.order_id,
          }),
        )
        if (Either.isLeft(opened) && !opened.left.reason.includes("already exists"))
          yield* Effect.logError(`trade ${o.trade_id} not opened: ${opened.left.reason}`)
        yield* mark(o, Either.isRight(opened) || opened.left.reason.includes("already exists") ? "OPENED" : "FAILED")
      }).pipe(Effect.annotateLogs({ tradeId: o.trade_id, orderId: o.order_id }))

    /**
     * Tells the trade of a fill its ended intent refused (journal row `seq` of the intent), unless
     * the trade has it already. A fill the intent itself counted is not late. A position's exit
     * shares the fill out over its members where its failure's share left off, oldest first (see
     * `allocation`): what the intent counted and the late fills before this one came first.
     */
    const lateFill = (intentId: string, f: FillNotice, seq: number) =>
      Effect.gen(function* () {
        const intent = yield* rt.view(intentId)
        if (Option.isNone(intent) || !intentEnds.has(intent.value.state)) return
        const ic = intent.value.context as unknown as ExitIntentContext
        const slice = slicesOf(ic).find((s) => s.orderId === f.orderId)
        if (slice === undefined || slice.fillIds.includes(f.fillId)) return
        const cause = `${intentId}#${seq}`
        if (ic.members === undefined) return yield* tellTrade(ic, ic.tradeId, f, cause)
        const counted = new Set(slicesOf(ic).flatMap((s) => s.fillIds.map((id) => `${s.orderId}/${id}`)))
        counted.add(`${f.orderId}/${f.fillId}`)
        let earlier = 0
        for (const r of yield* refusedFills(intentId)) {
          const e = r.seq < seq ? fillNoticeOf(r.event) : null
          if (e === null || counted.has(`${e.orderId}/${e.fillId}`)) continue
          counted.add(`${e.orderId}/${e.fillId}`)
          earlier += e.qty
        }
        const before = allocation(ic.members, ic.filledQty + earlier)
        const after = allocation(ic.members, ic.filledQty + earlier + f.qty)
        const shares = after.map((m, i) => ({ tradeId: m.tradeId, qty: m.qty - before[i]!.qty }))
        // Beyond every member: the last one records it as its excess.
        const beyond = f.qty - shares.reduce((n, m) => n + m.qty, 0)
        if (beyond > 0) shares[shares.length - 1] = { ...shares.at(-1)!, qty: shares.at(-1)!.qty + beyond }
        for (const share of shares)
          if (share.qty > 0) yield* tellTrade(ic, share.tradeId, { ...f, qty: share.qty }, cause)
      }).pipe(Effect.annotateLogs({ intentId, orderId: f.orderId, fillId: f.fillId }))

    /** The fills an intent refused (it had ended), in journal order. */
    const refusedFills = (intentId: string) =>
      Effect.orDie(
        sql<{ seq: number; event: string }>`
          SELECT seq, event FROM journal
          WHERE actor_id = ${intentId} AND event_type = 'order.filled' AND refused IS NOT NULL ORDER BY seq`,
      )

    /** Tells one trade of (its share of) a late fill, unless it has it already. */
    const tellTrade = (ic: ExitIntentContext, tradeId: string, f: FillNotice, cause: string) =>
      Effect.gen(function* () {
        const trade = yield* rt.view(tradeId)
        if (Option.isNone(trade)) return yield* Effect.logError(`late fill ${f.orderId}/${f.fillId}: no trade`)
        const tc = trade.value.context as unknown as TradeContext
        if ((tc.lateFills ?? []).some((x) => x.orderId === f.orderId && x.fillId === f.fillId)) return
        const event = {
          type: "exit.lateFill",
          intentId: ic.intentId,
          orderId: f.orderId,
          fillId: f.fillId,
          qty: f.qty,
          price: f.price,
          reason: ic.exitReason,
        }
        const out = yield* rt.send(tradeId, event, cause)
        // A CLOSED trade refuses it (journaled on the trade): all of it went beyond the trade.
        if (out.refused !== null)
          return yield* Effect.logError(`late exit fill ${f.qty} @ ${f.price} not taken by the trade: ${out.refused}`)
        const after = yield* rt.view(tradeId)
        const excess = Option.match(after, {
          onNone: () => 0,
          onSome: (v) => (v.context as unknown as TradeContext).excessQty ?? 0,
        })
        if (excess > (tc.excessQty ?? 0))
          yield* Effect.logError(
            `late exit fill ${f.qty} @ ${f.price} exits ${excess - (tc.excessQty ?? 0)} beyond the trade`,
          )
        else yield* Effect.logWarning(`late exit fill ${f.qty} @ ${f.price} added to the trade`)
      }).pipe(Effect.annotateLogs({ tradeId }))

    /** Late fills committed before this start whose trade has not heard of them (a crash in between). */
    const catchUpLateFills = Effect.gen(function* () {
      // A position's exit is found through any member not CLOSED.
      const intents = yield* Effect.orDie(
        sql<{ intent_id: string }>`
          SELECT i.intent_id FROM exit_intents i JOIN trades t ON t.trade_id = i.trade_id
          WHERE i.status = 'FAILED' AND t.status <> 'CLOSED'
          UNION
          SELECT i.intent_id FROM exit_intents i JOIN exit_intent_members m ON m.intent_id = i.intent_id
          JOIN trades t ON t.trade_id = m.trade_id WHERE i.status = 'FAILED' AND t.status <> 'CLOSED'
          ORDER BY intent_id`,
      )
      for (const { intent_id } of intents) {
        for (const r of yield* refusedFills(intent_id)) {
          const f = fillNoticeOf(r.event)
          if (f) yield* lateFill(intent_id, f, r.seq)
        }
      }
    })

    const onTransition = (t: Transition): Effect.Effect<void> => {
      if (t.actorType === "exitIntent" && t.eventType === "order.filled" && t.refused !== null) {
        const f = fillNoticeOf(t.event)
        return f ? lateFill(t.actorId, f, t.seq) : Effect.void
      }
      if (t.actorType !== "order" || t.refused !== null || !endedStates.has(t.to.split(".")[0] ?? ""))
        return Effect.void
      const o = openings.get(t.actorId)
      return o ? settle(o) : Effect.void
    }

    // Subscribed before loading, so that an entry ending after the load is not missed.
    const transitions = yield* rt.subscribe
    const pending = yield* Effect.orDie(sql<Opening>`SELECT * FROM trade_openings WHERE status = 'PENDING'`)
    for (const o of pending) openings.set(o.order_id, o)
    for (const o of pending) yield* settle(o)
    yield* catchUpLateFills
    const onTransitionSafely = (t: Transition) =>
      Effect.catchAllCause(onTransition(t), (cause) =>
        Effect.logError(`trade manager: ${t.actorId} not followed`, cause),
      )
    yield* Effect.forkScoped(
      Effect.forever(
        // Waits for at least one transition: `takeAll` alone answers an empty batch at once (a busy loop).
        Effect.flatMap(Queue.takeBetween(transitions, 1, Number.MAX_SAFE_INTEGER), (batch) =>
          Effect.forEach(batch, onTransitionSafely, { discard: true }),
        ),
      ),
    )

    return {
      /** Opens a trade from an executed entry; its id. */
      open,
      /** Places an entry order; the trade (`tradeId`) opens when the order executes. */
      enter,
      /** Records the trade an entry order placed elsewhere will open (that order's parent id: the trade id). */
      prepare,
    }
  }),
}) {}

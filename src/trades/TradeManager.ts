/**
 * The trade manager: the single writer of trades. It opens a Trade actor from an executed entry,
 * either directly (`open`, for callers that already hold the fill) or from an entry order: placed
 * by itself (`enter`) or elsewhere (`prepare`, e.g. by the entry pipeline). The opening is written
 * first (migrations/0006), the entry Order actor carries the trade id as its parent, and when that
 * order ends with fills the trade opens with the order's quantity and average price. Trades are closed only by their machine, on the
 * `exit.filled` of a FILLED exit intent; nothing here closes one.
 *
 * Limitation: the trade opens when its entry order ends (EXECUTED, or CANCELLED / EXPIRED /
 * FAILED with fills); a fill that arrives after a cancel is not added to the trade.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Data, Effect, Either, Option, Queue } from "effect"
import type { OrderContext, OrderInput } from "../../machines/OrderMachine.js"
import type { TradeInput, Trailing } from "../../machines/TradeMachine.js"
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

    const onTransition = (t: Transition): Effect.Effect<void> => {
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

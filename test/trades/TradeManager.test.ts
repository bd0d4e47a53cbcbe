/**
 * The trade manager on the real engine: trades opened from a fill or from an entry order it
 * places (the order's parent is the trade to open), with their exit levels; restart-safe.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { TradeManager } from "../../src/trades/TradeManager.js"
import { tempDir } from "../fixtures/TestEngine.js"
import { contextOf, exitEngine, rows, settled, stateOf, tick, untilState } from "../exits/exitHarness.js"

const entry = {
  accountId: "U1",
  symbol: "NIFTY26MARFUT",
  exchange: "NFO",
  product: "MIS" as const,
  side: "BUY" as const,
  qty: 65,
  stopLoss: 21950,
  target: 22100,
}

const openings = rows<{ trade_id: string; status: string }>("SELECT trade_id, status FROM trade_openings")

describe("TradeManager.open", () => {
  it.live(
    "opens a trade with its levels; a trailing distance without a unit is in price, one in ticks uses the tick size",
    () =>
      Effect.gen(function* () {
        const trades = yield* TradeManager
        const base = { ...entry, direction: "LONG" as const, entryPrice: 22000 }
        const a = yield* trades.open({ ...base, trailing: { distance: 20 } })
        const b = yield* trades.open({ ...base, trailing: { distance: 10, unit: "ticks" } })
        expect(yield* stateOf(a)).toBe("OPEN")
        expect(yield* contextOf(a)).toMatchObject({
          trailing: { distance: 20, unit: "price" },
          trailLevel: 21980,
          episode: 0,
        })
        expect(yield* contextOf(b)).toMatchObject({
          trailing: { distance: 10, unit: "ticks", tickSize: 0.05 },
          trailLevel: 21999.5,
        })
        const again = yield* Effect.either(trades.open({ ...base, tradeId: a }))
        expect(Either.isLeft(again)).toBe(true)
      }).pipe(Effect.provide(exitEngine().layer)),
  )
})

describe("TradeManager.enter", () => {
  it.live("an executed entry opens its trade with the order's fill quantity and price and the plan's levels", () =>
    Effect.gen(function* () {
      yield* tick("NIFTY26MARFUT", 22000)
      const { tradeId, orderId } = yield* (yield* TradeManager).enter({ ...entry, trailing: { distance: 15 } })
      yield* untilState(tradeId, "OPEN")
      expect(yield* contextOf(tradeId)).toMatchObject({
        direction: "LONG",
        qty: 65,
        entryPrice: 22000,
        entryOrderId: orderId,
        stopLoss: 21950,
        target: 22100,
        trailLevel: 21985,
      })
      expect(yield* openings).toEqual([{ trade_id: tradeId, status: "OPENED" }])
    }).pipe(Effect.provide(exitEngine().layer)),
  )

  it.live("an entry the broker rejects opens no trade", () =>
    Effect.gen(function* () {
      yield* tick("NIFTY26MARFUT", 22000)
      const { tradeId, orderId } = yield* (yield* TradeManager).enter(entry)
      yield* untilState(orderId, "FAILED")
      yield* settled
      expect(yield* stateOf(tradeId)).toBe("")
      expect(yield* openings).toEqual([{ trade_id: tradeId, status: "FAILED" }])
    }).pipe(Effect.provide(exitEngine({ account: { faults: { rejectRate: 1 } } }).layer)),
  )

  it.live("a MARKET entry where market orders are refused goes as a protective limit", () =>
    Effect.gen(function* () {
      yield* tick("BANKNIFTY26MARFUT", 48000)
      const plan = {
        ...entry,
        symbol: "BANKNIFTY26MARFUT",
        qty: 30,
        side: "SELL" as const,
        stopLoss: 48100,
        target: null,
      }
      const { tradeId, orderId } = yield* (yield* TradeManager).enter(plan)
      expect(yield* contextOf(orderId)).toMatchObject({ orderType: "LIMIT", price: 47760 })
      yield* untilState(tradeId, "OPEN")
      expect(yield* contextOf(tradeId)).toMatchObject({ direction: "SHORT", entryPrice: 48000 })
    }).pipe(Effect.provide(exitEngine().layer)),
  )

  it.live("an entry still working when the engine stops opens its trade after the restart", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const slow = exitEngine({ dir, account: { faults: { latencyMs: [60_000, 60_000] } } })
      const { tradeId, orderId } = yield* Effect.scoped(
        Effect.flatMap(TradeManager, (t) => t.enter({ ...entry, orderType: "LIMIT", price: 22000 })).pipe(
          Effect.provide(slow.layer),
        ),
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          // The placement is re-driven at start; with no last price the limit rests until a tick.
          yield* untilState(orderId, "SENT_TO_BROKER.working")
          yield* tick("NIFTY26MARFUT", 22000)
          yield* untilState(tradeId, "OPEN")
          expect(yield* openings).toEqual([{ trade_id: tradeId, status: "OPENED" }])
        }).pipe(Effect.provide(exitEngine({ dir }).layer)),
      )
    }),
  )
})

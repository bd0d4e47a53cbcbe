import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import type { PlaceRequest } from "../../src/broker/Broker.js"
import { collectUpdates, dbOn, failureOf, freshDbFile, paper, request, settle } from "./paperHarness.js"

/** Places a request that must be rejected; returns the error and the booked order. */
const rejected = (b: Effect.Effect.Success<ReturnType<typeof paper>>, req: PlaceRequest) =>
  Effect.gen(function* () {
    const error = yield* failureOf(b.place(req))
    const booked = yield* b.orderByTag(req.clientTag)
    return { error, booked: Option.getOrNull(booked) }
  })

describe("paper broker rejects", () => {
  it.scoped("an order whose margin exceeds the available funds is rejected for insufficient funds", () =>
    Effect.gen(function* () {
      const b = yield* paper({ capital: 100_000 })
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { error, booked } = yield* rejected(b, request("t1"))
      expect(error.reason).toBe("Rejected")
      expect(error.retryable).toBe(false)
      expect(error.message).toBe("insufficient funds: margin required 286000.00, available 100000.00")
      expect(booked).toMatchObject({ status: "REJECTED", reason: error.message, brokerOrderId: "P-U1-000001" })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a price off the tick grid is rejected naming the tick size", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      const { error, booked } = yield* rejected(b, request("t1", { orderType: "LIMIT", price: 22000.03 }))
      expect(error.message).toBe("price 22000.03 is not a multiple of tick size 0.05")
      expect(booked?.status).toBe("REJECTED")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a trigger off the tick grid is rejected naming the trigger", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      const { error } = yield* rejected(b, request("t1", { orderType: "SL-M", triggerPrice: 22000.01 }))
      expect(error.message).toBe("trigger price 22000.01 is not a multiple of tick size 0.05")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a quantity that is not a whole number of lots is rejected naming the lot size", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { error } = yield* rejected(b, request("t1", { qty: 100 }))
      expect(error.message).toBe("quantity 100 is not a multiple of lot size 65")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a quantity at the freeze limit is rejected", () =>
    Effect.gen(function* () {
      const b = yield* paper({ capital: 100_000_000 })
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { error } = yield* rejected(b, request("t1", { qty: 1820 }))
      expect(error.message).toBe("quantity 1820 is at or above the freeze quantity 1800")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("MARKET and SL-M orders are rejected for an instrument that refuses market orders; a LIMIT is taken", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("BANKNIFTY26MARFUT", 48000)
      const bank = { symbol: "BANKNIFTY26MARFUT", qty: 30 }
      const market = yield* rejected(b, request("t1", bank))
      expect(market.error.message).toBe("MARKET orders are not allowed for BANKNIFTY26MARFUT; send a limit")
      const stop = yield* rejected(b, request("t2", { ...bank, orderType: "SL-M", triggerPrice: 48100 }))
      expect(stop.error.message).toBe("SL-M orders are not allowed for BANKNIFTY26MARFUT; send a limit")
      const { brokerOrderId } = yield* b.place(request("t3", { ...bank, orderType: "LIMIT", price: 48010 }))
      expect((yield* b.order(brokerOrderId)).status).toBe("FILLED")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("an order outside market hours is rejected as market closed", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-03-02T08:00:00+05:30"))
      const b = yield* paper({ marketHours: { open: "09:15", close: "15:30" } })
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { error } = yield* rejected(b, request("t1"))
      expect(error.message).toBe("market closed for NFO")
      yield* TestClock.setTime(Date.parse("2026-03-02T09:15:00+05:30"))
      const { brokerOrderId } = yield* b.place(request("t2"))
      expect((yield* b.order(brokerOrderId)).status).toBe("FILLED")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a MARKET order before any tick is rejected for want of a price", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      const { error } = yield* rejected(b, request("t1"))
      expect(error.message).toBe("no market price for NIFTY26MARFUT yet")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a MARKET order before any tick fills at the market's opening price when the broker knows one", () =>
    Effect.gen(function* () {
      const b = yield* paper({ openingPrices: new Map([["NIFTY26MARFUT", 22_000]]) })
      const { brokerOrderId } = yield* b.place(request("t1"))
      expect(yield* b.order(brokerOrderId)).toMatchObject({ status: "FILLED", avgPrice: 22_000 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a stop-limit with its limit on the wrong side of its trigger is rejected", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      const req = request("t1", { side: "SELL", orderType: "SL", triggerPrice: 21950, price: 21960 })
      const { error } = yield* rejected(b, req)
      expect(error.message).toBe("limit price 21960 is above the trigger 21950 of a SELL stop")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a malformed request is Invalid, names the field, and never reaches the book", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      const error = yield* failureOf(b.place(request("t1", { orderType: "LIMIT", price: null })))
      expect(error).toMatchObject({ reason: "Invalid", field: "price" })
      const other = yield* failureOf(b.place(request("t2", { accountId: "U2" })))
      expect(other).toMatchObject({ reason: "Invalid", field: "accountId" })
      expect(yield* b.orderBook).toEqual([])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped(
    "with rejectRate 1 the placement succeeds and the order is then rejected by the exchange (a late reject)",
    () =>
      Effect.gen(function* () {
        const b = yield* paper({ faults: { rejectRate: 1 } })
        const seen = yield* collectUpdates(b)
        yield* b.onTick("NIFTY26MARFUT", 22000)
        const { brokerOrderId } = yield* b.place(request("t1"))
        yield* settle
        expect(yield* b.order(brokerOrderId)).toMatchObject({ status: "REJECTED", filledQty: 0 })
        expect(seen.map((u) => [u.status, u.reason])).toEqual([
          ["REJECTED", "RMS: order rejected by the exchange (simulated)"],
        ])
      }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a CNC sell beyond the holdings is rejected", () =>
    Effect.gen(function* () {
      const b = yield* paper({ holdings: [{ symbol: "RELIANCE-EQ", exchange: "NSE", qty: 10, avgPrice: 2800 }] })
      yield* b.onTick("RELIANCE-EQ", 2850)
      const sell = { symbol: "RELIANCE-EQ", exchange: "NSE", side: "SELL", product: "CNC", qty: 11 } as const
      const { error } = yield* rejected(b, request("t1", sell))
      expect(error.message).toBe("insufficient holdings: 10 of RELIANCE-EQ free to sell, 11 asked")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )
})

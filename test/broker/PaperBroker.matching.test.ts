import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { collectUpdates, dbOn, failureOf, freshDbFile, paper, request, settle } from "./paperHarness.js"

const statusOf = (b: { order: (id: string) => Effect.Effect<{ status: string }, unknown> }, id: string) =>
  Effect.map(b.order(id), (o) => o.status)

describe("paper broker matching", () => {
  it.scoped("a market order fills at once at the last tick price", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { brokerOrderId } = yield* b.place(request("t1"))
      expect(brokerOrderId).toBe("P-U1-000001")
      const o = yield* b.order(brokerOrderId)
      expect(o).toMatchObject({ status: "FILLED", filledQty: 65, avgPrice: 22000, clientTag: "t1" })
      expect(yield* b.tradeBook).toMatchObject([{ fillId: "P-U1-000001-F1", qty: 65, price: 22000 }])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a limit below the market rests OPEN, then fills at its own limit when the price comes through it", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { brokerOrderId: id } = yield* b.place(request("t1", { orderType: "LIMIT", price: 21990 }))
      expect(yield* statusOf(b, id)).toBe("OPEN")
      yield* b.onTick("NIFTY26MARFUT", 21995)
      expect(yield* statusOf(b, id)).toBe("OPEN")
      yield* b.onTick("NIFTY26MARFUT", 21980)
      expect(yield* b.order(id)).toMatchObject({ status: "FILLED", filledQty: 65, avgPrice: 21990 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a marketable limit fills at the market price, not at its limit", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { brokerOrderId: id } = yield* b.place(request("t1", { side: "SELL", orderType: "LIMIT", price: 21950 }))
      expect(yield* b.order(id)).toMatchObject({ status: "FILLED", avgPrice: 22000 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a SELL stop-limit waits TRIGGER_PENDING and fills when the price falls to its trigger", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const sl = request("t1", { side: "SELL", orderType: "SL", triggerPrice: 21950, price: 21940 })
      const { brokerOrderId: id } = yield* b.place(sl)
      expect(yield* statusOf(b, id)).toBe("TRIGGER_PENDING")
      yield* b.onTick("NIFTY26MARFUT", 21960)
      expect(yield* statusOf(b, id)).toBe("TRIGGER_PENDING")
      yield* b.onTick("NIFTY26MARFUT", 21950)
      expect(yield* b.order(id)).toMatchObject({ status: "FILLED", avgPrice: 21950 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped(
    "a BUY stop-limit whose limit the market gapped past triggers, rests OPEN, and fills at its limit on the way back",
    () =>
      Effect.gen(function* () {
        const b = yield* paper()
        yield* b.onTick("NIFTY26MARFUT", 22000)
        const sl = request("t1", { side: "BUY", orderType: "SL", triggerPrice: 22050, price: 22060 })
        const { brokerOrderId: id } = yield* b.place(sl)
        yield* b.onTick("NIFTY26MARFUT", 22070)
        expect(yield* statusOf(b, id)).toBe("OPEN")
        yield* b.onTick("NIFTY26MARFUT", 22055)
        expect(yield* b.order(id)).toMatchObject({ status: "FILLED", avgPrice: 22060 })
      }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a BUY stop-market triggers when the price rises to its trigger and fills at the tick price", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { brokerOrderId: id } = yield* b.place(request("t1", { orderType: "SL-M", triggerPrice: 22050 }))
      yield* b.onTick("NIFTY26MARFUT", 22045)
      expect(yield* statusOf(b, id)).toBe("TRIGGER_PENDING")
      yield* b.onTick("NIFTY26MARFUT", 22055)
      expect(yield* b.order(id)).toMatchObject({ status: "FILLED", avgPrice: 22055 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a SELL stop-market triggers when the price falls to its trigger and fills at the tick price", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const sl = request("t1", { side: "SELL", orderType: "SL-M", triggerPrice: 21900 })
      const { brokerOrderId: id } = yield* b.place(sl)
      yield* b.onTick("NIFTY26MARFUT", 21905)
      expect(yield* statusOf(b, id)).toBe("TRIGGER_PENDING")
      yield* b.onTick("NIFTY26MARFUT", 21880)
      expect(yield* b.order(id)).toMatchObject({ status: "FILLED", avgPrice: 21880 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped(
    "with partialFillRate 1 an order fills in 2-3 parts, one per tick, never beyond its quantity, with unique fill ids",
    () =>
      Effect.gen(function* () {
        const b = yield* paper({ capital: 5_000_000, faults: { partialFillRate: 1 } })
        const seen = yield* collectUpdates(b)
        yield* b.onTick("NIFTY26MARFUT", 22000)
        const { brokerOrderId: id } = yield* b.place(request("t1", { qty: 325 }))
        for (const price of [22001, 22002, 22003, 22004]) yield* b.onTick("NIFTY26MARFUT", price)
        yield* settle
        const fills = yield* b.tradeBook
        expect(fills.length === 2 || fills.length === 3).toBe(true)
        expect(new Set(fills.map((f) => f.fillId)).size).toBe(fills.length)
        expect(fills.reduce((n, f) => n + f.qty, 0)).toBe(325)
        for (const f of fills) expect(f.qty % 65).toBe(0)
        const cumulative = seen.filter((u) => u.fill).map((u) => u.filledQty)
        expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b))
        expect(Math.max(...cumulative)).toBe(325)
        expect(seen.at(-1)?.status).toBe("FILLED")
        expect(seen.filter((u) => u.status === "PARTIALLY_FILLED").length).toBe(fills.length - 1)
        expect(yield* b.order(id)).toMatchObject({ status: "FILLED", filledQty: 325 })
      }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("cancelling a resting order makes it CANCELLED and releases its margin", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { brokerOrderId: id } = yield* b.place(request("t1", { orderType: "LIMIT", price: 21900 }))
      expect((yield* b.funds).usedMargin).toBeCloseTo(0.2 * 65 * 21900, 6)
      yield* b.cancel(id)
      expect(yield* b.order(id)).toMatchObject({ status: "CANCELLED", reason: "cancelled by user" })
      expect(yield* b.funds).toEqual({ available: 1_000_000, usedMargin: 0, total: 1_000_000 })
      yield* b.onTick("NIFTY26MARFUT", 21800)
      expect(yield* b.tradeBook).toEqual([])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a cancel that loses the race to a fill is refused with a clear error, and the fill stands", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { brokerOrderId: id } = yield* b.place(request("t1", { orderType: "LIMIT", price: 21990 }))
      yield* b.onTick("NIFTY26MARFUT", 21985)
      const error = yield* failureOf(b.cancel(id))
      expect(error.reason).toBe("Rejected")
      expect(error.retryable).toBe(false)
      expect(error.message).toBe("order P-U1-000001 is FILLED: it can no longer be changed or cancelled")
      expect(yield* statusOf(b, id)).toBe("FILLED")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped(
    "modifying a resting limit to a marketable price fills it at once; modifying a filled order is refused",
    () =>
      Effect.gen(function* () {
        const b = yield* paper()
        yield* b.onTick("NIFTY26MARFUT", 22000)
        const { brokerOrderId: id } = yield* b.place(request("t1", { orderType: "LIMIT", price: 21900 }))
        yield* b.modify(id, { price: 22010 })
        expect(yield* b.order(id)).toMatchObject({ status: "FILLED", price: 22010, avgPrice: 22000 })
        const error = yield* failureOf(b.modify(id, { price: 21000 }))
        expect(error.reason).toBe("Rejected")
      }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("an unknown order id is NotFound", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      expect((yield* failureOf(b.order("P-U1-999999"))).reason).toBe("NotFound")
      expect((yield* failureOf(b.cancel("P-U1-999999"))).reason).toBe("NotFound")
      expect(yield* b.orderByTag("nobody")).toEqual(Option.none())
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("latency holds a placement until the clock has moved by it", () =>
    Effect.gen(function* () {
      const b = yield* paper({ faults: { latencyMs: [100, 100] } })
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const fiber = yield* Effect.fork(b.place(request("t1")))
      yield* TestClock.adjust("99 millis")
      expect(yield* b.orderBook).toEqual([])
      yield* TestClock.adjust("1 millis")
      const { brokerOrderId } = yield* Fiber.join(fiber)
      expect(yield* b.order(brokerOrderId)).toMatchObject({ status: "FILLED", placedAt: 100 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("working orders expire at the end of the day", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const { brokerOrderId: id } = yield* b.place(request("t1", { orderType: "LIMIT", price: 21900 }))
      expect(yield* b.expireWorkingOrders).toBe(1)
      expect(yield* b.order(id)).toMatchObject({ status: "EXPIRED", reason: "expired at end of day" })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )
})

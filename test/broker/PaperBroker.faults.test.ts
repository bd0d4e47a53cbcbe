import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Stream, TestClock } from "effect"
import type { BrokerError } from "../../src/broker/Broker.js"
import { brief, collectUpdates, dbOn, failureOf, freshDbFile, paper, request, settle } from "./paperHarness.js"

const limitBuy = (tag: string, price: number) => request(tag, { orderType: "LIMIT", price })

describe("paper broker faults", () => {
  it.scoped("the port's updates stream delivers each order's updates, cumulative, in order without faults", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(b.updates, 2)))
      yield* settle
      yield* b.onTick("NIFTY26MARFUT", 22000)
      yield* b.place(request("t1"))
      const updates = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(updates).toEqual([
        {
          brokerOrderId: "P-U1-000001",
          clientTag: "t1",
          status: "OPEN",
          qty: 65,
          filledQty: 0,
          avgPrice: 0,
          reason: null,
          at: 0,
        },
        {
          brokerOrderId: "P-U1-000001",
          clientTag: "t1",
          status: "FILLED",
          qty: 65,
          filledQty: 65,
          avgPrice: 22000,
          fill: { fillId: "P-U1-000001-F1", qty: 65, price: 22000 },
          reason: null,
          at: 0,
        },
      ])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a send timeout fails the placement with Timeout, yet the order is in the book and found by its tag", () =>
    Effect.gen(function* () {
      const b = yield* paper({ faults: { sendTimeoutRate: 1 } })
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const error = yield* failureOf(b.place(request("t1")))
      expect(error.reason).toBe("Timeout")
      expect(error.retryable).toBe(false)
      const found = yield* b.orderByTag("t1")
      expect(Option.getOrThrow(found)).toMatchObject({
        brokerOrderId: "P-U1-000001",
        status: "FILLED",
        clientTag: "t1",
      })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("with duplicateUpdateRate 1 every update is delivered twice", () =>
    Effect.gen(function* () {
      const b = yield* paper({ faults: { duplicateUpdateRate: 1 } })
      const seen = yield* collectUpdates(b)
      yield* b.onTick("NIFTY26MARFUT", 22000)
      yield* b.place(limitBuy("t1", 21990))
      yield* b.onTick("NIFTY26MARFUT", 21980)
      yield* settle
      expect(brief(seen)).toEqual([
        "P-U1-000001 OPEN 0/65",
        "P-U1-000001 OPEN 0/65",
        "P-U1-000001 FILLED 65/65 P-U1-000001-F1@21990",
        "P-U1-000001 FILLED 65/65 P-U1-000001-F1@21990",
      ])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("with outOfOrderRate 1 an update is delivered after the one that followed it", () =>
    Effect.gen(function* () {
      const b = yield* paper({ faults: { outOfOrderRate: 1 } })
      const seen = yield* collectUpdates(b)
      yield* b.onTick("NIFTY26MARFUT", 22000)
      yield* b.place(limitBuy("t1", 21990))
      yield* b.onTick("NIFTY26MARFUT", 21980)
      yield* settle
      expect(brief(seen)).toEqual(["P-U1-000001 FILLED 65/65 P-U1-000001-F1@21990", "P-U1-000001 OPEN 0/65"])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a held-back update is delivered by the end of the next operation even when nothing follows it", () =>
    Effect.gen(function* () {
      const b = yield* paper({ faults: { outOfOrderRate: 1 } })
      const seen = yield* collectUpdates(b)
      yield* b.onTick("NIFTY26MARFUT", 22000)
      yield* b.place(limitBuy("t1", 21900))
      yield* settle
      expect(seen).toEqual([])
      yield* b.onTick("NIFTY26MARFUT", 22005)
      yield* settle
      expect(brief(seen)).toEqual(["P-U1-000001 OPEN 0/65"])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped(
    "during a disconnect fills happen but the stream is silent; the order book stays true; updates resume after",
    () =>
      Effect.gen(function* () {
        const b = yield* paper()
        const seen = yield* collectUpdates(b)
        yield* b.onTick("NIFTY26MARFUT", 22000)
        const { brokerOrderId: first } = yield* b.place(limitBuy("t1", 21990))
        yield* b.setConnected(false)
        yield* b.onTick("NIFTY26MARFUT", 21980)
        yield* settle
        expect(brief(seen)).toEqual(["P-U1-000001 OPEN 0/65"])
        expect(yield* b.order(first)).toMatchObject({ status: "FILLED", filledQty: 65 })
        expect((yield* b.tradeBook).map((t) => t.fillId)).toEqual(["P-U1-000001-F1"])
        yield* b.setConnected(true)
        yield* b.place(request("t2", { side: "SELL" }))
        yield* settle
        expect(brief(seen).slice(1)).toEqual(["P-U1-000002 OPEN 0/65", "P-U1-000002 FILLED 65/65 P-U1-000002-F1@21980"])
      }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a scheduled disconnect (atMs, forMs from the start) silences the stream only inside its window", () =>
    Effect.gen(function* () {
      const b = yield* paper({ startMs: 0, faults: { disconnects: [{ atMs: 1_000, forMs: 500 }] } })
      const seen = yield* collectUpdates(b)
      yield* b.onTick("NIFTY26MARFUT", 22000)
      yield* TestClock.setTime(1_000)
      yield* b.place(request("t1"))
      yield* TestClock.setTime(1_500)
      yield* b.place(request("t2"))
      yield* settle
      expect(brief(seen)).toEqual(["P-U1-000002 OPEN 0/65", "P-U1-000002 FILLED 65/65 P-U1-000002-F1@22000"])
      expect((yield* b.orderBook).map((o) => o.status)).toEqual(["FILLED", "FILLED"])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("while the broker is down every call fails Unavailable (retryable) and nothing reaches the book", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      yield* b.setDown(true)
      for (const call of [b.place(request("t1")), b.orderBook, b.funds, b.positions, b.orderByTag("t1")]) {
        const error = yield* failureOf(call as Effect.Effect<unknown, BrokerError>)
        expect(error.reason).toBe("Unavailable")
        expect(error.retryable).toBe(true)
      }
      yield* b.setDown(false)
      expect(yield* b.orderBook).toEqual([])
      const { brokerOrderId } = yield* b.place(request("t1"))
      expect(brokerOrderId).toBe("P-U1-000001")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("the same seed gives the same fills and updates under every knob", () =>
    Effect.gen(function* () {
      const faults = { partialFillRate: 0.5, duplicateUpdateRate: 0.3, outOfOrderRate: 0.3, rejectRate: 0.2 }
      const run = (seed: number) =>
        Effect.gen(function* () {
          const b = yield* paper({ capital: 100_000_000, faults }, seed)
          const seen = yield* collectUpdates(b)
          yield* b.onTick("NIFTY26MARFUT", 22000)
          for (let i = 0; i < 8; i++) yield* b.place({ ...limitBuy(`t${i}`, 21990 - 5 * i), qty: 195 })
          for (let p = 21990; p >= 21900; p -= 5) yield* b.onTick("NIFTY26MARFUT", p)
          yield* settle
          return { updates: brief(seen), fills: (yield* b.tradeBook).map((t) => `${t.fillId}:${t.qty}`) }
        }).pipe(Effect.provide(dbOn(freshDbFile())))
      const first = yield* run(11)
      expect(yield* run(11)).toEqual(first)
      expect(yield* run(12)).not.toEqual(first)
    }),
  )
})

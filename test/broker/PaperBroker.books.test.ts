import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Brokers } from "../../src/broker/Brokers.js"
import * as PaperBroker from "../../src/broker/PaperBroker.js"
import { dbOn, failureOf, freshDbFile, instruments, paper, request } from "./paperHarness.js"

const reliance = { symbol: "RELIANCE-EQ", exchange: "NSE", qty: 10 } as const
const holdings = [{ symbol: "RELIANCE-EQ", exchange: "NSE", qty: 10, avgPrice: 2800 }]

describe("paper broker books", () => {
  it.scoped("a buy then a sell of the same quantity nets the position flat with the realised P&L in cash", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      yield* b.place(request("t1"))
      expect((yield* b.funds).usedMargin).toBeCloseTo(0.2 * 65 * 22000, 6)
      yield* b.onTick("NIFTY26MARFUT", 22100)
      expect(yield* b.positions).toMatchObject([{ netQty: 65, unrealizedPnl: 6500, ltp: 22100 }])
      yield* b.place(request("t2", { side: "SELL" }))
      expect(yield* b.positions).toEqual([
        {
          symbol: "NIFTY26MARFUT",
          exchange: "NFO",
          product: "MIS",
          netQty: 0,
          buyQty: 65,
          sellQty: 65,
          buyAvg: 22000,
          sellAvg: 22100,
          realizedPnl: 6500,
          unrealizedPnl: 0,
          ltp: 22100,
        },
      ])
      expect(yield* b.funds).toEqual({ available: 1_006_500, usedMargin: 0, total: 1_006_500 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("an exit order of an open position blocks no extra margin, and a reversal realises the closed part", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      yield* b.place(request("t1"))
      yield* b.place(request("t2", { side: "SELL", orderType: "LIMIT", price: 22200 }))
      expect((yield* b.funds).usedMargin).toBeCloseTo(0.2 * 65 * 22000, 6)
      yield* b.onTick("NIFTY26MARFUT", 21900)
      yield* b.place(request("t3", { side: "SELL", qty: 130, orderType: "LIMIT", price: 21900 }))
      expect(yield* b.positions).toMatchObject([{ netQty: -65, realizedPnl: -6500 }])
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("MIS trades on a symbol leave its CNC holdings untouched; a CNC sell reduces them", () =>
    Effect.gen(function* () {
      const b = yield* paper({ holdings })
      yield* b.onTick("RELIANCE-EQ", 2850)
      yield* b.place(request("t1", { ...reliance, side: "SELL" }))
      yield* b.place(request("t2", { ...reliance, side: "BUY" }))
      expect(yield* b.holdings).toEqual(holdings)
      expect(yield* b.positions).toMatchObject([{ product: "MIS", netQty: 0, realizedPnl: 0 }])
      yield* b.place(request("t3", { ...reliance, qty: 4, side: "SELL", product: "CNC" }))
      expect(yield* b.holdings).toEqual([{ symbol: "RELIANCE-EQ", exchange: "NSE", qty: 6, avgPrice: 2800 }])
      const cnc = (yield* b.positions).find((p) => p.product === "CNC")
      expect(cnc).toMatchObject({ netQty: -4, sellQty: 4, realizedPnl: 200 })
      expect((yield* b.funds).total).toBe(1_000_000 + 4 * 2850)
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.scoped("a CNC buy blocks its whole value until it fills, then is paid in cash and held", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("RELIANCE-EQ", 2850)
      const buy = request("t1", { ...reliance, product: "CNC", orderType: "LIMIT", price: 2840 })
      yield* b.place(buy)
      expect(yield* b.funds).toEqual({ available: 1_000_000 - 28_400, usedMargin: 28_400, total: 1_000_000 })
      yield* b.onTick("RELIANCE-EQ", 2839)
      expect(yield* b.holdings).toEqual([{ symbol: "RELIANCE-EQ", exchange: "NSE", qty: 10, avgPrice: 2840 }])
      expect(yield* b.funds).toEqual({ available: 1_000_000 - 28_400, usedMargin: 0, total: 1_000_000 - 28_400 })
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.effect(
    "after a restart a new paper broker on the same file sees the same orders, fills, positions, holdings and funds",
    () =>
      Effect.gen(function* () {
        const file = freshDbFile()
        const books = (b: PaperBroker.PaperBroker) =>
          Effect.all({
            orders: b.orderBook,
            fills: b.tradeBook,
            positions: b.positions,
            holdings: b.holdings,
            funds: b.funds,
          })
        const before = yield* Effect.gen(function* () {
          const b = yield* paper({ holdings })
          yield* b.onTick("NIFTY26MARFUT", 22000)
          yield* b.place(request("t1"))
          yield* b.place(request("t2", { orderType: "LIMIT", price: 21900 }))
          yield* b.place(request("t3", { side: "SELL", orderType: "SL", triggerPrice: 21800, price: 21790 }))
          yield* b.onTick("RELIANCE-EQ", 2900)
          yield* b.place(request("t4", { ...reliance, qty: 3, side: "SELL", product: "CNC" }))
          return yield* books(b)
        }).pipe(Effect.provide(dbOn(file)))

        yield* Effect.gen(function* () {
          const b = yield* paper({ holdings: [], capital: 1 })
          yield* b.onTick("NIFTY26MARFUT", 22000)
          yield* b.onTick("RELIANCE-EQ", 2900)
          expect(yield* books(b)).toEqual(before)
          yield* b.onTick("NIFTY26MARFUT", 21850)
          expect((yield* b.orderByTag("t2")).pipe(Option.map((o) => o.status))).toEqual(Option.some("FILLED"))
          const { brokerOrderId } = yield* b.place(request("t5"))
          expect(brokerOrderId).toBe("P-U1-000005")
          const sql = yield* SqlClient.SqlClient
          const fills = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM paper_fills`
          expect(fills[0]?.n).toBe(4)
        }).pipe(Effect.provide(dbOn(file)))
      }),
  )

  it.effect(
    "concurrent placements are written in groups, each answered only once on disk, and all survive a restart",
    () =>
      Effect.gen(function* () {
        const file = freshDbFile()
        const before = yield* Effect.gen(function* () {
          const b = yield* paper({ capital: 1e12 })
          yield* b.onTick("NIFTY26MARFUT", 22000)
          const sql = yield* SqlClient.SqlClient
          // Every placement, once answered, is in the file: checked from inside the answer's fiber.
          const answers = yield* Effect.forEach(
            Array.from({ length: 200 }, (_, i) => `g${i}`),
            (tag) =>
              Effect.flatMap(b.place(request(tag)), ({ brokerOrderId }) =>
                Effect.map(
                  sql<{ n: number }>`SELECT COUNT(*) AS n FROM paper_orders WHERE broker_order_id = ${brokerOrderId}`,
                  (rows) => rows[0]?.n ?? 0,
                ),
              ),
            { concurrency: "unbounded" },
          )
          expect(answers.every((n) => n === 1)).toBe(true)
          return { orders: yield* b.orderBook, positions: yield* b.positions, funds: yield* b.funds }
        }).pipe(Effect.provide(dbOn(file)))
        expect(before.orders.length).toBe(200)
        expect(new Set(before.orders.map((o) => o.brokerOrderId)).size).toBe(200)
        yield* Effect.gen(function* () {
          const b = yield* paper({ capital: 1 })
          yield* b.onTick("NIFTY26MARFUT", 22000)
          expect({ orders: yield* b.orderBook, positions: yield* b.positions, funds: yield* b.funds }).toEqual(before)
        }).pipe(Effect.provide(dbOn(file)))
      }),
  )

  it.effect(
    "after a restart, before the feed's first tick, a MARKET order fills at the symbol's last traded price",
    () =>
      Effect.gen(function* () {
        const file = freshDbFile()
        yield* Effect.gen(function* () {
          const b = yield* paper()
          yield* b.onTick("NIFTY26MARFUT", 22010.5)
          yield* b.place(request("before"))
        }).pipe(Effect.provide(dbOn(file)))
        yield* Effect.gen(function* () {
          const b = yield* paper()
          const { brokerOrderId } = yield* b.place(request("after", { side: "SELL" }))
          const o = yield* b.order(brokerOrderId)
          expect([o.status, o.avgPrice]).toEqual(["FILLED", 22010.5])
        }).pipe(Effect.provide(dbOn(file)))
      }),
  )

  it.effect("a book it cannot write takes the paper broker down instead of answering from memory the disk lacks", () =>
    Effect.gen(function* () {
      const b = yield* paper()
      yield* b.onTick("NIFTY26MARFUT", 22000)
      const sql = yield* SqlClient.SqlClient
      yield* sql`DROP TABLE paper_fills`
      const e = yield* failureOf(b.place(request("lost")))
      expect(e.reason).toBe("Unavailable")
      expect(e.message).toMatch(/paper broker store/)
      expect((yield* failureOf(b.orderBook)).reason).toBe("Unavailable")
    }).pipe(Effect.provide(dbOn(freshDbFile()))),
  )

  it.effect("the layer serves each account's paper broker through Brokers and feeds ticks to all of them", () =>
    Effect.gen(function* () {
      const accounts = [
        { accountId: "U1", instruments },
        { accountId: "U2", instruments },
      ]
      yield* Effect.gen(function* () {
        const brokers = yield* Brokers
        const paperAccounts = yield* PaperBroker.PaperAccounts
        yield* paperAccounts.onTick("NIFTY26MARFUT", 22000)
        const u2 = yield* brokers.forAccount("U2")
        const { brokerOrderId } = yield* u2.place(request("t1", { accountId: "U2" }))
        expect(brokerOrderId).toBe("P-U2-000001")
        expect((yield* u2.order(brokerOrderId)).avgPrice).toBe(22000)
        expect((yield* failureOf(brokers.forAccount("U3"))).reason).toBe("NotFound")
        expect([...brokers.all.keys()]).toEqual(["U1", "U2"])
      }).pipe(Effect.provide(PaperBroker.layer(accounts)), Effect.provide(dbOn(freshDbFile())))
    }),
  )
})

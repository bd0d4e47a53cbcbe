import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { failureOf, order } from "../fixtures/fakeBrokerHarness.js"
import { shoonyaPair } from "../fixtures/FakeShoonyaSetup.js"

describe("Shoonya adapter: orders over the real wire", () => {
  it.scopedLive("a LIMIT order goes out as jData strings with the tag in remarks and reads back OPEN", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const { brokerOrderId } = yield* broker.place(order("eng-1", { qty: 5, price: 2950.5 }))
      const [sent] = fake.jData("PlaceOrder")
      expect(sent).toEqual({
        uid: "FA12345",
        actid: "FA12345",
        exch: "NSE",
        tsym: "RELIANCE-EQ",
        qty: "5",
        prctyp: "LMT",
        prc: "2950.50",
        dscqty: "0",
        prd: "I",
        trantype: "B",
        ret: "DAY",
        remarks: "eng-1",
        ordersource: "API",
      })
      expect(fake.server.calls("PlaceOrder")[0]!.headers.authorization).toBe("Bearer shoonya-token-0001")
      expect(yield* broker.orderBook).toMatchObject([
        { brokerOrderId, clientTag: "eng-1", status: "OPEN", qty: 5, price: 2950.5, filledQty: 0, avgPrice: 0 },
      ])
    }),
  )

  it.scopedLive("a placement the broker refuses is Rejected in its own words", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      fake.rejectNextPlace("Rejected : RMS:Margin Exceeds,Required:2950.00, Available:0.00")
      const e = yield* failureOf(broker.place(order("eng-1")))
      expect(e).toMatchObject({ reason: "Rejected", message: expect.stringContaining("RMS:Margin Exceeds") })
      expect(e.retryable).toBe(false)
    }),
  )

  it.scopedLive("modify sends the total quantity and the new price, without a trigger on a limit", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const { brokerOrderId } = yield* broker.place(order("eng-1", { qty: 10 }))
      fake.fill(brokerOrderId, 4, 2950)
      yield* broker.modify(brokerOrderId, { qty: 12, price: 2951 })
      expect(fake.jData("ModifyOrder")).toEqual([
        {
          uid: "FA12345",
          actid: "FA12345",
          norenordno: brokerOrderId,
          exch: "NSE",
          tsym: "RELIANCE-EQ",
          qty: "12",
          prctyp: "LMT",
          prc: "2951.00",
          ret: "DAY",
        },
      ])
      expect(yield* broker.order(brokerOrderId)).toMatchObject({
        qty: 12,
        price: 2951,
        filledQty: 4,
        status: "PARTIALLY_FILLED",
      })
    }),
  )

  it.scopedLive("cancel ends a working order CANCELLED; a second cancel is Rejected in Shoonya's words", () =>
    Effect.gen(function* () {
      const { broker } = yield* shoonyaPair()
      const { brokerOrderId } = yield* broker.place(order("eng-1"))
      yield* broker.cancel(brokerOrderId)
      expect((yield* broker.order(brokerOrderId)).status).toBe("CANCELLED")
      const e = yield* failureOf(broker.cancel(brokerOrderId))
      expect(e).toMatchObject({ reason: "Rejected", message: "CancelOrder: Rejected : ORA:Order not found to Cancel" })
    }),
  )

  it.scopedLive("a partly filled order stays OPEN on the wire with rising fillshares and reads PARTIALLY_FILLED", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const { brokerOrderId } = yield* broker.place(order("eng-1", { qty: 10 }))
      fake.fill(brokerOrderId, 4, 2950)
      expect(fake.book.orders.get(brokerOrderId)!.status).toBe("PARTIAL")
      expect(yield* broker.order(brokerOrderId)).toMatchObject({ status: "PARTIALLY_FILLED", filledQty: 4 })
      fake.fill(brokerOrderId, 6, 2949)
      expect(yield* broker.order(brokerOrderId)).toMatchObject({ status: "FILLED", filledQty: 10, avgPrice: 2949.4 })
    }),
  )

  it.scopedLive('the empty books arrive as Not_Ok "no data" objects and read as empty lists', () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      expect(yield* broker.orderBook).toEqual([])
      expect(yield* broker.tradeBook).toEqual([])
      expect(yield* broker.positions).toEqual([])
      expect(yield* broker.holdings).toEqual([])
      expect(
        JSON.parse(
          yield* Effect.promise(() =>
            fetch(`${fake.baseUrl}/OrderBook`, {
              method: "POST",
              headers: { Authorization: "Bearer shoonya-token-0001" },
              body: 'jData={"uid":"FA12345"}',
            }).then((r) => r.text()),
          ),
        ),
      ).toMatchObject({ stat: "Not_Ok", emsg: 'Error Occurred : 5 "no data"' })
    }),
  )

  it.scopedLive("order() reads the newest row of the order's history; an unknown id is NotFound", () =>
    Effect.gen(function* () {
      const { broker } = yield* shoonyaPair()
      const { brokerOrderId } = yield* broker.place(order("eng-1"))
      expect((yield* broker.order(brokerOrderId)).status).toBe("OPEN")
      expect(yield* failureOf(broker.order("999"))).toMatchObject({ reason: "NotFound" })
    }),
  )

  it.scopedLive("trade book, positions, holdings and funds read the fills, holdings and limits", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      fake.book.holdings.push({ symbol: "RELIANCE-EQ", exchange: "NSE", token: "2885", qty: 7, avgPrice: 2800 })
      const buy = yield* broker.place(order("eng-1", { qty: 10 }))
      const sell = yield* broker.place(order("eng-2", { qty: 10, side: "SELL", price: 2960 }))
      fake.fill(buy.brokerOrderId, 10, 2950)
      fake.tick("RELIANCE-EQ", 2960)
      expect(yield* broker.tradeBook).toMatchObject([
        { brokerOrderId: buy.brokerOrderId, clientTag: "eng-1", side: "BUY", qty: 10, price: 2950, product: "MIS" },
        { brokerOrderId: sell.brokerOrderId, clientTag: "eng-2", side: "SELL", qty: 10, price: 2960 },
      ])
      const fillIds = (yield* broker.tradeBook).map((t) => t.fillId)
      expect(new Set(fillIds).size).toBe(2)
      expect(yield* broker.positions).toEqual([
        {
          symbol: "RELIANCE-EQ",
          exchange: "NSE",
          product: "MIS",
          netQty: 0,
          buyQty: 10,
          sellQty: 10,
          buyAvg: 2950,
          sellAvg: 2960,
          realizedPnl: 100,
          unrealizedPnl: 0,
          ltp: 2960,
        },
      ])
      expect(yield* broker.holdings).toEqual([{ symbol: "RELIANCE-EQ", exchange: "NSE", qty: 7, avgPrice: 2800 }])
      fake.book.usedMargin = 5000
      expect(yield* broker.funds).toEqual({ available: 1_000_100 - 5000, usedMargin: 5000, total: 1_000_100 })
    }),
  )

  it.scopedLive("orderByTag finds the oldest order carrying the tag in remarks; an unknown tag is none", () =>
    Effect.gen(function* () {
      const { broker } = yield* shoonyaPair()
      yield* broker.place(order("eng-1"))
      const second = yield* broker.place(order("eng-2"))
      expect(Option.map(yield* broker.orderByTag("eng-2"), (o) => o.brokerOrderId)).toEqual(
        Option.some(second.brokerOrderId),
      )
      expect(yield* broker.orderByTag("eng-404")).toEqual(Option.none())
    }),
  )

  for (const urlDecodes of [false, true]) {
    it.scopedLive(
      `M&M-EQ reaches a server that ${urlDecodes ? "URL-decodes" : "does not decode"} the body intact`,
      () =>
        Effect.gen(function* () {
          const { fake, broker } = yield* shoonyaPair({ urlDecodes })
          const { brokerOrderId } = yield* broker.place(order("eng-mm", { symbol: "M&M-EQ", price: 3100 }))
          expect(fake.book.orders.get(brokerOrderId)!.symbol).toBe("M&M-EQ")
          expect(fake.server.calls("PlaceOrder")[0]!.body).not.toContain("&")
          expect((yield* broker.order(brokerOrderId)).symbol).toBe("M&M-EQ")
        }),
    )
  }

  it.scopedLive("a MARKET BUY goes out as LMT at the last price plus the band, rounded down to the tick", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      yield* broker.place(order("eng-1", { orderType: "MARKET", price: null }))
      // 2950 × 1.005 = 2964.75
      expect(fake.jData("PlaceOrder")[0]).toMatchObject({ prctyp: "LMT", prc: "2964.75" })
      expect(fake.jData("PlaceOrder")[0]).not.toHaveProperty("trgprc")
    }),
  )

  it.scopedLive("a SL-M SELL goes out as SL-LMT priced below its trigger by the band", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const sl = order("eng-1", { symbol: "NIFTY30MAR26F", exchange: "NFO", qty: 65, side: "SELL" })
      yield* broker.place({ ...sl, orderType: "SL-M", price: null, triggerPrice: 21900 })
      // 21900 × 0.995 = 21790.5
      expect(fake.jData("PlaceOrder")[0]).toMatchObject({ prctyp: "SL-LMT", prc: "21790.50", trgprc: "21900.00" })
    }),
  )

  it.scopedLive("a MARKET order with no last price is Invalid naming ltp, and nothing is sent", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair({}, { lastPrice: () => null })
      const e = yield* failureOf(broker.place(order("eng-1", { orderType: "MARKET", price: null })))
      expect(e).toMatchObject({ reason: "Invalid", field: "ltp" })
      expect(fake.server.calls("PlaceOrder")).toHaveLength(0)
    }),
  )

  it.scopedLive("a placement whose answer never comes is a Timeout, and orderByTag then finds the order", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair({}, { requestTimeoutMs: 200 })
      fake.server.inject("PlaceOrder", { kind: "hold" })
      const e = yield* failureOf(broker.place(order("eng-lost")))
      expect(e).toMatchObject({ reason: "Timeout" })
      expect(e.retryable).toBe(false)
      const found = yield* broker.orderByTag("eng-lost")
      expect(Option.map(found, (o) => o.status)).toEqual(Option.some("OPEN"))
      expect(fake.server.calls("PlaceOrder")).toHaveLength(1)
    }),
  )
})

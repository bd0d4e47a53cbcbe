import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { PlaceRequest } from "../../src/broker/Broker.js"
import { failureOf, order } from "../fixtures/fakeBrokerHarness.js"
import { dhanPair } from "../fixtures/FakeDhanSetup.js"

const dhanOrder = (tag: string, over: Partial<PlaceRequest> = {}) =>
  order(tag, { symbol: "RELIANCE", exchange: "NSE", price: 2950, ...over })
const niftyFut = { symbol: "NIFTY-Oct2026-FUT", exchange: "NFO", qty: 65, product: "NRML" } as const

describe("Dhan adapter: orders over the real wire", () => {
  it.scopedLive("a LIMIT order goes out as JSON with numbers, securityId, segment and the tag as correlationId", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1", { qty: 5 }))
      expect(fake.bodies("POST /orders")).toEqual([
        {
          dhanClientId: "1100000001",
          correlationId: "W-O1",
          transactionType: "BUY",
          exchangeSegment: "NSE_EQ",
          productType: "INTRADAY",
          validity: "DAY",
          securityId: "2885",
          quantity: 5,
          disclosedQuantity: 0,
          orderType: "LIMIT",
          price: 2950,
          afterMarketOrder: false,
        },
      ])
      const headers = fake.server.calls("POST /orders")[0]!.headers
      expect([headers["access-token"], headers["client-id"]]).toEqual(["dhan-jwt-0001", "1100000001"])
      expect(yield* broker.orderBook).toMatchObject([
        { brokerOrderId, clientTag: "W-O1", symbol: "RELIANCE", exchange: "NSE", status: "OPEN", qty: 5 },
      ])
    }),
  )

  it.scopedLive("modify PUTs the total quantity and the new price", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1", { qty: 10 }))
      fake.fill(brokerOrderId, 4, 2950)
      yield* broker.modify(brokerOrderId, { qty: 12, price: 2951.5 })
      expect(fake.bodies("PUT /orders/:id")).toEqual([
        {
          dhanClientId: "1100000001",
          orderId: brokerOrderId,
          legName: "NA",
          quantity: 12,
          disclosedQuantity: 0,
          orderType: "LIMIT",
          price: 2951.5,
          validity: "DAY",
        },
      ])
      expect(yield* broker.order(brokerOrderId)).toMatchObject({ qty: 12, price: 2951.5, status: "PARTIALLY_FILLED" })
    }),
  )

  it.scopedLive("cancel ends a working order CANCELLED; a second cancel is Rejected with Dhan's code", () =>
    Effect.gen(function* () {
      const { broker } = yield* dhanPair()
      const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1"))
      yield* broker.cancel(brokerOrderId)
      expect((yield* broker.order(brokerOrderId)).status).toBe("CANCELLED")
      const e = yield* failureOf(broker.cancel(brokerOrderId))
      expect(e).toMatchObject({ reason: "Rejected", message: expect.stringContaining("DH-906") })
      expect(yield* failureOf(broker.cancel("999"))).toMatchObject({ reason: "NotFound" })
    }),
  )

  it.scopedLive("PART_TRADED reads PARTIALLY_FILLED and TRADED reads FILLED with the average price", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1", { qty: 10 }))
      fake.fill(brokerOrderId, 4, 2950)
      expect(yield* broker.order(brokerOrderId)).toMatchObject({ status: "PARTIALLY_FILLED", filledQty: 4 })
      fake.fill(brokerOrderId, 6, 2949)
      expect(yield* broker.order(brokerOrderId)).toMatchObject({ status: "FILLED", filledQty: 10, avgPrice: 2949.4 })
    }),
  )

  it.scopedLive("the 2024 filled_qty spelling is read like filledQty", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair({ filledKey: "filled_qty" })
      const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1", { qty: 10 }))
      fake.fill(brokerOrderId, 3, 2950)
      expect(yield* broker.order(brokerOrderId)).toMatchObject({ filledQty: 3 })
    }),
  )

  it.scopedLive("empty books read as empty lists, no holdings (DH-1111) included; an unknown order is NotFound", () =>
    Effect.gen(function* () {
      const { broker } = yield* dhanPair()
      expect(yield* broker.orderBook).toEqual([])
      expect(yield* broker.tradeBook).toEqual([])
      expect(yield* broker.positions).toEqual([])
      expect(yield* broker.holdings).toEqual([])
      expect(yield* failureOf(broker.order("404"))).toMatchObject({ reason: "NotFound" })
    }),
  )

  it.scopedLive("trade book, positions, holdings and funds read the fills, holdings and fund limit", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      fake.book.holdings.push({ symbol: "RELIANCE", exchange: "NSE", token: "2885", qty: 7, avgPrice: 2800 })
      const buy = yield* broker.place(dhanOrder("W-O1", { qty: 10 }))
      const sell = yield* broker.place(dhanOrder("W-O2", { qty: 4, side: "SELL", price: 2960 }))
      fake.fill(buy.brokerOrderId, 10, 2950)
      fake.fill(sell.brokerOrderId, 4, 2960)
      expect(yield* broker.tradeBook).toMatchObject([
        { brokerOrderId: buy.brokerOrderId, clientTag: "W-O1", symbol: "RELIANCE", side: "BUY", qty: 10, price: 2950 },
        { brokerOrderId: sell.brokerOrderId, clientTag: "W-O2", side: "SELL", qty: 4, price: 2960 },
      ])
      expect(yield* broker.positions).toEqual([
        {
          symbol: "RELIANCE",
          exchange: "NSE",
          product: "MIS",
          netQty: 6,
          buyQty: 10,
          sellQty: 4,
          buyAvg: 2950,
          sellAvg: 2960,
          realizedPnl: 40,
          unrealizedPnl: 60,
          ltp: 2950,
        },
      ])
      expect(yield* broker.holdings).toEqual([{ symbol: "RELIANCE", exchange: "NSE", qty: 7, avgPrice: 2800 }])
      fake.book.usedMargin = 5000
      const cash = 1_000_000 - 29_500 + 11_840
      expect(yield* broker.funds).toEqual({ available: cash - 5000, usedMargin: 5000, total: cash })
    }),
  )

  for (const externalAsList of [false, true]) {
    it.scopedLive(
      `orderByTag asks /orders/external/{correlationId} (answered as ${externalAsList ? "a list" : "an object"})`,
      () =>
        Effect.gen(function* () {
          const { fake, broker } = yield* dhanPair({ externalAsList })
          const { brokerOrderId } = yield* broker.place(dhanOrder("W-O7"))
          const found = yield* broker.orderByTag("W-O7")
          expect(Option.map(found, (o) => o.brokerOrderId)).toEqual(Option.some(brokerOrderId))
          expect(fake.server.calls("GET /orders/external/:id").map((r) => r.path)).toEqual(["/v2/orders/external/W-O7"])
          expect(yield* broker.orderByTag("W-O404")).toEqual(Option.none())
        }),
    )
  }

  it.scopedLive("a tag Dhan cannot carry as correlationId is Invalid naming clientTag, and nothing is sent", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      const e = yield* failureOf(broker.place(dhanOrder("W/O1 with a tag far longer than thirty")))
      expect(e).toMatchObject({ reason: "Invalid", field: "clientTag" })
      expect(fake.server.calls("POST /orders")).toHaveLength(0)
    }),
  )

  it.scopedLive("MARKET goes out as MARKET with price 0; SL-M goes out as STOP_LOSS with a banded limit", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      yield* broker.place(dhanOrder("W-O1", { orderType: "MARKET", price: null }))
      const stop = { ...niftyFut, side: "SELL", orderType: "SL-M", price: null, triggerPrice: 24900 } as const
      yield* broker.place(dhanOrder("W-O2", stop))
      const [market, stopLoss] = fake.bodies("POST /orders")
      expect(market).toMatchObject({ orderType: "MARKET", price: 0 })
      expect(market).not.toHaveProperty("triggerPrice")
      // 24900 × 0.995 = 24775.5, on the 0.10 tick.
      expect(stopLoss).toMatchObject({
        orderType: "STOP_LOSS",
        price: 24775.5,
        triggerPrice: 24900,
        exchangeSegment: "NSE_FNO",
        securityId: "48704",
        productType: "MARGIN",
      })
    }),
  )

  it.scopedLive(
    "a symbol missing from the master or a quantity off the lot is Invalid naming it, and nothing is sent",
    () =>
      Effect.gen(function* () {
        const { fake, broker } = yield* dhanPair()
        const unknown = yield* failureOf(broker.place(dhanOrder("W-O1", { symbol: "TCS" })))
        expect(unknown).toMatchObject({ reason: "Invalid", field: "symbol" })
        const offLot = yield* failureOf(broker.place(dhanOrder("W-O2", { ...niftyFut, qty: 50, price: 25000 })))
        expect(offLot).toMatchObject({ reason: "Invalid", field: "qty" })
        expect(fake.server.calls("POST /orders")).toHaveLength(0)
      }),
  )

  it.scopedLive("a placement whose answer never comes is a Timeout, and orderByTag then finds the order", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair({}, { requestTimeoutMs: 200 })
      fake.server.inject("POST /orders", { kind: "hold" })
      const e = yield* failureOf(broker.place(dhanOrder("W-lost")))
      expect(e).toMatchObject({ reason: "Timeout" })
      expect(e.retryable).toBe(false)
      const found = yield* broker.orderByTag("W-lost")
      expect(Option.map(found, (o) => o.status)).toEqual(Option.some("OPEN"))
      expect(fake.server.calls("POST /orders")).toHaveLength(1)
    }),
  )
})

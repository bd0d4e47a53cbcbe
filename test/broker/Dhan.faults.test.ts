import { type AddressInfo, createServer } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { PlaceRequest } from "../../src/broker/Broker.js"
import { statusOf } from "../../src/broker/DhanWire.js"
import { failureOf, order, withLogs } from "../fixtures/fakeBrokerHarness.js"
import { dhanPair } from "../fixtures/FakeDhanSetup.js"

/** A loopback port nobody listens on. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })

const dhanOrder = (tag: string, over: Partial<PlaceRequest> = {}) =>
  order(tag, { symbol: "RELIANCE", exchange: "NSE", price: 2950, ...over })
const answer = (status: number, body: unknown) => ({
  kind: "answer" as const,
  answer: { status, body: JSON.stringify(body) },
})

describe("Dhan statuses", () => {
  const table: ReadonlyArray<[string, number, string | null]> = [
    ["TRANSIT", 0, "PENDING"],
    ["PENDING", 0, "OPEN"],
    ["Pending", 0, "OPEN"],
    ["PENDING", 5, "PARTIALLY_FILLED"],
    ["PART_TRADED", 5, "PARTIALLY_FILLED"],
    ["TRADED", 10, "FILLED"],
    ["Traded", 10, "FILLED"],
    ["CANCELLED", 5, "CANCELLED"],
    ["Cancelled", 0, "CANCELLED"],
    ["REJECTED", 0, "REJECTED"],
    ["EXPIRED", 0, "EXPIRED"],
    ["TRIGGERED", 0, "OPEN"],
    ["INACTIVE", 0, null],
    ["CLOSED", 10, null],
  ]
  for (const [raw, filled, expected] of table) {
    it(`"${raw}" with ${filled} filled reads ${expected ?? "unknown"}`, () => {
      expect(statusOf(raw, filled)).toBe(expected)
    })
  }
})

describe("Dhan adapter: bad answers and limits", () => {
  it.scopedLive("an unknown status is logged and read as PENDING, never as filled or rejected", () =>
    Effect.gen(function* () {
      const logs: Array<string> = []
      const { fake, broker } = yield* dhanPair()
      const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1"))
      fake.setStatus(brokerOrderId, "CLOSED")
      expect((yield* withLogs(logs)(broker.order(brokerOrderId))).status).toBe("PENDING")
      expect(logs.some((l) => l.startsWith("WARN") && l.includes('unknown status "CLOSED"'))).toBe(true)
    }),
  )

  it.scopedLive("an HTML error page is a typed error naming the body", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      fake.server.inject("GET /orders", { kind: "html", status: 502 })
      expect(yield* failureOf(broker.orderBook)).toMatchObject({
        reason: "Unavailable",
        field: "body",
        message: "GET /orders: HTTP 502 answer is an HTML page",
      })
      fake.server.inject("GET /positions", { kind: "html", status: 404 })
      expect(yield* failureOf(broker.positions)).toMatchObject({ reason: "Invalid", field: "body" })
    }),
  )

  it.scopedLive("truncated JSON is Invalid on a read and Timeout (outcome unknown) on a placement", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      fake.server.inject("POST /orders", { kind: "truncate" })
      expect(yield* failureOf(broker.place(dhanOrder("W-O1")))).toMatchObject({ reason: "Timeout", field: "body" })
      expect(Option.isSome(yield* broker.orderByTag("W-O1"))).toBe(true)
      fake.server.inject("GET /orders", { kind: "truncate" })
      const e = yield* failureOf(broker.orderBook)
      expect(e).toMatchObject({ reason: "Invalid", field: "body" })
      expect(e.message).toContain("malformed or truncated JSON")
    }),
  )

  it.scopedLive("an order row missing a field, or with a code Dhan does not have, is Invalid naming the field", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      const row = {
        orderId: "1",
        correlationId: "W-O1",
        orderStatus: "PENDING",
        transactionType: "BUY",
        exchangeSegment: "NSE_EQ",
        productType: "INTRADAY",
        orderType: "LIMIT",
        securityId: "2885",
        price: 2950,
      }
      fake.server.inject("GET /orders", answer(200, [row]))
      expect(yield* failureOf(broker.orderBook)).toMatchObject({ reason: "Invalid", field: "quantity" })
      fake.server.inject("GET /orders", answer(200, [{ ...row, quantity: 1, exchangeSegment: "NYSE" }]))
      expect(yield* failureOf(broker.orderBook)).toMatchObject({ reason: "Invalid", field: "exchangeSegment" })
      fake.server.inject("GET /fundlimit", answer(200, { dhanClientId: "1100000001" }))
      expect(yield* failureOf(broker.funds)).toMatchObject({ reason: "Invalid", field: "availabelBalance" })
    }),
  )

  it.scopedLive("DH-901 is SessionExpired with a clear message; a renewed token works", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      fake.expireSession("DH-901")
      const e = yield* failureOf(broker.place(dhanOrder("W-O1")))
      expect(e.reason).toBe("SessionExpired")
      expect(e.message).toMatch(/Dhan session expired .*renew the access token/)
      fake.renewSession("dhan-jwt-0002")
      yield* broker.setCredentials({ clientId: fake.clientId, accessToken: "dhan-jwt-0002" })
      expect(yield* broker.place(dhanOrder("W-O1"))).toMatchObject({ brokerOrderId: expect.any(String) })
    }),
  )

  it.scopedLive('an evicted token (HTTP 400 DH-906 "Invalid Token") is SessionExpired too', () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      fake.expireSession("DH-906")
      expect(yield* failureOf(broker.orderBook)).toMatchObject({ reason: "SessionExpired" })
    }),
  )

  it.scopedLive("an order error (DH-906) is Rejected in Dhan's words, with the token redacted", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      const body = {
        errorType: "Order_Error",
        errorCode: "DH-906",
        errorMessage: "Insufficient Funds for dhan-jwt-0001",
      }
      fake.server.inject("POST /orders", answer(400, body))
      const e = yield* failureOf(broker.place(dhanOrder("W-O1")))
      expect(e).toMatchObject({ reason: "Rejected", message: "POST /orders: DH-906 Insufficient Funds for [redacted]" })
    }),
  )

  it.scopedLive("a dropped connection leaves a placement's outcome unknown (Timeout) but a read just Unavailable", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      fake.server.inject("POST /orders", { kind: "drop" })
      expect(yield* failureOf(broker.place(dhanOrder("W-O1")))).toMatchObject({ reason: "Timeout" })
      fake.server.inject("GET /orders", { kind: "drop" })
      const e = yield* failureOf(broker.orderBook)
      expect([e.reason, e.retryable]).toEqual(["Unavailable", true])
    }),
  )

  it.scopedLive("a broker that refuses the connection is Unavailable, which is retryable", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(freePort)
      const { broker } = yield* dhanPair({}, { baseUrl: `http://127.0.0.1:${port}/v2` })
      const e = yield* failureOf(broker.place(dhanOrder("W-O1")))
      expect([e.reason, e.retryable]).toEqual(["Unavailable", true])
    }),
  )

  it.scopedLive("a placement the broker refuses is Rejected in its own words", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      fake.rejectNextPlace("Insufficient Funds")
      expect(yield* failureOf(broker.place(dhanOrder("W-O1")))).toMatchObject({
        reason: "Rejected",
        message: "POST /orders: DH-906 Insufficient Funds",
      })
    }),
  )

  it.scopedLive("HTTP 429 and DH-904 rate-limit rejects pause and send the call again", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      const dh904 = { errorType: "Rate_Limit", errorCode: "DH-904", errorMessage: "Too many requests" }
      fake.server.inject("POST /orders", answer(429, dh904))
      fake.server.inject("POST /orders", answer(400, dh904))
      yield* broker.place(dhanOrder("W-O1"))
      expect(fake.server.calls("POST /orders")).toHaveLength(3)
      expect(fake.book.orders.size).toBe(1)
    }),
  )

  it.scopedLive("a call still rate-limited after its retries fails RateLimited, which is retryable", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair({}, { rateLimitRetriesMax: 1 })
      fake.server.inject("GET /positions", answer(429, { status: "failed", data: { "805": "Too many requests" } }), 5)
      const e = yield* failureOf(broker.positions)
      expect(e.reason).toBe("RateLimited")
      expect(e.retryable).toBe(true)
      expect(fake.server.calls("GET /positions")).toHaveLength(2)
    }),
  )

  it.scopedLive("16 placements at once reach Dhan below its 10 orders a second, and none is refused", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair()
      const tags = Array.from({ length: 16 }, (_, i) => `W-O${i}`)
      yield* Effect.forEach(tags, (tag) => broker.place(dhanOrder(tag)), { concurrency: "unbounded" })
      expect(fake.server.calls("POST /orders")).toHaveLength(16)
      expect(fake.server.rateLimited).toBe(0)
      // The adapter sends at most 9 in any second; arrival jitter may bunch them a little.
      expect(fake.server.maxInWindow((r) => r === "POST /orders", 1000)).toBeLessThanOrEqual(10)
    }),
  )
})

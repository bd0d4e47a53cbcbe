import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { statusOf } from "../../src/broker/ShoonyaWire.js"
import { failureOf, order, withLogs } from "../fixtures/fakeBrokerHarness.js"
import { shoonyaPair } from "../fixtures/FakeShoonyaSetup.js"

const orderBookWith = (rows: unknown) => ({
  kind: "answer" as const,
  answer: { status: 200, body: JSON.stringify(rows) },
})

describe("Shoonya statuses", () => {
  const table: ReadonlyArray<[string, number, number, string | null]> = [
    ["PENDING", 0, 10, "PENDING"],
    ["OPEN", 0, 10, "OPEN"],
    ["Open", 0, 10, "OPEN"],
    ["OPEN", 4, 10, "PARTIALLY_FILLED"],
    ["TRIGGER_PENDING", 0, 10, "TRIGGER_PENDING"],
    ["TRIGGER PENDING", 0, 10, "TRIGGER_PENDING"],
    ["COMPLETE", 10, 10, "FILLED"],
    ["CANCELED", 4, 10, "CANCELLED"],
    ["CANCELLED", 0, 10, "CANCELLED"],
    ["REJECTED", 0, 10, "REJECTED"],
    ["REJECT", 0, 10, "REJECTED"],
    ["MODIFY_PENDING", 0, 10, "OPEN"],
    ["AFTER MARKET ORDER REQ RECEIVED", 0, 10, "PENDING"],
    ["INVALID_STATUS_TYPE", 0, 10, null],
    ["FROZEN", 10, 10, null],
  ]
  for (const [raw, filled, qty, expected] of table) {
    it(`"${raw}" with ${filled}/${qty} filled reads ${expected ?? "unknown"}`, () => {
      expect(statusOf(raw, filled, qty)).toBe(expected)
    })
  }
})

describe("Shoonya adapter: bad answers and limits", () => {
  it.scopedLive("an unknown status is logged and read as PENDING, never as filled or rejected", () =>
    Effect.gen(function* () {
      const logs: Array<string> = []
      const { fake, broker } = yield* shoonyaPair()
      const { brokerOrderId } = yield* broker.place(order("eng-1"))
      fake.setStatus(brokerOrderId, "FROZEN")
      const seen = yield* withLogs(logs)(broker.order(brokerOrderId))
      expect(seen.status).toBe("PENDING")
      expect(logs.some((l) => l.startsWith("WARN") && l.includes('unknown status "FROZEN"'))).toBe(true)
    }),
  )

  it.scopedLive("an HTML error page on a read is a typed error naming the body", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      fake.server.inject("OrderBook", { kind: "html", status: 502 })
      expect(yield* failureOf(broker.orderBook)).toMatchObject({
        reason: "Unavailable",
        field: "body",
        message: "OrderBook: HTTP 502 answer is an HTML page",
      })
      fake.server.inject("PositionBook", { kind: "html", status: 200 })
      expect(yield* failureOf(broker.positions)).toMatchObject({ reason: "Invalid", field: "body" })
    }),
  )

  it.scopedLive("truncated JSON on a read is Invalid naming the body", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      yield* broker.place(order("eng-1"))
      fake.server.inject("OrderBook", { kind: "truncate" })
      const e = yield* failureOf(broker.orderBook)
      expect(e).toMatchObject({ reason: "Invalid", field: "body" })
      expect(e.message).toContain("malformed or truncated JSON")
    }),
  )

  it.scopedLive(
    "a garbled answer to a placement leaves the outcome unknown (Timeout), and the order is found by tag",
    () =>
      Effect.gen(function* () {
        const { fake, broker } = yield* shoonyaPair()
        fake.server.inject("PlaceOrder", { kind: "truncate" })
        expect(yield* failureOf(broker.place(order("eng-1")))).toMatchObject({ reason: "Timeout", field: "body" })
        fake.server.inject("PlaceOrder", { kind: "html", status: 500, applied: true })
        expect(yield* failureOf(broker.place(order("eng-2")))).toMatchObject({ reason: "Timeout", field: "body" })
        expect(Option.isSome(yield* broker.orderByTag("eng-1"))).toBe(true)
        expect(Option.isSome(yield* broker.orderByTag("eng-2"))).toBe(true)
      }),
  )

  it.scopedLive("an order row missing a field is Invalid naming that field", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const row = { stat: "Ok", norenordno: "1", exch: "NSE", qty: "1", trantype: "B", prd: "I", prctyp: "LMT" }
      fake.server.inject("OrderBook", orderBookWith([{ ...row, status: "OPEN" }]))
      expect(yield* failureOf(broker.orderBook)).toMatchObject({ reason: "Invalid", field: "tsym" })
      fake.server.inject("OrderBook", orderBookWith([{ ...row, tsym: "X-EQ", status: "OPEN", qty: "ten" }]))
      expect(yield* failureOf(broker.orderBook)).toMatchObject({ reason: "Invalid", field: "qty" })
      fake.server.inject("OrderBook", orderBookWith({ stat: "Ok" }))
      expect(yield* failureOf(broker.orderBook)).toMatchObject({ reason: "Invalid", field: "body" })
    }),
  )

  it.scopedLive("HTTP 403 is SessionExpired with a clear message and no token in it; a renewed token works", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      fake.expireSession("403")
      const e = yield* failureOf(broker.place(order("eng-1")))
      expect(e.reason).toBe("SessionExpired")
      expect(e.message).toMatch(/session expired .*renew the access token/i)
      fake.renewSession("shoonya-token-0002")
      yield* broker.setCredentials({ userId: fake.userId, accessToken: "shoonya-token-0002" })
      expect(yield* broker.place(order("eng-1"))).toMatchObject({ brokerOrderId: expect.any(String) })
    }),
  )

  it.scopedLive('a Not_Ok "Session Expired" answer is SessionExpired too', () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      fake.expireSession("emsg")
      expect(yield* failureOf(broker.orderBook)).toMatchObject({ reason: "SessionExpired" })
    }),
  )

  it.scopedLive("the access token is redacted from an error that quotes it", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const emsg = "Invalid Input : token shoonya-token-0001 not allowed"
      fake.server.inject("PlaceOrder", orderBookWith({ stat: "Not_Ok", emsg }))
      const e = yield* failureOf(broker.place(order("eng-1")))
      expect(e.message).toBe("PlaceOrder: Invalid Input : token [redacted] not allowed")
    }),
  )

  it.scopedLive("HTTP 429 pauses and sends the call again; it succeeds once the broker lets it through", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const tooMany = { status: 429, body: '{"stat":"Not_Ok","emsg":"Too many requests"}' }
      fake.server.inject("PlaceOrder", { kind: "answer", answer: tooMany }, 2)
      yield* broker.place(order("eng-1"))
      expect(fake.server.calls("PlaceOrder")).toHaveLength(3)
      expect(fake.book.orders.size).toBe(1)
    }),
  )

  it.scopedLive("a call still rate-limited after its retries fails RateLimited, which is retryable", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair({}, { rateLimitRetriesMax: 2 })
      const tooMany = { status: 429, body: "" }
      fake.server.inject("OrderBook", { kind: "answer", answer: tooMany }, 10)
      const e = yield* failureOf(broker.orderBook)
      expect(e.reason).toBe("RateLimited")
      expect(e.retryable).toBe(true)
      expect(fake.server.calls("OrderBook")).toHaveLength(3)
    }),
  )

  it.scopedLive("30 placements at once reach the broker below its 20 a second, and none is refused", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const tags = Array.from({ length: 30 }, (_, i) => `eng-${i}`)
      yield* Effect.forEach(tags, (tag) => broker.place(order(tag)), { concurrency: "unbounded" })
      expect(fake.server.calls("PlaceOrder")).toHaveLength(30)
      expect(fake.server.rateLimited).toBe(0)
      // The adapter sends at most 18 in any second; arrival jitter may bunch them a little.
      expect(fake.server.maxInWindow((r) => r === "PlaceOrder", 1000)).toBeLessThanOrEqual(20)
    }),
  )
})

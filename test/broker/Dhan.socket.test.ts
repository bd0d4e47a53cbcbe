import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { PlaceRequest } from "../../src/broker/Broker.js"
import { collect, eventually, order, withLogs } from "../fixtures/fakeBrokerHarness.js"
import { dhanPair } from "../fixtures/FakeDhanSetup.js"

const dhanOrder = (tag: string, over: Partial<PlaceRequest> = {}) =>
  order(tag, { symbol: "RELIANCE", exchange: "NSE", price: 2950, ...over })
const loggedIn = (fake: { server: { openConnections: ReadonlyArray<{ subscribed: boolean }> } }) => () =>
  fake.server.openConnections.some((c) => c.subscribed)

describe("Dhan adapter: order updates from the order-update websocket", () => {
  for (const casing of ["camel", "pascal"] as const) {
    it.scopedLive(`logs in with MsgCode 42 and reads ${casing}Case order alerts: new, part traded, traded`, () =>
      Effect.gen(function* () {
        const { fake, broker } = yield* dhanPair({ casing })
        const updates = yield* collect(broker.subscribe)
        yield* eventually("the socket login", loggedIn(fake))
        const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1", { qty: 10 }))
        fake.fill(brokerOrderId, 4, 2950)
        fake.fill(brokerOrderId, 6, 2949)
        yield* eventually("three updates", () => updates.length >= 3)
        expect(updates).toMatchObject([
          { brokerOrderId, clientTag: "W-O1", status: "OPEN", qty: 10, filledQty: 0, reason: null },
          { brokerOrderId, status: "PARTIALLY_FILLED", filledQty: 4, avgPrice: 2950 },
          { brokerOrderId, status: "FILLED", filledQty: 10, avgPrice: 2949.4 },
        ])
      }),
    )
  }

  it.scopedLive("both key casings are read on the same socket, and a late reject carries its reason", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair({ casing: "pascal" })
      const updates = yield* collect(broker.subscribe)
      yield* eventually("the socket login", loggedIn(fake))
      const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1"))
      fake.setCasing("camel")
      fake.reject(brokerOrderId, "RMS:Margin Exceeds")
      yield* eventually("two updates", () => updates.length >= 2)
      expect(updates.map((u) => [u.status, u.reason])).toEqual([
        ["OPEN", null],
        ["REJECTED", "RMS:Margin Exceeds"],
      ])
    }),
  )

  it.scopedLive("an order alert with an unknown status is logged and read as PENDING", () =>
    Effect.gen(function* () {
      const logs: Array<string> = []
      const { fake, broker } = yield* withLogs(logs)(dhanPair())
      const updates = yield* collect(broker.subscribe)
      yield* eventually("the socket login", loggedIn(fake))
      const { brokerOrderId } = yield* broker.place(dhanOrder("W-O1"))
      fake.setStatus(brokerOrderId, "INACTIVE")
      yield* eventually("two updates", () => updates.length >= 2)
      expect(updates[1]).toMatchObject({ brokerOrderId, status: "PENDING" })
      expect(logs.some((l) => l.includes('unknown status "INACTIVE"'))).toBe(true)
    }),
  )

  it.scopedLive("a socket that stays connected but silent is closed and opened again, and updates resume", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* dhanPair({}, { silenceMs: 200, heartbeatMs: 40 })
      const updates = yield* collect(broker.subscribe)
      yield* eventually("the socket login", loggedIn(fake))
      fake.server.silence()
      yield* eventually("a second connection", () => fake.server.connections.length >= 2)
      yield* eventually("the new login", loggedIn(fake))
      yield* broker.place(dhanOrder("W-O1"))
      yield* eventually("the update over the new socket", () => updates.length >= 1)
    }),
  )

  it.scopedLive("a quiet but healthy socket is kept: pongs answer the pings", () =>
    Effect.gen(function* () {
      const { fake } = yield* dhanPair({}, { silenceMs: 300, heartbeatMs: 40 })
      yield* eventually("the socket login", loggedIn(fake))
      yield* Effect.sleep("900 millis")
      expect(fake.server.connections).toHaveLength(1)
    }),
  )

  it.scopedLive("a refused socket login is logged without the token and retried with the renewed one", () =>
    Effect.gen(function* () {
      const logs: Array<string> = []
      const stale = { credentials: { clientId: "1100000001", accessToken: "stale-jwt-01" } }
      const { fake, broker } = yield* withLogs(logs)(dhanPair({}, stale))
      yield* eventually("a refused login", () => logs.some((l) => l.includes("order-update socket refused")))
      expect(logs.join("\n")).not.toContain("stale-jwt-01")
      fake.renewSession("dhan-jwt-0002")
      yield* broker.setCredentials({ clientId: fake.clientId, accessToken: "dhan-jwt-0002" })
      yield* eventually("the socket login", loggedIn(fake))
    }),
  )
})

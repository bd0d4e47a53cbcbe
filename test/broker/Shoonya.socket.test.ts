import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { collect, eventually, order, withLogs } from "../fixtures/fakeBrokerHarness.js"
import { shoonyaPair } from "../fixtures/FakeShoonyaSetup.js"

const subscribed = (fake: { server: { openConnections: ReadonlyArray<{ subscribed: boolean }> } }) => () =>
  fake.server.openConnections.some((c) => c.subscribed)

describe("Shoonya adapter: order updates from the Noren websocket", () => {
  it.scopedLive("logs in, subscribes to orders and reads om messages: new, partial fill, fill", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const updates = yield* collect(broker.subscribe)
      yield* eventually("the order subscription", subscribed(fake))
      const { brokerOrderId } = yield* broker.place(order("eng-1", { qty: 10 }))
      const first = fake.fill(brokerOrderId, 4, 2950)
      fake.fill(brokerOrderId, 6, 2949)
      yield* eventually("three updates", () => updates.length >= 3)
      expect(updates).toMatchObject([
        { brokerOrderId, clientTag: "eng-1", status: "OPEN", qty: 10, filledQty: 0, reason: null },
        {
          status: "PARTIALLY_FILLED",
          filledQty: 4,
          avgPrice: 2950,
          fill: { fillId: `${brokerOrderId}:${first.id}`, qty: 4, price: 2950 },
        },
        { status: "FILLED", filledQty: 10, avgPrice: 2949.4, fill: { qty: 6, price: 2949 } },
      ])
    }),
  )

  it.scopedLive("a late reject arrives with the RMS's reason", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair()
      const updates = yield* collect(broker.subscribe)
      yield* eventually("the order subscription", subscribed(fake))
      const { brokerOrderId } = yield* broker.place(order("eng-1"))
      fake.reject(brokerOrderId, "RMS:Margin Exceeds,Required:2950.00, Available:0.00")
      yield* eventually("the reject", () => updates.some((u) => u.status === "REJECTED"))
      expect(updates.at(-1)).toMatchObject({ status: "REJECTED", reason: expect.stringContaining("Margin Exceeds") })
    }),
  )

  it.scopedLive('sends the {"t":"h"} heartbeat while connected', () =>
    Effect.gen(function* () {
      const { fake } = yield* shoonyaPair({}, { heartbeatMs: 30 })
      yield* eventually("three heartbeats", () => fake.server.connections.some((c) => c.heartbeats >= 3))
    }),
  )

  it.scopedLive("a socket that stays connected but silent is closed and opened again, and updates resume", () =>
    Effect.gen(function* () {
      const { fake, broker } = yield* shoonyaPair({}, { silenceMs: 200, heartbeatMs: 40 })
      const updates = yield* collect(broker.subscribe)
      yield* eventually("the order subscription", subscribed(fake))
      fake.server.silence()
      yield* eventually("a second subscribed connection", () => fake.server.connections.length >= 2)
      yield* eventually("the new subscription", subscribed(fake))
      expect(fake.server.connections[0]!.ws.readyState).not.toBe(fake.server.connections[0]!.ws.OPEN)
      yield* broker.place(order("eng-1"))
      yield* eventually("the update over the new socket", () => updates.length >= 1)
    }),
  )

  it.scopedLive("a refused socket login is logged and retried with the renewed token", () =>
    Effect.gen(function* () {
      const logs: Array<string> = []
      const { fake, broker } = yield* withLogs(logs)(
        shoonyaPair({}, { credentials: { userId: "FA12345", accessToken: "stale-token-01" } }),
      )
      yield* eventually("a refused login", () => logs.some((l) => l.includes("socket login refused")))
      expect(logs.join("\n")).not.toContain("stale-token-01")
      fake.renewSession("fresh-token-02")
      yield* broker.setCredentials({ userId: fake.userId, accessToken: "fresh-token-02" })
      yield* eventually("the order subscription", subscribed(fake))
    }),
  )
})

/**
 * An expired session, end to end through the engine: an order sent while the broker refuses the
 * session stays queued (its placement held, its lookups failing without ever failing the order);
 * writing a new token to the account's `accessTokenFile` renews the connection, and the order goes
 * out exactly once. Real fake servers on loopback, a real SQLite file.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, type Scope } from "effect"
import type { Broker } from "../../src/broker/Broker.js"
import * as DhanBroker from "../../src/broker/DhanBroker.js"
import * as ShoonyaBroker from "../../src/broker/ShoonyaBroker.js"
import { engineLayer } from "../../src/main.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import * as FakeDhan from "../../src/sim/fakes/FakeDhan.js"
import * as FakeShoonya from "../../src/sim/fakes/FakeShoonya.js"
import { dhanInstruments } from "../fixtures/FakeDhanSetup.js"
import { eventually, scopedFake, withLogs } from "../fixtures/fakeBrokerHarness.js"
import { shoonyaInstruments } from "../fixtures/FakeShoonyaSetup.js"
import { orderInput, tempDir } from "../fixtures/TestEngine.js"

/** What differs between the two brokers in this test. */
interface Venue {
  readonly name: string
  readonly firstToken: string
  readonly newToken: string
  readonly symbol: string
  readonly exchange: string
  readonly placeRoute: string
  readonly start: () => Promise<{
    readonly baseUrl: string
    readonly wsUrl: string
    readonly book: { readonly orders: Map<string, unknown> }
    readonly server: { calls: (route?: string) => Array<unknown> }
    readonly expireSession: () => void
    readonly renewSession: (token: string) => void
    readonly tick: (symbol: string, price: number) => void
    readonly close: () => Promise<void>
  }>
  readonly connect: (
    fake: { baseUrl: string; wsUrl: string },
    tokenFile: string,
  ) => Effect.Effect<Broker, never, Scope.Scope>
}

const fast = {
  backoffMs: 5,
  backoffMsMax: 20,
  requestTimeoutMs: 2_000,
  heartbeatMs: 50,
  silenceMs: 1_000,
  reconnectDelayMs: 20,
  reconnectDelayMsMax: 100,
  accessTokenPollMs: 20,
}

const venues: ReadonlyArray<Venue> = [
  {
    name: "Shoonya (HTTP 403 Session Expired)",
    firstToken: "shoonya-token-0001",
    newToken: "shoonya-token-0002",
    symbol: "RELIANCE-EQ",
    exchange: "NSE",
    placeRoute: "PlaceOrder",
    start: async () => {
      const fake = await FakeShoonya.start()
      return { ...fake, expireSession: () => fake.expireSession("403") }
    },
    connect: (fake, tokenFile) =>
      ShoonyaBroker.make({
        accountId: "U1",
        baseUrl: fake.baseUrl,
        wsUrl: fake.wsUrl,
        credentials: { userId: "FA12345", accessToken: "from-the-config" },
        instruments: shoonyaInstruments,
        accessTokenFile: tokenFile,
        ...fast,
      }),
  },
  {
    name: "Dhan (DH-901)",
    firstToken: "dhan-jwt-0001",
    newToken: "dhan-jwt-0002",
    symbol: "RELIANCE",
    exchange: "NSE",
    placeRoute: "POST /orders",
    start: async () => {
      const fake = await FakeDhan.start({ instruments: dhanInstruments })
      return { ...fake, expireSession: () => fake.expireSession("DH-901") }
    },
    connect: (fake, tokenFile) =>
      DhanBroker.make({
        accountId: "U1",
        baseUrl: fake.baseUrl,
        wsUrl: fake.wsUrl,
        credentials: { clientId: "1100000001", accessToken: "from-the-config" },
        instruments: dhanInstruments,
        accessTokenFile: tokenFile,
        ...fast,
      }),
  },
]

const stateOf = (id: string) =>
  Effect.flatMap(ActorRuntime, (rt) => Effect.map(rt.view(id), (v) => Option.getOrThrow(v).state))

const journalCount = (eventType: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ n: number }>`SELECT COUNT(*) AS n FROM journal WHERE event_type = ${eventType}`,
      (rows) => rows[0]?.n ?? 0,
    ),
  )

describe("session renewal through the access token file", () => {
  for (const venue of venues) {
    it.scopedLive(
      `${venue.name}: the order stays queued while the session is expired and goes out once after renewal`,
      () =>
        Effect.gen(function* () {
          const dir = tempDir()
          const tokenFile = join(dir, "token")
          writeFileSync(tokenFile, `${venue.firstToken}\n`)
          const fake = yield* scopedFake(venue.start)
          const logs: Array<string> = []
          const engine = engineLayer({
            database: { filename: join(dir, "warden.db") },
            paperAccounts: [],
            liveAccounts: [{ accountId: "U1", connect: () => venue.connect(fake, tokenFile) }],
            runtime: { effectRetryBaseMs: 1 },
            watcher: { pollIntervalMs: 50, fastPollIntervalMs: 20, quietStreamMs: 200 },
          })
          yield* Effect.gen(function* () {
            const rt = yield* ActorRuntime
            // The config's token is stale: the adapter took the file's (read at start).
            fake.expireSession()
            const input = orderInput("o1", {
              symbol: venue.symbol,
              exchange: venue.exchange,
              qty: 1,
              orderType: "LIMIT",
              price: 2950,
              ackTimeoutMs: 100,
              lookupRetryMs: 20,
              lookupAttemptsMax: 2,
            })
            yield* rt.spawn("order", "o1", input)
            yield* rt.send("o1", { type: "cmd.place" })
            // Refused for the session, then held; the engine's lookups keep failing without failing the order.
            yield* eventually("a refused placement", () => fake.server.calls(venue.placeRoute).length >= 1)
            for (let n = 0; n < 3; ) {
              n = yield* journalCount("broker.lookupFailed")
              yield* Effect.sleep("10 millis")
            }
            expect(yield* stateOf("o1")).toMatch(/^SENT_TO_BROKER\.(unknown|lookupWait)$/)
            expect(fake.book.orders.size).toBe(0)
            expect(fake.server.calls(venue.placeRoute)).toHaveLength(1)
            expect(logs.some((l) => l.startsWith("WARN") && l.includes(`wait until a new access token`))).toBe(true)

            // The operator renews the session and writes the new token to the file.
            fake.renewSession(venue.newToken)
            writeFileSync(tokenFile, `${venue.newToken}\n`)
            yield* eventually("the order at the broker", () => fake.book.orders.size === 1)
            for (let s = yield* stateOf("o1"); s !== "SENT_TO_BROKER.working"; s = yield* stateOf("o1")) {
              yield* Effect.sleep("10 millis")
            }
            fake.tick(venue.symbol, 2949)
            for (let s = yield* stateOf("o1"); s !== "EXECUTED"; s = yield* stateOf("o1")) {
              yield* Effect.sleep("10 millis")
            }
            expect(fake.book.orders.size).toBe(1)
            expect(fake.server.calls(venue.placeRoute)).toHaveLength(2)
            expect(logs.some((l) => l.startsWith("INFO") && l.includes(`access token renewed from ${tokenFile}`))).toBe(
              true,
            )
            expect(logs.filter((l) => l.includes(venue.firstToken) || l.includes(venue.newToken))).toEqual([])
          }).pipe(Effect.provide(engine), withLogs(logs))
        }),
      { timeout: 20_000 },
    )
  }
})

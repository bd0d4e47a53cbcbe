import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { TickHub } from "../../src/market/TickHub.js"
import { eventsFor } from "../../src/orders/OrderWatcher.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { EngineScheduler } from "../../src/runtime/EngineScheduler.js"
import { orderInput, testPaperEngine } from "../fixtures/TestEngine.js"

const working = { state: "SENT_TO_BROKER.working", filledQty: 0, avgPrice: 0 }
const update = (over: Record<string, unknown>) => ({
  brokerOrderId: "B1",
  status: "OPEN" as const,
  filledQty: 0,
  avgPrice: 0,
  reason: null,
  ...over,
})

describe("eventsFor", () => {
  it("turns a first fill carrying its trade id into broker.filled with that id", () => {
    expect(
      eventsFor(
        working,
        update({
          status: "PARTIALLY_FILLED",
          filledQty: 30,
          avgPrice: 100,
          fill: { fillId: "T1", qty: 30, price: 100 },
        }),
      ),
    ).toEqual([{ type: "broker.filled", fillId: "T1", qty: 30, price: 100 }])
  })

  it("derives a missed fill from the cumulative quantity and average price", () => {
    const known = { state: "PARTIAL", filledQty: 30, avgPrice: 100 }
    expect(eventsFor(known, update({ status: "FILLED", filledQty: 65, avgPrice: 101.0769 }))).toEqual([
      { type: "broker.filled", fillId: "B1#65", qty: 35, price: 102 },
    ])
  })

  it("yields nothing for a duplicate or an older update", () => {
    const known = { state: "PARTIAL", filledQty: 30, avgPrice: 100 }
    expect(eventsFor(known, update({ status: "PARTIALLY_FILLED", filledQty: 30, avgPrice: 100 }))).toEqual([])
    expect(eventsFor(known, update({ status: "OPEN", filledQty: 0 }))).toEqual([])
  })

  it("records a fill that arrives after the cancel", () => {
    const known = { state: "CANCELLED", filledQty: 0, avgPrice: 0 }
    expect(eventsFor(known, update({ status: "CANCELLED", filledQty: 65, avgPrice: 99 }))).toEqual([
      { type: "broker.filled", fillId: "B1#65", qty: 65, price: 99 },
    ])
  })

  it("acknowledges an order whose send had no answer, and rejects one the broker rejected", () => {
    const unknown = { state: "SENT_TO_BROKER.unknown", filledQty: 0, avgPrice: 0 }
    expect(eventsFor(unknown, update({ status: "OPEN" }))).toEqual([{ type: "broker.accepted", brokerOrderId: "B1" }])
    expect(eventsFor(unknown, update({ status: "REJECTED", reason: "margin" }))).toEqual([
      { type: "broker.rejected", reason: "margin" },
    ])
  })

  it("rejects an order the exchange rejected right after the broker accepted, even before the ack is committed", () => {
    const awaitingAck = { state: "SENT_TO_BROKER.awaitingAck", filledQty: 0, avgPrice: 0 }
    expect(eventsFor(awaitingAck, update({ status: "REJECTED", reason: "RMS: price band" }))).toEqual([
      { type: "broker.rejected", reason: "RMS: price band" },
    ])
    expect(eventsFor(awaitingAck, update({ status: "OPEN" }))).toEqual([])
  })

  it("changes nothing on an order that is already final", () => {
    expect(
      eventsFor({ state: "EXECUTED", filledQty: 65, avgPrice: 1 }, update({ status: "FILLED", filledQty: 65 })),
    ).toEqual([])
  })
})

const stateOf = (id: string) =>
  Effect.flatMap(ActorRuntime, (rt) => Effect.map(rt.view(id), (v) => Option.getOrThrow(v).state))
const until = (id: string, state: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1_000; i++) {
      if ((yield* stateOf(id)) === state) return
      yield* Effect.sleep("5 millis")
    }
    throw new Error(`${id} is in ${yield* stateOf(id)}, never reached ${state}`)
  })

const tick = (ltp: number) =>
  Effect.flatMap(TickHub, (hub) => hub.publish({ symbol: "NIFTY26MARFUT", exchange: "NFO", ltp, at: Date.now() }))

/** Places order o1 at 22,000 through the engine (`beforePlace` runs once it exists) and waits until it is EXECUTED. */
const placeUntilExecuted = <E = never, R = never>(beforePlace: Effect.Effect<void, E, R> = Effect.void) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    yield* tick(22000)
    yield* rt.spawn("order", "o1", orderInput("o1"))
    yield* beforePlace
    yield* rt.send("o1", { type: "cmd.place" })
    yield* until("o1", "EXECUTED")
  })

/** How each fill reached the engine: "stream" or "poll". */
const fillSources = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql<{ cause: string }>`SELECT cause FROM journal WHERE event_type = 'broker.filled'`, (rows) =>
    rows.map((r) => r.cause.split(":")[1]),
  ),
)

describe("order watcher with the paper broker", () => {
  it.live("an order placed through the engine fills at the market price and the fill reaches the order", () =>
    Effect.gen(function* () {
      yield* placeUntilExecuted()
      const [row] = yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql<{
            filled_qty: number
            avg_price: number
            broker_order_id: string
          }>`SELECT filled_qty, avg_price, broker_order_id FROM orders`,
      )
      expect(row).toEqual({ filled_qty: 65, avg_price: 22000, broker_order_id: "P-U1-000001" })
    }).pipe(Effect.provide(testPaperEngine().layer)),
  )

  it.live("fills during a disconnect are found by polling the order book", () =>
    Effect.gen(function* () {
      const paper = yield* PaperAccounts
      yield* placeUntilExecuted(paper.accounts.get("U1")!.setConnected(false))
      expect(yield* fillSources).toEqual(["poll"])
    }).pipe(Effect.provide(testPaperEngine().layer)),
  )

  it("on the engine scheduler, an order placed the moment the engine is up is filled from the stream, with no poll", async () => {
    // The stream's updates are applied at the lowest priority (`EngineScheduler.brokerUpdates`):
    // subscribed from that fiber, the watcher missed every update published before it first ran.
    const { layer } = testPaperEngine({
      watcher: { pollIntervalMs: 3_600_000, fastPollIntervalMs: 3_600_000, quietStreamMs: 3_600_000 },
    })
    const sources = await Effect.runPromise(
      Effect.scoped(Effect.zipRight(placeUntilExecuted(), fillSources).pipe(Effect.provide(layer))).pipe(
        Effect.withScheduler(new EngineScheduler()),
      ),
    )
    expect(sources).toEqual(["stream"])
  })
})

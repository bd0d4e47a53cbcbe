/**
 * An exit-all of many positions on the engine's own scheduler, as `npm start` runs it: the exit
 * orders go out before the fills of the first of them are booked (the order watcher's stream runs
 * at `EngineScheduler.brokerUpdates`), and every one of them is filled after.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Queue } from "effect"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { ExitService } from "../../src/exits/ExitService.js"
import { ActorRuntime, type Transition } from "../../src/runtime/ActorRuntime.js"
import { EngineScheduler } from "../../src/runtime/EngineScheduler.js"
import { TickHub } from "../../src/market/TickHub.js"
import { exitEngine, openTrade, settled } from "./exitHarness.js"

const symbols = Array.from({ length: 12 }, (_, i) => `STORM${i}-EQ`)

describe("exit storm", () => {
  it("commits every exit order of an exit-all as sent before it books any fill, then books them all", async () => {
    // Two positions at a time, so that the first ones' fills are back while the rest are still to go.
    const t = exitEngine({ exits: { requestConcurrencyMax: 2 } })
    const program = Effect.gen(function* () {
      const hub = yield* TickHub
      const paper = (yield* PaperAccounts).accounts.get("U1")!
      const rt = yield* ActorRuntime
      for (const symbol of symbols) {
        yield* hub.publish({ symbol, exchange: "NSE", ltp: 100, at: Date.now() })
        // The broker position the engine's two trades on the symbol make up.
        yield* paper.place({
          clientTag: `seed-${symbol}`,
          accountId: "U1",
          symbol,
          exchange: "NSE",
          side: "BUY",
          qty: 2,
          product: "MIS",
          orderType: "MARKET",
          price: null,
          triggerPrice: null,
        })
        for (let k = 0; k < 2; k++)
          yield* openTrade({ symbol, exchange: "NSE", qty: 1, entryPrice: 100, stopLoss: 90, target: 110 })
      }
      yield* settled
      const sub = yield* rt.subscribe
      const result = yield* (yield* ExitService).exitAll("EMERGENCY", "test")
      yield* settled
      const orders = Array.from(yield* Queue.takeAll(sub)).filter((tr: Transition) => tr.actorType === "order")
      return { placed: result.placed.length, orders }
    })
    const { placed, orders } = await Effect.runPromise(
      Effect.scoped(program.pipe(Effect.provide(t.layer))).pipe(Effect.withScheduler(new EngineScheduler())),
    )
    expect(placed).toBe(symbols.length * 2)
    const sent = orders.filter((tr) => tr.to === "SENT_TO_BROKER.awaitingAck")
    const filled = orders.filter((tr) => tr.eventType === "broker.filled")
    // One order a position, each filled.
    expect(sent).toHaveLength(symbols.length)
    expect(new Set(filled.map((tr) => tr.actorId))).toEqual(new Set(sent.map((tr) => tr.actorId)))
    expect(orders.filter((tr) => tr.to === "EXECUTED")).toHaveLength(symbols.length)
    expect(orders.indexOf(sent.at(-1)!)).toBeLessThan(orders.indexOf(filled[0]!))
  })
})

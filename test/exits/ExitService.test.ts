/**
 * The broker-truth exit on the real engine: positions read from the paper broker's book, CNC
 * never touched, quantity and side from the net quantity, the engine's trades through their exit
 * intents, the rest through plain EXIT orders, and the execution guard.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { PlaceRequest } from "../../src/broker/Broker.js"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { ExitService } from "../../src/exits/ExitService.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { orderInput } from "../fixtures/TestEngine.js"
import { contextOf, enterTrade, exitEngine, rows, settled, tick, until, untilState } from "./exitHarness.js"

const paper = Effect.map(PaperAccounts, (p) => p.accounts.get("U1")!)

let tags = 0
/** Places an order at the paper broker directly, as if from outside the engine. */
const direct = (over: Partial<PlaceRequest>) =>
  Effect.flatMap(paper, (b) =>
    b.place({
      clientTag: `outside-${++tags}`,
      accountId: "U1",
      symbol: "NIFTY26MARFUT",
      exchange: "NFO",
      side: "BUY",
      qty: 65,
      product: "NRML",
      orderType: "MARKET",
      price: null,
      triggerPrice: null,
      ...over,
    }),
  )

const netQty = Effect.map(
  Effect.flatMap(paper, (b) => b.positions),
  (ps) => Object.fromEntries(ps.map((p) => [`${p.symbol} ${p.product}`, p.netQty])),
)

const marketAt = Effect.gen(function* () {
  yield* tick("NIFTY26MARFUT", 22000)
  yield* tick("BANKNIFTY26MARFUT", 48000)
  yield* tick("RELIANCE-EQ", 2800)
})

const holding = { symbol: "RELIANCE-EQ", exchange: "NSE", qty: 10, avgPrice: 2800 }

describe("requestExit", () => {
  it.live(
    "exit-all closes the MIS long and the NRML short and leaves the CNC holding, the CNC position and the flat row alone",
    () =>
      Effect.gen(function* () {
        yield* marketAt
        const trade = yield* enterTrade({ product: "MIS" })
        yield* direct({ symbol: "BANKNIFTY26MARFUT", side: "SELL", qty: 30, orderType: "LIMIT", price: 48000 })
        yield* direct({ symbol: "RELIANCE-EQ", exchange: "NSE", qty: 5, product: "CNC" })
        yield* direct({ side: "BUY" })
        yield* direct({ side: "SELL" })
        expect(yield* netQty).toEqual({
          "NIFTY26MARFUT MIS": 65,
          "BANKNIFTY26MARFUT NRML": -30,
          "RELIANCE-EQ CNC": 5,
          "NIFTY26MARFUT NRML": 0,
        })
        const holdings = yield* Effect.flatMap(paper, (b) => b.holdings)

        const result = yield* (yield* ExitService).exitAll("MANUAL", "test")
        expect(result.placed.map((p) => [p.symbol, p.product, p.side, p.qty, p.via, p.tradeId])).toEqual(
          expect.arrayContaining([
            ["NIFTY26MARFUT", "MIS", "SELL", 65, "intent", trade],
            ["BANKNIFTY26MARFUT", "NRML", "BUY", 30, "order", null],
          ]),
        )
        expect(result.placed.length).toBe(2)
        expect(result.skipped.map((s) => [s.symbol, s.product, s.reason.split(":")[0]])).toEqual(
          expect.arrayContaining([
            ["RELIANCE-EQ", "CNC", "CNC"],
            ["NIFTY26MARFUT", "NRML", "FLAT"],
          ]),
        )
        expect(result.skipped.length).toBe(2)

        yield* untilState(trade, "CLOSED")
        yield* until(
          "the positions are exited",
          Effect.map(netQty, (q) => q["BANKNIFTY26MARFUT NRML"] === 0),
        )
        expect(yield* netQty).toEqual({
          "NIFTY26MARFUT MIS": 0,
          "BANKNIFTY26MARFUT NRML": 0,
          "RELIANCE-EQ CNC": 5,
          "NIFTY26MARFUT NRML": 0,
        })
        expect(yield* Effect.flatMap(paper, (b) => b.holdings)).toEqual(holdings)
        expect((yield* contextOf(trade)).exitReason).toBe("MANUAL")
      }).pipe(Effect.provide(exitEngine({ account: { holdings: [holding] } }).layer)),
  )

  it.live("scope SYMBOLS with product NRML exits only that symbol's NRML row", () =>
    Effect.gen(function* () {
      yield* marketAt
      const trade = yield* enterTrade({ product: "MIS" })
      yield* direct({ product: "NRML" })
      yield* direct({ symbol: "BANKNIFTY26MARFUT", qty: 30, orderType: "LIMIT", price: 48000 })
      const service = yield* ExitService
      const result = yield* service.requestExit({
        scope: "SYMBOLS",
        symbols: ["NIFTY26MARFUT"],
        product: "NRML",
        reason: "MANUAL",
        source: "test",
      })
      expect(result.placed.map((p) => [p.symbol, p.product, p.side, p.qty, p.via])).toEqual([
        ["NIFTY26MARFUT", "NRML", "SELL", 65, "order"],
      ])
      expect(result.skipped).toEqual([])
      yield* until(
        "the NRML row is exited",
        Effect.map(netQty, (q) => q["NIFTY26MARFUT NRML"] === 0),
      )
      yield* settled
      expect(yield* netQty).toEqual({ "NIFTY26MARFUT MIS": 65, "NIFTY26MARFUT NRML": 0, "BANKNIFTY26MARFUT NRML": 30 })
      expect((yield* contextOf(trade)).exitReason).toBe(null)
    }).pipe(Effect.provide(exitEngine().layer)),
  )

  it.live(
    "a request a working exit stood in the way of is kept, carried out once that exit is gone, and dropped when flat",
    () =>
      Effect.gen(function* () {
        yield* marketAt
        yield* direct({})
        const rt = yield* ActorRuntime
        // An exit already working on the position: a SELL LIMIT resting far above the market.
        const resting = "ord_resting_exit"
        const input = orderInput(resting, {
          side: "SELL",
          product: "NRML",
          orderType: "LIMIT",
          price: 23000,
          purpose: "EXIT",
        })
        yield* rt.spawn("order", resting, input)
        yield* rt.send(resting, { type: "cmd.place" })
        yield* untilState(resting, "SENT_TO_BROKER.working")
        const service = yield* ExitService
        const blocked = yield* service.exitAll("EMERGENCY", "dashboard")
        expect(blocked.skipped.map((s) => s.reason.split(":")[0])).toEqual(["EXIT_WORKING"])
        const kept = rows<{ symbol: string; product: string; reason: string; source: string }>(
          "SELECT symbol, product, reason, source FROM pending_exits",
        )
        expect(yield* kept).toEqual([
          { symbol: "NIFTY26MARFUT", product: "NRML", reason: "EMERGENCY", source: "dashboard" },
        ])
        // While that exit works, a retry waits.
        expect((yield* service.retryPending).placed).toEqual([])
        // The resting exit is cancelled (by an operator, say): the emergency exit is carried out after all.
        yield* rt.send(resting, { type: "cmd.cancel" })
        yield* untilState(resting, "CANCELLED")
        const retried = yield* service.retryPending
        expect(retried.placed.map((p) => [p.symbol, p.product, p.side, p.qty, p.via])).toEqual([
          ["NIFTY26MARFUT", "NRML", "SELL", 65, "order"],
        ])
        yield* until(
          "the position is flat",
          Effect.map(netQty, (q) => q["NIFTY26MARFUT NRML"] === 0),
        )
        // Flat: the kept request is dropped at the next retry.
        expect((yield* service.retryPending).placed).toEqual([])
        expect(yield* kept).toEqual([])
      }).pipe(Effect.provide(exitEngine().layer)),
  )

  it.live("a second request while the first exit is still working is refused by the execution guard", () =>
    Effect.gen(function* () {
      yield* marketAt
      // Fills in parts, one part per price it meets.
      yield* direct({ qty: 130 })
      for (const p of [22001, 22002, 22003]) yield* tick("NIFTY26MARFUT", p)
      expect(yield* netQty).toEqual({ "NIFTY26MARFUT NRML": 130 })
      const service = yield* ExitService
      const first = yield* service.exitAll("MANUAL", "test")
      expect(first.placed.map((p) => p.qty)).toEqual([130])
      const second = yield* service.exitAll("MANUAL", "test")
      expect(second.placed).toEqual([])
      expect(second.skipped.map((s) => s.reason.split(":")[0])).toEqual(["EXIT_WORKING"])
    }).pipe(Effect.provide(exitEngine({ account: { faults: { partialFillRate: 1 } } }).layer)),
  )
})

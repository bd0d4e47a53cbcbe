/**
 * The broker-truth exit on the real engine: positions read from the paper broker's book, CNC
 * never touched, quantity and side from the net quantity, the engine's trades through their exit
 * intents, the rest through plain EXIT orders, and the execution guard.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { PlaceRequest } from "../../src/broker/Broker.js"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { intentIdOf, signalIdOf } from "../../src/exits/ExitQualification.js"
import { ExitService } from "../../src/exits/ExitService.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { orderInput, tempDir } from "../fixtures/TestEngine.js"
import {
  contextOf,
  enterTrade,
  exitEngine,
  openTrade,
  rows,
  settled,
  stateOf,
  tick,
  until,
  untilState,
} from "./exitHarness.js"

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

  it.live(
    "three trades on one position exit through one intent and one order; each closes on its own quantity and P&L",
    () =>
      Effect.gen(function* () {
        const entries: Array<[number, number]> = [
          [22000, 65],
          [22010, 130],
          [22020, 65],
        ]
        const trades: Array<string> = []
        for (const [price, qty] of entries) {
          yield* tick("NIFTY26MARFUT", price)
          trades.push(yield* enterTrade({ product: "MIS", qty }))
        }
        yield* tick("NIFTY26MARFUT", 22050)
        const result = yield* (yield* ExitService).exitAll("EMERGENCY", "test")
        expect(result.skipped).toEqual([])
        expect(result.placed.map((p) => [p.tradeId, p.qty, p.via])).toEqual(
          trades.map((t, i) => [t, entries[i]![1], "intent"]),
        )
        // One intent, one order, for the whole position: what a broker's rate limit can take.
        const intentId = result.placed[0]!.intentId!
        expect(new Set(result.placed.map((p) => p.intentId))).toEqual(new Set([intentId]))
        expect(new Set(result.placed.map((p) => p.orderId)).size).toBe(1)
        const exitOrders = yield* rows<{ qty: number }>(
          "SELECT qty FROM orders WHERE purpose = 'EXIT' AND symbol = 'NIFTY26MARFUT' AND product = 'MIS'",
        )
        expect(exitOrders).toEqual([{ qty: 260 }])
        expect(
          yield* rows<{ trade_id: string; qty: number }>(
            `SELECT trade_id, qty FROM exit_intent_members WHERE intent_id = '${intentId}'`,
          ),
        ).toEqual(expect.arrayContaining(trades.map((t, i) => ({ trade_id: t, qty: entries[i]![1] }))))

        for (const t of trades) yield* untilState(t, "CLOSED")
        expect(yield* stateOf(intentId)).toBe("FILLED")
        expect(yield* netQty).toEqual({ "NIFTY26MARFUT MIS": 0 })
        const exit = (yield* contextOf(intentId)).avgPrice as number
        for (const [i, t] of trades.entries()) {
          const c = yield* contextOf(t)
          expect(c).toMatchObject({ exitReason: "EMERGENCY", exitedQty: entries[i]![1], exitPrice: exit })
          expect(c.realizedPnl).toBeCloseTo((exit - (c.entryPrice as number)) * entries[i]![1], 6)
        }
      }).pipe(Effect.provide(exitEngine().layer)),
  )

  it.live(
    "a position's exit cancelled after a part filled shares that part out oldest first; the rest stay OPEN and exit again",
    () =>
      Effect.gen(function* () {
        yield* tick("NIFTY26MARFUT", 22000)
        const trades: Array<string> = []
        for (const qty of [65, 65, 65]) trades.push(yield* enterTrade({ product: "MIS", qty }))
        for (const t of trades) yield* untilState(t, "OPEN")
        const result = yield* (yield* ExitService).exitAll("MANUAL", "test")
        const intentId = result.placed[0]!.intentId!
        // Fills in parts, one part per price it meets: a part at the price it is placed at, and no
        // tick after it, so the rest waits until the cancel.
        yield* until(
          "a part of the exit filled",
          Effect.map(contextOf(intentId), (c) => (c.filledQty as number) > 0),
        )
        const rt = yield* ActorRuntime
        yield* rt.send(intentId, { type: "cmd.cancel" }, "test")
        yield* untilState(intentId, "FAILED")
        const filled = (yield* contextOf(intentId)).filledQty as number
        expect(filled).toBeGreaterThan(0)
        expect(filled).toBeLessThan(195)
        // Oldest first: each trade took what the ones before it left.
        let left = filled
        for (const t of trades) {
          const share = Math.min(65, left)
          left -= share
          yield* until(
            `${t} recorded its share`,
            Effect.map(contextOf(t), (c) => c.exitedQty === share),
          )
          expect(yield* stateOf(t)).toBe(share === 65 ? "CLOSED" : "OPEN")
        }
        expect(yield* netQty).toEqual({ "NIFTY26MARFUT MIS": 195 - filled })
        // The rest exit again, on the broker's net quantity.
        yield* settled
        const again = yield* (yield* ExitService).exitAll("MANUAL", "test")
        expect(again.placed.reduce((n, p) => n + p.qty, 0)).toBe(195 - filled)
      }).pipe(Effect.provide(exitEngine({ account: { faults: { partialFillRate: 1 } } }).layer)),
  )

  it.live(
    "a position's exit left DETECTED by a crash is published at start over the same members: one order exits them all",
    () =>
      Effect.gen(function* () {
        const dir = tempDir()
        const bank = "BANKNIFTY26MARFUT"
        const trades = yield* Effect.scoped(
          Effect.gen(function* () {
            yield* tick(bank, 48000)
            const ids: Array<string> = []
            for (let i = 0; i < 3; i++)
              ids.push(yield* openTrade({ symbol: bank, qty: 30, entryPrice: 48000 + i, stopLoss: null, target: null }))
            // What the request had committed when the engine died: the signal, with its members.
            const signalId = signalIdOf(ids[0]!, "EMERGENCY", 0)
            yield* (yield* ActorRuntime).spawn("exitSignal", signalId, {
              signalId,
              tradeId: ids[0]!,
              accountId: "U1",
              symbol: bank,
              exitReason: "EMERGENCY",
              episodeId: 0,
              detectedPrice: 48000,
              detectedAt: 0,
              cooldownMs: 60_000,
              members: ids.map((tradeId) => ({ tradeId, qty: 30 })),
            })
            return ids
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* tick(bank, 47990)
            for (const t of trades) yield* untilState(t, "CLOSED")
            expect(
              yield* rows<{ qty: number; status: string }>("SELECT qty, status FROM orders WHERE purpose = 'EXIT'"),
            ).toEqual([{ qty: 90, status: "EXECUTED" }])
            const intentId = intentIdOf(signalIdOf(trades[0]!, "EMERGENCY", 0))
            expect(yield* stateOf(intentId)).toBe("FILLED")
            expect((yield* rows<{ n: number }>("SELECT COUNT(*) AS n FROM exit_intent_members"))[0]!.n).toBe(3)
            for (const t of trades) expect((yield* contextOf(t)).exitReason).toBe("EMERGENCY")
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
      }),
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

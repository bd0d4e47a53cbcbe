/**
 * The exit pipeline end to end on the real engine (SQLite file, runtime, paper broker, watcher):
 * tick → stage 1 → signal → intent → gates → order → fills → trade closed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import * as ExitMetrics from "../../src/exits/ExitMetrics.js"
import { intentIdOf, signalIdOf } from "../../src/exits/ExitQualification.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { tempDir } from "../fixtures/TestEngine.js"
import {
  contextOf,
  enterTrade,
  exitEngine,
  openTrade,
  rows,
  settled,
  stateOf,
  tick,
  untilArmed,
  untilIndexed,
  untilState,
} from "./exitHarness.js"

type Signal = { trade_id: string; exit_reason: string; episode_id: number; state: string }
type Intent = { trade_id: string; state: string; reject_code: string | null; order_id: string | null }

const signals = rows<Signal>(
  "SELECT trade_id, exit_reason, episode_id, state FROM exit_signals ORDER BY trade_id, episode_id",
)
const intents = rows<Intent>(
  "SELECT trade_id, state, reject_code, order_id FROM exit_intents ORDER BY trade_id, episode_id",
)
const exitOrders = rows<{ order_id: string; status: string }>(
  "SELECT order_id, status FROM orders WHERE purpose = 'EXIT'",
)

const counters = {
  detected: ExitMetrics.signalsDetected,
  published: ExitMetrics.signalsPublished,
  approved: ExitMetrics.intentsApproved,
  rejected: ExitMetrics.intentsRejected,
  placed: ExitMetrics.intentsPlaced,
  filled: ExitMetrics.intentsFilled,
  failed: ExitMetrics.intentsFailed,
}
/** The exit counters and the number of placed→filled observations. */
const metrics = Effect.gen(function* () {
  const out: Record<string, number> = {}
  for (const [name, c] of Object.entries(counters)) out[name] = (yield* Metric.value(c)).count
  out.timedFills = (yield* Metric.value(ExitMetrics.placedToFilledMs)).count
  return out
})
const delta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]))

describe("exit pipeline", () => {
  it.live(
    "two open trades on one symbol both qualifying on one tick make two signals, two intents, and both close",
    () =>
      Effect.gen(function* () {
        yield* tick("NIFTY26MARFUT", 22000)
        const a = yield* enterTrade({ stopLoss: 21950 })
        const b = yield* enterTrade({ stopLoss: 21960 })
        const before = yield* metrics
        yield* tick("NIFTY26MARFUT", 21940)
        yield* untilState(a, "CLOSED")
        yield* untilState(b, "CLOSED")
        yield* settled
        expect(delta(before, yield* metrics)).toEqual({
          detected: 2,
          published: 2,
          approved: 2,
          rejected: 0,
          placed: 2,
          filled: 2,
          failed: 0,
          timedFills: 2,
        })
        expect((yield* signals).map((s) => [s.exit_reason, s.episode_id, s.state])).toEqual([
          ["STOP_LOSS", 0, "PUBLISHED.cooling"],
          ["STOP_LOSS", 0, "PUBLISHED.cooling"],
        ])
        expect((yield* intents).map((i) => i.state)).toEqual(["FILLED", "FILLED"])
        const trades = yield* rows<{ realized_pnl: number; exit_reason: string; exit_price: number }>(
          "SELECT realized_pnl, exit_reason, exit_price FROM trades",
        )
        // (21940 − 22000) × 65 each: the P&L of the fills.
        expect(trades).toEqual([
          { realized_pnl: -3900, exit_reason: "STOP_LOSS", exit_price: 21940 },
          { realized_pnl: -3900, exit_reason: "STOP_LOSS", exit_price: 21940 },
        ])
      }).pipe(Effect.provide(exitEngine().layer)),
  )

  it.live("ticks that meet no exit condition create no signal and no order", () =>
    Effect.gen(function* () {
      yield* tick("NIFTY26MARFUT", 22000)
      const id = yield* enterTrade({ stopLoss: 21900, target: 22100, trailing: { distance: 150 } })
      for (const p of [22010, 21990, 22060, 22040, 21950, 22099]) yield* tick("NIFTY26MARFUT", p)
      yield* settled
      expect(yield* signals).toEqual([])
      expect(yield* exitOrders).toEqual([])
      expect(yield* stateOf(id)).toBe("OPEN")
      // The trade heard only the ticks that improved its best price.
      const heard = yield* rows<{ event: string }>(
        `SELECT event FROM journal WHERE actor_id = '${id}' AND event_type = 'tick.price' ORDER BY seq`,
      )
      expect(heard.map((r) => JSON.parse(r.event).price)).toEqual([22010, 22060, 22099])
    }).pipe(Effect.provide(exitEngine().layer)),
  )

  it.live("a broker reject fails the intent and leaves the trade OPEN in its next episode", () =>
    Effect.gen(function* () {
      yield* tick("NIFTY26MARFUT", 22000)
      const id = yield* openTrade()
      yield* tick("NIFTY26MARFUT", 21940)
      yield* untilExitFailed(id)
      expect((yield* intents).map((i) => [i.state, i.reject_code])).toEqual([["FAILED", "ORDER_FAILED"]])
      expect(yield* stateOf(id)).toBe("OPEN")
      expect((yield* contextOf(id)).episode).toBe(1)
    }).pipe(Effect.provide(exitEngine({ account: { faults: { rejectRate: 1 } } }).layer)),
  )

  it.live("after a restart during the cooldown no second signal fires; after the cooldown the next episode exits", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const exits = { cooldownMs: 2_000 }
      const first = exitEngine({ dir, exits, account: { faults: { rejectRate: 1 } } })
      const id = yield* Effect.scoped(
        Effect.gen(function* () {
          yield* tick("NIFTY26MARFUT", 22000)
          const id = yield* openTrade()
          yield* tick("NIFTY26MARFUT", 21940)
          yield* untilExitFailed(id)
          return id
        }).pipe(Effect.provide(first.layer)),
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* untilIndexed(id)
          yield* tick("NIFTY26MARFUT", 21930)
          yield* tick("NIFTY26MARFUT", 21920)
          yield* settled
          expect((yield* signals).map((s) => [s.episode_id, s.state])).toEqual([[0, "PUBLISHED.cooling"]])
          yield* untilState(`sig_${id}_STOP_LOSS_0`, "PUBLISHED.rearmed")
          yield* untilArmed(id)
          yield* tick("NIFTY26MARFUT", 21910)
          yield* untilState(id, "CLOSED")
          expect((yield* signals).map((s) => s.episode_id)).toEqual([0, 1])
          expect((yield* intents).map((i) => i.state)).toEqual(["FAILED", "FILLED"])
        }).pipe(Effect.provide(exitEngine({ dir, exits }).layer)),
      )
    }),
  )

  it.live("a crash between approval and placement sends exactly one broker order after the restart", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      // The placement hangs (broker latency) until the engine goes down: the outbox row is pending.
      const slow = exitEngine({ dir, account: { faults: { latencyMs: [60_000, 60_000] } } })
      const symbol = "BANKNIFTY26MARFUT"
      const trade = { symbol, exchange: "NFO", qty: 30, entryPrice: 48000, stopLoss: 47900, target: null }
      const { id, orderId } = yield* Effect.scoped(
        Effect.gen(function* () {
          yield* tick(symbol, 48000)
          const id = yield* openTrade(trade)
          yield* tick(symbol, 47880)
          yield* untilState(`exi_${id}_STOP_LOSS_0`, "APPROVED.live")
          const [intent] = yield* intents
          expect(yield* stateOf(intent!.order_id!)).toBe("SENT_TO_BROKER.awaitingAck")
          expect(yield* (yield* PaperAccounts).accounts.get("U1")!.orderBook).toEqual([])
          return { id, orderId: intent!.order_id! }
        }).pipe(Effect.provide(slow.layer)),
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* untilState(orderId, "SENT_TO_BROKER.working")
          yield* tick(symbol, 47880)
          yield* untilState(id, "CLOSED")
          const book = yield* (yield* PaperAccounts).accounts.get("U1")!.orderBook
          expect(book.filter((o) => o.clientTag === orderId).length).toBe(1)
          expect(book.length).toBe(1)
          expect(yield* exitOrders).toEqual([{ order_id: orderId, status: "EXECUTED" }])
        }).pipe(Effect.provide(exitEngine({ dir }).layer)),
      )
    }),
  )
})

describe("recovery at start", () => {
  it.live("a signal left DETECTED by a crash is published and gated at start; a PENDING intent is gated", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const bank = "BANKNIFTY26MARFUT"
      const { a, b } = yield* Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          const trade = { symbol: bank, qty: 30, entryPrice: 48000, stopLoss: 47900, target: null }
          yield* tick(bank, 48000)
          const a = yield* openTrade(trade)
          const b = yield* openTrade(trade)
          // What stage 2 had committed when the engine died: a's signal only; b's signal and intent.
          for (const id of [a, b]) {
            const signalId = signalIdOf(id, "STOP_LOSS", 0)
            yield* rt.spawn("exitSignal", signalId, {
              signalId,
              tradeId: id,
              accountId: "U1",
              symbol: bank,
              exitReason: "STOP_LOSS",
              episodeId: 0,
              detectedPrice: 47880,
              detectedAt: 0,
              cooldownMs: 60_000,
            })
          }
          const signalB = signalIdOf(b, "STOP_LOSS", 0)
          const publish = { intentId: intentIdOf(signalB), side: "SELL", qty: 30, exchange: "NFO", product: "MIS" }
          yield* rt.send(signalB, { type: "signal.publish", ...publish })
          return { a, b }
        }).pipe(Effect.provide(exitEngine({ dir }).layer)),
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          // Gated at start, before any tick: the limit-as-market exits rest until the market trades.
          const gated = (yield* intents).map((i) => i.state === "APPROVED.live" || i.state === "PLACED")
          expect(gated).toEqual([true, true])
          yield* tick(bank, 47880)
          yield* untilState(a, "CLOSED")
          yield* untilState(b, "CLOSED")
          expect((yield* intents).map((i) => i.state)).toEqual(["FILLED", "FILLED"])
        }).pipe(Effect.provide(exitEngine({ dir }).layer)),
      )
    }),
  )
})

/** Waits until the trade's first exit intent has failed and the trade is OPEN again. */
const untilExitFailed = (tradeId: string) =>
  Effect.gen(function* () {
    yield* untilState(`exi_${tradeId}_STOP_LOSS_0`, "FAILED")
    yield* untilState(tradeId, "OPEN")
    yield* settled
  })

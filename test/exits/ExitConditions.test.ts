/**
 * Exit conditions on the real engine: trailing stops in both directions (the durable trailing
 * level on the Trade), the MIS square-off at the configured exchange time, and the confirmation
 * rule.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { contextOf, enterTrade, exitEngine, openTrade, rows, settled, tick, until, untilState } from "./exitHarness.js"

const ist = (time: string) => Date.parse(`2026-03-02T${time}+05:30`)
const reasons = rows<{ trade_id: string; exit_reason: string }>("SELECT trade_id, exit_reason FROM exit_signals")

const untilTrail = (tradeId: string, level: number) =>
  until(
    `${tradeId} trails at ${level}`,
    Effect.map(contextOf(tradeId), (c) => c.trailLevel === level),
  )

describe("trailing stops", () => {
  it.live(
    "a LONG's trailing stop ratchets up with the best price, never down, and exits when the price falls to it",
    () =>
      Effect.gen(function* () {
        yield* tick("NIFTY26MARFUT", 22000)
        const id = yield* enterTrade({ trailing: { distance: 20 } })
        expect((yield* contextOf(id)).trailLevel).toBe(21980)
        for (const p of [22010, 22050, 22040, 22031]) yield* tick("NIFTY26MARFUT", p)
        yield* untilTrail(id, 22030)
        yield* settled
        expect(yield* reasons).toEqual([])
        yield* tick("NIFTY26MARFUT", 22030)
        yield* untilState(id, "CLOSED")
        expect(yield* reasons).toEqual([{ trade_id: id, exit_reason: "TRAILING_STOP" }])
        expect((yield* contextOf(id)).realizedPnl).toBe(1950)
      }).pipe(Effect.provide(exitEngine().layer)),
  )

  it.live("a SHORT's trailing stop (in percent) ratchets down, never up, and exits when the price rises to it", () =>
    Effect.gen(function* () {
      yield* tick("NIFTY26MARFUT", 22000)
      const id = yield* enterTrade({ side: "SELL", trailing: { distance: 0.1, unit: "percent" } })
      for (const p of [21950, 21900, 21910, 21921]) yield* tick("NIFTY26MARFUT", p)
      // 21900 × 1.001
      yield* untilTrail(id, 21921.9)
      yield* settled
      expect(yield* reasons).toEqual([])
      yield* tick("NIFTY26MARFUT", 21925)
      yield* untilState(id, "CLOSED")
      expect(yield* reasons).toEqual([{ trade_id: id, exit_reason: "TRAILING_STOP" }])
      expect((yield* contextOf(id)).realizedPnl).toBe(4875)
    }).pipe(Effect.provide(exitEngine().layer)),
  )
})

describe("square-off", () => {
  it.live("a MIS trade is squared off at the exchange's configured time; an NRML trade is not", () =>
    Effect.gen(function* () {
      const opened = { openedAt: ist("10:00:00"), stopLoss: null, target: null }
      const mis = yield* openTrade(opened)
      const nrml = yield* openTrade({ ...opened, product: "NRML", qty: 65 })
      yield* tick("NIFTY26MARFUT", 22000, ist("15:09:59"))
      yield* settled
      expect(yield* reasons).toEqual([])
      yield* tick("NIFTY26MARFUT", 22001, ist("15:10:00"))
      yield* untilState(mis, "CLOSED")
      yield* settled
      expect(yield* reasons).toEqual([{ trade_id: mis, exit_reason: "SQUARE_OFF" }])
      expect((yield* contextOf(nrml)).exitReason).toBe(null)
    }).pipe(Effect.provide(exitEngine({ exits: { squareOff: { NFO: "15:10" } } }).layer)),
  )

  it.live("a MIS trade left open past its square-off is squared off by the sweep without a new tick", () =>
    Effect.gen(function* () {
      const yesterday = Date.now() - 86_400_000
      const id = yield* openTrade({ openedAt: yesterday, stopLoss: null, target: null })
      // A tick older than the square-off gives the sweep a price and fires nothing by itself.
      yield* tick("NIFTY26MARFUT", 22000, yesterday + 1)
      yield* untilState(id, "CLOSED")
      expect(yield* reasons).toEqual([{ trade_id: id, exit_reason: "SQUARE_OFF" }])
    }).pipe(Effect.provide(exitEngine({ exits: { timeSweepMs: 20 } }).layer)),
  )
})

describe("confirmation", () => {
  it.live("with a two-tick rule one bad print does not exit; two ticks in a row do", () =>
    Effect.gen(function* () {
      yield* tick("NIFTY26MARFUT", 22000)
      const id = yield* enterTrade({ stopLoss: 21950 })
      yield* tick("NIFTY26MARFUT", 21900)
      yield* tick("NIFTY26MARFUT", 22000)
      yield* tick("NIFTY26MARFUT", 21940)
      yield* settled
      expect(yield* reasons).toEqual([])
      yield* tick("NIFTY26MARFUT", 21945)
      yield* untilState(id, "CLOSED")
      expect(yield* reasons).toEqual([{ trade_id: id, exit_reason: "STOP_LOSS" }])
    }).pipe(Effect.provide(exitEngine({ exits: { confirmTicks: 2 } }).layer)),
  )
})

/**
 * Forced unwind across a restart: the flag is the Account actor's, in the database; a second
 * engine on the same files finds it on, keeps refusing entries, and finishes the exits the first
 * one started without placing a second exit for any position.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ExitEnforcer } from "../../src/risk/ExitEnforcer.js"
import { ForcedUnwind } from "../../src/risk/ForcedUnwind.js"
import { tick, until } from "../exits/exitHarness.js"
import { tempDir, testRiskEngine } from "../fixtures/TestEngine.js"
import { exitOrders, flat, netQty, riskAccount, riskInstruments, submit } from "./riskHarness.js"

/** Every order fills in 2–3 parts, one part per price it meets, so an exit stays working between ticks. */
const engineOn = (dir: string) =>
  testRiskEngine({
    dir,
    accounts: [{ ...riskAccount(), faults: { partialFillRate: 1 } }],
    instruments: riskInstruments,
    risk: { enforceIntervalMs: 50 },
  })

const market = (step: number) =>
  Effect.gen(function* () {
    yield* tick("NIFTY26MARFUT", 22_000 + step)
    yield* tick("RELIANCE-EQ", 2_800 + step / 10)
  })

/** Moves the market one step every 20 ms until `check` holds (every part of an order needs its own price). */
const stepUntil = <R>(what: string, check: Effect.Effect<boolean, never, R>, from: number) =>
  Effect.gen(function* () {
    for (let step = from; step < from + 250; step++) {
      if (yield* check) return
      yield* market(step)
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.die(new Error(`the market moved 250 steps and ${what} never held`))
  })

const cycles = (n: number) => Effect.flatMap(ExitEnforcer, (e) => Effect.repeatN(e.runOnce, n - 1))
const exitsPerSymbol = Effect.map(exitOrders, (orders) => {
  const counts: Record<string, number> = {}
  for (const o of orders) counts[o.symbol] = (counts[o.symbol] ?? 0) + 1
  return counts
})

describe("forced unwind", () => {
  it.live("set, engine killed, engine restarted: still on, entries still refused, positions exited once each", () => {
    const dir = tempDir()
    const first = Effect.gen(function* () {
      yield* market(0)
      yield* submit({ qty: 130 })
      yield* submit({ symbol: "RELIANCE-EQ", qty: 10 })
      const filled = Effect.map(netQty(), (q) => q.NIFTY26MARFUT === 130 && q["RELIANCE-EQ"] === 10)
      yield* stepUntil("the entries fill", filled, 1)
      yield* Effect.flatMap(ForcedUnwind, (u) => u.set("U1", true, "operator: unwind"))
      // The flag wakes the enforcer at once: one exit per position, filling in parts.
      yield* until(
        "both exits are placed",
        Effect.map(exitOrders, (o) => o.length === 2),
      )
      yield* cycles(3)
      expect(yield* exitsPerSymbol).toEqual({ NIFTY26MARFUT: 1, "RELIANCE-EQ": 1 })
      expect(yield* flat()).toBe(false)
      expect((yield* submit({ symbol: "TCS-EQ", qty: 1 })).reason).toMatch(/^FORCED_UNWIND: /)
    }).pipe(Effect.provide(engineOn(dir).layer))

    const second = Effect.gen(function* () {
      expect(yield* Effect.flatMap(ForcedUnwind, (u) => u.get("U1"))).toMatchObject({
        on: true,
        reason: "operator: unwind",
      })
      yield* cycles(2)
      expect(yield* exitsPerSymbol).toEqual({ NIFTY26MARFUT: 1, "RELIANCE-EQ": 1 })
      yield* stepUntil("every position is flat", flat(), 1_000)
      yield* cycles(3)
      expect(yield* exitsPerSymbol).toEqual({ NIFTY26MARFUT: 1, "RELIANCE-EQ": 1 })
      expect((yield* exitOrders).map((o) => o.status)).toEqual(["EXECUTED", "EXECUTED"])
      expect((yield* submit({ symbol: "TCS-EQ", qty: 1 })).reason).toMatch(/^FORCED_UNWIND: /)
      yield* Effect.flatMap(ForcedUnwind, (u) => u.set("U1", false))
      yield* tick("TCS-EQ", 4_000)
      expect((yield* submit({ symbol: "TCS-EQ", qty: 1 })).status).toBe("ACCEPTED")
    }).pipe(Effect.provide(engineOn(dir).layer))

    return Effect.zipRight(first, second)
  })
})

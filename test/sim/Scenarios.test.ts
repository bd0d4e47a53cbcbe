/**
 * The scenario library runs green against the real engine: every invariant holds and every
 * `expect` is met; the exits happen for the reasons the scenarios are about.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { loadLibrary } from "../../src/sim/Library.js"
import { invariantNames } from "../../src/sim/Invariants.js"
import { runScenario } from "../../src/sim/Simulation.js"

const library = loadLibrary()

const exitReasons: Record<string, ReadonlyArray<string>> = {
  "long-stop.json": ["STOP_LOSS"],
  "short-target.json": ["TARGET"],
  "trailing-long.json": ["TRAILING_STOP"],
  "trailing-short.json": ["TRAILING_STOP"],
  "square-off.json": ["SQUARE_OFF"],
  "forced-unwind.json": ["FORCED_UNWIND", "FORCED_UNWIND"],
  "daily-loss-halt.json": ["DAILY_LOSS"],
  "webhook-entry-exit.json": ["WEBHOOK"],
  "exit-all-with-cnc.json": ["MANUAL", "MANUAL"],
  "crash-mid-exit.json": ["STOP_LOSS"],
  "exit-during-broker-down.json": ["MANUAL"],
  "exit-all-rejected.json": ["MANUAL", "MANUAL"],
  // Three trades on one position, one exit order: each closes with the exit-all's reason.
  "exit-all-one-order-per-position.json": ["MANUAL", "MANUAL", "MANUAL"],
}

/** Exits by account, for scenarios whose accounts open trades at the same moment (their order may vary). */
const exitsByAccount: Record<string, ReadonlyArray<string>> = {
  "multi-broker.json": [
    "DH1 NIFTY26MARFUT TARGET",
    "DH1 RELIANCE-EQ STOP_LOSS",
    "SH1 NIFTY26MARFUT STOP_LOSS",
    "SH1 NIFTY26MARFUT TARGET",
    "U1 NIFTY26MARFUT STOP_LOSS",
  ],
  "fake-broker-faults.json": [
    "DH1 NIFTY26MARFUT STOP_LOSS",
    "DH1 NIFTY26MARFUT TARGET",
    "SH1 NIFTY26MARFUT STOP_LOSS",
    "SH1 NIFTY26MARFUT TARGET",
  ],
}

describe("scenario library", () => {
  it("has at least ten scenarios", () => {
    expect(library.length).toBeGreaterThanOrEqual(10)
  })

  for (const { file, scenario } of library) {
    it.live(
      `${file} holds every invariant and meets its expectations`,
      () =>
        Effect.gen(function* () {
          const report = yield* runScenario(scenario)
          expect(report.invariants.map((i) => i.name)).toEqual(invariantNames)
          expect(report.invariants.filter((i) => !i.ok)).toEqual([])
          expect(report.unmet).toEqual([])
          expect(report.ok).toBe(true)
          const wanted = exitReasons[file]
          if (wanted) expect(report.trades.map((t) => t.exitReason)).toEqual(wanted)
          const byAccount = exitsByAccount[file]
          if (byAccount)
            expect(report.trades.map((t) => `${t.account} ${t.symbol} ${t.exitReason}`).sort()).toEqual(byAccount)
        }),
      { timeout: 120_000 },
    )
  }
})

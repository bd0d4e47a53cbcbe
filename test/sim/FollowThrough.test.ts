/**
 * What the soak's seed 49 found, made deterministic: the simulated clock keeps whole milliseconds
 * (a jittered retry delay used to make it fractional, the engine's commit refused the step, and an
 * exit sent while the broker was down stayed unresolved for good, so a later exit-all skipped the
 * position as EXIT_WORKING); and an exit-all's order rejected by the exchange is asked for again
 * by the enforcer until it fills, or until it has failed `followThroughAttemptsMax` times.
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Duration, Effect, Fiber } from "effect"
import { followThroughAttemptsMax } from "../../src/risk/ExitEnforcer.js"
import { loadLibrary } from "../../src/sim/Library.js"
import { SimClock } from "../../src/sim/SimClock.js"
import { runScenario } from "../../src/sim/Simulation.js"
import { tempDir } from "../fixtures/TestEngine.js"

const library = loadLibrary()
const scenario = (file: string) => library.find((s) => s.file === file)!.scenario

describe("simulated clock", () => {
  it.live("a sleep of a fraction of a millisecond wakes at the next whole millisecond", () =>
    Effect.gen(function* () {
      const clock = new SimClock(1_000)
      const woke: Array<number> = []
      const sleeper = (ms: number) =>
        Effect.fork(
          Effect.zipRight(
            clock.sleep(Duration.millis(ms)),
            Effect.sync(() => woke.push(clock.unsafeCurrentTimeMillis())),
          ),
        )
      const a = yield* sleeper(162.37)
      const b = yield* sleeper(0.4)
      yield* Effect.yieldNow()
      expect(clock.nextWake()).toBe(1_001)
      clock.advanceTo(clock.nextWake()!)
      yield* Fiber.join(b)
      clock.advanceTo(clock.nextWake()!)
      yield* Fiber.join(a)
      expect(woke).toEqual([1_001, 1_163])
      clock.advanceTo(2_000.5)
      expect(clock.unsafeCurrentTimeMillis()).toBe(2_001)
    }),
  )
})

describe("exits that fail at the broker", () => {
  it.live(
    "an exit sent while the broker is down resolves once it is back, and a later exit-all flattens",
    () =>
      Effect.gen(function* () {
        const report = yield* runScenario(scenario("exit-during-broker-down.json"))
        expect(report.invariants.filter((i) => !i.ok)).toEqual([])
        expect(report.counts.exitIntentsFailed).toBe(1)
        expect(report.trades.map((t) => [t.status, t.exitReason])).toEqual([["CLOSED", "MANUAL"]])
      }),
    { timeout: 30_000 },
  )

  it.live(
    "a rejected exit-all order is asked for again at most a few times, then the enforcer gives up and says so, once",
    () => {
      const dir = tempDir("warden-follow-")
      const dbFile = join(dir, "warden.db")
      return Effect.gen(function* () {
        // With this seed the exchange rejects the exit three times in a row.
        const report = yield* runScenario(scenario("exit-all-rejected.json"), { seed: 2, dbFile })
        expect(report.counts.tradesOpened).toBe(1)
        expect(report.counts.exitIntentsFailed).toBe(followThroughAttemptsMax)
        expect(report.invariants.filter((i) => !i.ok).map((i) => i.name)).toEqual(["netPositionsZero"])
        const db = new Sqlite(dbFile, { readonly: true })
        try {
          const rows = db
            .prepare("SELECT kind, action FROM risk_interventions ORDER BY intervention_id")
            .all() as Array<{ kind: string; action: string }>
          expect(rows.map((r) => `${r.kind} ${r.action}`)).toEqual([
            "FOLLOW_THROUGH exit",
            "FOLLOW_THROUGH exit",
            "FOLLOW_THROUGH give_up",
          ])
          const orders = db.prepare("SELECT COUNT(*) AS n FROM orders WHERE purpose = 'EXIT'").get() as { n: number }
          expect(orders.n).toBe(followThroughAttemptsMax)
        } finally {
          db.close()
        }
      }).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    },
    { timeout: 30_000 },
  )
})

/**
 * Runs a scenario against the real engine, faster than real time, as a discrete-event simulation:
 * the simulated clock (`SimClock`, the test clock's role) starts at the scenario's `start` and jumps to the next thing due (a tick, a
 * step, a broker coming back, or the earliest sleep of any engine fiber: latency, timers,
 * polls), then lets the engine settle before the next jump. Randomness is one seeded `Random`;
 * the fibers run on a scheduler that never defers to wall-clock timers, so once a macrotask has
 * passed every fiber has run as far as it can, and the same file and seed replay the same journal.
 *
 * Accounts at a fake broker (`shoonya-fake`, `dhan-fake`) talk to real servers on loopback through
 * the real adapters (`fakes/SimVenues.ts`): the clock then also waits for the wire to be quiet
 * before it moves. Such runs hold their invariants but their journal may vary with I/O timing.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Context, Effect, Exit, Fiber, Logger, LogLevel, Random, Scheduler, Scope } from "effect"
import { recordBooks, type SimWire, startVenues } from "./fakes/SimVenues.js"
import { TickHub } from "../market/TickHub.js"
import { checkInvariants, openPositionsQuery } from "./Invariants.js"
import { type Progress, silentProgress } from "./Progress.js"
import { countsOf, journalHashOf, type SimulationReport, tradesOf, unmetOf } from "./Report.js"
import type { Scenario, Step } from "./Scenario.js"
import { limitsOf, scenarioLayer, startEngine } from "./SimEngine.js"
import { type Harness, restoreBrokers, runStep } from "./Steps.js"
import { SimClock } from "./SimClock.js"
import { TickSchedule } from "./TickSchedule.js"

/** How to run a scenario. */
export interface RunOptions {
  /** Overrides the scenario's seed. */
  readonly seed?: number
  /** The database file (kept); a temporary one, deleted afterwards, when absent. */
  readonly dbFile?: string
  readonly progress?: Progress
  /** The engine's log level (none by default: the report says what happened). */
  readonly logLevel?: LogLevel.LogLevel
}

const macrotask = Effect.promise(() => new Promise<void>((r) => setImmediate(r)))

/** How long the simulation waits for a fake broker's wire before it moves on anyway (wall-clock ms). */
const wireWaitMsMax = 5_000

/**
 * Lets every runnable fiber run as far as it can (they only ever wait on the clock, each other,
 * or, with fake brokers, the wire: then until no request or frame is owed).
 */
const settle = (wire: SimWire | null) =>
  Effect.gen(function* () {
    const started = performance.now()
    do {
      for (let i = 0; i < 2; i++) yield* macrotask
    } while (wire?.busy() && performance.now() - started < wireWaitMsMax)
  })

/** A scheduler that runs every task as a microtask, never deferring to `setTimeout`. */
const microtaskScheduler = new Scheduler.MixedScheduler(Number.MAX_SAFE_INTEGER)

const minOf = (xs: ReadonlyArray<number | null | undefined>): number | null => {
  let m: number | null = null
  for (const x of xs) if (x !== null && x !== undefined && (m === null || x < m)) m = x
  return m
}

/** Publishes the ticks due by now, except those of a silenced symbol. */
const publishDue = (h: Harness, schedule: TickSchedule, now: number) =>
  Effect.gen(function* () {
    const due = yield* schedule.takeUntil(now - h.startMs)
    if (due.length === 0) return
    const hub = Context.get(h.engine.context, TickHub)
    for (const t of due) {
      if ((h.feedDownUntil.get(t.symbol) ?? 0) > now) continue
      h.ticks++
      h.lastPrice.set(t.symbol, t.ltp)
      // The fake brokers trade at the same prices, before the engine sees them (as the paper brokers do).
      h.engine.wire?.tick(t.symbol, t.ltp)
      yield* hub.publish({ symbol: t.symbol, exchange: t.exchange, ltp: t.ltp, at: h.startMs + t.atMs })
    }
    yield* settle(h.engine.wire)
  })

/**
 * Runs `effect` while the simulated time moves on from one sleeper to the next. With fake brokers
 * the engine's start (connecting, the first reconciliation) and a step (the risk manager reading
 * the broker's funds) wait on the clock: on each request's latency, on the adapter's throttle.
 * (A paper engine never waits on the clock there, and runs as it always did.)
 */
const whileTimePasses = <A>(effect: Effect.Effect<A>, clock: SimClock, wire: SimWire | null) =>
  wire === null
    ? effect
    : Effect.gen(function* () {
        let done = false
        const pump = yield* Effect.fork(
          Effect.gen(function* () {
            for (;;) {
              yield* settle(wire)
              const wake = clock.nextWake()
              if (done) return
              if (wake !== null) clock.advanceTo(wake)
            }
          }),
        )
        const result = yield* Effect.ensuring(
          effect,
          Effect.sync(() => {
            done = true
          }),
        )
        yield* Fiber.join(pump)
        return result
      })

/** Drives the run from the start to the end of the scenario. */
const drive = (h: Harness, clock: SimClock, steps: ReadonlyArray<readonly [Step, number]>, progress: Progress) =>
  Effect.gen(function* () {
    const endMs = h.startMs + h.scenario.durationMs
    const schedule = TickSchedule.of(h.scenario, h.scenario.seed)
    let si = 0
    let brokerBack: number | null = null
    for (;;) {
      const now = yield* Clock.currentTimeMillis
      const tick = schedule.peek()
      const step = steps[si]?.[0].atMs
      const next = minOf([
        tick === null ? null : h.startMs + tick,
        step === undefined ? null : h.startMs + step,
        brokerBack,
        clock.nextWake(),
      ])
      if (next === null || next > endMs) break
      if (next > now) {
        clock.advanceTo(next)
        yield* settle(h.engine.wire)
      }
      brokerBack = yield* restoreBrokers(h)
      yield* publishDue(h, schedule, next)
      while (si < steps.length && h.startMs + steps[si]![0].atMs <= next) {
        const [s, index] = steps[si++]!
        yield* whileTimePasses(runStep(h, s, index), clock, h.engine.wire)
        yield* settle(h.engine.wire)
        brokerBack = minOf([brokerBack, ...h.brokerDownUntil.values()])
      }
      progress.update(next - h.startMs, h.ticks)
    }
    clock.advanceTo(endMs)
    yield* settle(h.engine.wire)
  })

/** The report of a finished run, read from the engine's database. */
const reportOf = (h: Harness, seed: number, wallStarted: number) =>
  Effect.gen(function* () {
    const endMs = h.startMs + h.scenario.durationMs
    const facts = {
      scenario: h.scenario,
      endMs,
      lastPrice: h.lastPrice,
      exitAllAt: h.exitAllAt,
      lastEntryAt: h.lastEntryAt,
      exitGraceMs: 90_000,
    }
    // The fake brokers' books go where the checks read the brokers' books.
    if (h.engine.wire !== null) yield* recordBooks(h.engine.wire)
    const invariants = yield* checkInvariants(facts)
    const counts = yield* countsOf(h)
    const sql = yield* SqlClient.SqlClient
    const open = yield* Effect.orDie(sql.unsafe(openPositionsQuery))
    const holdingsUntouched = invariants.find((i) => i.name === "cncUntouched")?.ok ?? false
    const unmet = unmetOf(h.scenario.expect, counts, invariants, {
      netPositionsZero: open.length === 0,
      holdingsUntouched,
    })
    const report: SimulationReport = {
      scenario: h.scenario.name,
      seed,
      ok: unmet.length === 0 && invariants.every((i) => i.ok),
      invariants,
      counts,
      trades: yield* tradesOf,
      journalHash: yield* journalHashOf,
      unmet,
      simulatedMs: h.scenario.durationMs,
      wallMs: Math.round(performance.now() - wallStarted),
    }
    return report
  }).pipe(Effect.provide(h.engine.context))

/** Runs a scenario on `dbFile` and reports. */
const runOn = (scenario: Scenario, seed: number, dbFile: string, clock: SimClock, progress: Progress) =>
  Effect.gen(function* () {
    const wallStarted = performance.now()
    const startMs = Date.parse(scenario.start)
    const limits = limitsOf(scenario)
    // The fake brokers live as long as the run: a crash drops the engine, not the broker.
    const wire = yield* startVenues(scenario, seed, { now: () => clock.unsafeCurrentTimeMillis() })
    const layer = scenarioLayer({ ...scenario, seed }, dbFile, limits, wire)
    const rebuild = () => Effect.tap(startEngine(layer, wire), () => settle(wire))
    const h: Harness = {
      scenario: { ...scenario, seed },
      startMs,
      limits,
      engine: yield* whileTimePasses(rebuild(), clock, wire),
      rebuild,
      ticks: 0,
      crashes: 0,
      lastPrice: new Map(),
      feedDownUntil: new Map(),
      brokerDownUntil: new Map(),
      exitAllAt: null,
      lastEntryAt: null,
      stepResults: [],
    }
    const steps = scenario.steps.map((s, i) => [s, i] as const).sort((a, b) => a[0].atMs - b[0].atMs || a[1] - b[1])
    yield* drive(h, clock, steps, progress)
    progress.done()
    const report = yield* reportOf(h, seed, wallStarted)
    yield* Scope.close(h.engine.scope, Exit.void)
    return { ...report, steps: h.stepResults }
  })

/** Runs a scenario against the real engine under the simulated clock and a seeded Random; its report. */
export const runScenario = (scenario: Scenario, options: RunOptions = {}) => {
  const seed = options.seed ?? scenario.seed
  const dir = options.dbFile === undefined ? mkdtempSync(join(tmpdir(), "warden-sim-")) : null
  const dbFile = options.dbFile ?? join(dir!, "warden.db")
  const clock = new SimClock(Date.parse(scenario.start))
  return Effect.scoped(runOn(scenario, seed, dbFile, clock, options.progress ?? silentProgress)).pipe(
    Effect.withClock(clock),
    Effect.withRandom(Random.make(seed)),
    Effect.withScheduler(microtaskScheduler),
    Logger.withMinimumLogLevel(options.logLevel ?? LogLevel.None),
    Effect.ensuring(Effect.sync(() => dir !== null && rmSync(dir, { recursive: true, force: true }))),
  )
}

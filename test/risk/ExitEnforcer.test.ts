/**
 * The continuous exit enforcer on the real engine (SQLite, paper broker, exit service): daily loss,
 * the position cap, and exits that keep firing whatever else fails.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, Metric } from "effect"
import { ExitEnforcer } from "../../src/risk/ExitEnforcer.js"
import { ForcedUnwind } from "../../src/risk/ForcedUnwind.js"
import { RiskManager } from "../../src/risk/RiskManager.js"
import { interventions, lastCheckGauge } from "../../src/risk/RiskMetrics.js"
import { StrategyHost } from "../../src/strategy/StrategyHost.js"
import { rows, tick, until } from "../exits/exitHarness.js"
import { testRiskEngine } from "../fixtures/TestEngine.js"
import {
  accountState,
  direct,
  exitOrders,
  flat,
  netQty,
  riskAccount,
  riskInstruments,
  scriptedBrokers,
  submit,
} from "./riskHarness.js"

const engine = (options: Parameters<typeof testRiskEngine>[0] = {}) =>
  testRiskEngine({ accounts: [riskAccount()], instruments: riskInstruments, ...options })

const enforcer = ExitEnforcer
const cycles = (n: number) => Effect.flatMap(enforcer, (e) => Effect.repeatN(e.runOnce, n - 1))
/** Waits until the enforcer's first cycle, run at start, is over. */
const started = until(
  "the enforcer's first cycle is over",
  Effect.flatMap(enforcer, (e) => Effect.map(e.status, (s) => s.cycles >= 1)),
)

const market = Effect.gen(function* () {
  yield* tick("NIFTY26MARFUT", 22_000)
  yield* tick("RELIANCE-EQ", 2_800)
  yield* tick("TCS-EQ", 4_000)
  yield* tick("INFY-EQ", 1_500)
})

const accountEvents = rows<{ event_type: string }>(
  "SELECT event_type FROM journal WHERE actor_id = 'U1' AND refused IS NULL AND event_type <> 'xstate.init' ORDER BY seq",
)

const broker = { failed: 0 }

describe("continuous exit enforcer", () => {
  it.live("a daily-loss breach mid-session halts entries and exits everything, once", () =>
    Effect.gen(function* () {
      yield* market
      expect((yield* submit()).status).toBe("ACCEPTED")
      expect((yield* submit({ symbol: "RELIANCE-EQ", qty: 10 })).status).toBe("ACCEPTED")
      yield* until(
        "the entries fill",
        Effect.map(netQty(), (q) => q.NIFTY26MARFUT === 65 && q["RELIANCE-EQ"] === 10),
      )
      expect(yield* accountState()).not.toBe("HALTED")
      const counted = Metric.value(Metric.tagged(interventions, "kind", "DAILY_LOSS"))
      const before = (yield* counted).count
      yield* tick("NIFTY26MARFUT", 21_900) // 65 × -100 = -6,500 against a 5,000 limit
      yield* until(
        "the account is halted and flat",
        Effect.zipWith(accountState(), flat(), (s, f) => s === "HALTED" && f),
      )
      expect((yield* submit({ symbol: "TCS-EQ", qty: 1 })).reason).toMatch(/^HALTED: entries refused .*DAILY_LOSS/)
      yield* cycles(3)
      expect((yield* exitOrders).map((o) => [o.symbol, o.status]).sort()).toEqual([
        ["NIFTY26MARFUT", "EXECUTED"],
        ["RELIANCE-EQ", "EXECUTED"],
      ])
      const done = yield* Effect.flatMap(RiskManager, (r) => r.interventions({ accountId: "U1" }))
      expect(done.map((i) => [i.kind, i.action, i.orders]).reverse()).toEqual([
        ["DAILY_LOSS", "halt", 0],
        ["DAILY_LOSS", "exit", 2],
      ])
      expect((yield* counted).count - before).toBe(2)
      const gauge = (yield* Metric.value(lastCheckGauge)).value
      expect(gauge).toBeGreaterThan(0)
      expect(gauge).toBeLessThanOrEqual((yield* enforcer).lastCheckAt() ?? 0)
    }).pipe(Effect.provide(engine({ risk: { maxDailyLoss: 5_000, enforceIntervalMs: 50 } }).layer)),
  )

  it.live("over the position cap, the smallest positions are closed first and the account resumes within it", () =>
    Effect.gen(function* () {
      yield* started
      yield* market
      yield* direct("NIFTY26MARFUT", "BUY", 65) // 1,430,000
      yield* direct("RELIANCE-EQ", "BUY", 10) //     28,000
      yield* direct("TCS-EQ", "SELL", 5) //          20,000
      yield* direct("INFY-EQ", "BUY", 3) //           4,500
      yield* cycles(1)
      expect(yield* accountState()).toBe("REDUCING")
      expect(
        (yield* submit({ symbol: "BANKNIFTY26MARFUT", qty: 30, orderType: "LIMIT", price: 48_000 })).reason,
      ).toMatch(/^REDUCING: /)
      yield* until(
        "the two smallest are flat",
        Effect.map(netQty(), (q) => q["INFY-EQ"] === 0 && q["TCS-EQ"] === 0),
      )
      yield* cycles(2)
      expect(yield* netQty()).toEqual({ NIFTY26MARFUT: 65, "RELIANCE-EQ": 10, "TCS-EQ": 0, "INFY-EQ": 0 })
      expect((yield* exitOrders).map((o) => o.symbol).sort()).toEqual(["INFY-EQ", "TCS-EQ"])
      expect(yield* accountState()).toBe("ACTIVE")
      expect((yield* accountEvents).map((e) => e.event_type)).toEqual(["risk.reduce", "risk.resume"])
    }).pipe(Effect.provide(engine({ risk: { maxOpenPositions: 2, enforceIntervalMs: 3_600_000 } }).layer)),
  )

  it.live(
    "with the tick feed dead, the strategy throwing and the broker failing every other call, exits still fire on the next cycles",
    () =>
      Effect.gen(function* () {
        yield* market
        yield* direct("NIFTY26MARFUT", "BUY", 65)
        yield* direct("RELIANCE-EQ", "BUY", 10)
        yield* direct("TCS-EQ", "BUY", 5)
        // The feed is dead from here: no tick reaches the engine again.
        yield* until(
          "the position cap holds",
          Effect.map(netQty(), (q) => q["RELIANCE-EQ"] === 0 && q["TCS-EQ"] === 0),
          15_000,
        )
        yield* until(
          "the account resumes",
          Effect.map(accountState(), (s) => s === "ACTIVE"),
          15_000,
        )
        expect(yield* netQty()).toEqual({ NIFTY26MARFUT: 65, "RELIANCE-EQ": 0, "TCS-EQ": 0 })
        expect((yield* exitOrders).map((o) => [o.symbol, o.status]).sort()).toEqual([
          ["RELIANCE-EQ", "EXECUTED"],
          ["TCS-EQ", "EXECUTED"],
        ])
        expect(broker.failed).toBeGreaterThan(2)
        const strategies = yield* Effect.flatMap(StrategyHost, (h) => h.status)
        expect(strategies.map((s) => [s.state, s.error?.split(":")[0]])).toEqual([
          ["FAULTED", "onTick"],
          ["LOAD_FAILED", "load"],
        ])
      }).pipe(
        Effect.provide(
          engine({
            risk: { maxOpenPositions: 1, enforceIntervalMs: 50, exitRetryDelayMs: 10 },
            brokers: scriptedBrokers((n) => {
              if (n % 2 === 0) return "ok"
              broker.failed++
              return "fail"
            }),
            strategies: {
              strategies: [
                {
                  accountId: "U1",
                  strategy: {
                    name: "thrower",
                    onTick: () => {
                      throw new Error("strategy bug")
                    },
                  },
                },
                { accountId: "U1", module: "test/strategy/fixtures/BrokenStrategy.ts" },
              ],
            },
          }).layer,
        ),
      ),
  )

  it.live("when a check fails the error is logged and counted, and the next cycle runs and exits", () => {
    const lines: Array<string> = []
    const mode = { value: "ok" as "ok" | "die" }
    return Effect.gen(function* () {
      yield* market
      yield* submit({ symbol: "RELIANCE-EQ", qty: 10 })
      yield* until(
        "the entry fills",
        Effect.map(netQty(), (q) => q["RELIANCE-EQ"] === 10),
      )
      const e = yield* enforcer
      const before = e.lastCheckAt()
      mode.value = "die"
      yield* Effect.flatMap(ForcedUnwind, (u) => u.set("U1", true, "test"))
      yield* until(
        "two checks failed",
        Effect.map(e.status, (s) => s.failures >= 2),
      )
      expect(lines.some((l) => l.includes("the check of U1 failed; the next cycle runs"))).toBe(true)
      expect(yield* exitOrders).toEqual([])
      mode.value = "ok"
      yield* until("the position is exited", flat())
      expect((yield* exitOrders).map((o) => [o.symbol, o.status])).toEqual([["RELIANCE-EQ", "EXECUTED"]])
      expect(e.lastCheckAt()).toBeGreaterThan(before ?? 0)
    }).pipe(
      Effect.provide(engine({ risk: { enforceIntervalMs: 50 }, brokers: scriptedBrokers(() => mode.value) }).layer),
      Effect.provide(
        Logger.replace(
          Logger.defaultLogger,
          Logger.make(({ message }) => lines.push(String(message))),
        ),
      ),
    )
  })
})

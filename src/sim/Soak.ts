/**
 * `npm run sim:soak -- --seeds N [--from S]`: many seeds, each a scenario made from the seed
 * (random faults, entries, an exit-all and crashes at random points), run against the engine.
 * Stops at the first violated invariant, writes that scenario to a file and prints the command
 * that reproduces it.
 */
import { writeFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { Effect, Random } from "effect"
import { decodeScenario, type Scenario } from "./Scenario.js"
import { runScenario } from "./Simulation.js"

const soakDurationMs = 300_000

/** The scenario of one soak seed: faults, entries, an exit-all and crash points drawn from the seed. */
export const soakScenario = (seed: number): Effect.Effect<Scenario> =>
  Effect.gen(function* () {
    const r = Random.make(`soak:${seed}`)
    const rate = (max: number) => Effect.map(r.next, (x) => Math.round(x * max * 100) / 100)
    const at = (from: number, to: number) => r.nextIntBetween(from, to)
    const entries = []
    for (let i = 0, n = yield* r.nextIntBetween(1, 4); i < n; i++) {
      const buy = (yield* r.next) < 0.5
      entries.push({
        atMs: yield* at(1_000, 120_000),
        entry: {
          account: "U1",
          symbol: "NIFTY26MARFUT",
          side: buy ? "BUY" : "SELL",
          qty: 65 * (yield* r.nextIntBetween(1, 4)),
          product: (yield* r.next) < 0.7 ? "MIS" : "NRML",
          stopLoss: buy ? 21900 : 22100,
          target: buy ? 22100 : 21900,
          ...((yield* r.next) < 0.5 ? { trailing: { distance: 15 } } : {}),
        },
      })
    }
    const crashes = []
    for (let i = 0, n = yield* r.nextIntBetween(0, 3); i < n; i++)
      crashes.push({ atMs: yield* at(1_000, 200_000), crash: true })
    const value = {
      name: `soak-${seed}`,
      seed,
      start: "2026-03-02T09:15:00+05:30",
      durationMs: soakDurationMs,
      instruments: [{ symbol: "NIFTY26MARFUT", exchange: "NFO", tickSize: 0.05, lotSize: 65, startPrice: 22000 }],
      accounts: [
        {
          id: "U1",
          capital: 100_000_000,
          holdings: [{ symbol: "RELIANCE-EQ", exchange: "NSE", qty: 10, avgPrice: 2800 }],
        },
      ],
      ticks: [{ symbol: "NIFTY26MARFUT", kind: "randomWalk", intervalMs: 500, volatilityBps: 4 }],
      broker: {
        latencyMs: [5, yield* at(10, 3_000)],
        rejectRate: yield* rate(0.2),
        partialFillRate: yield* rate(0.5),
        duplicateUpdateRate: yield* rate(0.3),
        outOfOrderRate: yield* rate(0.3),
        sendTimeoutRate: yield* rate(0.3),
        disconnects: [{ atMs: yield* at(0, 200_000), forMs: yield* at(1_000, 30_000) }],
      },
      steps: [
        ...entries,
        ...crashes,
        { atMs: yield* at(100_000, 200_000), brokerDown: { forMs: yield* at(1_000, 20_000) } },
        { atMs: 230_000, exit: { scope: "ALL", product: "ALL", reason: "MANUAL" } },
      ],
      expect: { invariants: true },
    }
    return Effect.runSync(Effect.orDie(decodeScenario(value)))
  })

/** Runs seeds `from` … `from + seeds - 1`; the first seed whose run breaks an invariant, or null. */
export const soak = (seeds: number, from = 1, log: (line: string) => void = console.log) =>
  Effect.gen(function* () {
    for (let seed = from; seed < from + seeds; seed++) {
      const scenario = yield* soakScenario(seed)
      const report = yield* runScenario(scenario)
      const broken = report.invariants.filter((i) => !i.ok)
      log(
        `seed ${seed}: ${broken.length === 0 ? "ok" : `BROKEN ${broken.map((b) => b.name).join(", ")}`} (${report.wallMs} ms, crashes ${report.counts.crashes})`,
      )
      if (broken.length > 0) {
        const file = `soak-failure-${seed}.json`
        writeFileSync(file, `${JSON.stringify(scenario, null, 2)}\n`)
        for (const b of broken) log(`  ${b.name}: ${b.detail}`)
        log(`reproduce: npx warden simulate ${file} --seed ${seed}`)
        return seed
      }
    }
    return null
  })

if (process.argv[1]?.endsWith("Soak.ts")) {
  const { values } = parseArgs({ options: { seeds: { type: "string" }, from: { type: "string" } } })
  const first = await Effect.runPromise(soak(Number(values.seeds ?? 20), Number(values.from ?? 1)))
  process.exit(first === null ? 0 : 1)
}

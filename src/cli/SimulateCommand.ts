/**
 * `warden simulate FILE [--seed N] [--report OUT.json] [--db FILE]`: runs a scenario against the
 * real engine (SCENARIOS.md) and prints a summary; 0 when every invariant holds and every
 * `expect` is met, 1 otherwise, 2 for a file that is not a valid scenario.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { Effect, Either } from "effect"
import { terminalProgress } from "../sim/Progress.js"
import type { SimulationReport } from "../sim/Report.js"
import { parseScenario } from "../sim/Scenario.js"
import { runScenario } from "../sim/Simulation.js"
import { CliExit } from "./Launch.js"

const summary = (r: SimulationReport): string =>
  [
    `${r.ok ? "ok" : "FAILED"}: ${r.scenario} (seed ${r.seed}) ${r.simulatedMs / 1000}s simulated in ${r.wallMs} ms`,
    ...r.invariants.filter((i) => !i.ok).map((i) => `  invariant ${i.name}: ${i.detail}`),
    ...r.unmet.map((u) => `  expect ${u}`),
    `  ${Object.entries(r.counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
    `  journalHash ${r.journalHash}`,
  ].join("\n")

/** Runs the `simulate` command. */
export const simulateCommand = (
  values: Record<string, string | boolean | undefined>,
  positionals: ReadonlyArray<string>,
): Effect.Effect<number, CliExit> =>
  Effect.gen(function* () {
    const file = positionals[0]
    if (!file) return yield* Effect.fail(new CliExit(2, "warden simulate: a scenario FILE is required"))
    const seed = values.seed === undefined ? undefined : Number(values.seed)
    if (seed !== undefined && !Number.isInteger(seed))
      return yield* Effect.fail(new CliExit(2, "warden simulate: --seed must be an integer"))
    const text = yield* Effect.try({
      try: () => readFileSync(file, "utf8"),
      catch: (e) =>
        new CliExit(2, `warden simulate: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`),
    })
    const scenario = parseScenario(text)
    if (Either.isLeft(scenario))
      return yield* Effect.fail(new CliExit(2, `warden simulate: ${file}: ${scenario.left.message}`))
    const report = yield* runScenario(scenario.right, {
      ...(seed === undefined ? {} : { seed }),
      ...(typeof values.db === "string" ? { dbFile: values.db } : {}),
      progress: terminalProgress(scenario.right.durationMs),
    })
    if (typeof values.report === "string") writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`)
    console.log(summary(report))
    return report.ok ? 0 : 1
  })

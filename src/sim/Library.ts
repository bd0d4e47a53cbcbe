/**
 * The scenario library (`test/scenarios/*.json`) as data: loading it, and the speed of its longest
 * scenario for the benchmark.
 *
 * A scenario whose accounts are all at the paper broker replays exactly: the same file and seed
 * give the same `journalHash`. One with an account at a fake broker (`shoonya-fake`, `dhan-fake`:
 * real HTTP and websockets on loopback) holds its invariants and expectations run after run, but
 * its journal may differ with I/O timing (when an update arrives relative to a poll, say): such
 * scenarios are left out of the determinism checks (`isReplayable`) and of the speed figure.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Either } from "effect"
import { parseScenario, type Scenario } from "./Scenario.js"
import { runScenario } from "./Simulation.js"

/** Where the library lives, from the project root. */
export const libraryDir = join(import.meta.dirname, "..", "..", "test", "scenarios")

/** Every scenario of the library, by file name; a file that does not parse is a defect. */
export const loadLibrary = (dir = libraryDir): ReadonlyArray<{ readonly file: string; readonly scenario: Scenario }> =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({
      file,
      scenario: Either.getOrThrowWith(
        parseScenario(readFileSync(join(dir, file), "utf8")),
        (e) => new Error(`${file}: ${e.message}`),
      ),
    }))

/** True when the scenario replays exactly (every account at the paper broker). */
export const isReplayable = (scenario: Scenario): boolean => scenario.accounts.every((a) => a.broker === "paper")

/** Simulated seconds per wall-clock second of the library's longest replayable scenario (by `durationMs`). */
export const simSecondsPerWallSecond = (dir = libraryDir) =>
  Effect.gen(function* () {
    const longest = loadLibrary(dir)
      .filter((s) => isReplayable(s.scenario))
      .sort((a, b) => b.scenario.durationMs - a.scenario.durationMs)[0]
    if (!longest) return yield* Effect.dieMessage(`no scenario in ${dir}`)
    const started = performance.now()
    const report = yield* runScenario(longest.scenario)
    const wallSeconds = (performance.now() - started) / 1000
    return { scenario: longest.file, ok: report.ok, simSecondsPerWallSecond: report.simulatedMs / 1000 / wallSeconds }
  })

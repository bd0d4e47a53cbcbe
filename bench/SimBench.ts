/** The simulator's speed (issue 6): simulated seconds per wall second on the library's longest scenario. */
import { Effect, Logger, LogLevel } from "effect"
import { simSecondsPerWallSecond } from "../src/sim/Library.js"
import { median } from "./Measure.js"

/** The simulator's figure: the median of a few runs after a warm-up. */
export const simBench = async (quick: boolean) => {
  const once = () =>
    Effect.runPromise(
      simSecondsPerWallSecond().pipe(Logger.withMinimumLogLevel(LogLevel.Warning)) as Effect.Effect<{
        scenario: string
        ok: boolean
        simSecondsPerWallSecond: number
      }>,
    )
  await once()
  const runs = []
  for (let i = 0; i < (quick ? 1 : 3); i++) runs.push(await once())
  return {
    simScenario: runs[0]!.scenario,
    simSecondsPerWallSecond: Math.round(median(runs.map((r) => r.simSecondsPerWallSecond))),
  }
}

/** Helpers for benchmarks: medians of repetitions after a warm-up, percentiles, temp folders. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect, Logger, LogLevel } from "effect"
import { engineScheduler } from "../src/runtime/EngineScheduler.js"

/** The median of some numbers. */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The p-th percentile (0..100) of some samples. */
export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

/** Runs `once` `warmups` times unmeasured, then `reps` times; the median of what it returns. */
export const repeat = async (reps: number, warmups: number, once: () => Promise<number> | number): Promise<number> => {
  for (let i = 0; i < warmups; i++) await once()
  const xs: Array<number> = []
  for (let i = 0; i < reps; i++) xs.push(await once())
  return median(xs)
}

const made: Array<string> = []
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

/**
 * A fresh folder under `.bench/` on the project's disk (real fsync costs, unlike tmpfs), removed
 * when the process exits.
 */
export const benchDir = (): string => {
  mkdirSync(".bench", { recursive: true })
  const dir = mkdtempSync(join(".bench", "run-"))
  made.push(dir)
  return dir
}

/** Forces a full garbage collection when node runs with --expose-gc. */
export const gc = (): void => {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/** Runs a benchmark's effect as the engine process does (on the engine scheduler), logging only `level` and up. */
export const runBench = <A>(e: Effect.Effect<A, unknown>, level: LogLevel.LogLevel = LogLevel.Warning): Promise<A> =>
  Effect.runPromise(
    e.pipe(Logger.withMinimumLogLevel(level), Effect.withScheduler(engineScheduler)) as Effect.Effect<A>,
  )

/**
 * Runs a CLI program as the process's main fiber: logs as JSON lines, or human-readable on a
 * terminal; SIGINT/SIGTERM interrupt it (scopes close, in-flight steps commit) and a second signal
 * exits at once; the exit code is the program's. Every fiber runs on the engine's scheduler, which
 * hands the event loop back during a burst of work (`EngineScheduler`).
 */
import { Cause, Effect, Exit, Fiber, type Layer, Logger } from "effect"
import { engineScheduler } from "../runtime/EngineScheduler.js"
import { DatabaseError } from "../store/Database.js"

/** A CLI failure with its exit code and message for the operator. */
export class CliExit {
  constructor(
    readonly code: number,
    readonly message: string,
  ) {}
}

/** The log format: human-readable on a terminal, JSON lines otherwise. */
export const loggerLayer = (): Layer.Layer<never> => (process.stdout.isTTY ? Logger.pretty : Logger.json)

/** Runs `program` to completion and exits the process with its code. */
export const launch = (program: Effect.Effect<number, unknown, never>): void => {
  const fiber = Effect.runFork(program.pipe(Effect.provide(loggerLayer()), Effect.withScheduler(engineScheduler)))
  let stopping = false
  const stop = () => {
    if (stopping) process.exit(130)
    stopping = true
    Effect.runFork(Fiber.interrupt(fiber))
  }
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
  fiber.addObserver((exit) => {
    if (Exit.isSuccess(exit)) process.exit(exit.value)
    if (Cause.isInterruptedOnly(exit.cause)) process.exit(0)
    const e = Cause.squash(exit.cause)
    if (e instanceof CliExit) {
      if (e.message) console.error(e.message)
      process.exit(e.code)
    }
    if (e instanceof DatabaseError) {
      console.error(`warden: cannot ${e.stage === "open" ? "open" : "migrate"} database ${e.filename}: ${e.message}`)
      process.exit(2)
    }
    console.error(Cause.pretty(exit.cause))
    process.exit(1)
  })
}

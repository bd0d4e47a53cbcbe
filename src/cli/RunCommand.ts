/**
 * `warden run`: the engine on its SQLite file. It runs until SIGINT or SIGTERM: then intake
 * stops, the committer finishes its group, effects in flight are interrupted (their outbox rows
 * stay pending and are looked up by key at the next start) and the process exits 0.
 */
import { Effect, Layer } from "effect"
import { coreLayer } from "../main.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"

/** Starts the engine and waits for a signal. */
export const runCommand = (values: Record<string, string | boolean | undefined>) =>
  Effect.gen(function* () {
    const filename = typeof values.db === "string" ? values.db : (process.env.WARDEN_DB ?? "data/warden.db")
    const layer = coreLayer({ database: { filename }, handlers: {} })
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        yield* Effect.logInfo(`warden running on ${filename}: ${rt.liveIds().length} live actors`)
        return yield* Effect.never
      }).pipe(Effect.provide(Layer.orDie(layer as Layer.Layer<ActorRuntime, never>))),
    )
  })

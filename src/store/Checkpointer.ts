/**
 * WAL checkpoints off the engine's thread. SQLite's default (`wal_autocheckpoint`, 1,000 pages) runs
 * the checkpoint inside whichever commit crosses the threshold: it copies the WAL into the database
 * file and fsyncs it, on the event loop, in the middle of a step. On this project's machine that
 * made one commit in about thirty take 5 ms instead of 0.3 (measured: p99 5.5 ms with it, 0.6 ms
 * without), and that commit is where a firing tick's exit order waits.
 *
 * Here a worker thread with its own connection runs a PASSIVE checkpoint every `everyMs`: PASSIVE
 * never waits for a lock and never blocks the writer, which goes on appending to the WAL while the
 * worker copies the frames before it and syncs the file. The main connection keeps an automatic
 * checkpoint only as a safety net (`safetyPages`): should the worker stop or fall behind, the WAL
 * is still bounded.
 */
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"
import { Effect, Runtime } from "effect"
import { SqliteConnection } from "./SqliteConnection.js"

/** The worker: CommonJS, so it runs the same under Node, tsx and the test runner. */
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads")
const Database = require(workerData.driver)
const db = new Database(workerData.filename)
// Waits out another connection's recovery of the WAL index after a crash, as the engine's does.
db.pragma("busy_timeout = 5000")
let reported = false
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)")
  } catch (e) {
    if (!reported) parentPort.postMessage({ error: String(e && e.message || e) })
    reported = true
  }
}, workerData.everyMs)
parentPort.on("message", (m) => {
  if (m === "stop") {
    clearInterval(timer)
    db.close()
    parentPort.postMessage({ stopped: true })
  }
})
`

export interface CheckpointOptions {
  /** How often the worker checkpoints. */
  readonly everyMs: number
  /** The main connection's own automatic checkpoint, a safety net, in pages. */
  readonly safetyPages: number
}

export const defaultCheckpointOptions: CheckpointOptions = { everyMs: 100, safetyPages: 10_000 }

/**
 * Starts the checkpoint worker on `filename` for the current scope (stopped, its connection closed,
 * when the scope closes), and sets the main connection's automatic checkpoint to the safety net.
 * Started once the engine's connection is open, its busy timeout set and the file migrated: after a
 * crash, whichever connection opens the file first rebuilds the WAL index, and the other waits.
 */
export const backgroundCheckpoints = (filename: string, options: CheckpointOptions = defaultCheckpointOptions) =>
  Effect.gen(function* () {
    const conn = yield* SqliteConnection
    yield* conn.use((db) => db.pragma(`wal_autocheckpoint = ${options.safetyPages}`))
    const runtime = yield* Effect.runtime<never>()
    const driver = createRequire(import.meta.url).resolve("better-sqlite3")
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: { filename, driver, everyMs: options.everyMs },
    })
    worker.unref()
    const warn = (message: string) =>
      Runtime.runFork(runtime)(
        Effect.logWarning(`background checkpoints: ${message}; the engine's own checkpoints take over`),
      )
    worker.on("message", (m: { error?: string }) => m.error && warn(m.error))
    worker.on("error", (e) => warn(e.message))
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        const done = () => resume(Effect.void)
        worker.once("exit", done)
        worker.once("message", (m: { stopped?: boolean }) => m.stopped && void worker.terminate())
        worker.postMessage("stop")
      }).pipe(
        Effect.timeout("2 seconds"),
        Effect.catchAll(() => Effect.promise(() => worker.terminate())),
        Effect.asVoid,
      ),
    )
  })

/**
 * The engine's SQLite file: opened with WAL, `synchronous=FULL` by default, foreign keys on, and
 * migrated before anything else runs. A file that cannot be opened or migrated stops the engine
 * at start with a `DatabaseError` that says which and why; it never starts half-migrated.
 */
import { existsSync, mkdirSync } from "node:fs"
import { dirname } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import Sqlite from "better-sqlite3"
import { Cause, Data, Effect, Layer } from "effect"
import { backgroundCheckpoints } from "./Checkpointer.js"
import { runMigrations } from "./Migrations.js"
import * as SqliteConnection from "./SqliteConnection.js"

/** Where the store lives and how hard it syncs. */
export interface DatabaseConfig {
  readonly filename: string
  /** FULL syncs the WAL on every commit (no loss on power failure); NORMAL may lose the last commits. */
  readonly synchronous?: "FULL" | "NORMAL"
  /** Opens without writing and without migrating (audits of a copied file). */
  readonly readonly?: boolean
  readonly migrationsDir?: string
  /**
   * WAL checkpoints in a worker thread (the default for a writable file, see `Checkpointer`), or
   * inside whichever commit crosses SQLite's threshold (its own, `inline`).
   */
  readonly checkpoints?: "background" | "inline"
}

/** The database could not be opened or migrated. */
export class DatabaseError extends Data.TaggedError("DatabaseError")<{
  readonly stage: "open" | "migrate"
  readonly filename: string
  readonly message: string
}> {}

/** Checks that the file can be opened (and created) before the SQL client layer tries, for a clear error. */
const probe = (config: DatabaseConfig) =>
  Effect.try({
    try: () => {
      if (!config.readonly && config.filename !== ":memory:") ensureDir(dirname(config.filename))
      const db = new Sqlite(config.filename, {
        readonly: config.readonly ?? false,
        fileMustExist: config.readonly ?? false,
      })
      try {
        db.pragma("schema_version")
      } finally {
        db.close()
      }
    },
    catch: (cause) => new DatabaseError({ stage: "open", filename: config.filename, message: errorText(cause) }),
  })

const pragmas = (config: DatabaseConfig) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe("PRAGMA foreign_keys = ON")
    yield* sql.unsafe("PRAGMA busy_timeout = 5000")
    if (!config.readonly) yield* sql.unsafe(`PRAGMA synchronous = ${config.synchronous ?? "FULL"}`)
  }).pipe(
    Effect.mapError(
      (cause) => new DatabaseError({ stage: "open", filename: config.filename, message: errorText(cause) }),
    ),
  )

const migrate = (config: DatabaseConfig) =>
  Effect.suspend(() => runMigrations(config.migrationsDir)).pipe(
    Effect.catchAllCause((cause) =>
      Effect.fail(
        new DatabaseError({ stage: "migrate", filename: config.filename, message: errorText(Cause.squash(cause)) }),
      ),
    ),
    Effect.asVoid,
  )

/** The SQL client on the engine's file, with pragmas set and every migration applied. */
export const databaseLayer = (
  config: DatabaseConfig,
): Layer.Layer<SqlClient.SqlClient | SqliteConnection.SqliteConnection, DatabaseError> => {
  const client = SqliteConnection.layer({
    filename: config.filename,
    readonly: config.readonly ?? false,
    prepareCacheSize: 500,
  })
  const setup = Layer.scopedDiscard(
    Effect.gen(function* () {
      yield* pragmas(config)
      if (config.readonly) return
      yield* migrate(config)
      if (config.filename !== ":memory:" && (config.checkpoints ?? "background") === "background")
        yield* backgroundCheckpoints(config.filename).pipe(
          Effect.mapError(
            (cause) => new DatabaseError({ stage: "open", filename: config.filename, message: errorText(cause) }),
          ),
        )
    }),
  )
  return Layer.unwrapEffect(Effect.as(probe(config), Layer.provideMerge(setup, client)))
}

/**
 * Creates a folder and its missing parents one level at a time (Node's recursive mkdirSync spins
 * forever on some paths, e.g. under /proc, instead of failing).
 */
const ensureDir = (dir: string): void => {
  if (existsSync(dir)) return
  const parent = dirname(dir)
  if (parent !== dir) ensureDir(parent)
  mkdirSync(dir)
}

/** The message of whatever was thrown, with the SQL error's cause where it has one. */
export const errorText = (e: unknown): string => {
  if (e && typeof e === "object") {
    const cause = (e as { cause?: unknown }).cause
    const msg = (e as { message?: unknown }).message
    if (cause && cause !== e) return `${typeof msg === "string" && msg ? `${msg}: ` : ""}${errorText(cause)}`
    if (typeof msg === "string" && msg) return msg
  }
  return String(e)
}

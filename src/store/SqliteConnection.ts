/**
 * The engine's one SQLite connection (better-sqlite3) and the `SqlClient` built on it.
 *
 * Why not `@effect/sql-sqlite-node`'s client: its connection lock is Effect's `Semaphore`, which
 * wakes every waiter on each release (an exit storm queues hundreds of fibers on the one
 * connection, and each query then costs as much as the queue is long), and it keeps the
 * connection to itself, so the actor store's group commit (thousands of rows, the engine's
 * hottest path) would pay the general client's per-statement costs: a span, a statement compile,
 * a cache lookup keyed by a many-kilobyte SQL string. Here the lock is the runtime's FIFO
 * `Limiter`, shared by the `SqlClient`'s queries and transactions and by `use`, which runs a
 * synchronous function on the connection itself.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import Sqlite from "better-sqlite3"
import { Context, Effect, Layer, Scope } from "effect"
import { Limiter } from "../runtime/Limiter.js"

/** The connection itself, for work that runs synchronously on it under its lock. */
export class SqliteConnection extends Context.Tag("warden/SqliteConnection")<
  SqliteConnection,
  {
    /**
     * Runs `f` on the connection once every query and transaction queued before it has finished,
     * and none other in between; a throw becomes a `SqlError`. Never call it inside a
     * `withTransaction` (the transaction holds the connection: it would wait for itself).
     */
    readonly use: <A>(f: (db: Sqlite.Database) => A) => Effect.Effect<A, SqlError>
    /**
     * Runs a read at once, without waiting for the lock. Only for tables that nothing but `use`
     * writes (the actor store's): `use` writes in one synchronous transaction, so no reader can
     * see it half done, while another fiber's open transaction (between its statements) never
     * touches those tables. Throws what SQLite throws.
     */
    readonly readNow: <A>(f: (db: Sqlite.Database) => A) => A
    /**
     * The rows of one query on those same tables, at once (see `readNow`), its statement prepared
     * once per SQL text: the exit path's reads of the read models, which would otherwise wait their
     * turn behind every commit queued before them. Pass a list as JSON and read it with
     * `json_each(?)`, so that one statement serves any length.
     */
    readonly selectNow: <A extends object>(sql: string, params?: ReadonlyArray<unknown>) => ReadonlyArray<A>
  }
>() {}

/** What the connection is opened on. */
export interface SqliteOptions {
  readonly filename: string
  readonly readonly?: boolean
  /** Prepared statements kept, most recently used first. */
  readonly prepareCacheSize?: number
}

const failed = (message: string) => (cause: unknown) => new SqlError({ cause, message })

/** Opens the connection (WAL) for the scope, and builds the `SqlClient` on it. */
export const make = (options: SqliteOptions) =>
  Effect.gen(function* () {
    const db = new Sqlite(options.filename, { readonly: options.readonly ?? false })
    yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
    db.pragma("journal_mode = WAL")

    // Statements by SQL text, least recently used first (a Map keeps insertion order).
    const cacheMax = options.prepareCacheSize ?? 500
    const statements = new Map<string, Sqlite.Statement>()
    const prepare = (sql: string): Sqlite.Statement => {
      let s = statements.get(sql)
      if (s) statements.delete(sql)
      else {
        s = db.prepare(sql)
        if (statements.size >= cacheMax) statements.delete(statements.keys().next().value!)
      }
      statements.set(sql, s)
      return s
    }

    const runStatement = (statement: () => Sqlite.Statement, params: ReadonlyArray<unknown>, raw = false) =>
      Effect.try({
        try: () => {
          const s = statement()
          if (s.reader) return s.all(...params) as ReadonlyArray<unknown>
          const result = s.run(...params)
          return (raw ? result : []) as ReadonlyArray<unknown>
        },
        catch: failed("Failed to execute statement"),
      })

    const connection: Connection = {
      execute: (sql, params, transformRows) => {
        const rows = runStatement(() => prepare(sql), params) as Effect.Effect<ReadonlyArray<object>, SqlError>
        return transformRows ? Effect.map(rows, transformRows) : rows
      },
      executeRaw: (sql, params) => runStatement(() => prepare(sql), params, true),
      executeValues: (sql, params) =>
        Effect.try({
          try: () => {
            const s = prepare(sql)
            if (!s.reader) {
              s.run(...params)
              return []
            }
            try {
              return s.raw(true).all(...params) as ReadonlyArray<ReadonlyArray<unknown>>
            } finally {
              s.raw(false)
            }
          },
          catch: failed("Failed to execute statement"),
        }),
      executeUnprepared: (sql, params, transformRows) => {
        const rows = runStatement(() => db.prepare(sql), params ?? []) as Effect.Effect<ReadonlyArray<object>, SqlError>
        return transformRows ? Effect.map(rows, transformRows) : rows
      },
      executeStream: () => Effect.dieMessage("executeStream is not implemented for SQLite") as never,
    }

    const lock = new Limiter(1)
    // A query takes its turn, then runs at once (synchronously) on the connection.
    const acquirer = lock.withPermit(Effect.succeed(connection))
    // A transaction holds the connection until its scope closes.
    const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        restore(lock.take),
        Effect.as(
          Effect.flatMap(Effect.scope, (scope) =>
            Scope.addFinalizer(
              scope,
              Effect.sync(() => lock.release()),
            ),
          ),
          connection,
        ),
      ),
    )
    const client = yield* Client.make({
      acquirer,
      transactionAcquirer,
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "sqlite"]],
    })
    const use = <A>(f: (db: Sqlite.Database) => A) =>
      lock.withPermit(Effect.try({ try: () => f(db), catch: failed("Failed to run on the connection") }))
    const selected = new Map<string, Sqlite.Statement>()
    const selectNow = <A extends object>(sql: string, params: ReadonlyArray<unknown> = []) => {
      let statement = selected.get(sql)
      if (!statement) {
        statement = db.prepare(sql)
        selected.set(sql, statement)
      }
      return statement.all(...params) as ReadonlyArray<A>
    }
    return { client, connection: SqliteConnection.of({ use, readNow: (f) => f(db), selectNow }) }
  })

/** The connection and its `SqlClient`, for the layer's scope. */
export const layer = (options: SqliteOptions): Layer.Layer<Client.SqlClient | SqliteConnection> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ client, connection }) =>
      Context.make(Client.SqlClient, client).pipe(Context.add(SqliteConnection, connection)),
    ),
  ).pipe(Layer.provide(Reactivity.layer))

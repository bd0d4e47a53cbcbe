/**
 * The actor store's SQL: one batch of steps committed in one transaction (journal, snapshots,
 * read models, outbox, timers), the live actors and pending work loaded at start, and the
 * journal read back for replay and audit. The reads go through the generic `SqlClient`; the commit,
 * the engine's hottest path, and the mid-step read of an actor not in memory run synchronously on
 * the SQLite connection (`SqliteConnection`). Moving the store to PostgreSQL (ARCHITECTURE.md §7)
 * means giving those two an implementation on its client: the SQL itself is plain.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type Sqlite from "better-sqlite3"
import { Effect } from "effect"
import type { ActorType } from "../../machines/Machines.js"
import type { Cell, JournalRow, OutboxRow, TimerOp } from "../runtime/Step.js"
import { memberRowsOf, projectionOf, projectionTables } from "./ReadModels.js"
import { SqliteConnection } from "./SqliteConnection.js"

/** Rows per multi-row statement: a few fixed sizes so prepared statements are reused. */
const chunkSizes = [256, 64, 16, 4, 1] as const

const placeholders = (cols: number, rows: number): string => {
  const one = `(${new Array(cols).fill("?").join(",")})`
  return new Array(rows).fill(one).join(",")
}

/** Everything one commit writes. */
export interface Batch {
  readonly journal: ReadonlyArray<JournalRow & { readonly id: number }>
  readonly cells: ReadonlyArray<Cell>
  readonly outbox: ReadonlyArray<OutboxRow>
  readonly outboxDone: ReadonlyArray<{ readonly id: number; readonly result: string | null; readonly at: number }>
  /** The last timer operation per (actor, name). */
  readonly timers: ReadonlyArray<TimerOp>
}

/** A live actor's stored row. */
export interface ActorRow {
  readonly actor_id: string
  readonly actor_type: ActorType
  readonly machine_version: string
  readonly seq: number
  readonly status: "active" | "done"
  readonly state: string
  readonly snapshot: string
  readonly created_at: number
  readonly updated_at: number
}

/** A stored journal row. */
export interface StoredJournalRow {
  readonly id: number
  readonly actor_id: string
  readonly seq: number
  readonly event_type: string
  readonly event: string
  readonly from_state: string | null
  readonly to_state: string
  readonly at: number
  readonly cause: string | null
  readonly refused: string | null
}

/** A pending outbox row, as loaded at start. */
export interface PendingEffect {
  readonly id: number
  readonly actor_id: string
  readonly seq: number
  readonly effect: string
  readonly idem_key: string
  readonly payload: string
}

/** The SQL of the actor store. */
export class ActorStore extends Effect.Service<ActorStore>()("warden/ActorStore", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const conn = yield* SqliteConnection

    const upsertClause = (cols: ReadonlyArray<string>, key: string, fixed: ReadonlyArray<string> = []) =>
      `ON CONFLICT(${key}) DO UPDATE SET ${cols
        .filter((c) => c !== key && !fixed.includes(c))
        .map((c) => `${c}=excluded.${c}`)
        .join(",")}`

    /** A multi-row write of one shape: its SQL for a number of rows, its parameters per row. */
    interface RowWrite<A> {
      readonly name: string
      readonly sql: (rows: number) => string
      readonly params: (row: A, into: Array<unknown>) => void
    }

    const insert = <A>(
      table: string,
      cols: ReadonlyArray<string>,
      params: RowWrite<A>["params"],
      tail = "",
    ): RowWrite<A> => ({
      name: table,
      sql: (n) => `INSERT INTO ${table} (${cols.join(",")}) VALUES ${placeholders(cols.length, n)} ${tail}`,
      params,
    })

    const journalWrite = insert<Batch["journal"][number]>(
      "journal",
      ["id", "actor_id", "seq", "event_type", "event", "from_state", "to_state", "at", "cause", "refused"],
      (j, p) => p.push(j.id, j.actorId, j.seq, j.eventType, j.event, j.from, j.to, j.at, j.cause, j.refused),
    )
    const actorCols = [
      "actor_id",
      "actor_type",
      "machine_version",
      "seq",
      "status",
      "state",
      "snapshot",
      "created_at",
      "updated_at",
    ]
    const actorWrite = insert<Cell>(
      "actors",
      actorCols,
      (c, p) => p.push(c.id, c.type, c.version, c.seq, c.status, c.stateKey, c.json, c.createdAt, c.updatedAt),
      upsertClause(actorCols, "actor_id", ["actor_type", "created_at"]),
    )
    const readModelWrites = new Map(
      projectionTables.map((t) => [
        t.name,
        insert<Cell>(t.name, t.columns, (c, p) => t.toRow(c, p), upsertClause(t.columns, t.key, t.fixed)),
      ]),
    )
    // Members never change: written (once, then ignored) whenever their intent's cell is.
    const membersWrite = insert<readonly [string, string, number]>(
      "exit_intent_members",
      ["trade_id", "intent_id", "qty"],
      (m, p) => p.push(m[0], m[1], m[2]),
      "ON CONFLICT DO NOTHING",
    )
    const outboxWrite = insert<OutboxRow>(
      "outbox",
      ["id", "actor_id", "seq", "effect", "idem_key", "payload", "created_at"],
      (o, p) => p.push(o.id, o.actorId, o.seq, o.effect, o.key, o.payload, o.createdAt),
    )
    const outboxDoneWrite: RowWrite<Batch["outboxDone"][number]> = {
      name: "outbox.done",
      sql: (n) =>
        `UPDATE outbox SET status = 'done', result = d.column2, done_at = d.column3 FROM (VALUES ${placeholders(3, n)}) AS d WHERE outbox.id = d.column1`,
      params: (d, p) => p.push(d.id, d.result, d.at),
    }
    const timerClearWrite: RowWrite<TimerOp> = {
      name: "timers.clear",
      sql: (n) => `DELETE FROM timers WHERE (actor_id, name) IN (VALUES ${placeholders(2, n)})`,
      params: (t, p) => p.push(t.actorId, t.name),
    }
    const timerArmWrite = insert<TimerOp & { op: "arm" }>(
      "timers",
      ["actor_id", "name", "due_at", "armed_seq"],
      (t, p) => p.push(t.actorId, t.name, t.dueAt, t.armedSeq),
      "ON CONFLICT(actor_id, name) DO UPDATE SET due_at=excluded.due_at, armed_seq=excluded.armed_seq",
    )

    // Prepared once per (write, rows per statement) on the one connection.
    const prepared = new Map<string, Sqlite.Statement>()
    // In chunks of the fixed sizes, largest first.
    const write = <A>(db: Sqlite.Database, w: RowWrite<A>, rows: ReadonlyArray<A>) => {
      let from = 0
      for (const size of chunkSizes) {
        for (; rows.length - from >= size; from += size) {
          const key = `${w.name}:${size}`
          let statement = prepared.get(key)
          if (!statement) {
            statement = db.prepare(w.sql(size))
            prepared.set(key, statement)
          }
          const params: Array<unknown> = []
          for (let i = from; i < from + size; i++) w.params(rows[i]!, params)
          statement.run(params)
        }
      }
    }

    let transaction: ((batch: Batch) => void) | undefined
    let actorById: Sqlite.Statement | undefined
    const writeBatch = (db: Sqlite.Database, batch: Batch) => {
      write(db, journalWrite, batch.journal)
      write(db, actorWrite, batch.cells)
      // In the order of `projectionTables` (a signal before its intents: the foreign key).
      for (const table of projectionTables) {
        const cells = batch.cells.filter((c) => projectionOf(c.type)?.name === table.name)
        if (cells.length > 0) write(db, readModelWrites.get(table.name)!, cells)
      }
      write(db, membersWrite, batch.cells.flatMap(memberRowsOf))
      write(db, outboxWrite, batch.outbox)
      write(db, outboxDoneWrite, batch.outboxDone)
      write(
        db,
        timerClearWrite,
        batch.timers.filter((t) => t.op === "clear"),
      )
      write(
        db,
        timerArmWrite,
        batch.timers.filter((t): t is TimerOp & { op: "arm" } => t.op === "arm"),
      )
    }

    /**
     * Commits one batch in one transaction, synchronously on the connection: the runtime's
     * hottest path, so it goes past the general SQL client (no statement compiling, no span per
     * statement), with every statement prepared once.
     */
    const commit = (batch: Batch): Effect.Effect<void, SqlError> =>
      conn.use((db) => {
        transaction ??= db.transaction((b: Batch) => writeBatch(db, b))
        transaction(batch)
      })

    return {
      commit,
      /** Marks an outbox row failed for good (its effect has no outcome event). */
      failEffect: (id: number, result: string, at: number) =>
        sql`UPDATE outbox SET status = 'failed', result = ${result}, done_at = ${at} WHERE id = ${id}`.pipe(
          Effect.asVoid,
        ),
      /**
       * One actor's row, live or done, read at once (the runtime, mid-step, meeting an actor that
       * is not in memory); throws if the store cannot be read. Only the commit writes `actors`.
       */
      actorNow: (id: string): ActorRow | undefined =>
        conn.readNow((db) => {
          actorById ??= db.prepare("SELECT * FROM actors WHERE actor_id = ?")
          return actorById.get(id) as ActorRow | undefined
        }),
      /** One actor's row, live or done. */
      actor: (id: string) => Effect.map(sql<ActorRow>`SELECT * FROM actors WHERE actor_id = ${id}`, (rows) => rows[0]),
      /** Every live actor's row. */
      liveActors: sql<ActorRow>`SELECT * FROM actors WHERE status = 'active'`,
      /** Every actor's row, in id order, page by page. */
      actorsPage: (afterId: string, limit: number) =>
        sql<ActorRow>`SELECT * FROM actors WHERE actor_id > ${afterId} ORDER BY actor_id LIMIT ${limit}`,
      /** Every armed timer. */
      timers: sql<{ actor_id: string; name: string; due_at: number; armed_seq: number }>`SELECT * FROM timers`,
      /** Every effect not yet done. */
      pendingEffects: sql<PendingEffect>`SELECT id, actor_id, seq, effect, idem_key, payload FROM outbox WHERE status = 'pending' ORDER BY id`,
      /** The highest journal and outbox ids, to continue numbering after a restart. */
      maxIds: Effect.map(
        sql<{
          j: number | null
          o: number | null
        }>`SELECT (SELECT MAX(id) FROM journal) AS j, (SELECT MAX(id) FROM outbox) AS o`,
        (rows) => ({ journal: rows[0]?.j ?? 0, outbox: rows[0]?.o ?? 0 }),
      ),
      /** One actor's journal in seq order. */
      journalOf: (id: string) => sql<StoredJournalRow>`SELECT * FROM journal WHERE actor_id = ${id} ORDER BY seq`,
    }
  }),
}) {}

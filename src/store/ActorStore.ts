/**
 * The actor store's SQL: one batch of steps committed in one transaction (journal, snapshots,
 * read models, outbox, timers), the live actors and pending work loaded at start, and the
 * journal read back for replay and audit. All of it goes through the generic `SqlClient`, so the
 * store can move to PostgreSQL (ARCHITECTURE.md §7).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { ActorType } from "../../machines/Machines.js"
import type { Cell, JournalRow, OutboxRow, TimerOp } from "../runtime/Step.js"
import { projectionOf, projectionTables } from "./ReadModels.js"

/** Rows per multi-row statement: a few fixed sizes so prepared statements are reused. */
const chunkSizes = [256, 64, 16, 4, 1] as const

/** Splits rows into chunks of the fixed sizes, largest first. */
export const chunked = <A>(rows: ReadonlyArray<A>): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  let i = 0
  for (const size of chunkSizes) {
    while (rows.length - i >= size) {
      out.push(rows.slice(i, i + size))
      i += size
    }
  }
  return out
}

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

    const insertMany = (
      table: string,
      cols: ReadonlyArray<string>,
      rows: ReadonlyArray<ReadonlyArray<unknown>>,
      tail = "",
    ) =>
      Effect.forEach(
        chunked(rows),
        (chunk) =>
          sql.unsafe(
            `INSERT INTO ${table} (${cols.join(",")}) VALUES ${placeholders(cols.length, chunk.length)} ${tail}`,
            chunk.flat() as Array<never>,
          ),
        { discard: true },
      )

    const upsertClause = (cols: ReadonlyArray<string>, key: string) =>
      `ON CONFLICT(${key}) DO UPDATE SET ${cols
        .filter((c) => c !== key)
        .map((c) => `${c}=excluded.${c}`)
        .join(",")}`

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
    const journalCols = [
      "id",
      "actor_id",
      "seq",
      "event_type",
      "event",
      "from_state",
      "to_state",
      "at",
      "cause",
      "refused",
    ]
    const outboxCols = ["id", "actor_id", "seq", "effect", "idem_key", "payload", "created_at"]
    const actorUpsert = upsertClause(actorCols, "actor_id")

    const writeReadModels = (cells: ReadonlyArray<Cell>) =>
      Effect.forEach(
        projectionTables,
        (table) => {
          const rows = cells.flatMap((c) => {
            const p = projectionOf(c.type)
            return p && p.name === table.name ? [table.toRow(c)] : []
          })
          return rows.length === 0
            ? Effect.void
            : insertMany(table.name, table.columns, rows, upsertClause(table.columns, table.key))
        },
        { discard: true },
      )

    /** Commits one batch in one transaction. */
    const commit = (batch: Batch): Effect.Effect<void, SqlError> =>
      sql.withTransaction(
        Effect.gen(function* () {
          yield* insertMany(
            "journal",
            journalCols,
            batch.journal.map((j) => [
              j.id,
              j.actorId,
              j.seq,
              j.eventType,
              j.event,
              j.from,
              j.to,
              j.at,
              j.cause,
              j.refused,
            ]),
          )
          yield* insertMany(
            "actors",
            actorCols,
            batch.cells.map((c) => [
              c.id,
              c.type,
              c.version,
              c.seq,
              c.status,
              c.stateKey,
              c.json,
              c.createdAt,
              c.updatedAt,
            ]),
            actorUpsert,
          )
          yield* writeReadModels(batch.cells)
          yield* insertMany(
            "outbox",
            outboxCols,
            batch.outbox.map((o) => [o.id, o.actorId, o.seq, o.effect, o.key, o.payload, o.createdAt]),
          )
          yield* Effect.forEach(
            chunked(batch.outboxDone),
            (chunk) =>
              sql.unsafe(
                `UPDATE outbox SET status = 'done', result = d.column2, done_at = d.column3 FROM (VALUES ${placeholders(3, chunk.length)}) AS d WHERE outbox.id = d.column1`,
                chunk.flatMap((d) => [d.id, d.result, d.at]) as Array<never>,
              ),
            { discard: true },
          )
          const arms = batch.timers.filter((t) => t.op === "arm")
          const clears = batch.timers.filter((t) => t.op === "clear")
          yield* Effect.forEach(
            chunked(clears),
            (chunk) =>
              sql.unsafe(
                `DELETE FROM timers WHERE (actor_id, name) IN (VALUES ${placeholders(2, chunk.length)})`,
                chunk.flatMap((t) => [t.actorId, t.name]) as Array<never>,
              ),
            { discard: true },
          )
          yield* insertMany(
            "timers",
            ["actor_id", "name", "due_at", "armed_seq"],
            arms.map((t) => [t.actorId, t.name, t.dueAt, t.armedSeq]),
            "ON CONFLICT(actor_id, name) DO UPDATE SET due_at=excluded.due_at, armed_seq=excluded.armed_seq",
          )
        }),
      )

    return {
      commit,
      /** Marks an outbox row failed for good (its effect has no outcome event). */
      failEffect: (id: number, result: string, at: number) =>
        sql`UPDATE outbox SET status = 'failed', result = ${result}, done_at = ${at} WHERE id = ${id}`.pipe(
          Effect.asVoid,
        ),
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

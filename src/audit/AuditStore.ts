/**
 * The audit's SQL: the actor list (filtered, keyset-paged, newest first), one actor's row and
 * journal, and the link rows the causal chain is built from. Read-only: nothing here writes.
 *
 * Every query is served by an index on a database of a million transitions (migrations/0007;
 * test/audit/AuditStore.test.ts checks the plans): the list walks `actors_by_created` or
 * `actors_by_type_created` and stops at the page size, symbol and account filters go through the
 * read models' indexes, and the chain reads link columns and the partial `journal_by_actor_cause`.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { StoredJournalRow } from "../store/ActorStore.js"

/** Filters of the actor list; all optional. `from`/`to` keep actors alive during that time (epoch ms). */
export interface ActorFilter {
  readonly type?: string | undefined
  /** A state key or a prefix of one: `SENT_TO_BROKER` matches `SENT_TO_BROKER.working`. */
  readonly state?: string | undefined
  readonly symbol?: string | undefined
  readonly account?: string | undefined
  readonly from?: number | undefined
  readonly to?: number | undefined
}

/** One row of the actor list. */
export interface ActorListRow {
  readonly actor_id: string
  readonly actor_type: string
  readonly machine_version: string
  readonly seq: number
  readonly status: string
  readonly state: string
  readonly created_at: number
  readonly updated_at: number
  readonly symbol: string | null
  readonly account: string | null
}

/** One page of the list and the cursor of the next (null on the last page). */
export interface ActorPage {
  readonly rows: ReadonlyArray<ActorListRow>
  readonly next: string | null
}

/** An actor's stored row with its snapshot. */
export interface AuditActorRow extends ActorListRow {
  readonly snapshot: string
}

/** An order's link columns. */
export interface OrderLinkRow {
  readonly order_id: string
  readonly parent_id: string | null
  readonly purpose: string
  readonly side: string
  readonly qty: number
  readonly symbol: string
}

/** An exit intent's link columns. */
export interface IntentLinkRow {
  readonly intent_id: string
  readonly signal_id: string
  readonly trade_id: string
  readonly order_id: string | null
}

/** An exit signal's link columns and detection. */
export interface SignalLinkRow {
  readonly signal_id: string
  readonly trade_id: string
  readonly exit_reason: string
  readonly detected_price: number | null
  readonly detected_at: number
}

/** Most rows on one page of the actor list. */
export const actorPageRowsMax = 500

/** Cursor text of a list row: `<created_at>:<actor_id>`. */
export const cursorOf = (row: { created_at: number; actor_id: string }): string => `${row.created_at}:${row.actor_id}`

const parseCursor = (cursor: string): { at: number; id: string } | null => {
  const i = cursor.indexOf(":")
  const at = Number(cursor.slice(0, i))
  return i > 0 && Number.isFinite(at) ? { at, id: cursor.slice(i + 1) } : null
}

/** The audit's read-only queries. */
export class AuditStore extends Effect.Service<AuditStore>()("warden/AuditStore", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const listColumns = sql`
      a.actor_id, a.actor_type, a.machine_version, a.seq, a.status, a.state, a.created_at, a.updated_at,
      COALESCE(o.symbol, t.symbol, i.symbol, st.symbol) AS symbol,
      COALESCE(o.account_id, t.account_id, i.user_broker_id, s.account_id,
        CASE WHEN a.actor_type = 'account' THEN a.actor_id END) AS account`
    const listJoins = sql`
      LEFT JOIN orders o ON o.order_id = a.actor_id
      LEFT JOIN trades t ON t.trade_id = a.actor_id
      LEFT JOIN exit_intents i ON i.intent_id = a.actor_id
      LEFT JOIN exit_signals s ON s.signal_id = a.actor_id
      LEFT JOIN trades st ON st.trade_id = s.trade_id`

    // `+a.actor_id`: walk the list's index newest first and stop at the page size, testing each
    // actor against the filter's ids, rather than sorting every matching actor for each page.
    const bySymbol = (symbol: string) => sql`+a.actor_id IN (
      SELECT order_id FROM orders WHERE symbol = ${symbol}
      UNION ALL SELECT trade_id FROM trades WHERE symbol = ${symbol}
      UNION ALL SELECT intent_id FROM exit_intents WHERE symbol = ${symbol}
      UNION ALL SELECT signal_id FROM exit_signals
        WHERE trade_id IN (SELECT trade_id FROM trades WHERE symbol = ${symbol}))`

    const byAccount = (account: string) => sql`(+a.actor_id = ${account} OR +a.actor_id IN (
      SELECT order_id FROM orders WHERE account_id = ${account}
      UNION ALL SELECT trade_id FROM trades WHERE account_id = ${account}
      UNION ALL SELECT intent_id FROM exit_intents WHERE user_broker_id = ${account}
      UNION ALL SELECT signal_id FROM exit_signals WHERE account_id = ${account}))`

    const conditions = (f: ActorFilter, cursor: string | null) => {
      const c = []
      if (f.type) c.push(sql`a.actor_type = ${f.type}`)
      // A prefix ends at the next path separator: `X` matches `X` and `X.…`, never `XY`.
      if (f.state) c.push(sql`(a.state = ${f.state} OR (a.state >= ${`${f.state}.`} AND a.state < ${`${f.state}/`}))`)
      if (f.symbol) c.push(bySymbol(f.symbol))
      if (f.account) c.push(byAccount(f.account))
      if (f.to !== undefined) c.push(sql`a.created_at <= ${f.to}`)
      if (f.from !== undefined) c.push(sql`a.updated_at >= ${f.from}`)
      const at = cursor === null ? null : parseCursor(cursor)
      // A row value: SQLite seeks the list's index to the cursor instead of scanning to it.
      if (at) c.push(sql`(a.created_at, a.actor_id) < (${at.at}, ${at.id})`)
      return c
    }

    const listStatement = (filter: ActorFilter, cursor: string | null, n: number) =>
      sql<ActorListRow>`
        SELECT ${listColumns} FROM actors a ${listJoins}
        WHERE ${sql.and(conditions(filter, cursor))}
        ORDER BY a.created_at DESC, a.actor_id DESC LIMIT ${n}`

    const causedStatement = (id: string) =>
      // `#` sorts just before `$`: the range is every cause that starts with `<id>#`.
      sql<StoredJournalRow>`SELECT * FROM journal
        WHERE cause >= ${`${id}#`} AND cause < ${`${id}$`} AND cause GLOB '*#*' ORDER BY id`

    /** One page of actors, newest first. */
    const actors = (filter: ActorFilter, cursor: string | null, limit: number): Effect.Effect<ActorPage, SqlError> =>
      Effect.gen(function* () {
        const n = Math.max(1, Math.min(actorPageRowsMax, Math.floor(limit)))
        const rows = yield* listStatement(filter, cursor, n + 1)
        const page = rows.slice(0, n)
        return { rows: page, next: rows.length > n ? cursorOf(page[page.length - 1]!) : null }
      })

    /** SQLite's plan for a statement, one line per step (`SEARCH a USING INDEX …`). */
    const explain = (statement: { compile: () => readonly [string, ReadonlyArray<unknown>] }) => {
      const [text, params] = statement.compile()
      return Effect.map(sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params as Array<never>), (rows) =>
        rows.map((r) => r.detail),
      )
    }

    /** One actor's row, with its snapshot, symbol and account. */
    const actor = (id: string): Effect.Effect<AuditActorRow | undefined, SqlError> =>
      Effect.map(
        sql<AuditActorRow>`SELECT ${listColumns}, a.snapshot FROM actors a ${listJoins} WHERE a.actor_id = ${id}`,
        (rows) => rows[0],
      )

    /** Rows of several actors (no snapshot), for links. */
    const actorsIn = (ids: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<ActorListRow>, SqlError> =>
      ids.length === 0
        ? Effect.succeed([])
        : sql<ActorListRow>`SELECT ${listColumns} FROM actors a ${listJoins} WHERE a.actor_id IN ${sql.in(ids)}`

    /** One actor's journal in seq order. */
    const journal = (id: string): Effect.Effect<ReadonlyArray<StoredJournalRow>, SqlError> =>
      sql<StoredJournalRow>`SELECT * FROM journal WHERE actor_id = ${id} ORDER BY seq`

    /** Rows of other actors caused by a step of this one (cause `<id>#<seq>`). */
    const causedBy = (id: string): Effect.Effect<ReadonlyArray<StoredJournalRow>, SqlError> => causedStatement(id)

    /** The first journal row of each actor (creation and its cause). */
    const creations = (ids: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<StoredJournalRow>, SqlError> =>
      ids.length === 0
        ? Effect.succeed([])
        : sql<StoredJournalRow>`SELECT * FROM journal WHERE actor_id IN ${sql.in(ids)} AND seq = 0`

    /** Accepted `broker.filled` rows of these orders. */
    const fills = (orderIds: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<StoredJournalRow>, SqlError> =>
      orderIds.length === 0
        ? Effect.succeed([])
        : sql<StoredJournalRow>`SELECT * FROM journal WHERE actor_id IN ${sql.in(orderIds)}
            AND event_type = 'broker.filled' AND refused IS NULL ORDER BY id`

    const orderCols = sql`order_id, parent_id, purpose, side, qty, symbol`
    const intentCols = sql`intent_id, signal_id, trade_id, order_id`
    const signalCols = sql`signal_id, trade_id, exit_reason, detected_price, detected_at`

    return {
      actors,
      /** The query plans of a list query and of the caused-by query (tests, diagnostics). */
      plans: (filter: ActorFilter, cursor: string | null = null) =>
        Effect.all({ list: explain(listStatement(filter, cursor, 51)), causedBy: explain(causedStatement("x")) }),
      actor,
      actorsIn,
      journal,
      causedBy,
      creations,
      fills,
      /** An order's links. */
      order: (id: string) =>
        Effect.map(sql<OrderLinkRow>`SELECT ${orderCols} FROM orders WHERE order_id = ${id}`, (r) => r[0]),
      /** Orders whose parent is one of these (a trade's entries, an intent's exit orders). */
      ordersOf: (parents: ReadonlyArray<string>) =>
        parents.length === 0
          ? Effect.succeed([] as ReadonlyArray<OrderLinkRow>)
          : sql<OrderLinkRow>`SELECT ${orderCols} FROM orders WHERE parent_id IN ${sql.in(parents)} ORDER BY created_at`,
      /** An exit intent's links. */
      intent: (id: string) =>
        Effect.map(sql<IntentLinkRow>`SELECT ${intentCols} FROM exit_intents WHERE intent_id = ${id}`, (r) => r[0]),
      /** The exit intents of a trade: its own, and the positions' exits it is a member of. */
      intentsOfTrade: (tradeId: string) =>
        sql<IntentLinkRow>`SELECT ${intentCols} FROM exit_intents WHERE intent_id IN (
          SELECT intent_id FROM exit_intents WHERE trade_id = ${tradeId}
          UNION SELECT intent_id FROM exit_intent_members WHERE trade_id = ${tradeId}) ORDER BY created_at`,
      /** The trades a position's exit intent exits besides its own (`trade_id`), oldest first. */
      membersOfIntent: (intentId: string) =>
        Effect.map(
          sql<{ trade_id: string }>`SELECT m.trade_id FROM exit_intent_members m JOIN exit_intents i
            ON i.intent_id = m.intent_id WHERE m.intent_id = ${intentId} AND m.trade_id <> i.trade_id`,
          (rows) => rows.map((r) => r.trade_id),
        ),
      /** An exit signal's links. */
      signal: (id: string) =>
        Effect.map(sql<SignalLinkRow>`SELECT ${signalCols} FROM exit_signals WHERE signal_id = ${id}`, (r) => r[0]),
      /** The exit signals of a trade, oldest first. */
      signalsOfTrade: (tradeId: string) =>
        sql<SignalLinkRow>`SELECT ${signalCols} FROM exit_signals WHERE trade_id = ${tradeId} ORDER BY detected_at`,
      /** Effect rows of the outbox, by id (what a `outbox:<id>` cause was). */
      outbox: (ids: ReadonlyArray<number>) =>
        ids.length === 0
          ? Effect.succeed([] as ReadonlyArray<{ id: number; effect: string; status: string }>)
          : sql<{
              id: number
              effect: string
              status: string
            }>`SELECT id, effect, status FROM outbox WHERE id IN ${sql.in(ids)}`,
      /** Distinct symbols and accounts, for the list's filter suggestions (bounded). */
      facets: Effect.gen(function* () {
        const symbols = yield* sql<{ v: string }>`SELECT DISTINCT symbol AS v FROM orders ORDER BY 1 LIMIT 200`
        const accounts = yield* sql<{ v: string }>`SELECT DISTINCT account_id AS v FROM orders ORDER BY 1 LIMIT 200`
        return { symbols: symbols.map((r) => r.v), accounts: accounts.map((r) => r.v) }
      }),
    }
  }),
}) {}

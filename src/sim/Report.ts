/**
 * The simulation report of SCENARIOS.md: counts, trades and the journal hash, read from the
 * database the run wrote; `expect` judged against them.
 */
import { createHash } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { CountName, Expect } from "./Scenario.js"

/** One invariant's result. */
export interface InvariantResult {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** A trade as the report lists it. */
export interface ReportTrade {
  readonly id: string
  readonly account: string
  readonly symbol: string
  readonly direction: "LONG" | "SHORT"
  readonly qty: number
  readonly entryPrice: number
  readonly exitPrice: number | null
  readonly exitReason: string | null
  readonly realizedPnl: number | null
  readonly status: "OPEN" | "CLOSED"
}

/** The report of one run. */
export interface SimulationReport {
  readonly scenario: string
  readonly seed: number
  readonly ok: boolean
  readonly invariants: ReadonlyArray<InvariantResult>
  readonly counts: Readonly<Record<CountName, number>>
  readonly trades: ReadonlyArray<ReportTrade>
  readonly journalHash: string
  /** Expectations that were not met (empty when `ok`). */
  readonly unmet: ReadonlyArray<string>
  /** Simulated ms run, and the wall-clock ms it took. */
  readonly simulatedMs: number
  readonly wallMs: number
}

const one = (sql: SqlClient.SqlClient, query: string) =>
  Effect.map(sql.unsafe<{ n: number | null }>(query), (rows) => Number(rows[0]?.n ?? 0))

/** The counts the database shows, plus the harness's own (ticks published, crashes). */
export const countsOf = (harness: { ticks: number; crashes: number }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const n = (query: string) => one(sql, query)
    const intents = (status: string) => n(`SELECT COUNT(*) AS n FROM exit_intents WHERE status = '${status}'`)
    const counts: Record<CountName, number> = {
      ticks: harness.ticks,
      transitions: yield* n("SELECT COUNT(*) AS n FROM journal WHERE refused IS NULL"),
      brokerOrders: yield* n("SELECT COUNT(*) AS n FROM paper_orders"),
      duplicateBrokerOrders: yield* n(
        "SELECT COALESCE(SUM(c - 1), 0) AS n FROM (SELECT COUNT(*) AS c FROM paper_orders GROUP BY account_id, client_tag)",
      ),
      fills: yield* n("SELECT COUNT(*) AS n FROM paper_fills"),
      tradesOpened: yield* n("SELECT COUNT(*) AS n FROM trades"),
      tradesClosed: yield* n("SELECT COUNT(*) AS n FROM trades WHERE status = 'CLOSED'"),
      exitSignals: yield* n("SELECT COUNT(*) AS n FROM exit_signals"),
      exitIntentsApproved: yield* n(
        "SELECT COUNT(DISTINCT j.actor_id) AS n FROM journal j JOIN exit_intents i ON i.intent_id = j.actor_id WHERE j.to_state LIKE 'APPROVED%' AND j.refused IS NULL",
      ),
      exitIntentsRejected: yield* intents("REJECTED"),
      exitIntentsFilled: yield* intents("FILLED"),
      exitIntentsFailed: yield* intents("FAILED"),
      crashes: harness.crashes,
    }
    return counts
  }).pipe(Effect.orDie)

type TradeRow = {
  trade_id: string
  account_id: string
  symbol: string
  direction: "LONG" | "SHORT"
  qty: number
  entry_price: number
  exit_price: number | null
  exit_reason: string | null
  realized_pnl: number | null
  status: string
}

/** Every trade, in the order they opened. */
export const tradesOf = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<TradeRow>`SELECT trade_id, account_id, symbol, direction, qty, entry_price, exit_price,
    exit_reason, realized_pnl, status FROM trades ORDER BY opened_at, trade_id`
  return rows.map(
    (r): ReportTrade => ({
      id: r.trade_id,
      account: r.account_id,
      symbol: r.symbol,
      direction: r.direction,
      qty: r.qty,
      entryPrice: r.entry_price,
      exitPrice: r.status === "CLOSED" ? r.exit_price : null,
      exitReason: r.status === "CLOSED" ? r.exit_reason : null,
      realizedPnl: r.status === "CLOSED" ? r.realized_pnl : null,
      status: r.status === "CLOSED" ? "CLOSED" : "OPEN",
    }),
  )
}).pipe(Effect.orDie)

type JournalRow = {
  actor_id: string
  seq: number
  event_type: string
  event: string
  from_state: string | null
  to_state: string
  at: number
  refused: string | null
}

/** `sha256:` over every journal row's actor, seq, event type, event, from, to, at and refusal, in id order. */
export const journalHashOf = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const hash = createHash("sha256")
  const pageRowsMax = 5_000
  for (let after = 0; ; ) {
    const rows = yield* sql<JournalRow & { id: number }>`SELECT id, actor_id, seq, event_type, event, from_state,
      to_state, at, refused FROM journal WHERE id > ${after} ORDER BY id LIMIT ${pageRowsMax}`
    for (const r of rows) {
      const fields = [r.actor_id, r.seq, r.event_type, r.event, r.from_state, r.to_state, r.at, r.refused]
      hash.update(`${JSON.stringify(fields)}\n`)
    }
    if (rows.length < pageRowsMax) break
    after = rows[rows.length - 1]!.id
  }
  return `sha256:${hash.digest("hex")}`
}).pipe(Effect.orDie)

/** The expectations not met: `name: wanted X, got Y`. */
export const unmetOf = (
  expect: Expect,
  counts: Readonly<Record<CountName, number>>,
  invariants: ReadonlyArray<InvariantResult>,
  facts: { readonly netPositionsZero: boolean; readonly holdingsUntouched: boolean },
): ReadonlyArray<string> => {
  const out: Array<string> = []
  const allOk = invariants.every((i) => i.ok)
  const wanted = expect.invariants ?? true
  if (wanted !== allOk) {
    const failed = invariants.filter((i) => !i.ok).map((i) => i.name)
    out.push(`invariants: wanted ${wanted}, got ${allOk}${failed.length ? ` (${failed.join(", ")})` : ""}`)
  }
  for (const key of ["netPositionsZero", "holdingsUntouched"] as const) {
    const want = expect[key]
    if (want !== undefined && want !== facts[key]) out.push(`${key}: wanted ${want}, got ${facts[key]}`)
  }
  for (const [name, got] of Object.entries(counts)) {
    const want = expect[name as CountName]
    if (want !== undefined && want !== got) out.push(`${name}: wanted ${want}, got ${got}`)
  }
  return out
}

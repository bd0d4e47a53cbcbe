/**
 * The invariants of ARCHITECTURE.md §6, each checked after a run from the database (the engine's
 * tables and journal) and the paper broker's books (persisted in the same file). Each answers a
 * name, ok, and a detail naming a few offenders.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { verifyReplay } from "../runtime/Replay.js"
import type { ActorStore } from "../store/ActorStore.js"
import type { InvariantResult } from "./Report.js"
import type { Scenario } from "./Scenario.js"

/** What the harness knows beyond the database. */
export interface RunFacts {
  readonly scenario: Scenario
  /** Epoch ms of the end of the run. */
  readonly endMs: number
  /** The last price of each symbol the feed published. */
  readonly lastPrice: ReadonlyMap<string, number>
  /** Epoch ms of the last exit-all (an `exit` step of scope ALL, a forced unwind on), or null. */
  readonly exitAllAt: number | null
  /** Epoch ms of the last entry (step or webhook), or null. */
  readonly lastEntryAt: number | null
  /** How long an open trade beyond its stop may wait for its exit signal (cooldown and a margin). */
  readonly exitGraceMs: number
}

const automaticReasons = ["STOP_LOSS", "TARGET", "TRAILING_STOP", "SQUARE_OFF", "EXPIRY"]
const sample = (ids: ReadonlyArray<unknown>) =>
  ids.length === 0 ? "" : `${ids.length}: ${ids.slice(0, 5).map(String).join(", ")}${ids.length > 5 ? " …" : ""}`

type Check = (sql: SqlClient.SqlClient, facts: RunFacts) => Effect.Effect<string, unknown, ActorStore>

const ids = (sql: SqlClient.SqlClient, query: string) =>
  Effect.map(sql.unsafe<{ id: unknown }>(query), (rows) => sample(rows.map((r) => r.id)))

/** Broker orders whose placement row (outbox, with its journal row) was not committed first. */
const persistBeforeEmit: Check = (sql) =>
  ids(
    sql,
    `SELECT p.broker_order_id AS id FROM paper_orders p
     LEFT JOIN outbox o ON o.idem_key = p.client_tag
     LEFT JOIN journal j ON j.actor_id = o.actor_id AND j.seq = o.seq AND j.refused IS NULL
     WHERE j.id IS NULL OR j.at > p.placed_at`,
  )

const noDuplicateBrokerOrders: Check = (sql) =>
  ids(sql, "SELECT client_tag AS id FROM paper_orders GROUP BY account_id, client_tag HAVING COUNT(*) > 1")

/** Every intent of every trade: its own (`exit_intents.trade_id`) and the positions' exits it is a member of. */
const intentsOfTrades = `SELECT trade_id, intent_id FROM exit_intents
  UNION SELECT trade_id, intent_id FROM exit_intent_members`

const tradeClosedOnlyByFilledIntent: Check = (sql) =>
  ids(
    sql,
    // Closed by a FILLED intent, or by what its exit intents' orders filled in all (a slice or an
    // order that filled after its intent had FAILED): either way, from exit fills.
    `WITH links AS (${intentsOfTrades})
     SELECT t.trade_id AS id FROM trades t WHERE t.status = 'CLOSED' AND t.exited_qty < t.qty AND NOT EXISTS
       (SELECT 1 FROM links l JOIN exit_intents i ON i.intent_id = l.intent_id
        WHERE l.trade_id = t.trade_id AND i.status = 'FILLED')
     UNION SELECT i.intent_id FROM links l JOIN exit_intents i ON i.intent_id = l.intent_id
       JOIN trades t ON t.trade_id = l.trade_id WHERE i.status = 'FILLED' AND t.status = 'OPEN'`,
  )

/**
 * A closed trade's realised P&L equals what its orders' broker fills add up to: its entry orders
 * (parent: the trade) and its exit intents' orders (parent: the intent). Trades a position's exit
 * closed together share that exit's orders, so they are summed together: trades linked by a shared
 * intent make one group, checked once all of its trades are CLOSED.
 */
const pnlEqualsFills: Check = (sql) =>
  Effect.gen(function* () {
    const trades = yield* sql.unsafe<{ trade_id: string; status: string; realized_pnl: number | null }>(
      "SELECT trade_id, status, realized_pnl FROM trades",
    )
    const links = yield* sql.unsafe<{ trade_id: string; intent_id: string }>(intentsOfTrades)
    const fills = yield* sql.unsafe<{ parent_id: string; side: string; qty: number; price: number }>(
      `SELECT o.parent_id, f.side, f.qty, f.price FROM orders o
       JOIN paper_fills f ON f.client_tag = o.client_tag AND f.account_id = o.account_id WHERE o.parent_id IS NOT NULL`,
    )
    // Groups of trades, by the intents they share (union-find, each trade its own group at first).
    const up = new Map(trades.map((t) => [t.trade_id, t.trade_id]))
    const root = (id: string): string => {
      let r = id
      while (up.get(r) !== r) r = up.get(r)!
      up.set(id, r)
      return r
    }
    const tradeOfIntent = new Map<string, string>()
    for (const l of links) {
      if (!up.has(l.trade_id)) continue
      const other = tradeOfIntent.get(l.intent_id)
      if (other === undefined) tradeOfIntent.set(l.intent_id, l.trade_id)
      else up.set(root(l.trade_id), root(other))
    }
    type Sum = { pnl: number; buy: number; sell: number; value: number; open: boolean; ids: Array<string> }
    const groups = new Map<string, Sum>()
    const groupOf = (tradeId: string) => {
      const r = root(tradeId)
      let g = groups.get(r)
      if (!g) {
        g = { pnl: 0, buy: 0, sell: 0, value: 0, open: false, ids: [] }
        groups.set(r, g)
      }
      return g
    }
    for (const t of trades) {
      const g = groupOf(t.trade_id)
      g.pnl += t.realized_pnl ?? 0
      g.open ||= t.status !== "CLOSED"
      g.ids.push(t.trade_id)
    }
    for (const f of fills) {
      const tradeId = up.has(f.parent_id) ? f.parent_id : tradeOfIntent.get(f.parent_id)
      if (tradeId === undefined) continue
      const g = groupOf(tradeId)
      if (f.side === "BUY") g.buy += f.qty
      else g.sell += f.qty
      g.value += f.side === "SELL" ? f.qty * f.price : -f.qty * f.price
    }
    const wrong = [...groups.values()].filter(
      (g) => !g.open && (g.buy !== g.sell || Math.abs(g.pnl - g.value) > 0.01 + 1e-9 * Math.abs(g.value)),
    )
    return sample(
      wrong.map(
        (g) => `${g.ids.join("+")} (pnl ${g.pnl}, fills ${g.value.toFixed(2)}, bought ${g.buy}, sold ${g.sell})`,
      ),
    )
  })

const exitIntentHasSignal: Check = (sql) =>
  ids(
    sql,
    "SELECT i.intent_id AS id FROM exit_intents i LEFT JOIN exit_signals s ON s.signal_id = i.signal_id WHERE s.signal_id IS NULL",
  )

const oneIntentPerKey: Check = (sql) =>
  ids(
    sql,
    `SELECT trade_id || ':' || exit_reason || ':' || episode_id AS id FROM exit_intents
       GROUP BY trade_id, user_broker_id, exit_reason, episode_id HAVING COUNT(*) > 1
     UNION SELECT l.trade_id FROM (${intentsOfTrades}) l JOIN exit_intents i ON i.intent_id = l.intent_id
       WHERE i.status IN ('PENDING', 'PLACED') OR i.state = 'APPROVED.live'
       GROUP BY l.trade_id HAVING COUNT(*) > 1`,
  )

/** No automatic signal of a trade is detected while an earlier signal of it is cooling down. */
const cooldownHolds: Check = (sql) =>
  ids(
    sql,
    `SELECT b.signal_id AS id FROM exit_signals a JOIN exit_signals b
       ON b.trade_id = a.trade_id AND b.signal_id <> a.signal_id
     WHERE b.exit_reason IN ${inList(automaticReasons)} AND a.published_at IS NOT NULL AND a.cooldown_until IS NOT NULL
       AND b.detected_at > a.published_at AND b.detected_at < a.cooldown_until`,
  )

const inList = (xs: ReadonlyArray<string>) => `(${xs.map((x) => `'${x}'`).join(", ")})`

/** Every opening holding is still held in full, and no CNC order was placed by an exit. */
const cncUntouched: Check = (sql, facts) =>
  Effect.gen(function* () {
    const held = yield* sql<{
      account_id: string
      symbol: string
      qty: number
    }>`SELECT account_id, symbol, qty FROM paper_holdings`
    const bad: Array<string> = []
    for (const a of facts.scenario.accounts)
      for (const h of a.holdings) {
        const now = held.find((r) => r.account_id === a.id && r.symbol === h.symbol)?.qty ?? 0
        if (now !== h.qty) bad.push(`${a.id}:${h.symbol} ${h.qty}→${now}`)
      }
    const cncExits = yield* sql<{
      id: string
    }>`SELECT order_id AS id FROM orders WHERE purpose = 'EXIT' AND product = 'CNC'`
    return sample([...bad, ...cncExits.map((r) => r.id)])
  })

/**
 * No exit's fill takes a position through zero: exit quantity and side came from the net quantity.
 * One exception, not the exit's doing: an entry on the exit's own side (a new trade the other way)
 * placed while the exit was on its way and filled first. The books still agree then: the exited
 * trade is closed and the new one holds what the position holds.
 */
const exitQtyFromNetQty: Check = (sql) =>
  Effect.gen(function* () {
    const fills = yield* sql<{
      key: string
      side: string
      qty: number
      at: number
      purpose: string | null
      tag: string
      created_at: number | null
    }>`
      SELECT f.account_id || ':' || f.symbol || ':' || f.product AS key, f.side, f.qty, f.at, o.purpose,
        f.client_tag AS tag, o.created_at
      FROM paper_fills f LEFT JOIN orders o ON o.client_tag = f.client_tag ORDER BY f.at, f.rowid`
    const net = new Map<string, number>()
    const entries = new Map<string, Array<{ side: string; at: number }>>()
    const bad: Array<string> = []
    for (const f of fills) {
      const before = net.get(f.key) ?? 0
      const after = before + (f.side === "BUY" ? f.qty : -f.qty)
      net.set(f.key, after)
      if (f.purpose === "ENTRY") entries.set(f.key, [...(entries.get(f.key) ?? []), { side: f.side, at: f.at }])
      if (f.purpose !== "EXIT" || !(before === 0 || Math.sign(after) === -Math.sign(before))) continue
      const overtaken = (entries.get(f.key) ?? []).some((e) => e.side === f.side && e.at >= (f.created_at ?? f.at))
      if (!overtaken) bad.push(f.tag)
    }
    return sample(bad)
  })

const filledWithinOrdered: Check = (sql) =>
  ids(
    sql,
    `SELECT order_id AS id FROM orders WHERE filled_qty > qty OR (status = 'EXECUTED' AND filled_qty <> qty)
     UNION SELECT broker_order_id FROM paper_orders WHERE filled_qty > qty`,
  )

/** After the last exit-all (with no entry after it), every MIS and NRML position is flat. */
const netPositionsZero: Check = (sql, facts) =>
  facts.exitAllAt === null || (facts.lastEntryAt !== null && facts.lastEntryAt > facts.exitAllAt)
    ? Effect.succeed("")
    : ids(sql, openPositionsQuery)

/** The open MIS/NRML positions of the paper books. */
export const openPositionsQuery =
  "SELECT account_id || ':' || symbol || ':' || product || ' ' || net_qty AS id FROM paper_positions WHERE product <> 'CNC' AND net_qty <> 0"

const replayEqualsSnapshot: Check = () =>
  Effect.map(verifyReplay(), (r) => sample(r.mismatches.map((m) => `${m.actorId}: ${m.detail}`)))

/** No trade is left open beyond its stop, target or trail without a recent exit signal. */
const exitsKeepFiring: Check = (sql, facts) =>
  Effect.gen(function* () {
    const open = yield* sql<{
      trade_id: string
      symbol: string
      direction: string
      stop_loss: number | null
      target: number | null
      trail_level: number | null
    }>`SELECT trade_id, symbol, direction, stop_loss, target, trail_level FROM trades WHERE status = 'OPEN' AND product <> 'CNC'`
    const bad: Array<string> = []
    for (const t of open) {
      const p = facts.lastPrice.get(t.symbol)
      if (p === undefined) continue
      const long = t.direction === "LONG"
      const beyond = (level: number | null, adverse: boolean) =>
        level !== null && (long === adverse ? p <= level : p >= level)
      if (!(beyond(t.stop_loss, true) || beyond(t.trail_level, true) || beyond(t.target, false))) continue
      const recent = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM exit_signals WHERE trade_id = ${t.trade_id}
        AND detected_at >= ${facts.endMs - facts.exitGraceMs}`
      if ((recent[0]?.n ?? 0) === 0) bad.push(`${t.trade_id} at ${p}`)
    }
    return sample(bad)
  })

const checks: ReadonlyArray<readonly [string, Check]> = [
  ["persistBeforeEmit", persistBeforeEmit],
  ["noDuplicateBrokerOrders", noDuplicateBrokerOrders],
  ["tradeClosedOnlyByFilledIntent", tradeClosedOnlyByFilledIntent],
  ["pnlEqualsFills", pnlEqualsFills],
  ["exitIntentHasSignal", exitIntentHasSignal],
  ["oneIntentPerKey", oneIntentPerKey],
  ["cooldownHolds", cooldownHolds],
  ["cncUntouched", cncUntouched],
  ["exitQtyFromNetQty", exitQtyFromNetQty],
  ["filledWithinOrdered", filledWithinOrdered],
  ["netPositionsZero", netPositionsZero],
  ["replayEqualsSnapshot", replayEqualsSnapshot],
  ["exitsKeepFiring", exitsKeepFiring],
]

/** The names of the invariants, in report order. */
export const invariantNames = checks.map(([name]) => name)

/** Checks every invariant; a check that cannot run is reported failed with its error. */
export const checkInvariants = (facts: RunFacts) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* Effect.forEach(checks, ([name, check]) =>
      check(sql, facts).pipe(
        Effect.map((detail): InvariantResult => ({ name, ok: detail === "", detail })),
        Effect.catchAllDefect((e) => Effect.fail(e)),
        Effect.catchAll((e) => Effect.succeed({ name, ok: false, detail: `check failed: ${String(e)}` })),
      ),
    )
  })

/**
 * The operator dashboard's read side: trades with their live P&L at the tick hub's last price and
 * their levels (stop, target, trailing), the day's P&L per account, each account's risk picture
 * (standing, limits, the enforcer's last check and interventions, blocks), reconciliation
 * differences, and the instrument master's search for the order form. Read-only: every control of
 * the dashboard goes through the engine's API like any other source.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect } from "effect"
import { Alerts } from "../alerts/Alerts.js"
import { Brokers } from "../broker/Brokers.js"
import { TickHub } from "../market/TickHub.js"
import { InstrumentMaster } from "../orders/Instruments.js"
import { tradesPnl } from "../risk/DayPnl.js"
import { ExitEnforcer } from "../risk/ExitEnforcer.js"
import { dayStartOf, RiskConfig } from "../risk/RiskConfig.js"
import { RiskManager } from "../risk/RiskManager.js"
import type {
  AccountDayPnl,
  InstrumentHit,
  MetaView,
  ReconciliationIssue,
  ReconciliationView,
  RiskAccount,
  RiskView,
  TradeRow,
  TradesView,
} from "./DashboardTypes.js"

/** Closed trades listed (newest first). */
const closedTradesMax = 200
/** Instruments a search answers. */
const instrumentHitsMax = 20
/** Interventions and blocks listed per account. */
const riskRecordsMax = 10

type TradeSql = {
  trade_id: string
  account_id: string
  symbol: string
  exchange: string
  product: string
  direction: "LONG" | "SHORT"
  qty: number
  entry_price: number
  stop_loss: number | null
  target: number | null
  trailing: string | null
  trail_level: number | null
  status: string
  state: string
  exit_reason: string | null
  exit_price: number | null
  realized_pnl: number | null
  opened_at: number
  closed_at: number | null
  entry_order_id: string | null
  intent_ids: string | null
}

type IssueSql = {
  account_id: string
  kind: string
  subject: string
  detail: string
  engine_value: number | null
  broker_value: number | null
  first_seen_at: number
  last_seen_at: number
  resolved_at: number | null
}

const parseTrailing = (text: string | null): TradeRow["trailing"] => {
  if (text === null) return null
  try {
    const t = JSON.parse(text) as { distance?: unknown; unit?: unknown }
    return typeof t.distance === "number" ? { distance: t.distance, unit: String(t.unit ?? "price") } : null
  } catch {
    return null
  }
}

const issueOf = (r: IssueSql): ReconciliationIssue => ({
  accountId: r.account_id,
  kind: r.kind,
  subject: r.subject,
  detail: r.detail,
  engineValue: r.engine_value,
  brokerValue: r.broker_value,
  firstSeenAt: r.first_seen_at,
  lastSeenAt: r.last_seen_at,
  resolvedAt: r.resolved_at,
})

/** Instruments whose symbol (or underlying) matches the query, prefix matches first. */
export const searchInstruments = (
  all: ReadonlyArray<{ symbol: string; exchange: string; underlying: string }>,
  query: string,
): ReadonlyArray<number> => {
  const q = query.trim().toUpperCase()
  const scored: Array<[number, number, string]> = []
  all.forEach((i, n) => {
    const s = i.symbol.toUpperCase()
    const rank = q === "" ? 2 : s.startsWith(q) ? 0 : s.includes(q) || i.underlying.toUpperCase().startsWith(q) ? 1 : -1
    if (rank >= 0) scored.push([rank, n, s])
  })
  scored.sort((a, b) => a[0] - b[0] || a[2].length - b[2].length || a[2].localeCompare(b[2]))
  return scored.slice(0, instrumentHitsMax).map((x) => x[1])
}

/** The dashboard's queries. */
export class DashboardViews extends Effect.Service<DashboardViews>()("warden/DashboardViews", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const hub = yield* TickHub
    const brokers = yield* Brokers
    const instruments = yield* InstrumentMaster
    const risk = yield* RiskManager
    const enforcer = yield* ExitEnforcer
    const riskConfig = yield* RiskConfig
    const alerts = yield* Effect.serviceOption(Alerts)

    const tradeRow = (r: TradeSql): TradeRow => {
      const open = r.status !== "CLOSED"
      const ltp = open ? (hub.last(r.symbol)?.ltp ?? null) : null
      const sign = r.direction === "LONG" ? 1 : -1
      return {
        tradeId: r.trade_id,
        accountId: r.account_id,
        symbol: r.symbol,
        exchange: r.exchange,
        product: r.product,
        direction: r.direction,
        qty: r.qty,
        entryPrice: r.entry_price,
        stopLoss: r.stop_loss,
        target: r.target,
        trailing: parseTrailing(r.trailing),
        trailLevel: r.trail_level,
        status: r.status,
        state: r.state,
        exitReason: r.exit_reason,
        exitPrice: r.exit_price,
        realizedPnl: r.realized_pnl,
        openedAt: r.opened_at,
        closedAt: r.closed_at,
        ltp,
        unrealizedPnl: ltp === null ? null : sign * r.qty * (ltp - r.entry_price),
        entryOrderId: r.entry_order_id,
        intentIds: r.intent_ids ? r.intent_ids.split(",") : [],
      }
    }

    const tradeQuery = (where: "open" | "closed") =>
      sql<TradeSql>`
        SELECT t.*, o.order_id AS entry_order_id,
          (SELECT GROUP_CONCAT(intent_id) FROM (SELECT i.intent_id FROM exit_intents i WHERE i.trade_id = t.trade_id
            OR i.intent_id IN (SELECT m.intent_id FROM exit_intent_members m WHERE m.trade_id = t.trade_id)
            ORDER BY i.created_at DESC)) AS intent_ids
        FROM trades t LEFT JOIN trade_openings o ON o.trade_id = t.trade_id
        WHERE ${where === "open" ? sql`t.status <> 'CLOSED'` : sql`t.status = 'CLOSED'`}
        ORDER BY ${where === "open" ? sql`t.opened_at DESC` : sql`t.closed_at DESC`}
        LIMIT ${where === "open" ? 1_000 : closedTradesMax}`

    const trades: Effect.Effect<TradesView> = Effect.gen(function* () {
      const open = (yield* tradeQuery("open")).map(tradeRow)
      const closed = (yield* tradeQuery("closed")).map(tradeRow)
      const dayStart = dayStartOf(yield* Clock.currentTimeMillis, riskConfig.utcOffsetMinutes)
      const today = yield* sql<TradeSql>`
        SELECT * FROM trades WHERE status <> 'CLOSED' OR closed_at >= ${dayStart}`
      const accounts = new Set([...brokers.all.keys(), ...today.map((t) => t.account_id)])
      const dayPnl = [...accounts].map((accountId): AccountDayPnl => {
        const mine = today.filter((t) => t.account_id === accountId)
        const pnl = tradesPnl(
          mine.map((t) => ({
            symbol: t.symbol,
            direction: t.direction,
            qty: t.qty,
            entryPrice: t.entry_price,
            status: t.status,
            realizedPnl: t.realized_pnl,
          })),
          (symbol) => hub.last(symbol)?.ltp,
        )
        const closedTrades = mine.filter((t) => t.status === "CLOSED").length
        return { accountId, ...pnl, openTrades: mine.length - closedTrades, closedTrades }
      })
      return { open, closed, dayPnl }
    }).pipe(Effect.orDie)

    const riskAccount = (accountId: string) =>
      Effect.gen(function* () {
        const report = yield* risk.report(accountId)
        const interventions = yield* risk.interventions({ accountId, limit: riskRecordsMax })
        const blocks = yield* risk.blocks({ accountId, limit: riskRecordsMax })
        return {
          accountId,
          state: report.standing.state,
          reason: report.standing.reason,
          forcedUnwind: report.standing.forcedUnwind,
          unwindReason: report.standing.unwindReason,
          maxDailyLoss: report.limits.maxDailyLoss,
          maxOpenPositions: report.limits.maxOpenPositions,
          pnl: report.pnl,
          positionsFrom: report.positionsFrom,
          openPositions: report.openPositions.filter((p) => p.product !== "CNC").length,
          workingOrders: report.working.length,
          interventions: interventions.map((i) => ({ kind: i.kind, action: i.action, detail: i.detail, at: i.at })),
          blocks: blocks.map((b) => ({
            kind: b.code,
            action: `${b.execution_type} ${b.side} ${b.qty} ${b.symbol}`,
            detail: b.reason,
            at: b.at,
          })),
        } satisfies RiskAccount
      })

    const riskView: Effect.Effect<RiskView> = Effect.gen(function* () {
      const status = yield* enforcer.status
      const accounts = yield* Effect.forEach(brokers.all.keys(), riskAccount, { concurrency: "unbounded" })
      return { enforcer: { ...status, intervalMs: riskConfig.enforceIntervalMs }, accounts }
    })

    const reconciliation: Effect.Effect<ReconciliationView> = Effect.gen(function* () {
      const open = yield* sql<IssueSql>`
        SELECT * FROM reconciliation_issues WHERE resolved_at IS NULL ORDER BY last_seen_at DESC LIMIT 200`
      const resolved = yield* sql<IssueSql>`
        SELECT * FROM reconciliation_issues WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC LIMIT 50`
      const external = yield* sql<Record<string, unknown>>`
        SELECT * FROM external_orders ORDER BY last_seen_at DESC LIMIT 100`
      return { open: open.map(issueOf), resolved: resolved.map(issueOf), external }
    }).pipe(Effect.orDie)

    const search = (query: string): ReadonlyArray<InstrumentHit> => {
      const all = instruments.all
      return searchInstruments(all, query).map((n) => {
        const i = all[n]!
        return {
          symbol: i.symbol,
          exchange: i.exchange,
          lotSize: i.lotSize,
          tickSize: i.tickSize,
          marketOrders: i.marketOrders,
          ltp: hub.last(i.symbol)?.ltp ?? null,
        }
      })
    }

    const meta = (tokenRequired: boolean): Effect.Effect<MetaView> =>
      Effect.gen(function* () {
        const stats = alerts._tag === "Some" ? yield* alerts.value.stats : null
        return { accounts: [...brokers.all.keys()], tokenRequired, alerts: stats }
      })

    return { trades, risk: riskView, reconciliation, search, meta }
  }),
}) {}

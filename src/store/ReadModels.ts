/**
 * Read models: how each actor type's snapshot becomes a row of its table (orders, trades,
 * exit_signals, exit_intents, accounts). Written in the same transaction as the snapshot, in the
 * order of `projectionTables` so that foreign keys (an intent's signal) are satisfied.
 */
import type { ActorType } from "../../machines/Machines.js"
import type { Cell } from "../runtime/Step.js"

/** A read-model table and how a cell becomes its row. */
export interface ProjectionTable {
  readonly name: string
  readonly key: string
  readonly columns: ReadonlyArray<string>
  /**
   * Columns written when the row is created and never again: they come from the actor's input,
   * which no transition changes. Leaving them out of the upsert's update spares SQLite the
   * rewrite of every index on them at each step (it updates only indexes on assigned columns).
   */
  readonly fixed: ReadonlyArray<string>
  /** Appends the cell's row to `into`, its values in the order of `columns`. */
  readonly toRow: (cell: Cell, into: Array<unknown>) => void
}

type Ctx = Record<string, unknown>
const contextOf = (cell: Cell): Ctx =>
  (cell.snapshot?.context as Ctx | undefined) ?? (JSON.parse(cell.json) as { context: Ctx }).context
/** The top-level state: `SENT_TO_BROKER.awaitingAck` → `SENT_TO_BROKER`. */
const statusOf = (cell: Cell): string => cell.stateKey.split(/[.|]/)[0] ?? cell.stateKey
const n = (v: unknown): number | null => (typeof v === "number" ? v : null)
const s = (v: unknown): string | null => (typeof v === "string" ? v : null)

const table = (
  name: string,
  key: string,
  columns: ReadonlyArray<string>,
  row: (c: Ctx, cell: Cell) => Record<string, unknown>,
  fixed: ReadonlyArray<string> = [],
): ProjectionTable => ({
  name,
  key,
  columns,
  fixed,
  toRow: (cell, into) => {
    const r = row(contextOf(cell), cell)
    for (const col of columns) into.push(r[col] ?? null)
  },
})

const accounts = table(
  "accounts",
  "account_id",
  ["account_id", "state", "forced_unwind", "reason", "updated_at"],
  (c, cell) => ({
    account_id: cell.id,
    state: cell.stateKey,
    forced_unwind: c.forcedUnwind ? 1 : 0,
    reason: s(c.unwindReason) ?? s(c.reason) ?? s(c.haltReason),
    updated_at: cell.updatedAt,
  }),
)

const trades = table(
  "trades",
  "trade_id",
  [
    "trade_id",
    "account_id",
    "symbol",
    "exchange",
    "product",
    "direction",
    "qty",
    "entry_price",
    "stop_loss",
    "target",
    "trailing",
    "trail_level",
    "episode",
    "status",
    "state",
    "exit_reason",
    "exit_price",
    "realized_pnl",
    "exited_qty",
    "excess_qty",
    "opened_at",
    "closed_at",
    "updated_at",
  ],
  (c, cell) => ({
    trade_id: cell.id,
    account_id: c.accountId,
    symbol: c.symbol,
    exchange: c.exchange,
    product: c.product,
    direction: c.direction,
    qty: c.qty,
    entry_price: c.entryPrice,
    stop_loss: n(c.stopLoss),
    target: n(c.target),
    trailing: c.trailing ? JSON.stringify(c.trailing) : null,
    trail_level: n(c.trailLevel),
    episode: n(c.episode) ?? 0,
    status: statusOf(cell),
    state: cell.stateKey,
    exit_reason: s(c.exitReason),
    exit_price: n(c.exitPrice),
    realized_pnl: n(c.realizedPnl),
    exited_qty: n(c.exitedQty) ?? 0,
    // trade@2: absent in trade@1 snapshots and until an exit goes beyond the trade.
    excess_qty: n(c.excessQty) ?? 0,
    opened_at: n(c.openedAt) ?? cell.createdAt,
    closed_at: n(c.closedAt),
    updated_at: cell.updatedAt,
  }),
  ["account_id", "symbol", "exchange", "product", "direction", "opened_at"],
)

const exitSignals = table(
  "exit_signals",
  "signal_id",
  [
    "signal_id",
    "trade_id",
    "account_id",
    "exit_reason",
    "episode_id",
    "detected_price",
    "status",
    "state",
    "detected_at",
    "published_at",
    "cooldown_until",
    "updated_at",
  ],
  (c, cell) => ({
    signal_id: cell.id,
    trade_id: c.tradeId,
    account_id: c.accountId,
    exit_reason: c.exitReason,
    episode_id: c.episodeId,
    detected_price: n(c.detectedPrice),
    status: statusOf(cell),
    state: cell.stateKey,
    detected_at: n(c.detectedAt) ?? cell.createdAt,
    published_at: n(c.publishedAt),
    cooldown_until: n(c.cooldownUntil),
    updated_at: cell.updatedAt,
  }),
  ["trade_id", "account_id", "exit_reason", "episode_id", "detected_price", "detected_at"],
)

const exitIntents = table(
  "exit_intents",
  "intent_id",
  [
    "intent_id",
    "signal_id",
    "trade_id",
    "user_broker_id",
    "symbol",
    "exit_reason",
    "episode_id",
    "side",
    "qty",
    "filled_qty",
    "avg_price",
    "status",
    "state",
    "reject_code",
    "error",
    "order_id",
    "created_at",
    "updated_at",
    "deleted_at",
  ],
  (c, cell) => ({
    intent_id: cell.id,
    signal_id: c.signalId,
    trade_id: c.tradeId,
    user_broker_id: c.accountId,
    symbol: c.symbol,
    exit_reason: c.exitReason,
    episode_id: c.episodeId,
    side: c.side,
    qty: c.qty,
    filled_qty: n(c.filledQty) ?? 0,
    avg_price: n(c.avgPrice) ?? n(c.avgExitPrice),
    status: statusOf(cell),
    state: cell.stateKey,
    reject_code: s(c.rejectCode),
    error: s(c.error) ?? s(c.rejectReason),
    order_id: s(c.orderId),
    created_at: n(c.createdAt) ?? cell.createdAt,
    updated_at: cell.updatedAt,
    deleted_at: null,
  }),
  ["signal_id", "trade_id", "user_broker_id", "symbol", "exit_reason", "episode_id", "side", "created_at"],
)

const orders = table(
  "orders",
  "order_id",
  [
    "order_id",
    "account_id",
    "symbol",
    "exchange",
    "side",
    "qty",
    "product",
    "order_type",
    "price",
    "trigger_price",
    "client_tag",
    "purpose",
    "parent_id",
    "broker_order_id",
    "status",
    "state",
    "filled_qty",
    "avg_price",
    "reason",
    "created_at",
    "updated_at",
  ],
  (c, cell) => ({
    order_id: cell.id,
    account_id: c.accountId,
    symbol: c.symbol,
    exchange: c.exchange,
    side: c.side,
    qty: c.qty,
    product: c.product,
    order_type: c.orderType,
    price: n(c.price),
    trigger_price: n(c.triggerPrice),
    client_tag: c.clientTag,
    purpose: c.purpose,
    parent_id: s(c.parentId),
    broker_order_id: s(c.brokerOrderId),
    status: statusOf(cell),
    state: cell.stateKey,
    filled_qty: n(c.filledQty) ?? 0,
    avg_price: n(c.avgPrice) ?? 0,
    reason: s(c.reason),
    created_at: n(c.createdAt) ?? cell.createdAt,
    updated_at: cell.updatedAt,
  }),
  ["account_id", "symbol", "exchange", "side", "product", "client_tag", "purpose", "parent_id", "created_at"],
)

/** The read-model tables in write order (a signal before its intents). */
export const projectionTables: ReadonlyArray<ProjectionTable> = [accounts, trades, exitSignals, exitIntents, orders]

const byType: Partial<Record<ActorType | string, ProjectionTable>> = {
  account: accounts,
  trade: trades,
  exitSignal: exitSignals,
  exitIntent: exitIntents,
  order: orders,
}

/** The read-model table an actor type projects into, if any. */
export const projectionOf = (type: ActorType): ProjectionTable | undefined => byType[type]

/**
 * The members of a position's exit intent (migrations/0012), one row each: [trade_id, intent_id,
 * qty]. Empty for every other cell, and for an intent of one trade (exit_intents.trade_id has it).
 * Members are fixed when the intent is created, so they are written by the commit that creates it
 * (where the cell's `updatedAt` is its `createdAt`, the group's time), not again at every step.
 */
export const memberRowsOf = (cell: Cell): ReadonlyArray<readonly [string, string, number]> => {
  if (cell.type !== "exitIntent" || cell.updatedAt !== cell.createdAt) return []
  const members = contextOf(cell).members as ReadonlyArray<{ tradeId: string; qty: number }> | undefined
  return members ? members.map((m) => [m.tradeId, cell.id, m.qty] as const) : []
}

/**
 * The paper broker's SQL (migrations/0003_create_paper_broker.sql): one account's books loaded
 * at start, and each operation's changes written in one transaction before they are committed
 * to memory: loaded through the generic `SqlClient`, written synchronously on the connection.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type Sqlite from "better-sqlite3"
import { Effect, Option } from "effect"
import type { OrderType, Product, Side } from "../domain/Trading.js"
import type { BrokerHolding, BrokerOrderStatus, BrokerTrade } from "./Broker.js"
import type { SqliteConnection } from "../store/SqliteConnection.js"
import type { Draft, PaperOrder } from "./PaperBook.js"
import type { PaperPosition } from "./PaperLedger.js"

/** One account's books as stored. */
export interface StoredBooks {
  readonly capital: number
  readonly cash: number
  readonly orders: ReadonlyArray<PaperOrder>
  readonly fills: ReadonlyArray<BrokerTrade>
  readonly positions: ReadonlyArray<PaperPosition>
  readonly holdings: ReadonlyArray<BrokerHolding>
}

interface OrderRow {
  readonly broker_order_id: string
  readonly account_id: string
  readonly seq: number
  readonly client_tag: string
  readonly symbol: string
  readonly exchange: string
  readonly side: Side
  readonly qty: number
  readonly product: Product
  readonly order_type: OrderType
  readonly price: number | null
  readonly trigger_price: number | null
  readonly status: BrokerOrderStatus
  readonly filled_qty: number
  readonly avg_price: number
  readonly reason: string | null
  readonly triggered: number
  readonly pieces: string
  readonly fill_count: number
  readonly margin: number
  readonly placed_at: number
  readonly updated_at: number
}

const orderOf = (r: OrderRow): PaperOrder => ({
  brokerOrderId: r.broker_order_id,
  clientTag: r.client_tag,
  accountId: r.account_id,
  symbol: r.symbol,
  exchange: r.exchange,
  side: r.side,
  qty: r.qty,
  product: r.product,
  orderType: r.order_type,
  price: r.price,
  triggerPrice: r.trigger_price,
  status: r.status,
  filledQty: r.filled_qty,
  avgPrice: r.avg_price,
  reason: r.reason,
  placedAt: r.placed_at,
  updatedAt: r.updated_at,
  seq: r.seq,
  triggered: r.triggered === 1,
  pieces: JSON.parse(r.pieces) as Array<number>,
  fillCount: r.fill_count,
  margin: r.margin,
})

const rowOf = (o: PaperOrder): OrderRow => ({
  broker_order_id: o.brokerOrderId,
  account_id: o.accountId,
  seq: o.seq,
  client_tag: o.clientTag,
  symbol: o.symbol,
  exchange: o.exchange,
  side: o.side,
  qty: o.qty,
  product: o.product,
  order_type: o.orderType,
  price: o.price,
  trigger_price: o.triggerPrice,
  status: o.status,
  filled_qty: o.filledQty,
  avg_price: o.avgPrice,
  reason: o.reason,
  triggered: o.triggered ? 1 : 0,
  pieces: JSON.stringify(o.pieces),
  fill_count: o.fillCount,
  margin: o.margin,
  placed_at: o.placedAt,
  updated_at: o.updatedAt,
})

const orderColumns: ReadonlyArray<keyof OrderRow> = [
  "broker_order_id",
  "account_id",
  "seq",
  "client_tag",
  "symbol",
  "exchange",
  "side",
  "qty",
  "product",
  "order_type",
  "price",
  "trigger_price",
  "status",
  "filled_qty",
  "avg_price",
  "reason",
  "triggered",
  "pieces",
  "fill_count",
  "margin",
  "placed_at",
  "updated_at",
]
const orderUpsertSql = `INSERT INTO paper_orders (${orderColumns.join(", ")})
  VALUES (${orderColumns.map(() => "?").join(", ")})
  ON CONFLICT (broker_order_id) DO UPDATE SET ${orderColumns
    .filter((c) => c !== "broker_order_id" && c !== "account_id" && c !== "seq" && c !== "placed_at")
    .map((c) => `${c} = excluded.${c}`)
    .join(", ")}`

const holdingUpsertSql = `INSERT INTO paper_holdings (account_id, symbol, exchange, qty, avg_price, updated_at)
  VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (account_id, symbol, exchange)
  DO UPDATE SET qty = excluded.qty, avg_price = excluded.avg_price, updated_at = excluded.updated_at`
const holdingDeleteSql = "DELETE FROM paper_holdings WHERE account_id = ? AND symbol = ? AND exchange = ?"
const fillInsertSql = `INSERT INTO paper_fills (fill_id, broker_order_id, account_id, client_tag, symbol, exchange, side,
  product, qty, price, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
const positionUpsertSql = `INSERT INTO paper_positions (account_id, symbol, exchange, product, net_qty, buy_qty, buy_value,
  sell_qty, sell_value, avg_open, realized_pnl, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (account_id, symbol, exchange, product) DO UPDATE SET
    net_qty = excluded.net_qty, buy_qty = excluded.buy_qty, buy_value = excluded.buy_value,
    sell_qty = excluded.sell_qty, sell_value = excluded.sell_value, avg_open = excluded.avg_open,
    realized_pnl = excluded.realized_pnl, updated_at = excluded.updated_at`
const cashUpdateSql = "UPDATE paper_funds SET cash = ?, updated_at = ? WHERE account_id = ?"

/** One operation's changes, ready to write. */
export interface PaperWrite {
  readonly at: number
  readonly orders: ReadonlyArray<ReadonlyArray<never>>
  readonly fills: ReadonlyArray<BrokerTrade>
  readonly positions: ReadonlyArray<PaperPosition>
  readonly holdings: ReadonlyArray<BrokerHolding>
  /** The account's new cash, when it changed. */
  readonly cash: number | null
}

/** The SQL of one paper account. */
export const makePaperStore = (sql: SqlClient.SqlClient, conn: SqliteConnection["Type"], accountId: string) => {
  /** The account's books, or None for an account never opened. */
  const load: Effect.Effect<Option.Option<StoredBooks>, SqlError> = Effect.gen(function* () {
    const funds = yield* sql<{ capital: number; cash: number }>`
      SELECT capital, cash FROM paper_funds WHERE account_id = ${accountId}`
    const head = funds[0]
    if (head === undefined) return Option.none()
    const orders = yield* sql<OrderRow>`SELECT * FROM paper_orders WHERE account_id = ${accountId} ORDER BY seq`
    const fills = yield* sql<BrokerTrade>`
      SELECT fill_id AS "fillId", broker_order_id AS "brokerOrderId", client_tag AS "clientTag", symbol, exchange,
             side, product, qty, price, at
      FROM paper_fills WHERE account_id = ${accountId} ORDER BY rowid`
    const positions = yield* sql<PaperPosition>`
      SELECT symbol, exchange, product, net_qty AS "netQty", buy_qty AS "buyQty", buy_value AS "buyValue",
             sell_qty AS "sellQty", sell_value AS "sellValue", avg_open AS "avgOpen", realized_pnl AS "realizedPnl"
      FROM paper_positions WHERE account_id = ${accountId} ORDER BY rowid`
    const holdings = yield* sql<BrokerHolding>`
      SELECT symbol, exchange, qty, avg_price AS "avgPrice"
      FROM paper_holdings WHERE account_id = ${accountId} ORDER BY rowid`
    return Option.some({
      capital: head.capital,
      cash: head.cash,
      orders: orders.map(orderOf),
      fills,
      positions,
      holdings,
    })
  })

  /** Opens the account with its capital and initial holdings. */
  const create = (capital: number, holdings: ReadonlyArray<BrokerHolding>, at: number) =>
    conn.use((db) =>
      db.transaction(() => {
        run(db, "INSERT INTO paper_funds (account_id, capital, cash, updated_at) VALUES (?, ?, ?, ?)", [
          accountId,
          capital,
          capital,
          at,
        ])
        for (const h of holdings) writeHolding(db, h, at)
      })(),
    )

  // The writes of an operation run synchronously on the connection (`SqliteConnection.use`), their
  // statements prepared once: an exit storm places a thousand orders, and each one's rows through
  // the general client cost a fiber's worth of work per statement, while holding the connection.
  const statements = new Map<string, Sqlite.Statement>()
  const run = (db: Sqlite.Database, text: string, params: ReadonlyArray<unknown>) => {
    let statement = statements.get(text)
    if (!statement) {
      statement = db.prepare(text)
      statements.set(text, statement)
    }
    statement.run(...params)
  }

  const writeHolding = (db: Sqlite.Database, h: BrokerHolding, at: number) =>
    h.qty > 0
      ? run(db, holdingUpsertSql, [accountId, h.symbol, h.exchange, h.qty, h.avgPrice, at])
      : run(db, holdingDeleteSql, [accountId, h.symbol, h.exchange])

  const writeOne = (db: Sqlite.Database, w: PaperWrite) => {
    for (const row of w.orders) run(db, orderUpsertSql, row)
    for (const f of w.fills)
      run(db, fillInsertSql, [
        f.fillId,
        f.brokerOrderId,
        accountId,
        f.clientTag,
        f.symbol,
        f.exchange,
        f.side,
        f.product,
        f.qty,
        f.price,
        f.at,
      ])
    for (const p of w.positions)
      run(db, positionUpsertSql, [
        accountId,
        p.symbol,
        p.exchange,
        p.product,
        p.netQty,
        p.buyQty,
        p.buyValue,
        p.sellQty,
        p.sellValue,
        p.avgOpen,
        p.realizedPnl,
        w.at,
      ])
    for (const h of w.holdings) writeHolding(db, h, w.at)
    if (w.cash !== null) run(db, cashUpdateSql, [w.cash, w.at, accountId])
  }
  let transaction: ((writes: ReadonlyArray<PaperWrite>) => void) | undefined

  /** One operation's changes as rows, taken before the draft is committed to memory. */
  const prepare = (draft: Draft, at: number): PaperWrite => ({
    at,
    orders: [...draft.orders.values()].map((o) => {
      const row = rowOf(o)
      return orderColumns.map((c) => row[c]) as Array<never>
    }),
    fills: [...draft.fills],
    positions: [...draft.positions.values()],
    holdings: [...draft.holdings.values()],
    cash: draft.cash !== draft.base.cash ? draft.cash : null,
  })

  /** Writes several operations' changes, in order, in one transaction (one sync to disk). */
  const writeAll = (writes: ReadonlyArray<PaperWrite>): Effect.Effect<void, SqlError> =>
    conn.use((db) => {
      transaction ??= db.transaction((ws: ReadonlyArray<PaperWrite>) => {
        for (const w of ws) writeOne(db, w)
      })
      transaction(writes)
    })

  return { load, create, prepare, writeAll }
}

/** The SQL of one paper account. */
export type PaperStore = ReturnType<typeof makePaperStore>

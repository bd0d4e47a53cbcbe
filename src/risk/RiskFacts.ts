/**
 * What a risk decision is made from: one account's standing, positions, working orders, funds and
 * day P&L, gathered by the risk manager and judged by pure rules (`RiskRules`, `ExecutionGuard`).
 * Also the vocabulary of a block: a code, named as a fact, and a detail for people.
 */
import type { BrokerFunds } from "../broker/Broker.js"
import type { OrderPurpose, Product, Side } from "../domain/Trading.js"

/** The Account actor's trading state. */
export type TradingState = "ACTIVE" | "REDUCING" | "HALTED"

/** An account's standing, as its Account actor holds it (ACTIVE, no unwind, when it has none yet). */
export interface Standing {
  readonly state: TradingState
  readonly reason: string | null
  readonly forcedUnwind: boolean
  readonly unwindReason: string | null
}

/** The standing of an account whose actor does not exist yet. */
export const activeStanding: Standing = { state: "ACTIVE", reason: null, forcedUnwind: false, unwindReason: null }

/** One position (symbol, exchange, product) of the account. */
export interface PositionRow {
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  /** Positive long, negative short. */
  readonly netQty: number
  /** The price the position is valued at: the tick hub's last, else the broker's. */
  readonly ltp: number
}

/** An order still working (CREATED, SENT_TO_BROKER, PARTIAL), with its unfilled quantity. */
export interface WorkingOrder {
  readonly orderId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly side: Side
  readonly remainingQty: number
  readonly purpose: OrderPurpose
}

/** The account's P&L of the day, in rupees. */
export interface DayPnl {
  readonly realized: number
  readonly unrealized: number
  /** What the limit is judged on: the worse of the engine's trades and the broker's book. */
  readonly total: number
}

/** Everything a decision about one account needs. */
export interface AccountFacts {
  readonly standing: Standing
  readonly positions: ReadonlyArray<PositionRow>
  /** Where the positions came from: the broker's book, or the engine's fills when the broker did not answer. */
  readonly positionsFrom: "broker" | "engine"
  /** Null when the broker did not answer. */
  readonly funds: BrokerFunds | null
  readonly working: ReadonlyArray<WorkingOrder>
  readonly pnl: DayPnl
  /** The last price of the command's symbol, when known. */
  readonly ltp: number | null
}

/** Why a command is refused: a code named as a fact. */
export type BlockCode =
  | "FORCED_UNWIND"
  | "HALTED"
  | "REDUCING"
  | "DAILY_LOSS"
  | "OPPOSITE_WORKING"
  | "MAX_OPEN_POSITIONS"
  | "MAX_QTY"
  | "MAX_NOTIONAL"
  | "PRICE_UNKNOWN"
  | "PRICE_BAND"
  | "FUNDS_UNAVAILABLE"
  | "MARGIN"
  | "CAPITAL_RESERVE"
  | "CNC"
  | "NO_POSITION"
  | "EXIT_SIDE"
  | "EXIT_QTY"

/** A refusal: its code and a detail for people. */
export interface Block {
  readonly code: BlockCode
  readonly detail: string
}

/** A block as the order's reason reads: `CODE: detail`. */
export const reasonOf = (b: Block): string => `${b.code}: ${b.detail}`

/** The key of a position or order: symbol, exchange and product. */
export const keyOf = (r: { symbol: string; exchange: string; product: Product }): string =>
  `${r.exchange}|${r.symbol}|${r.product}`

/** +qty for a buy, -qty for a sell. */
export const signed = (side: Side, qty: number): number => (side === "BUY" ? qty : -qty)

/** The net quantity of one position key. */
export const netOf = (positions: ReadonlyArray<PositionRow>, key: string): number =>
  positions.reduce((n, p) => (keyOf(p) === key ? n + p.netQty : n), 0)

/** The working orders of one position key. */
export const workingOn = (working: ReadonlyArray<WorkingOrder>, key: string): ReadonlyArray<WorkingOrder> =>
  working.filter((o) => keyOf(o) === key)

/** The unfilled quantity working on one side. */
export const qtyWorking = (orders: ReadonlyArray<WorkingOrder>, side: Side): number =>
  orders.reduce((n, o) => (o.side === side ? n + o.remainingQty : n), 0)

/** The MIS/NRML positions that are not flat (CNC is delivery: never counted, never exited). */
export const openPositions = (positions: ReadonlyArray<PositionRow>): ReadonlyArray<PositionRow> =>
  positions.filter((p) => p.product !== "CNC" && p.netQty !== 0)

/** A position's notional at its price. */
export const notionalOf = (p: PositionRow): number => Math.abs(p.netQty) * p.ltp

/** Rounded to the paisa, for messages. */
export const rupees = (n: number): string => (Math.round(n * 100) / 100).toString()

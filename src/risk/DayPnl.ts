/**
 * The day's P&L of one account, pure, from two sources that should agree: the engine's trades
 * (realised of the trades closed today, plus the unrealised of the open ones at the tick hub's
 * last price) and the broker's position book (realised plus unrealised, revalued at the tick hub's
 * last price). The loss limit is judged on the worse of the two: a position the engine holds no
 * trade for (placed outside the engine, or by a plain order) still counts, and a broker that does
 * not answer still leaves the engine's figure.
 */
import type { BrokerPosition } from "../broker/Broker.js"
import type { DayPnl } from "./RiskFacts.js"

/** A trade row of the day: closed today, or still open. */
export interface DayTrade {
  readonly symbol: string
  readonly direction: "LONG" | "SHORT"
  readonly qty: number
  readonly entryPrice: number
  readonly status: string
  /** Realised so far (the whole trade's once CLOSED). */
  readonly realizedPnl: number | null
}

/** The last price of a symbol, when known. */
export type LastPrice = (symbol: string) => number | undefined

/** The engine's figure: realised of today's trades, unrealised of the open ones at the last price. */
export const tradesPnl = (trades: ReadonlyArray<DayTrade>, last: LastPrice): DayPnl => {
  let realized = 0
  let unrealized = 0
  for (const t of trades) {
    realized += t.realizedPnl ?? 0
    if (t.status === "CLOSED") continue
    const ltp = last(t.symbol)
    if (ltp !== undefined) unrealized += (t.direction === "LONG" ? 1 : -1) * t.qty * (ltp - t.entryPrice)
  }
  return { realized, unrealized, total: realized + unrealized }
}

/** The broker's figure: every MIS/NRML row's realised plus unrealised, revalued at the last price. */
export const bookPnl = (positions: ReadonlyArray<BrokerPosition>, last: LastPrice): DayPnl => {
  let realized = 0
  let unrealized = 0
  for (const p of positions) {
    if (p.product === "CNC") continue
    realized += p.realizedPnl
    const ltp = last(p.symbol)
    unrealized += p.unrealizedPnl + (ltp === undefined ? 0 : p.netQty * (ltp - p.ltp))
  }
  return { realized, unrealized, total: realized + unrealized }
}

/** The day's P&L: the worse of the engine's and the broker's figures (the engine's alone without a book). */
export const dayPnl = (
  trades: ReadonlyArray<DayTrade>,
  positions: ReadonlyArray<BrokerPosition> | null,
  last: LastPrice,
): DayPnl => {
  const engine = tradesPnl(trades, last)
  if (positions === null) return engine
  const book = bookPnl(positions, last)
  return book.total < engine.total ? book : engine
}

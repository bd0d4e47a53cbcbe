/**
 * The paper broker's money: the position book (average-cost accounting, realised P&L per
 * position from its fills), the delivery holdings, cash, and margin. Pure.
 *
 * Margin, kept simple: MIS blocks 20 % of the notional, NRML 100 %, CNC 100 % of the buy value.
 * An order blocks margin only for the part that opens or grows a position (an exit of an open
 * position blocks nothing); a CNC sell blocks nothing but needs the holdings. Cash moves with the
 * realised P&L of MIS/NRML fills, and with the whole value of CNC fills (delivery settles in
 * cash for stock). `total` is cash, `usedMargin` what working orders and open MIS/NRML positions
 * block, `available` the rest.
 */
import type { Product, Side } from "../domain/Trading.js"
import type { BrokerFunds, BrokerHolding, BrokerPosition, BrokerTrade } from "./Broker.js"
import type { BookState, Draft, PaperOrder } from "./PaperBook.js"

/** One position book row, with what average-cost accounting needs. */
export interface PaperPosition {
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly netQty: number
  readonly buyQty: number
  readonly buyValue: number
  readonly sellQty: number
  readonly sellValue: number
  /** Average price of the open net quantity (0 when flat; unused for CNC, whose cost is the holding's). */
  readonly avgOpen: number
  readonly realizedPnl: number
}

/** The share of the notional each product blocks. */
export const marginRates: Readonly<Record<Product, number>> = { MIS: 0.2, NRML: 1, CNC: 1 }

/** The position book key. */
export const positionKey = (symbol: string, exchange: string, product: Product): string =>
  `${exchange}|${symbol}|${product}`

/** The holdings key. */
export const holdingKey = (symbol: string, exchange: string): string => `${exchange}|${symbol}`

const money = (n: number): number => Math.round(n * 1e6) / 1e6

const emptyPosition = (t: Pick<BrokerTrade, "symbol" | "exchange" | "product">): PaperPosition => ({
  symbol: t.symbol,
  exchange: t.exchange,
  product: t.product,
  netQty: 0,
  buyQty: 0,
  buyValue: 0,
  sellQty: 0,
  sellValue: 0,
  avgOpen: 0,
  realizedPnl: 0,
})

/** A fill applied to an average-cost position: the new row and the P&L it realised. */
export const netFill = (p: PaperPosition, side: Side, qty: number, price: number) => {
  const sign = side === "BUY" ? 1 : -1
  const closing = p.netQty * sign < 0 ? Math.min(qty, Math.abs(p.netQty)) : 0
  const realized = closing * (price - p.avgOpen) * -sign
  const opening = qty - closing
  const netQty = p.netQty + sign * qty
  const avgOpen =
    netQty === 0
      ? 0
      : opening === 0
        ? p.avgOpen
        : closing > 0
          ? price
          : (p.avgOpen * Math.abs(p.netQty) + price * opening) / Math.abs(netQty)
  const traded =
    side === "BUY"
      ? { buyQty: p.buyQty + qty, buyValue: money(p.buyValue + qty * price) }
      : { sellQty: p.sellQty + qty, sellValue: money(p.sellValue + qty * price) }
  const row: PaperPosition = {
    ...p,
    ...traded,
    netQty,
    avgOpen: money(avgOpen),
    realizedPnl: money(p.realizedPnl + realized),
  }
  return { row, realized: money(realized) }
}

/** A delivery (CNC) fill: moves the holding and settles the whole value in cash. */
const deliveryFill = (draft: Draft, t: BrokerTrade, p: PaperPosition): PaperPosition => {
  const key = holdingKey(t.symbol, t.exchange)
  const h = draft.holding(key) ?? { symbol: t.symbol, exchange: t.exchange, qty: 0, avgPrice: 0 }
  const value = t.qty * t.price
  if (t.side === "BUY") {
    const qty = h.qty + t.qty
    draft.holdings.set(key, { ...h, qty, avgPrice: money((h.avgPrice * h.qty + value) / qty) })
    draft.cash = money(draft.cash - value)
    return { ...p, netQty: p.netQty + t.qty, buyQty: p.buyQty + t.qty, buyValue: money(p.buyValue + value) }
  }
  draft.holdings.set(key, { ...h, qty: h.qty - t.qty })
  draft.cash = money(draft.cash + value)
  return {
    ...p,
    netQty: p.netQty - t.qty,
    sellQty: p.sellQty + t.qty,
    sellValue: money(p.sellValue + value),
    realizedPnl: money(p.realizedPnl + (t.price - h.avgPrice) * t.qty),
  }
}

/** Applies a fill to the position book, the holdings (CNC) and cash. */
export const applyFill = (draft: Draft, t: BrokerTrade): void => {
  const key = positionKey(t.symbol, t.exchange, t.product)
  const p = draft.position(key) ?? emptyPosition(t)
  if (t.product === "CNC") {
    draft.positions.set(key, deliveryFill(draft, t, p))
    return
  }
  const { row, realized } = netFill(p, t.side, t.qty, t.price)
  draft.positions.set(key, row)
  draft.cash = money(draft.cash + realized)
}

/** The part of an order of `qty` that opens or grows the position `netQty`. */
export const openingQty = (netQty: number, side: Side, qty: number): number => {
  const closable = side === "BUY" ? Math.max(0, -netQty) : Math.max(0, netQty)
  return Math.max(0, qty - closable)
}

/** Margin an order blocks for its full quantity, priced at `refPrice`. */
export const orderMargin = (
  o: Pick<PaperOrder, "side" | "product" | "qty" | "symbol" | "exchange">,
  refPrice: number,
  netQty: number,
): number => {
  if (o.product === "CNC") return o.side === "BUY" ? money(o.qty * refPrice) : 0
  return money(marginRates[o.product] * openingQty(netQty, o.side, o.qty) * refPrice)
}

/** The margin an order still blocks: its share for the unfilled quantity. */
export const remainingMargin = (o: PaperOrder): number => (o.margin * (o.qty - o.filledQty)) / o.qty

/** The margin an open MIS/NRML position blocks. */
export const positionMargin = (p: PaperPosition): number =>
  p.product === "CNC" ? 0 : marginRates[p.product] * Math.abs(p.netQty) * p.avgOpen

/** Margin blocked by working orders (except `excluding`) and open positions. */
export const usedMargin = (draft: Draft, excluding?: string): number => {
  let used = 0
  draft.forEachWorkingOrder((o) => {
    if (o.brokerOrderId !== excluding) used += remainingMargin(o)
  })
  draft.forEachPosition((p) => {
    used += positionMargin(p)
  })
  return money(used)
}

/** The account's funds as the port reports them. */
export const fundsOf = (draft: Draft): BrokerFunds => {
  const used = usedMargin(draft)
  return { available: money(draft.cash - used), usedMargin: used, total: draft.cash }
}

/** A position row as the port reports it, valued at the last price. */
export const positionView = (p: PaperPosition, state: BookState): BrokerPosition => {
  const ltp = state.ltp.get(p.symbol) ?? (p.netQty !== 0 ? p.avgOpen : 0)
  return {
    symbol: p.symbol,
    exchange: p.exchange,
    product: p.product,
    netQty: p.netQty,
    buyQty: p.buyQty,
    sellQty: p.sellQty,
    buyAvg: p.buyQty > 0 ? money(p.buyValue / p.buyQty) : 0,
    sellAvg: p.sellQty > 0 ? money(p.sellValue / p.sellQty) : 0,
    realizedPnl: p.realizedPnl,
    unrealizedPnl: p.product === "CNC" ? 0 : money((ltp - p.avgOpen) * p.netQty),
    ltp,
  }
}

/** Holdings as the port reports them. */
export const holdingsView = (state: BookState): ReadonlyArray<BrokerHolding> => [...state.holdings.values()]

/**
 * What the paper broker refuses, and in whose words. An `Invalid` request does not fit the port
 * (it never reaches the book); a refusal is the broker's or exchange's reject of a well-formed
 * order (it is booked as REJECTED with the reason, as real brokers do). Pure.
 */
import { Either } from "effect"
import type { OrderType, Product, Side } from "../domain/Trading.js"
import type { Instrument } from "../orders/Instruments.js"
import { checkLot, checkPrice } from "../orders/OrderShaping.js"
import type { PlaceRequest } from "./Broker.js"
import type { Draft } from "./PaperBook.js"
import { holdingKey, orderMargin, positionKey, usedMargin } from "./PaperLedger.js"

/** A request that does not fit the port: the field and what is wrong. */
export interface Invalid {
  readonly field: string
  readonly message: string
}

/** The order terms the rules look at. */
export type Terms = Pick<
  PlaceRequest,
  "symbol" | "exchange" | "side" | "qty" | "product" | "orderType" | "price" | "triggerPrice"
>

const sides: ReadonlyArray<Side> = ["BUY", "SELL"]
const products: ReadonlyArray<Product> = ["MIS", "NRML", "CNC"]
const orderTypes: ReadonlyArray<OrderType> = ["MARKET", "LIMIT", "SL", "SL-M"]

const positive = (n: number | null): boolean => n !== null && Number.isFinite(n) && n > 0

/** Why the terms do not fit the port, or null. */
export const invalidTerms = (t: Terms): Invalid | null => {
  if (!t.symbol) return { field: "symbol", message: "symbol is required" }
  if (!t.exchange) return { field: "exchange", message: "exchange is required" }
  if (!sides.includes(t.side)) return { field: "side", message: `side must be BUY or SELL, not ${t.side}` }
  if (!products.includes(t.product)) return { field: "product", message: `unknown product ${t.product}` }
  if (!orderTypes.includes(t.orderType)) return { field: "orderType", message: `unknown order type ${t.orderType}` }
  if (!Number.isInteger(t.qty) || t.qty <= 0)
    return { field: "qty", message: `${t.qty} is not a positive whole quantity` }
  const needsPrice = t.orderType === "LIMIT" || t.orderType === "SL"
  if (needsPrice && !positive(t.price)) return { field: "price", message: `${t.orderType} needs a positive price` }
  const needsTrigger = t.orderType === "SL" || t.orderType === "SL-M"
  if (needsTrigger && !positive(t.triggerPrice)) {
    return { field: "triggerPrice", message: `${t.orderType} needs a positive trigger price` }
  }
  return null
}

/** What the rules need to know besides the terms. */
export interface RuleContext {
  readonly instrument: Instrument
  readonly marketOpen: boolean
  readonly ltp: number | null
  /** The order being modified: its own margin and holdings claim do not count against it. */
  readonly replacing?: string
}

const instrumentRefusal = (t: Terms, i: Instrument): string | null => {
  if ((t.orderType === "MARKET" || t.orderType === "SL-M") && !i.marketOrders) {
    return `${t.orderType} orders are not allowed for ${t.symbol}; send a limit`
  }
  const lot = checkLot(t.qty, i.lotSize)
  if (Either.isLeft(lot)) return `quantity ${lot.left.message}`
  if (i.freezeQty !== null && t.qty >= i.freezeQty)
    return `quantity ${t.qty} is at or above the freeze quantity ${i.freezeQty}`
  for (const field of ["price", "triggerPrice"] as const) {
    const value = t[field]
    if (value === null || (field === "price" && (t.orderType === "MARKET" || t.orderType === "SL-M"))) continue
    if (field === "triggerPrice" && (t.orderType === "MARKET" || t.orderType === "LIMIT")) continue
    const ok = checkPrice(value, i.tickSize, field)
    if (Either.isLeft(ok)) return `${field === "price" ? "price" : "trigger price"} ${ok.left.message}`
  }
  if (t.orderType === "SL") {
    const [price, trigger] = [t.price!, t.triggerPrice!]
    if (t.side === "BUY" && price < trigger) return `limit price ${price} is below the trigger ${trigger} of a BUY stop`
    if (t.side === "SELL" && price > trigger)
      return `limit price ${price} is above the trigger ${trigger} of a SELL stop`
  }
  return null
}

/** The price an order's margin is reckoned at, or null when there is none (a MARKET with no last price). */
export const referencePrice = (t: Terms, ltp: number | null): number | null =>
  t.orderType === "MARKET" ? ltp : t.orderType === "SL-M" ? t.triggerPrice : t.price

const holdingsRefusal = (draft: Draft, t: Terms, replacing?: string): string | null => {
  if (t.product !== "CNC" || t.side !== "SELL") return null
  const held = draft.holding(holdingKey(t.symbol, t.exchange))?.qty ?? 0
  const claimed = draft
    .workingOrders()
    .filter((o) => o.brokerOrderId !== replacing && o.product === "CNC" && o.side === "SELL" && o.symbol === t.symbol)
    .reduce((n, o) => n + o.qty - o.filledQty, 0)
  return t.qty > held - claimed
    ? `insufficient holdings: ${held - claimed} of ${t.symbol} free to sell, ${t.qty} asked`
    : null
}

/** The margin the terms would block, against the position they trade. */
export const marginFor = (draft: Draft, t: Terms, refPrice: number): number => {
  const netQty = draft.position(positionKey(t.symbol, t.exchange, t.product))?.netQty ?? 0
  return orderMargin(t, refPrice, netQty)
}

const fundsRefusal = (draft: Draft, t: Terms, refPrice: number, replacing?: string): string | null => {
  const required = marginFor(draft, t, refPrice)
  const filled = replacing ? (draft.order(replacing)?.filledQty ?? 0) : 0
  const stillNeeded = filled > 0 ? (required * (t.qty - filled)) / t.qty : required
  const available = draft.cash - usedMargin(draft, replacing)
  return stillNeeded > available + 1e-6
    ? `insufficient funds: margin required ${stillNeeded.toFixed(2)}, available ${available.toFixed(2)}`
    : null
}

/** The broker's reason to reject a well-formed order, or null when it is accepted. */
export const refusalOf = (draft: Draft, t: Terms, ctx: RuleContext): string | null => {
  if (!ctx.marketOpen) return `market closed for ${t.exchange}`
  const byInstrument = instrumentRefusal(t, ctx.instrument)
  if (byInstrument !== null) return byInstrument
  const refPrice = referencePrice(t, ctx.ltp)
  if (refPrice === null) return `no market price for ${t.symbol} yet`
  return holdingsRefusal(draft, t, ctx.replacing) ?? fundsRefusal(draft, t, refPrice, ctx.replacing)
}

/**
 * The paper broker's book and matching, pure: no clock, no randomness, no I/O. Every operation
 * works on a `Draft` over the committed `BookState`; the caller persists the draft's changes,
 * then commits them to memory and publishes the draft's updates ("persist first, then emit").
 *
 * Matching: a MARKET order (or a triggered SL-M) fills at the price it meets; a LIMIT (or a
 * triggered SL) fills at that price when it is marketable on arrival or at its trigger, and at
 * its own limit when it rested and the market came through it. Liquidity is unlimited, but an
 * order planned to fill in parts fills one part per price it meets.
 */
import type { Side } from "../domain/Trading.js"
import type { Instrument } from "../orders/Instruments.js"
import {
  type BrokerHolding,
  type BrokerOrder,
  type BrokerTrade,
  isWorking,
  type ModifyRequest,
  type OrderUpdate,
  type PlaceRequest,
} from "./Broker.js"
import { applyFill, type PaperPosition } from "./PaperLedger.js"
import { invalidTerms, marginFor, referencePrice, refusalOf, type Terms } from "./PaperRules.js"

/** A paper order: the port's order plus what the simulation needs to carry it on. */
export interface PaperOrder extends BrokerOrder {
  readonly seq: number
  /** A stop whose trigger was hit: it now works as its limit (SL) or as a market order (SL-M). */
  readonly triggered: boolean
  /** Planned sizes of the next fills; empty means whatever remains fills at once. */
  readonly pieces: ReadonlyArray<number>
  readonly fillCount: number
  /** Margin blocked for the full quantity on the order's terms. */
  readonly margin: number
}

/** One paper account's committed state, in memory. */
export interface BookState {
  readonly accountId: string
  readonly idPrefix: string
  readonly capital: number
  cash: number
  nextSeq: number
  /** Every order, in placement order. */
  readonly orders: Map<string, PaperOrder>
  /** Ids of the orders that can still fill. */
  readonly working: Set<string>
  readonly fills: Array<BrokerTrade>
  readonly positions: Map<string, PaperPosition>
  readonly holdings: Map<string, BrokerHolding>
  /** Last traded price per symbol: from the tick feed, and at start from the last fills. */
  readonly ltp: Map<string, number>
}

/** The changes of one operation over the committed state, and the updates it produced. */
export class Draft {
  readonly orders = new Map<string, PaperOrder>()
  readonly fills: Array<BrokerTrade> = []
  readonly positions = new Map<string, PaperPosition>()
  readonly holdings = new Map<string, BrokerHolding>()
  readonly updates: Array<OrderUpdate> = []
  cash: number
  nextSeq: number

  constructor(readonly base: BookState) {
    this.cash = base.cash
    this.nextSeq = base.nextSeq
  }

  /** The order as this draft sees it. */
  order(id: string): PaperOrder | undefined {
    return this.orders.get(id) ?? this.base.orders.get(id)
  }

  /** Replaces (or adds) an order. */
  putOrder(order: PaperOrder): void {
    this.orders.set(order.brokerOrderId, order)
  }

  /** Every working order as this draft sees it. */
  workingOrders(): Array<PaperOrder> {
    const ids = new Set(this.base.working)
    for (const [id, o] of this.orders) isWorking(o.status) ? ids.add(id) : ids.delete(id)
    return [...ids].map((id) => this.order(id)!)
  }

  /**
   * Calls `f` with every working order as this draft sees it, in `workingOrders`' order, building
   * nothing: the funds check of every order placed runs it over the whole book.
   */
  forEachWorkingOrder(f: (o: PaperOrder) => void): void {
    const { orders, base } = this
    base.working.forEach((id) => {
      const mine = orders.get(id)
      if (mine === undefined) f(base.orders.get(id)!)
      else if (isWorking(mine.status)) f(mine)
    })
    orders.forEach((o, id) => {
      if (!base.working.has(id) && isWorking(o.status)) f(o)
    })
  }

  position(key: string): PaperPosition | undefined {
    return this.positions.get(key) ?? this.base.positions.get(key)
  }

  /** Every position as this draft sees it. */
  allPositions(): Array<PaperPosition> {
    const all: Array<PaperPosition> = []
    for (const [k, p] of this.base.positions) if (!this.positions.has(k)) all.push(p)
    for (const p of this.positions.values()) all.push(p)
    return all
  }

  /** Calls `f` with every position as this draft sees it, in `allPositions`' order, building nothing. */
  forEachPosition(f: (p: PaperPosition) => void): void {
    const { positions } = this
    this.base.positions.forEach((p, k) => {
      if (!positions.has(k)) f(p)
    })
    for (const p of positions.values()) f(p)
  }

  holding(key: string): BrokerHolding | undefined {
    return this.holdings.get(key) ?? this.base.holdings.get(key)
  }

  /** True when the operation changed nothing. */
  get isEmpty(): boolean {
    return this.orders.size === 0 && this.fills.length === 0 && this.positions.size === 0 && this.holdings.size === 0
  }

  /** Applies the changes to the committed state (after they were persisted). */
  commit(): void {
    const b = this.base
    for (const [id, o] of this.orders) {
      b.orders.set(id, o)
      isWorking(o.status) ? b.working.add(id) : b.working.delete(id)
    }
    b.fills.push(...this.fills)
    for (const [k, p] of this.positions) b.positions.set(k, p)
    for (const [k, h] of this.holdings) h.qty > 0 ? b.holdings.set(k, h) : b.holdings.delete(k)
    b.cash = this.cash
    b.nextSeq = this.nextSeq
  }
}

/** The update that reports an order's current state. */
export const updateOf = (o: PaperOrder, at: number, fill?: OrderUpdate["fill"]): OrderUpdate => ({
  brokerOrderId: o.brokerOrderId,
  clientTag: o.clientTag,
  status: o.status,
  qty: o.qty,
  filledQty: o.filledQty,
  avgPrice: o.avgPrice,
  ...(fill ? { fill } : {}),
  reason: o.reason,
  at,
})

/** Replaces an order in the draft and reports it. */
export const record = (draft: Draft, o: PaperOrder, at: number, fill?: OrderUpdate["fill"]): void => {
  draft.putOrder(o)
  draft.updates.push(updateOf(o, at, fill))
}

/** The order id for an account's n-th order: `<prefix>-000042`. */
export const orderIdOf = (prefix: string, seq: number): string => `${prefix}-${String(seq).padStart(6, "0")}`

/**
 * Sizes of the fills of an order planned to fill in parts: 2 or 3 parts, each a whole number of
 * lots (fewer parts when there are fewer lots). `rollPartial` < `rate` decides it; `rollCount`
 * picks 2 or 3.
 */
export const planPieces = (
  qty: number,
  lotSize: number,
  rate: number,
  rollPartial: number,
  rollCount: number,
): ReadonlyArray<number> => {
  const lots = Math.floor(qty / lotSize)
  if (!(rollPartial < rate) || lots < 2 || qty % lotSize !== 0) return []
  const parts = Math.min(lots, rollCount < 0.5 ? 2 : 3)
  return Array.from({ length: parts }, (_, i) => (Math.floor(lots / parts) + (i < lots % parts ? 1 : 0)) * lotSize)
}

/** True for a stop order (SL or SL-M). */
export const isStop = (o: Pick<PaperOrder, "orderType">): boolean => o.orderType === "SL" || o.orderType === "SL-M"

/** True when the price reaches a stop's trigger: BUY stops at or above, SELL stops at or below. */
export const triggerHit = (side: Side, trigger: number, price: number): boolean =>
  side === "BUY" ? price >= trigger : price <= trigger

/** The price a working order fills at when it meets `price`, or null when it does not fill. */
export const executionPrice = (o: PaperOrder, price: number, aggressive: boolean): number | null => {
  if (o.orderType === "MARKET" || o.orderType === "SL-M") return price
  const limit = o.price!
  const reached = o.side === "BUY" ? price <= limit : price >= limit
  if (!reached) return null
  return aggressive ? price : limit
}

/** The status of a working order that is neither filled nor ended. */
export const workingStatus = (o: Pick<PaperOrder, "orderType" | "triggered" | "filledQty">): PaperOrder["status"] => {
  if (isStop(o) && !o.triggered) return "TRIGGER_PENDING"
  return o.filledQty > 0 ? "PARTIALLY_FILLED" : "OPEN"
}

const money = (n: number): number => Math.round(n * 1e6) / 1e6

/** Fills the next part of an order at `price`. */
const fillOnce = (draft: Draft, o: PaperOrder, price: number, at: number): void => {
  const remaining = o.qty - o.filledQty
  const [next, ...rest] = o.pieces
  const qty = Math.min(next ?? remaining, remaining)
  if (qty <= 0) return
  const filledQty = o.filledQty + qty
  const fillId = `${o.brokerOrderId}-F${o.fillCount + 1}`
  const filled: PaperOrder = {
    ...o,
    filledQty,
    avgPrice: money((o.avgPrice * o.filledQty + price * qty) / filledQty),
    status: filledQty === o.qty ? "FILLED" : "PARTIALLY_FILLED",
    pieces: rest,
    fillCount: o.fillCount + 1,
    updatedAt: at,
  }
  const trade: BrokerTrade = {
    fillId,
    brokerOrderId: o.brokerOrderId,
    clientTag: o.clientTag,
    symbol: o.symbol,
    exchange: o.exchange,
    side: o.side,
    product: o.product,
    qty,
    price,
    at,
  }
  draft.fills.push(trade)
  applyFill(draft, trade)
  record(draft, filled, at, { fillId, qty, price })
}

/**
 * Offers a price to one working order: triggers a stop it reaches, then fills the next part if
 * the order is marketable. `aggressive` is true on arrival, modification and trigger (the order
 * takes the price it meets), false for a resting order (it fills at its own limit).
 */
export const offerPrice = (draft: Draft, order: PaperOrder, price: number, at: number, aggressive: boolean): void => {
  let o = order
  if (!isWorking(o.status)) return
  if (o.status === "TRIGGER_PENDING") {
    if (!triggerHit(o.side, o.triggerPrice!, price)) return
    o = { ...o, triggered: true, updatedAt: at }
    o = { ...o, status: workingStatus(o) }
    record(draft, o, at)
    aggressive = true
  }
  const fillPrice = executionPrice(o, price, aggressive)
  if (fillPrice !== null) fillOnce(draft, o, fillPrice, at)
}

/** A tick: every working order on the symbol meets the price. */
export const tick = (draft: Draft, symbol: string, price: number, at: number): void => {
  for (const o of draft.workingOrders()) {
    if (o.symbol === symbol) offerPrice(draft, o, price, at, false)
  }
}

/** Why a cancel or modify of this order is refused, or null when it may go ahead. */
export const notWorking = (o: PaperOrder): string | null =>
  isWorking(o.status) ? null : `order ${o.brokerOrderId} is ${o.status}: it can no longer be changed or cancelled`

/** Cancels a working order; the refusal text when it is not working. */
export const cancel = (draft: Draft, o: PaperOrder, at: number): string | null => {
  const refused = notWorking(o)
  if (refused !== null) return refused
  record(draft, { ...o, status: "CANCELLED", reason: "cancelled by user", pieces: [], updatedAt: at }, at)
  return null
}

/** Ends every working order as EXPIRED (end of the trading day). */
export const expireAll = (draft: Draft, at: number): number => {
  const working = draft.workingOrders()
  for (const o of working)
    record(draft, { ...o, status: "EXPIRED", reason: "expired at end of day", pieces: [], updatedAt: at }, at)
  return working.length
}

/** What placing an order needs besides the request: time, the instrument, and the dice already cast. */
export interface PlaceContext {
  readonly now: number
  readonly instrument: Instrument
  readonly marketOpen: boolean
  readonly rejectRate: number
  readonly partialFillRate: number
  /** Uniform draws in [0, 1): `reject` against `rejectRate`, `partial` and `count` for the fill plan. */
  readonly rolls: { readonly reject: number; readonly partial: number; readonly count: number }
}

/** How a placement ended: not a valid request, refused on the spot, or in the book. */
export type PlaceOutcome =
  | { readonly _tag: "Invalid"; readonly field: string; readonly message: string }
  | { readonly _tag: "Rejected"; readonly order: PaperOrder }
  | { readonly _tag: "Accepted"; readonly order: PaperOrder }

const usesPrice = (t: Pick<Terms, "orderType">) => t.orderType === "LIMIT" || t.orderType === "SL"
const usesTrigger = (t: Pick<Terms, "orderType">) => t.orderType === "SL" || t.orderType === "SL-M"

/** The terms with the prices the order type does not use cleared. */
const cleanTerms = <T extends Terms>(t: T): T => ({
  ...t,
  price: usesPrice(t) ? t.price : null,
  triggerPrice: usesTrigger(t) ? t.triggerPrice : null,
})

const newOrder = (draft: Draft, req: PlaceRequest, now: number): PaperOrder => {
  const seq = draft.nextSeq
  draft.nextSeq = seq + 1
  const t = cleanTerms(req)
  return {
    brokerOrderId: orderIdOf(draft.base.idPrefix, seq),
    clientTag: req.clientTag,
    accountId: req.accountId,
    symbol: t.symbol,
    exchange: t.exchange,
    side: t.side,
    qty: t.qty,
    product: t.product,
    orderType: t.orderType,
    price: t.price,
    triggerPrice: t.triggerPrice,
    status: "PENDING",
    filledQty: 0,
    avgPrice: 0,
    reason: null,
    placedAt: now,
    updatedAt: now,
    seq,
    triggered: false,
    pieces: [],
    fillCount: 0,
    margin: 0,
  }
}

/**
 * Places an order: a refused order is booked REJECTED with the reason; an accepted one rests
 * (OPEN / TRIGGER_PENDING) and meets the last price at once. A random reject (`rejectRate`)
 * is a late one, as at real brokers: the placement succeeds and the order then shows REJECTED.
 */
export const placeOrder = (draft: Draft, req: PlaceRequest, ctx: PlaceContext): PlaceOutcome => {
  const invalid = invalidTerms(req)
  if (invalid !== null) return { _tag: "Invalid", ...invalid }
  const ltp = draft.base.ltp.get(req.symbol) ?? null
  const fresh = newOrder(draft, req, ctx.now)
  const refusal = refusalOf(draft, fresh, { instrument: ctx.instrument, marketOpen: ctx.marketOpen, ltp })
  if (refusal !== null) {
    const rejected: PaperOrder = { ...fresh, status: "REJECTED", reason: refusal }
    record(draft, rejected, ctx.now)
    return { _tag: "Rejected", order: rejected }
  }
  if (ctx.rolls.reject < ctx.rejectRate) {
    const rejected: PaperOrder = {
      ...fresh,
      status: "REJECTED",
      reason: "RMS: order rejected by the exchange (simulated)",
    }
    record(draft, rejected, ctx.now)
    return { _tag: "Accepted", order: rejected }
  }
  const order: PaperOrder = {
    ...fresh,
    status: workingStatus(fresh),
    pieces: planPieces(fresh.qty, ctx.instrument.lotSize, ctx.partialFillRate, ctx.rolls.partial, ctx.rolls.count),
    margin: marginFor(draft, fresh, referencePrice(fresh, ltp)!),
  }
  record(draft, order, ctx.now)
  if (ltp !== null) offerPrice(draft, order, ltp, ctx.now, true)
  return { _tag: "Accepted", order: draft.order(order.brokerOrderId)! }
}

/** How a modification ended. */
export type ModifyOutcome =
  | { readonly _tag: "Invalid"; readonly field: string; readonly message: string }
  | { readonly _tag: "Rejected"; readonly message: string }
  | { readonly _tag: "Modified"; readonly order: PaperOrder }

/**
 * Modifies a working order (`qty` is the new total, as at Shoonya). A refused modification
 * leaves the order as it was. The modified order meets the last price at once.
 */
export const modifyOrder = (
  draft: Draft,
  o: PaperOrder,
  change: ModifyRequest,
  ctx: Pick<PlaceContext, "now" | "instrument" | "marketOpen">,
): ModifyOutcome => {
  const refused = notWorking(o)
  if (refused !== null) return { _tag: "Rejected", message: refused }
  const terms = cleanTerms({
    ...o,
    qty: change.qty ?? o.qty,
    orderType: change.orderType ?? o.orderType,
    price: change.price !== undefined ? change.price : o.price,
    triggerPrice: change.triggerPrice !== undefined ? change.triggerPrice : o.triggerPrice,
  })
  const invalid = invalidTerms(terms)
  if (invalid !== null) return { _tag: "Invalid", ...invalid }
  if (terms.qty <= o.filledQty) {
    return { _tag: "Rejected", message: `quantity ${terms.qty} must exceed the filled ${o.filledQty}` }
  }
  const ltp = draft.base.ltp.get(o.symbol) ?? null
  const rules = { instrument: ctx.instrument, marketOpen: ctx.marketOpen, ltp, replacing: o.brokerOrderId }
  const refusal = refusalOf(draft, terms, rules)
  if (refusal !== null) return { _tag: "Rejected", message: refusal }
  const triggered = isStop(terms) && isStop(o) && o.triggered
  const next: PaperOrder = {
    ...terms,
    triggered,
    status: workingStatus({ ...terms, triggered }),
    pieces: terms.qty === o.qty ? o.pieces : [],
    margin: marginFor(draft, terms, referencePrice(terms, ltp)!),
    updatedAt: ctx.now,
  }
  record(draft, next, ctx.now)
  if (ltp !== null) offerPrice(draft, next, ltp, ctx.now, true)
  return { _tag: "Modified", order: draft.order(o.brokerOrderId)! }
}

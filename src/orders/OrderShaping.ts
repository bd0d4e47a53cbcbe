/**
 * Order shaping: the exchange's instrument rules applied to an order before it is sent. Pure
 * functions; a refusal names the field at fault (`{ field: "qty", message: "100 is not a
 * multiple of lot size 65" }`).
 *
 * Rounding to the tick "on the safe side" means the side that never gives the trader a worse
 * price than the one asked: a BUY limit rounds DOWN (never pays more), a SELL limit rounds UP
 * (never sells for less).
 *
 * "Limit as market" (for brokers or instruments that refuse MARKET orders) prices a protective
 * limit off the last traded price with a band: BUY = ltp × (1 + band) rounded DOWN to the tick,
 * SELL = ltp × (1 − band) rounded UP. Rounding inwards keeps the worst fill price inside the band
 * (OpenAlgo's nearest-tick rounding can land one tick outside it). It is never less aggressive
 * than the ltp itself, so the order stays marketable. A stop-market (SL-M) becomes a stop-limit
 * (SL) the same way, priced off the trigger, and at least one tick beyond the trigger (exchanges
 * refuse a stop-limit whose limit is not beyond its trigger, e.g. Dhan DH-906) even when the band
 * is narrower than a tick.
 */
import { Either } from "effect"
import type { OrderType, Side } from "../domain/Trading.js"
import type { Instrument } from "./Instruments.js"

/** Why an order cannot be shaped: the field at fault and what is wrong with it. */
export interface ShapeError {
  readonly field: string
  readonly message: string
}

/** Which way a price is moved onto the tick grid. */
export type Rounding = "nearest" | "down" | "up"

/** The default protection band of "limit as market": 0.5 %. */
export const defaultBand = 0.005

const epsilon = 1e-9

/** Decimal places of a tick size (0.05 → 2, 0.0025 → 4, 1 → 0). */
const decimalsOf = (tick: number): number => {
  const s = tick.toString()
  if (s.includes("e-")) return Number(s.split("e-")[1])
  return s.includes(".") ? s.split(".")[1]!.length : 0
}

/** The price moved onto the tick grid; exact to the tick's decimals. */
export const roundToTick = (price: number, tickSize: number, rounding: Rounding = "nearest"): number => {
  const steps = price / tickSize
  const n =
    rounding === "down"
      ? Math.floor(steps + epsilon)
      : rounding === "up"
        ? Math.ceil(steps - epsilon)
        : Math.round(steps)
  return Number((n * tickSize).toFixed(decimalsOf(tickSize)))
}

/** The rounding that never worsens a limit for its side: BUY down, SELL up. */
export const safeRounding = (side: Side): Rounding => (side === "BUY" ? "down" : "up")

/** True when the price lies on the tick grid. */
export const isOnTick = (price: number, tickSize: number): boolean => {
  const steps = price / tickSize
  return Math.abs(steps - Math.round(steps)) < 1e-6
}

/** The price if it is positive and on the tick grid. */
export const checkPrice = (
  price: number,
  tickSize: number,
  field: "price" | "triggerPrice" = "price",
): Either.Either<number, ShapeError> => {
  if (!Number.isFinite(price) || price <= 0) return Either.left({ field, message: `${price} is not a positive price` })
  return isOnTick(price, tickSize)
    ? Either.right(price)
    : Either.left({ field, message: `${price} is not a multiple of tick size ${tickSize}` })
}

/** The quantity if it is a positive multiple of the lot size. */
export const checkLot = (qty: number, lotSize: number): Either.Either<number, ShapeError> => {
  if (!Number.isInteger(qty) || qty <= 0)
    return Either.left({ field: "qty", message: `${qty} is not a positive whole quantity` })
  return qty % lotSize === 0
    ? Either.right(qty)
    : Either.left({ field: "qty", message: `${qty} is not a multiple of lot size ${lotSize}` })
}

/**
 * The protective limit of a "limit as market" order: BUY = ltp × (1 + band) rounded down,
 * SELL = ltp × (1 − band) rounded up, but never less aggressive than the ltp on the tick grid.
 */
export const limitAsMarket = (side: Side, ltp: number, tickSize: number, band = defaultBand): number => {
  if (side === "BUY") return Math.max(roundToTick(ltp * (1 + band), tickSize, "down"), roundToTick(ltp, tickSize, "up"))
  const floor = roundToTick(ltp, tickSize, "down")
  return Math.max(tickSize, Math.min(roundToTick(ltp * (1 - band), tickSize, "up"), floor))
}

/**
 * The limit of a stop-market turned stop-limit: off the trigger by the band, rounded inwards,
 * and at least one tick beyond the trigger.
 */
export const stopLimitFor = (side: Side, trigger: number, tickSize: number, band = defaultBand): number => {
  if (side === "BUY") {
    return Math.max(
      roundToTick(trigger * (1 + band), tickSize, "down"),
      roundToTick(trigger + tickSize, tickSize, "up"),
    )
  }
  const limit = Math.min(
    roundToTick(trigger * (1 - band), tickSize, "up"),
    roundToTick(trigger - tickSize, tickSize, "down"),
  )
  return Math.max(tickSize, limit)
}

/**
 * Quantities of the child orders when one order exceeds the freeze quantity: as many full
 * children as fit, each the largest lot multiple strictly below the freeze, then the rest.
 * Strictly below because the exchanges word it as "orders at or above the freeze are frozen" in
 * places and "above" in others; the strict reading is never refused.
 */
export const splitByFreeze = (
  qty: number,
  lotSize: number,
  freezeQty: number | null,
): Either.Either<ReadonlyArray<number>, ShapeError> =>
  Either.flatMap(checkLot(qty, lotSize), (q) => {
    if (freezeQty === null || q < freezeQty) return Either.right([q])
    const maxChild = Math.floor((freezeQty - 1) / lotSize) * lotSize
    if (maxChild <= 0) {
      return Either.left({ field: "qty", message: `freeze quantity ${freezeQty} is below one lot of ${lotSize}` })
    }
    const out: Array<number> = []
    for (let left = q; left > 0; left -= Math.min(left, maxChild)) out.push(Math.min(left, maxChild))
    return Either.right(out)
  })

/** An order before shaping, as a command describes it. */
export interface OrderDraft {
  readonly side: Side
  readonly qty: number
  readonly orderType: OrderType
  readonly price: number | null
  readonly triggerPrice: number | null
}

/** How `shapeOrder` shapes. */
export interface ShapeOptions {
  /** The last traded price; needed to turn a MARKET order into a limit. */
  readonly ltp?: number | null
  /** The protection band of "limit as market" (fraction, default 0.5 %). */
  readonly band?: number
  /** Round off-grid prices to the safe side instead of refusing them. */
  readonly roundPrices?: boolean
  /** Whether MARKET / SL-M may be sent as they are; defaults to the instrument's `marketOrders`. */
  readonly marketOrders?: boolean
}

/** One order ready to send; several when the quantity was split at the freeze. */
export interface ShapedOrder extends OrderDraft {
  /** How the order was changed, for the journal (`"MARKET sent as LIMIT 22110 (band 0.5%)"`). */
  readonly notes: ReadonlyArray<string>
}

/** Applies the instrument's rules: lot check, prices on the tick, limit as market, freeze split. */
export const shapeOrder = (
  order: OrderDraft,
  instrument: Instrument,
  options: ShapeOptions = {},
): Either.Either<ReadonlyArray<ShapedOrder>, ShapeError> =>
  Either.gen(function* () {
    const children = yield* splitByFreeze(order.qty, instrument.lotSize, instrument.freezeQty)
    const priced = yield* priceOrder(order, instrument, options)
    const notes =
      children.length > 1
        ? [...priced.notes, `split into ${children.length} orders at freeze ${instrument.freezeQty}`]
        : priced.notes
    return children.map((qty) => ({ ...priced, qty, notes }))
  })

const tickPrice = (
  value: number | null,
  field: "price" | "triggerPrice",
  rounding: Rounding,
  tick: number,
  options: ShapeOptions,
): Either.Either<number, ShapeError> => {
  if (value === null) return Either.left({ field, message: `${field} is required for this order type` })
  return options.roundPrices && value > 0
    ? Either.right(roundToTick(value, tick, rounding))
    : checkPrice(value, tick, field)
}

const priceOrder = (
  order: OrderDraft,
  instrument: Instrument,
  options: ShapeOptions,
): Either.Either<ShapedOrder, ShapeError> =>
  Either.gen(function* () {
    const tick = instrument.tickSize
    const band = options.band ?? defaultBand
    const marketOk = options.marketOrders ?? instrument.marketOrders
    const limitRounding = safeRounding(order.side)
    const pct = `${Number((band * 100).toFixed(4))}%`
    switch (order.orderType) {
      case "MARKET": {
        if (marketOk) return { ...order, price: null, triggerPrice: null, notes: [] }
        const ltp = options.ltp
        if (ltp == null || !(ltp > 0)) {
          return yield* Either.left({ field: "ltp", message: "a last price is needed to send MARKET as a limit" })
        }
        const price = limitAsMarket(order.side, ltp, tick, band)
        return {
          ...order,
          orderType: "LIMIT",
          price,
          triggerPrice: null,
          notes: [`MARKET sent as LIMIT ${price} (band ${pct})`],
        }
      }
      case "LIMIT": {
        const price = yield* tickPrice(order.price, "price", limitRounding, tick, options)
        return { ...order, price, triggerPrice: null, notes: [] }
      }
      case "SL": {
        const triggerPrice = yield* tickPrice(order.triggerPrice, "triggerPrice", "nearest", tick, options)
        const price = yield* tickPrice(order.price, "price", limitRounding, tick, options)
        const wrongSide = order.side === "BUY" ? price < triggerPrice : price > triggerPrice
        if (wrongSide) {
          const rel = order.side === "BUY" ? "below" : "above"
          return yield* Either.left({ field: "price", message: `limit ${price} is ${rel} the trigger ${triggerPrice}` })
        }
        return { ...order, price, triggerPrice, notes: [] }
      }
      case "SL-M": {
        const triggerPrice = yield* tickPrice(order.triggerPrice, "triggerPrice", "nearest", tick, options)
        if (marketOk) return { ...order, price: null, triggerPrice, notes: [] }
        const price = stopLimitFor(order.side, triggerPrice, tick, band)
        return {
          ...order,
          orderType: "SL",
          price,
          triggerPrice,
          notes: [`SL-M sent as SL limit ${price} (band ${pct})`],
        }
      }
    }
  })

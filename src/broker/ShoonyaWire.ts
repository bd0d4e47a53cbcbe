/**
 * Shoonya (Noren OMS) wire vocabulary, as `reference/brokers.md` part A records it: the `jData=`
 * body, status, product and price-type codes, and the rows of the order, trade and position
 * books, holdings, limits and websocket `om` messages read into the port's shapes. Every wire
 * value is a string. A missing or ill-typed field fails `Invalid` naming the field; an unknown
 * status is logged and read as `PENDING` (unresolved), never as filled or failed.
 */
import { Effect } from "effect"
import type { OrderType, Product, Side } from "../domain/Trading.js"
import type {
  BrokerError,
  BrokerFunds,
  BrokerHolding,
  BrokerOrder,
  BrokerOrderStatus,
  BrokerPosition,
  BrokerTrade,
  OrderUpdate,
} from "./Broker.js"
import { Fields, istTime, isRow, type WireRow } from "./BrokerHttp.js"

/**
 * The `jData=<json>` body. The server splits the body on `&`, so `&` (as in `M&M-EQ`) must not
 * appear raw. `%26` only works where the server URL-decodes, which brokers.md records as
 * differing by endpoint; the JSON escape `\u0026` reads back as `&` either way. `%` and `+` are
 * escaped the same way so a URL-decoding server cannot change them.
 */
export const jData = (data: Readonly<Record<string, string>>): string =>
  "jData=" + JSON.stringify(data).replace(/[&%+]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

const statuses: Readonly<Record<string, BrokerOrderStatus>> = {
  PENDING: "PENDING",
  "OPEN PENDING": "PENDING",
  "AFTER MARKET ORDER REQ RECEIVED": "PENDING",
  OPEN: "OPEN",
  NEW: "OPEN",
  REPLACED: "OPEN",
  "MODIFY PENDING": "OPEN",
  "CANCEL PENDING": "OPEN",
  "TRIGGER PENDING": "TRIGGER_PENDING",
  COMPLETE: "FILLED",
  EXECUTED: "FILLED",
  CANCELED: "CANCELLED",
  CANCELLED: "CANCELLED",
  REJECTED: "REJECTED",
  REJECT: "REJECTED",
}

/**
 * A Shoonya status as the port's, or null when unknown. Matched case-insensitively with `_` as a
 * space. Shoonya has no partial status: a working order with `0 < filled < qty` is partly filled.
 */
export const statusOf = (raw: string, filledQty: number, qty: number): BrokerOrderStatus | null => {
  const status = statuses[raw.trim().toUpperCase().replace(/_/g, " ")]
  if (status === undefined) return null
  const working = status === "OPEN" || status === "PENDING"
  return working && filledQty > 0 && filledQty < qty ? "PARTIALLY_FILLED" : status
}

const products: Readonly<Record<string, Product>> = { C: "CNC", M: "NRML", I: "MIS", H: "MIS", B: "MIS" }
const orderTypes: Readonly<Record<string, OrderType>> = {
  LMT: "LIMIT",
  MKT: "MARKET",
  "SL-LMT": "SL",
  "SL-MKT": "SL-M",
}
const sides: Readonly<Record<string, Side>> = { B: "BUY", S: "SELL" }

/** The port's product as Shoonya's `prd`. */
export const productCode: Readonly<Record<Product, string>> = { CNC: "C", NRML: "M", MIS: "I" }
/** The port's order type as Shoonya's `prctyp`. */
export const priceTypeCode: Readonly<Record<OrderType, string>> = {
  LIMIT: "LMT",
  MARKET: "MKT",
  SL: "SL-LMT",
  "SL-M": "SL-MKT",
}
/** The port's side as Shoonya's `trantype`. */
export const sideCode: Readonly<Record<Side, string>> = { BUY: "B", SELL: "S" }

/** Reads a status, logging an unknown one and reading it as `PENDING`. */
const statusIn = (f: Fields, filledQty: number, qty: number) =>
  Effect.gen(function* () {
    const raw = yield* f.str("status")
    const status = statusOf(raw, filledQty, qty)
    if (status !== null) return status
    yield* Effect.logWarning(`shoonya ${f.what}: unknown status "${raw}" read as PENDING (unresolved)`)
    return "PENDING" as const
  })

const positiveOrNull = (n: number): number | null => (n > 0 ? n : null)

/** A rejection or cancellation text; Noren sends a single space when there is none. */
const reasonIn = (f: Fields): string | null => f.optStr("rejreason")

/** One order book or order history row (its `accountId` is the engine's). */
export const orderOf = (row: WireRow, accountId: string): Effect.Effect<BrokerOrder, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "order row")
    const qty = yield* f.num("qty")
    const filledQty = yield* f.optNum("fillshares")
    const placedAt = istTime(f.optStr("ordenttm")) ?? istTime(f.optStr("norentm")) ?? 0
    return {
      brokerOrderId: yield* f.str("norenordno"),
      clientTag: f.optStr("remarks") ?? "",
      accountId,
      symbol: yield* f.str("tsym"),
      exchange: yield* f.str("exch"),
      side: yield* f.code("trantype", sides),
      qty,
      product: yield* f.code(["prd", "pcode"], products),
      orderType: yield* f.code("prctyp", orderTypes),
      price: positiveOrNull(yield* f.optNum("prc")),
      triggerPrice: positiveOrNull(yield* f.optNum("trgprc")),
      status: yield* statusIn(f, filledQty, qty),
      filledQty,
      avgPrice: yield* f.optNum("avgprc"),
      reason: reasonIn(f),
      placedAt,
      updatedAt: istTime(f.optStr("exch_tm")) ?? istTime(f.optStr("norentm")) ?? placedAt,
    }
  })

/** The port's fill id of a Shoonya fill: fill ids (`flid`) are the exchange's, so keep the order id too. */
export const fillIdOf = (orderId: string, flid: string): string => `${orderId}:${flid}`

/** One trade book row. */
export const tradeOf = (row: WireRow): Effect.Effect<BrokerTrade, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "trade row")
    const brokerOrderId = yield* f.str("norenordno")
    return {
      fillId: fillIdOf(brokerOrderId, yield* f.str("flid")),
      brokerOrderId,
      clientTag: f.optStr("remarks") ?? "",
      symbol: yield* f.str("tsym"),
      exchange: yield* f.str("exch"),
      side: yield* f.code("trantype", sides),
      product: yield* f.code("prd", products),
      qty: yield* f.num("flqty"),
      price: yield* f.num("flprc"),
      at: istTime(f.optStr("fltm")) ?? istTime(f.optStr("norentm")) ?? 0,
    }
  })

/** One position book row. */
export const positionOf = (row: WireRow): Effect.Effect<BrokerPosition, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "position row")
    const avg = (total: string, day: string) =>
      Effect.flatMap(f.optNum(total), (t) => (t > 0 ? Effect.succeed(t) : f.optNum(day)))
    return {
      symbol: yield* f.str("tsym"),
      exchange: yield* f.str("exch"),
      product: yield* f.code("prd", products),
      netQty: yield* f.num("netqty"),
      buyQty: (yield* f.optNum("daybuyqty")) + (yield* f.optNum("cfbuyqty")),
      sellQty: (yield* f.optNum("daysellqty")) + (yield* f.optNum("cfsellqty")),
      buyAvg: yield* avg("totbuyavgprc", "daybuyavgprc"),
      sellAvg: yield* avg("totsellavgprc", "daysellavgprc"),
      realizedPnl: yield* f.optNum("rpnl"),
      unrealizedPnl: yield* f.optNum("urmtom"),
      ltp: yield* f.optNum("lp"),
    }
  })

const saleableParts = ["btstqty", "holdqty", "unplgdqty", "benqty", "dpqty"] as const

/** One holdings row: its first listed exchange, and the saleable quantity of brokers.md's formula. */
export const holdingOf = (row: WireRow): Effect.Effect<BrokerHolding, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "holdings row")
    const listing = f.get("exch_tsym")
    const first: unknown = Array.isArray(listing) ? listing[0] : undefined
    if (!isRow(first)) return yield* f.invalid("exch_tsym", "is missing or empty")
    const where = new Fields(first, "holdings row exch_tsym")
    let qty = -(yield* f.optNum("usedqty"))
    for (const part of saleableParts) qty += yield* f.optNum(part)
    return {
      symbol: yield* where.str("tsym"),
      exchange: yield* where.str("exch"),
      qty,
      avgPrice: yield* f.optNum("upldprc"),
    }
  })

/** The Limits object: available = cash + payin − marginused. */
export const fundsOf = (row: WireRow): Effect.Effect<BrokerFunds, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "limits")
    const cash = (yield* f.num("cash")) + (yield* f.optNum("payin"))
    const usedMargin = yield* f.optNum("marginused")
    return { available: cash - usedMargin, usedMargin, total: cash }
  })

/** One websocket `om` message; `now` stands in when it carries no time. */
export const updateOf = (row: WireRow, now: number): Effect.Effect<OrderUpdate, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "om message")
    const brokerOrderId = yield* f.str(["norenordno", "norenoordno"])
    const qty = yield* f.num("qty")
    const filledQty = yield* f.optNum("fillshares")
    const flid = f.optStr("flid")
    const isFill = f.optStr("reporttype")?.toUpperCase() === "FILL" && flid !== null
    const update: OrderUpdate = {
      brokerOrderId,
      clientTag: f.optStr("remarks") ?? "",
      status: yield* statusIn(f, filledQty, qty),
      qty,
      filledQty,
      avgPrice: yield* f.optNum("avgprc"),
      reason: reasonIn(f),
      at: istTime(f.optStr("exch_tm")) ?? istTime(f.optStr("norentm")) ?? now,
    }
    if (!isFill) return update
    const fill = { fillId: fillIdOf(brokerOrderId, flid), qty: yield* f.num("flqty"), price: yield* f.num("flprc") }
    return { ...update, fill }
  })

/**
 * DhanHQ v2 wire vocabulary, as `reference/brokers.md` part B records it: exchange segments,
 * product, order-type and status codes, the error body (`errorCode` DH-9xx, or the data APIs'
 * `{"status":"failed","data":{"808":…}}`), and the rows of the order and trade books,
 * positions, holdings, fund limits and order-update messages read into the port's shapes.
 * Numbers are JSON numbers; ids are strings. Order updates are read in both key casings
 * (`OrderNo` and `orderNo`). An unknown status is logged and read as `PENDING` (unresolved).
 */
import { Effect } from "effect"
import type { OrderType, Product, Side } from "../domain/Trading.js"
import type { Instruments } from "../orders/Instruments.js"
import {
  BrokerError,
  type BrokerFunds,
  type BrokerHolding,
  type BrokerOrder,
  type BrokerOrderStatus,
  type BrokerPosition,
  type BrokerTrade,
  type OrderUpdate,
} from "./Broker.js"
import { Fields, istTime, isRow, type WireRow } from "./BrokerHttp.js"

/** The port's exchange code as Dhan's `exchangeSegment`. */
export const segmentOf: Readonly<Record<string, string>> = {
  NSE: "NSE_EQ",
  BSE: "BSE_EQ",
  NFO: "NSE_FNO",
  BFO: "BSE_FNO",
  MCX: "MCX_COMM",
  CDS: "NSE_CURRENCY",
  BCD: "BSE_CURRENCY",
}
const exchanges: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(segmentOf).map(([exchange, segment]) => [segment, exchange]),
)

/** The port's product as Dhan's `productType`. */
export const productCode: Readonly<Record<Product, string>> = { CNC: "CNC", MIS: "INTRADAY", NRML: "MARGIN" }
const products: Readonly<Record<string, Product>> = {
  CNC: "CNC",
  MTF: "CNC",
  INTRADAY: "MIS",
  CO: "MIS",
  BO: "MIS",
  MARGIN: "NRML",
}

/** The port's order type as Dhan's `orderType`. */
export const orderTypeCode: Readonly<Record<OrderType, string>> = {
  LIMIT: "LIMIT",
  MARKET: "MARKET",
  SL: "STOP_LOSS",
  "SL-M": "STOP_LOSS_MARKET",
}
const orderTypes: Readonly<Record<string, OrderType>> = {
  LIMIT: "LIMIT",
  MARKET: "MARKET",
  STOP_LOSS: "SL",
  STOP_LOSS_MARKET: "SL-M",
}
const sides: Readonly<Record<string, Side>> = { BUY: "BUY", SELL: "SELL" }

const statuses: Readonly<Record<string, BrokerOrderStatus>> = {
  TRANSIT: "PENDING",
  PENDING: "OPEN",
  // Seen on place and modify answers.
  MODIFIED: "OPEN",
  TRIGGERED: "OPEN",
  PART_TRADED: "PARTIALLY_FILLED",
  TRADED: "FILLED",
  CANCELLED: "CANCELLED",
  REJECTED: "REJECTED",
  EXPIRED: "EXPIRED",
}

/** A Dhan status (any case) as the port's, or null when unknown; a working order with fills is partly filled. */
export const statusOf = (raw: string, filledQty: number): BrokerOrderStatus | null => {
  const status = statuses[raw.trim().toUpperCase()]
  if (status === undefined) return null
  return status === "OPEN" && filledQty > 0 ? "PARTIALLY_FILLED" : status
}

const statusIn = (f: Fields, names: string | ReadonlyArray<string>, filledQty: number) =>
  Effect.gen(function* () {
    const raw = yield* f.str(names)
    const status = statusOf(raw, filledQty)
    if (status !== null) return status
    yield* Effect.logWarning(`dhan ${f.what}: unknown status "${raw}" read as PENDING (unresolved)`)
    return "PENDING" as const
  })

/** Dhan's error text, unless it is the healthy "CONFIRMED". */
const reasonIn = (f: Fields, names: string | ReadonlyArray<string>): string | null => {
  const text = f.optStr(names)
  return text === null || text.toUpperCase() === "CONFIRMED" ? null : text
}

const positiveOrNull = (n: number): number | null => (n > 0 ? n : null)

/** The exchange and the master's symbol of a row (the row's own `tradingSymbol` when the master lacks it). */
const whereIn = (f: Fields, instruments: Instruments) =>
  Effect.gen(function* () {
    const exchange = yield* f.code("exchangeSegment", exchanges)
    const securityId = yield* f.str("securityId")
    const known = instruments.byToken(exchange, securityId)
    const symbol = known._tag === "Some" ? known.value.symbol : yield* f.str("tradingSymbol")
    return { exchange, symbol }
  })

/** One order row (`GET /orders`, `/orders/{id}`, `/orders/external/{id}`). */
export const orderOf = (
  row: WireRow,
  accountId: string,
  instruments: Instruments,
): Effect.Effect<BrokerOrder, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "order row")
    const filledQty = yield* f.optNum(["filledQty", "filled_qty"])
    const placedAt = istTime(f.optStr("createTime")) ?? 0
    return {
      brokerOrderId: yield* f.str("orderId"),
      clientTag: f.optStr("correlationId") ?? "",
      accountId,
      ...(yield* whereIn(f, instruments)),
      side: yield* f.code("transactionType", sides),
      qty: yield* f.num("quantity"),
      product: yield* f.code("productType", products),
      orderType: yield* f.code("orderType", orderTypes),
      price: positiveOrNull(yield* f.optNum("price")),
      triggerPrice: positiveOrNull(yield* f.optNum("triggerPrice")),
      status: yield* statusIn(f, "orderStatus", filledQty),
      filledQty,
      avgPrice: yield* f.optNum("averageTradedPrice"),
      reason: reasonIn(f, "omsErrorDescription"),
      placedAt,
      updatedAt: istTime(f.optStr("updateTime")) ?? placedAt,
    }
  })

/** One trade row; Dhan's trade rows carry no correlation id, so `tagOf` supplies it from the order book. */
export const tradeOf = (
  row: WireRow,
  instruments: Instruments,
  tagOf: (orderId: string) => string,
): Effect.Effect<BrokerTrade, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "trade row")
    const brokerOrderId = yield* f.str("orderId")
    return {
      fillId: `${brokerOrderId}:${yield* f.str("exchangeTradeId")}`,
      brokerOrderId,
      clientTag: tagOf(brokerOrderId),
      ...(yield* whereIn(f, instruments)),
      side: yield* f.code("transactionType", sides),
      product: yield* f.code("productType", products),
      qty: yield* f.num("tradedQuantity"),
      price: yield* f.num("tradedPrice"),
      at: istTime(f.optStr("exchangeTime")) ?? istTime(f.optStr("createTime")) ?? 0,
    }
  })

/** One position row; Dhan sends no last price, so `ltp` is the engine's. */
export const positionOf = (
  row: WireRow,
  instruments: Instruments,
  ltpOf: (symbol: string, exchange: string) => number,
): Effect.Effect<BrokerPosition, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "position row")
    const where = yield* whereIn(f, instruments)
    return {
      ...where,
      product: yield* f.code("productType", products),
      netQty: yield* f.num("netQty"),
      buyQty: yield* f.optNum("buyQty"),
      sellQty: yield* f.optNum("sellQty"),
      buyAvg: yield* f.optNum("buyAvg"),
      sellAvg: yield* f.optNum("sellAvg"),
      realizedPnl: yield* f.optNum("realizedProfit"),
      unrealizedPnl: yield* f.optNum("unrealizedProfit"),
      ltp: ltpOf(where.symbol, where.exchange),
    }
  })

/** One holdings row (`exchange` `ALL` reads as NSE). */
export const holdingOf = (row: WireRow, instruments: Instruments): Effect.Effect<BrokerHolding, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "holdings row")
    const listed = (yield* f.str("exchange")).toUpperCase()
    const exchange = listed === "ALL" ? "NSE" : listed
    const known = instruments.byToken(exchange, f.optStr("securityId") ?? "")
    return {
      symbol: known._tag === "Some" ? known.value.symbol : yield* f.str("tradingSymbol"),
      exchange,
      qty: yield* f.num("totalQty"),
      avgPrice: yield* f.optNum("avgCostPrice"),
    }
  })

/** The fund limit object (`availabelBalance` is Dhan's own spelling). */
export const fundsOf = (row: WireRow): Effect.Effect<BrokerFunds, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(row, "fund limit")
    const available = yield* f.num(["availabelBalance", "availableBalance"])
    const usedMargin = yield* f.optNum("utilizedAmount")
    return { available, usedMargin, total: available + usedMargin }
  })

/** The `Data` of an `order_alert` message, in either key casing; null for any other message. */
export const alertOf = (message: WireRow): WireRow | null => {
  const f = new Fields(message, "order update")
  const data = f.get("Data")
  return String(f.get("Type") ?? "").toLowerCase() === "order_alert" && isRow(data) ? data : null
}

/** One order update's `Data` (PascalCase or camelCase keys); `now` stands in when it has no time. */
export const updateOf = (data: WireRow, now: number): Effect.Effect<OrderUpdate, BrokerError> =>
  Effect.gen(function* () {
    const f = new Fields(data, "order update")
    const filledQty = yield* f.optNum("TradedQty")
    return {
      brokerOrderId: yield* f.str("OrderNo"),
      clientTag: f.optStr("CorrelationId") ?? "",
      status: yield* statusIn(f, "Status", filledQty),
      qty: yield* f.num("Quantity"),
      filledQty,
      avgPrice: yield* f.optNum("AvgTradedPrice"),
      reason: reasonIn(f, "ReasonDescription"),
      at: istTime(f.optStr("LastUpdatedTime")) ?? now,
    }
  })

/** What a Dhan error body says: its code and text (either error shape), or null when it is not one. */
export const errorOf = (body: unknown): { readonly code: string; readonly text: string } | null => {
  if (!isRow(body)) return null
  if (typeof body.errorCode === "string") return { code: body.errorCode, text: String(body.errorMessage ?? "") }
  if (body.status === "failed" && isRow(body.data)) {
    const [code, text] = Object.entries(body.data)[0] ?? []
    if (code !== undefined) return { code, text: String(text ?? "") }
  }
  return null
}

const sessionCodes = new Set(["DH-901", "807", "808", "809", "810"])
const rateCodes = new Set(["DH-904", "805"])
const noDataCodes = new Set(["DH-907", "DH-1111"])

/** How a Dhan error code reads: "no data" (an empty answer) or the error's reason. */
export const errorKind = (code: string, text: string): "NoData" | "SessionExpired" | "RateLimited" | "Broker" => {
  if (sessionCodes.has(code) || (code === "DH-906" && /invalid token|token.*expired/i.test(text))) {
    return "SessionExpired"
  }
  if (rateCodes.has(code)) return "RateLimited"
  if (noDataCodes.has(code)) return "NoData"
  return "Broker"
}

/** A `correlationId` Dhan takes: at most 30 of `[A-Za-z0-9_-]`; else the field at fault. */
export const checkCorrelationId = (tag: string): BrokerError | null =>
  /^[A-Za-z0-9_-]{1,30}$/.test(tag)
    ? null
    : new BrokerError({
        reason: "Invalid",
        field: "clientTag",
        message: `"${tag}" cannot be a Dhan correlationId (1-30 of A-Z a-z 0-9 _ -)`,
      })

/**
 * The DhanHQ v2 adapter of the broker port: REST with JSON bodies and the `access-token` (and
 * `client-id`) headers. The client tag travels as `correlationId` and `orderByTag` asks
 * `/orders/external/{correlationId}`. Orders need the instrument's `securityId` and
 * `exchangeSegment`, taken from the instrument master (Dhan's scrip master). MARKET goes out as
 * is (Dhan applies its own price protection); SL-M goes out as STOP_LOSS with a banded limit,
 * since a bare STOP_LOSS_MARKET loses its trigger or is refused (DH-906). Errors come as
 * `{errorCode: "DH-9xx"}`: DH-901 (or DH-906 "Invalid Token") is an expired session, DH-904 a
 * rate limit; DH-907 "no data" is an empty answer. Order updates come from the order-update
 * websocket (`DhanSocket`). Calls are throttled below the documented 10 orders per second.
 */
import { Effect, Layer, Option, PubSub, type Scope, Stream } from "effect"
import type { Instrument } from "../orders/Instruments.js"
import { defaultBand, type OrderDraft } from "../orders/OrderShaping.js"
import { BrokerError, type BrokerOrder, type ModifyRequest, type PlaceRequest } from "./Broker.js"
import { Brokers } from "./Brokers.js"
import {
  type AdapterTuning,
  Fields,
  type HttpRequest,
  isRow,
  parseJson,
  type Redactor,
  shapeOne,
  unclearReason,
  type WireRow,
  type LiveAdapterOptions,
  type LiveBroker,
} from "./BrokerHttp.js"
import * as DhanSocket from "./DhanSocket.js"
import {
  checkCorrelationId,
  errorKind,
  errorOf,
  fundsOf,
  holdingOf,
  orderOf,
  orderTypeCode,
  positionOf,
  productCode,
  segmentOf,
  tradeOf,
} from "./DhanWire.js"
import { type LiveCore, makeLiveCore } from "./LiveCore.js"

/** The REST root of DhanHQ v2. */
export const dhanBaseUrl = "https://api.dhan.co/v2"
/** The order-update websocket. */
export const dhanWsUrl = "wss://api-order-update.dhan.co"

/** A Dhan login: never logged, redacted from every error. */
export interface DhanCredentials {
  /** The `dhanClientId`. */
  readonly clientId: string
  /** The access token (a JWT valid about 24 h). */
  readonly accessToken: string
}

/** One Dhan account. */
export type DhanOptions = LiveAdapterOptions<DhanCredentials>

/** Dhan's bounds: documented 10 orders/s, 250/min, 1000/h, 7000/day and 20/s for other calls, kept below. */
export const dhanTuning: AdapterTuning = {
  orderRateLimits: [
    { limit: 9, windowMs: 1_000 },
    { limit: 240, windowMs: 60_000 },
    { limit: 950, windowMs: 3_600_000 },
    { limit: 6_800, windowMs: 86_400_000 },
  ],
  readRateLimits: [{ limit: 18, windowMs: 1_000 }],
  rateLimitRetriesMax: 3,
  backoffMs: 500,
  backoffMsMax: 8_000,
  requestTimeoutMs: 10_000,
  heartbeatMs: 10_000,
  silenceMs: 40_000,
  reconnectDelayMs: 1_000,
  reconnectDelayMsMax: 30_000,
}

/** A Dhan connection: the port, plus credential renewal and an eager subscription. */
export type DhanBroker = LiveBroker<DhanCredentials>

type Core = LiveCore<DhanCredentials>

type Method = HttpRequest["method"]

const sessionExpired = (what: string) =>
  new BrokerError({ reason: "SessionExpired", message: `Dhan session expired (${what}): renew the access token` })

/** A Dhan error body (or a bare 4xx/5xx) as an empty answer (None) or an error. */
const refusal = (req: HttpRequest, status: number, body: unknown, redact: Redactor) => {
  const error = errorOf(body)
  if (error === null) {
    const message = `${req.label}: unexpected HTTP ${status}`
    return Effect.fail(new BrokerError({ reason: unclearReason(req, status), field: "status", message }))
  }
  const message = redact(`${req.label}: ${error.code} ${error.text}`)
  switch (errorKind(error.code, error.text)) {
    case "SessionExpired":
      return Effect.fail(sessionExpired(`${error.code} ${redact(error.text)}`))
    case "RateLimited":
      return Effect.fail(new BrokerError({ reason: "RateLimited", message }))
    case "NoData":
      return Effect.succeed(Option.none<unknown>())
    case "Broker":
      // Internal, network and "other" errors leave a placement's outcome unknown.
      return /^(DH-90[89]|DH-910|800)$/.test(error.code)
        ? Effect.fail(new BrokerError({ reason: unclearReason(req, 500), message }))
        : Effect.fail(new BrokerError({ reason: "Rejected", message }))
  }
}

/** One REST call: its JSON answer, or None for Dhan's "no data". */
const callWith = (core: Core) => (method: Method, path: string, body?: Readonly<Record<string, unknown>>) => {
  const mutating = method !== "GET"
  const attempt = Effect.suspend(() => {
    const { clientId, accessToken } = core.login.current
    const req: HttpRequest = {
      method,
      url: `${core.options.baseUrl ?? dhanBaseUrl}${path}`,
      headers: {
        "access-token": accessToken,
        "client-id": clientId,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      ...(body === undefined ? {} : { body: JSON.stringify({ dhanClientId: clientId, ...body }) }),
      mutating,
      label: `${method} ${path}`,
      timeoutMs: core.tuning.requestTimeoutMs,
    }
    return Effect.gen(function* () {
      const answer = yield* core.send(req)
      if (answer.status === 401) return yield* sessionExpired("HTTP 401")
      if (answer.status === 429) {
        return yield* new BrokerError({ reason: "RateLimited", message: `${req.label}: HTTP 429 too many requests` })
      }
      if (answer.status < 300 && answer.text.trim() === "") return Option.some<unknown>(null)
      const json = yield* parseJson(req, answer, core.redact)
      if (answer.status >= 300 || errorOf(json) !== null) return yield* refusal(req, answer.status, json, core.redact)
      return Option.some(json)
    })
  })
  return (mutating ? core.throttleOrders : core.throttleReads)(attempt)
}

/** A GET of a list ("no data" is none). */
const listWith = (core: Core) => (path: string) =>
  Effect.flatMap(callWith(core)("GET", path), (answer) => {
    if (Option.isNone(answer)) return Effect.succeed<ReadonlyArray<WireRow>>([])
    const rows = answer.value
    // Single-order routes may answer one object or a list of one.
    if (isRow(rows)) return Effect.succeed<ReadonlyArray<WireRow>>([rows])
    if (Array.isArray(rows) && rows.every(isRow)) return Effect.succeed<ReadonlyArray<WireRow>>(rows)
    return Effect.fail(new BrokerError({ reason: "Invalid", field: "body", message: `GET ${path}: expected objects` }))
  })

/** A mutating call's answer object; a garbled one leaves the outcome unknown. */
const commandWith = (core: Core) => (method: Method, path: string, body?: Readonly<Record<string, unknown>>) =>
  Effect.flatMap(callWith(core)(method, path, body), (answer) => {
    if (Option.isNone(answer)) {
      return Effect.fail(new BrokerError({ reason: "NotFound", message: `${method} ${path}: no such order` }))
    }
    return isRow(answer.value)
      ? Effect.succeed(new Fields(answer.value, `${method} ${path} answer`, "Timeout"))
      : Effect.fail(new BrokerError({ reason: "Timeout", field: "body", message: `${method} ${path}: no order id` }))
  })

const instrumentOf = (core: Core, exchange: string, symbol: string): Effect.Effect<Instrument, BrokerError> => {
  const found = core.options.instruments.get(exchange, symbol)
  return Option.isSome(found) && found.value.token !== "" && segmentOf[exchange] !== undefined
    ? Effect.succeed(found.value)
    : Effect.fail(
        new BrokerError({
          reason: "Invalid",
          field: "symbol",
          message: `${exchange}:${symbol} has no Dhan securityId and segment in the instrument master`,
        }),
      )
}

/** The order shaped for Dhan: MARKET as is (unless refused), SL-M always as a stop-limit. */
const shapeWith = (core: Core, instrument: Instrument, draft: OrderDraft) =>
  shapeOne(draft, instrument, {
    ltp: core.options.lastPrice?.(instrument.symbol, instrument.exchange) ?? null,
    band: core.options.marketBand ?? defaultBand,
    marketOrders: draft.orderType === "SL-M" ? false : (core.options.marketOrders ?? instrument.marketOrders),
  })

/** The order's price fields: `price` (0 for MARKET), `triggerPrice` only for stops. */
const priceFields = (o: OrderDraft) => ({
  orderType: orderTypeCode[o.orderType],
  price: o.price ?? 0,
  ...(o.orderType === "SL" || o.orderType === "SL-M" ? { triggerPrice: o.triggerPrice ?? 0 } : {}),
})

const placeWith = (core: Core) => (req: PlaceRequest) =>
  Effect.gen(function* () {
    if (req.accountId !== core.options.accountId) {
      const message = `this is account ${core.options.accountId}`
      return yield* new BrokerError({ reason: "Invalid", field: "accountId", message })
    }
    const badTag = checkCorrelationId(req.clientTag)
    if (badTag !== null) return yield* badTag
    const instrument = yield* instrumentOf(core, req.exchange, req.symbol)
    const o = yield* shapeWith(core, instrument, req)
    const answer = yield* commandWith(core)("POST", "/orders", {
      correlationId: req.clientTag,
      transactionType: req.side,
      exchangeSegment: segmentOf[req.exchange],
      productType: productCode[req.product],
      validity: "DAY",
      securityId: instrument.token,
      quantity: o.qty,
      disclosedQuantity: 0,
      ...priceFields(o),
      afterMarketOrder: false,
    })
    return { brokerOrderId: yield* answer.str("orderId") }
  })

const orderWith = (core: Core) => (id: string) =>
  Effect.gen(function* () {
    const [row] = yield* listWith(core)(`/orders/${encodeURIComponent(id)}`)
    if (row === undefined) return yield* new BrokerError({ reason: "NotFound", message: `no Dhan order ${id}` })
    return yield* orderOf(row, core.options.accountId, core.options.instruments)
  })

const modifyWith = (core: Core) => (id: string, change: ModifyRequest) =>
  Effect.gen(function* () {
    const current = yield* orderWith(core)(id)
    const instrument = yield* instrumentOf(core, current.exchange, current.symbol)
    const o = yield* shapeWith(core, instrument, {
      side: current.side,
      qty: change.qty ?? current.qty,
      orderType: change.orderType ?? current.orderType,
      price: change.price !== undefined ? change.price : current.price,
      triggerPrice: change.triggerPrice !== undefined ? change.triggerPrice : current.triggerPrice,
    })
    yield* commandWith(core)("PUT", `/orders/${encodeURIComponent(id)}`, {
      orderId: id,
      legName: "NA",
      // The total placed quantity, as Dhan wants it.
      quantity: o.qty,
      disclosedQuantity: 0,
      ...priceFields(o),
      validity: "DAY",
    })
  })

const cancelWith = (core: Core) => (id: string) =>
  Effect.asVoid(commandWith(core)("DELETE", `/orders/${encodeURIComponent(id)}`))

const oldestFirst = <A extends { readonly placedAt: number }>(rows: ReadonlyArray<A>): Array<A> =>
  [...rows].sort((a, b) => a.placedAt - b.placedAt)

const queriesOf = (core: Core) => {
  const list = listWith(core)
  const { accountId, instruments } = core.options
  const orders = (path: string) =>
    Effect.map(
      Effect.flatMap(list(path), (rows) => Effect.forEach(rows, (r) => orderOf(r, accountId, instruments))),
      oldestFirst,
    )
  const orderBook = orders("/orders")
  const ltpOf = (symbol: string, exchange: string) => core.options.lastPrice?.(symbol, exchange) ?? 0
  return {
    orderBook,
    order: orderWith(core),
    orderByTag: (tag: string): Effect.Effect<Option.Option<BrokerOrder>, BrokerError> =>
      checkCorrelationId(tag) !== null
        ? Effect.succeed(Option.none())
        : Effect.map(orders(`/orders/external/${encodeURIComponent(tag)}`), (found) => Option.fromNullable(found[0])),
    tradeBook: Effect.gen(function* () {
      const rows = yield* list("/trades")
      // Trade rows carry no correlation id: the order book has it.
      const tags = new Map(rows.length === 0 ? [] : (yield* orderBook).map((o) => [o.brokerOrderId, o.clientTag]))
      const trades = yield* Effect.forEach(rows, (r) => tradeOf(r, instruments, (id) => tags.get(id) ?? ""))
      return [...trades].sort((a, b) => a.at - b.at)
    }),
    positions: Effect.flatMap(list("/positions"), (rows) =>
      Effect.forEach(rows, (r) => positionOf(r, instruments, ltpOf)),
    ),
    holdings: Effect.flatMap(list("/holdings"), (rows) => Effect.forEach(rows, (r) => holdingOf(r, instruments))),
    funds: Effect.flatMap(list("/fundlimit"), ([row]) =>
      row === undefined
        ? Effect.fail(new BrokerError({ reason: "Invalid", field: "body", message: "GET /fundlimit: no fund limits" }))
        : fundsOf(row),
    ),
  }
}

const makeCore = (options: DhanOptions) => makeLiveCore(options, dhanTuning, "dhan")

/** Connects one Dhan account; the order-update websocket lives as long as the scope. */
export const make = (options: DhanOptions): Effect.Effect<DhanBroker, never, Scope.Scope> =>
  Effect.gen(function* () {
    const core = yield* makeCore(options)
    yield* DhanSocket.run({
      accountId: options.accountId,
      wsUrl: options.wsUrl ?? dhanWsUrl,
      tuning: core.tuning,
      login: () => core.login.current,
      redact: core.redact,
      hub: core.hub,
    })
    return {
      accountId: options.accountId,
      place: placeWith(core),
      modify: modifyWith(core),
      cancel: cancelWith(core),
      ...queriesOf(core),
      updates: Stream.fromPubSub(core.hub),
      subscribe: Effect.map(PubSub.subscribe(core.hub), (q) => Stream.fromQueue(q)),
      setCredentials: core.renew,
    }
  })

/** The engine's `Brokers` with this one Dhan account. */
export const layer = (options: DhanOptions): Layer.Layer<Brokers> =>
  Layer.scoped(
    Brokers,
    Effect.map(make(options), (broker) => Brokers.fromMap({ [options.accountId]: broker })),
  )

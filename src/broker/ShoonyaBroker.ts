/**
 * The Shoonya (Finvasia, Noren OMS) adapter of the broker port, on the OAuth-era REST API: every
 * call is `POST <baseUrl>/<Endpoint>` with the body `jData=<json>` (values as strings) and
 * `Authorization: Bearer <access token>`. The client tag travels in `remarks`; `orderByTag` scans
 * the order book for it. Shoonya refuses API MARKET and SL-MKT orders, so they are sent as
 * limits priced off `lastPrice` (or the trigger) with a protection band. An empty book arrives
 * as a `Not_Ok` "no data" object and is read as an empty list. Order updates come from the Noren
 * websocket (`ShoonyaSocket`).
 * Calls are throttled below the documented 20 orders per second; the access token is redacted
 * from every error and log line.
 */
import { Effect, Layer, Option, PubSub, type Scope, Stream } from "effect"
import type { OrderDraft } from "../orders/OrderShaping.js"
import { defaultBand } from "../orders/OrderShaping.js"
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
import { type LiveCore, makeLiveCore } from "./LiveCore.js"
import * as ShoonyaSocket from "./ShoonyaSocket.js"
import {
  fundsOf,
  holdingOf,
  jData,
  orderOf,
  positionOf,
  priceTypeCode,
  productCode,
  sideCode,
  tradeOf,
} from "./ShoonyaWire.js"

/** The REST root of the OAuth-era API. */
export const shoonyaBaseUrl = "https://api.shoonya.com/NorenWClientAPI"
/** The websocket of the OAuth-era API. */
export const shoonyaWsUrl = "wss://api.shoonya.com/NorenWSAPI/"

/** A Shoonya login: never logged, redacted from every error. */
export interface ShoonyaCredentials {
  /** The user id (`uid`). */
  readonly userId: string
  /** The trading account (`actid`); the user id when absent. */
  readonly actid?: string
  /** The OAuth access token from `GenAcsTok` (valid for the day). */
  readonly accessToken: string
}

/** One Shoonya account. */
export type ShoonyaOptions = LiveAdapterOptions<ShoonyaCredentials>

/** Shoonya's bounds: documented 20 orders/s and 200/min ([SH] issues #30, #146), kept below. */
export const shoonyaTuning: AdapterTuning = {
  orderRateLimits: [
    { limit: 18, windowMs: 1_000 },
    { limit: 190, windowMs: 60_000 },
  ],
  readRateLimits: [{ limit: 18, windowMs: 1_000 }],
  rateLimitRetriesMax: 3,
  backoffMs: 500,
  backoffMsMax: 8_000,
  requestTimeoutMs: 10_000,
  heartbeatMs: 10_000,
  silenceMs: 35_000,
  reconnectDelayMs: 1_000,
  reconnectDelayMsMax: 30_000,
}

/** A Shoonya connection: the port, plus credential renewal and an eager subscription. */
export type ShoonyaBroker = LiveBroker<ShoonyaCredentials>

type Core = LiveCore<ShoonyaCredentials>

const uid = (core: Core) => core.login.current.userId
const actid = (core: Core) => core.login.current.actid ?? core.login.current.userId

const sessionExpired = (what: string) =>
  new BrokerError({
    reason: "SessionExpired",
    message: `Shoonya session expired (${what}): log in again and renew the access token`,
  })

/** A `Not_Ok` answer: "no data" is an empty answer (None); the rest are errors. */
const notOk = (req: HttpRequest, row: WireRow, redact: Redactor): Effect.Effect<Option.Option<never>, BrokerError> => {
  const emsg = typeof row.emsg === "string" ? row.emsg : ""
  const message = redact(`${req.label}: ${emsg || "Not_Ok without emsg"}`)
  if (/session expired|invalid session/i.test(emsg)) return Effect.fail(sessionExpired(emsg))
  if (/too many requests|rate limit/i.test(emsg))
    return Effect.fail(new BrokerError({ reason: "RateLimited", message }))
  if (/no data/i.test(emsg)) return Effect.succeed(Option.none())
  if (/server timeout/i.test(emsg)) {
    return Effect.fail(new BrokerError({ reason: unclearReason(req, 500), message }))
  }
  return Effect.fail(new BrokerError({ reason: "Rejected", message }))
}

/** One endpoint call: its JSON answer, or None for Shoonya's "no data". */
const callWith = (core: Core) => (endpoint: string, data: Readonly<Record<string, string>>, mutating: boolean) => {
  const attempt = Effect.suspend(() => {
    const req: HttpRequest = {
      method: "POST",
      url: `${core.options.baseUrl ?? shoonyaBaseUrl}/${endpoint}`,
      headers: { Authorization: `Bearer ${core.login.current.accessToken}`, "Content-Type": "text/plain" },
      body: jData(data),
      mutating,
      label: endpoint,
      timeoutMs: core.tuning.requestTimeoutMs,
    }
    return Effect.gen(function* () {
      const answer = yield* core.send(req)
      if (answer.status === 401 || answer.status === 403) return yield* sessionExpired(`HTTP ${answer.status}`)
      if (answer.status === 429) {
        return yield* new BrokerError({ reason: "RateLimited", message: `${endpoint}: HTTP 429 too many requests` })
      }
      const body = yield* parseJson(req, answer, core.redact)
      if (isRow(body) && body.stat === "Not_Ok") return yield* notOk(req, body, core.redact)
      const stat = isRow(body) ? body.stat : "Ok"
      if (answer.status >= 400 || stat !== "Ok") {
        const badStatus = answer.status >= 400
        return yield* new BrokerError({
          reason: unclearReason(req, answer.status),
          field: badStatus ? "status" : "stat",
          message: core.redact(
            `${endpoint}: unexpected answer (${badStatus ? `HTTP ${answer.status}` : `stat ${JSON.stringify(stat)}`})`,
          ),
        })
      }
      return Option.some<unknown>(body)
    })
  })
  return (mutating ? core.throttleOrders : core.throttleReads)(attempt)
}

/** A list endpoint's rows ("no data" is none). */
const listWith = (core: Core) => (endpoint: string, data: Readonly<Record<string, string>>) =>
  Effect.flatMap(callWith(core)(endpoint, data, false), (answer) => {
    if (Option.isNone(answer)) return Effect.succeed<ReadonlyArray<WireRow>>([])
    const rows = answer.value
    if (!Array.isArray(rows) || !rows.every(isRow)) {
      return Effect.fail(
        new BrokerError({ reason: "Invalid", field: "body", message: `${endpoint}: expected a list of objects` }),
      )
    }
    return Effect.succeed<ReadonlyArray<WireRow>>(rows)
  })

/** A mutating endpoint's `Ok` object; "no data" is an unknown order, a garbled answer an unknown outcome. */
const commandWith = (core: Core) => (endpoint: string, data: Readonly<Record<string, string>>) =>
  Effect.flatMap(callWith(core)(endpoint, data, true), (answer) => {
    if (Option.isNone(answer)) {
      return Effect.fail(new BrokerError({ reason: "NotFound", message: `${endpoint}: no such order (no data)` }))
    }
    return isRow(answer.value)
      ? Effect.succeed(new Fields(answer.value, `${endpoint} answer`, "Timeout"))
      : Effect.fail(new BrokerError({ reason: "Timeout", field: "body", message: `${endpoint}: not an object` }))
  })

const priceText = (price: number): string => (Number.isInteger(price * 100) ? price.toFixed(2) : String(price))

/** The order's wire price fields: `prc` ("0" for a market order), `trgprc` only for stops. */
const priceFields = (o: OrderDraft): Record<string, string> => {
  const fields: Record<string, string> = { prctyp: priceTypeCode[o.orderType], prc: priceText(o.price ?? 0) }
  if (o.orderType === "SL" || o.orderType === "SL-M") fields.trgprc = priceText(o.triggerPrice ?? 0)
  return fields
}

/** The order shaped for Shoonya: through the instrument's rules, or as is for a limit of an unknown symbol. */
const shapeWith = (core: Core) => (exchange: string, symbol: string, draft: OrderDraft) => {
  const instrument = core.options.instruments.get(exchange, symbol)
  if (Option.isSome(instrument)) {
    return shapeOne(draft, instrument.value, {
      ltp: core.options.lastPrice?.(symbol, exchange) ?? null,
      band: core.options.marketBand ?? defaultBand,
      marketOrders: core.options.marketOrders ?? false,
    })
  }
  if (draft.orderType === "LIMIT" || draft.orderType === "SL") return Effect.succeed(draft)
  return Effect.fail(
    new BrokerError({
      reason: "Invalid",
      field: "symbol",
      message: `${exchange}:${symbol} is not in the instrument master; its tick is needed to send ${draft.orderType} as a limit`,
    }),
  )
}

const placeWith = (core: Core) => (req: PlaceRequest) =>
  Effect.gen(function* () {
    if (req.accountId !== core.options.accountId) {
      const message = `this is account ${core.options.accountId}`
      return yield* new BrokerError({ reason: "Invalid", field: "accountId", message })
    }
    const o = yield* shapeWith(core)(req.exchange, req.symbol, req)
    const answer = yield* commandWith(core)("PlaceOrder", {
      uid: uid(core),
      actid: actid(core),
      exch: req.exchange,
      tsym: req.symbol,
      qty: String(o.qty),
      ...priceFields(o),
      dscqty: "0",
      prd: productCode[req.product],
      trantype: sideCode[req.side],
      ret: "DAY",
      remarks: req.clientTag,
      ordersource: "API",
    })
    return { brokerOrderId: yield* answer.str("norenordno") }
  })

const orderWith = (core: Core) => (id: string) =>
  Effect.gen(function* () {
    // The history is newest first: its first row is the order now.
    const [latest] = yield* listWith(core)("SingleOrdHist", { uid: uid(core), norenordno: id })
    if (latest === undefined) return yield* new BrokerError({ reason: "NotFound", message: `no Shoonya order ${id}` })
    return yield* orderOf(latest, core.options.accountId)
  })

const modifyWith = (core: Core) => (id: string, change: ModifyRequest) =>
  Effect.gen(function* () {
    const current = yield* orderWith(core)(id)
    const o = yield* shapeWith(core)(current.exchange, current.symbol, {
      side: current.side,
      qty: change.qty ?? current.qty,
      orderType: change.orderType ?? current.orderType,
      price: change.price !== undefined ? change.price : current.price,
      triggerPrice: change.triggerPrice !== undefined ? change.triggerPrice : current.triggerPrice,
    })
    yield* commandWith(core)("ModifyOrder", {
      uid: uid(core),
      actid: actid(core),
      norenordno: id,
      exch: current.exchange,
      tsym: current.symbol,
      // The total quantity (filled + pending), as Shoonya wants it.
      qty: String(o.qty),
      ...priceFields(o),
      ret: "DAY",
    })
  })

const cancelWith = (core: Core) => (id: string) =>
  Effect.asVoid(commandWith(core)("CancelOrder", { uid: uid(core), norenordno: id }))

const byTime = <A extends { readonly placedAt: number }>(rows: ReadonlyArray<A>): Array<A> =>
  // The book is newest first; reversed, a stable sort keeps same-second orders in sending order.
  [...rows].reverse().sort((a, b) => a.placedAt - b.placedAt)

const queriesOf = (core: Core) => {
  const list = listWith(core)
  const account = () => ({ uid: uid(core), actid: actid(core) })
  const orderBook = Effect.map(
    Effect.flatMap(list("OrderBook", { uid: uid(core) }), (rows) =>
      Effect.forEach(rows, (r) => orderOf(r, core.options.accountId)),
    ),
    byTime,
  )
  return {
    orderBook,
    order: orderWith(core),
    orderByTag: (tag: string) =>
      Effect.map(
        orderBook,
        (orders): Option.Option<BrokerOrder> => Option.fromNullable(orders.find((o) => o.clientTag === tag)),
      ),
    tradeBook: Effect.map(
      Effect.flatMap(
        Effect.suspend(() => list("TradeBook", account())),
        (rows) => Effect.forEach(rows, tradeOf),
      ),
      (trades) => [...trades].reverse().sort((a, b) => a.at - b.at),
    ),
    positions: Effect.flatMap(
      Effect.suspend(() => list("PositionBook", account())),
      (rows) => Effect.forEach(rows, positionOf),
    ),
    holdings: Effect.flatMap(
      Effect.suspend(() => list("Holdings", { ...account(), prd: "C" })),
      (rows) => Effect.forEach(rows, holdingOf),
    ),
    funds: Effect.flatMap(
      Effect.suspend(() => callWith(core)("Limits", account(), false)),
      (answer) =>
        Option.isSome(answer) && isRow(answer.value)
          ? fundsOf(answer.value)
          : Effect.fail(new BrokerError({ reason: "Invalid", field: "body", message: "Limits: no limits object" })),
    ),
  }
}

const makeCore = (options: ShoonyaOptions) => makeLiveCore(options, shoonyaTuning, "shoonya")

/** Connects one Shoonya account; the websocket lives as long as the scope. */
export const make = (options: ShoonyaOptions): Effect.Effect<ShoonyaBroker, never, Scope.Scope> =>
  Effect.gen(function* () {
    const core = yield* makeCore(options)
    yield* ShoonyaSocket.run({
      accountId: options.accountId,
      wsUrl: options.wsUrl ?? shoonyaWsUrl,
      tuning: core.tuning,
      login: () => ({ uid: uid(core), actid: actid(core), accessToken: core.login.current.accessToken }),
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

/** The engine's `Brokers` with this one Shoonya account. */
export const layer = (options: ShoonyaOptions): Layer.Layer<Brokers> =>
  Layer.scoped(
    Brokers,
    Effect.map(make(options), (broker) => Brokers.fromMap({ [options.accountId]: broker })),
  )

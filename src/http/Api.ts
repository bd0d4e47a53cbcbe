/**
 * The engine's HTTP contract (HttpApi): every route with its schemas, so requests are validated at
 * the boundary and the OpenAPI document at `/api/openapi.json` is derived from the same types.
 * Every route but health, metrics and the webhook (which has its own secret) needs the token: a bearer
 * header, or the cookie the sign-in sets.
 */
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
} from "@effect/platform"
import { Schema } from "effect"
import { CommandOutcome } from "../domain/Commands.js"

const ErrorFields = { code: Schema.String, message: Schema.String, field: Schema.optional(Schema.String) }

/** The request is malformed or a field is wrong: `field` names it. */
export class BadRequest extends Schema.TaggedError<BadRequest>()(
  "BadRequest",
  ErrorFields,
  HttpApiSchema.annotations({ status: 400 }),
) {}
/** No or a wrong bearer token / webhook secret. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  ErrorFields,
  HttpApiSchema.annotations({ status: 401 }),
) {}
/** No such order, actor or account. */
export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  ErrorFields,
  HttpApiSchema.annotations({ status: 404 }),
) {}
/** A well-formed request the engine refuses (unknown symbol, off-lot quantity, risk). */
export class Refused extends Schema.TaggedError<Refused>()(
  "Refused",
  ErrorFields,
  HttpApiSchema.annotations({ status: 422 }),
) {}
/** The engine is not ready (starting, stopping, broker unreachable). */
export class NotReady extends Schema.TaggedError<NotReady>()(
  "NotReady",
  ErrorFields,
  HttpApiSchema.annotations({ status: 503 }),
) {}

/** Bearer-token authentication of the API. */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("warden/Authorization", {
  failure: Unauthorized,
  security: {
    bearer: HttpApiSecurity.bearer,
    /** The signed-in dashboard's cookie (set by `/login`, SameSite=Strict, HttpOnly). */
    cookie: HttpApiSecurity.apiKey({ in: "cookie", key: "warden_token" }),
  },
}) {}

/** An entry order as the API takes it: a `UniversalOrderCommand` whose id and source the engine may fill in. */
export const OrderRequest = Schema.Struct({
  commandId: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64))),
  accountId: Schema.String.pipe(Schema.minLength(1)),
  symbol: Schema.String.pipe(Schema.minLength(1)),
  exchange: Schema.String.pipe(Schema.minLength(1)),
  side: Schema.Literal("BUY", "SELL"),
  qty: Schema.Int.pipe(Schema.positive()),
  product: Schema.Literal("MIS", "NRML", "CNC"),
  orderType: Schema.optional(Schema.Literal("MARKET", "LIMIT", "SL", "SL-M")),
  price: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.positive()))),
  triggerPrice: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.positive()))),
  stopLoss: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.positive()))),
  target: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.positive()))),
  trailing: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        distance: Schema.Number.pipe(Schema.positive()),
        unit: Schema.optional(Schema.Literal("price", "percent", "ticks")),
      }),
    ),
  ),
  source: Schema.optional(Schema.Literal("api", "dashboard", "strategy", "option_chain", "rebalance")),
})

/** The unified exit intent (seed "position exit service"). */
export const ExitRequestBody = Schema.Struct({
  scope: Schema.Literal("ALL", "SYMBOLS"),
  symbols: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  product_type: Schema.optionalWith(Schema.Literal("MIS", "NRML", "ALL"), { default: () => "ALL" as const }),
  reason: Schema.String.pipe(Schema.minLength(1)),
  source: Schema.optionalWith(Schema.String, { default: () => "api" }),
})

/** Closing one trade by hand: its exit goes through the exit pipeline (signal, intent, gates, order). */
export const CloseTradeBody = Schema.Struct({
  /** An exit reason code (`MANUAL`, `OPERATOR_RISK` …): it becomes part of the signal's id. */
  reason: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[A-Z][A-Z0-9_]{0,31}$/, { message: () => "an exit reason code: A-Z, 0-9 and _, at most 32" }),
    ),
    { default: () => "MANUAL" },
  ),
  source: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(32)), {
    default: () => "api",
  }),
})

const Json = Schema.Unknown
const IdParam = Schema.Struct({ id: Schema.String })

const health = HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Schema.Struct({ status: Schema.Literal("ok") })))
  .add(HttpApiEndpoint.get("readyz", "/readyz").addSuccess(Json).addError(NotReady))

const orders = HttpApiGroup.make("orders")
  .add(
    HttpApiEndpoint.post("create", "/api/v1/orders")
      .setPayload(OrderRequest)
      .addSuccess(CommandOutcome, { status: 202 })
      .addError(Refused)
      .addError(BadRequest),
  )
  .add(
    HttpApiEndpoint.post("cancel", "/api/v1/orders/:id/cancel")
      .setPath(IdParam)
      .addSuccess(Json, { status: 202 })
      .addError(NotFound)
      .addError(Refused),
  )
  .add(
    HttpApiEndpoint.post("closeTrade", "/api/v1/trades/:id/close")
      .setPath(IdParam)
      .setPayload(CloseTradeBody)
      .addSuccess(Json, { status: 202 })
      .addError(NotFound)
      .addError(Refused),
  )
  .add(
    HttpApiEndpoint.post("exits", "/api/v1/exits")
      .setPayload(ExitRequestBody)
      .addSuccess(Json, { status: 202 })
      .addError(BadRequest),
  )
  .middleware(Authorization)

const users = HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.post("unwindOn", "/api/v1/users/:id/forced_unwind")
      .setPath(IdParam)
      .setPayload(Schema.Struct({ reason: Schema.optional(Schema.String) }))
      .addSuccess(Json)
      .addError(NotFound),
  )
  .add(
    HttpApiEndpoint.del("unwindOff", "/api/v1/users/:id/forced_unwind")
      .setPath(IdParam)
      .addSuccess(Json)
      .addError(NotFound),
  )
  .add(
    HttpApiEndpoint.get("unwindGet", "/api/v1/users/:id/forced_unwind")
      .setPath(IdParam)
      .addSuccess(Json)
      .addError(NotFound),
  )
  .middleware(Authorization)

const views = HttpApiGroup.make("views")
  .add(
    HttpApiEndpoint.get("trades", "/api/v1/trades")
      .setUrlParams(Schema.Struct({ status: Schema.optional(Schema.String), account: Schema.optional(Schema.String) }))
      .addSuccess(Json),
  )
  .add(HttpApiEndpoint.get("positions", "/api/v1/positions").addSuccess(Json))
  .add(HttpApiEndpoint.get("actor", "/api/v1/actors/:id").setPath(IdParam).addSuccess(Json).addError(NotFound))
  .add(HttpApiEndpoint.get("orderbook", "/dashboard/orderbook").addSuccess(Json))
  .add(HttpApiEndpoint.get("diagnosticsOrders", "/dashboard/diagnostics/orders").addSuccess(Json))
  .add(HttpApiEndpoint.get("intentVerification", "/dashboard/diagnostics/intent-verification").addSuccess(Json))
  .middleware(Authorization)

/** The operator dashboard's read side (src/dashboard/DashboardViews.ts). */
const dashboard = HttpApiGroup.make("dashboard")
  .add(HttpApiEndpoint.get("dashboardMeta", "/dashboard/meta").addSuccess(Json))
  .add(HttpApiEndpoint.get("dashboardTrades", "/dashboard/trades").addSuccess(Json))
  .add(HttpApiEndpoint.get("dashboardRisk", "/dashboard/risk").addSuccess(Json))
  .add(HttpApiEndpoint.get("dashboardReconciliation", "/dashboard/reconciliation").addSuccess(Json))
  .add(
    HttpApiEndpoint.get("dashboardInstruments", "/dashboard/instruments")
      .setUrlParams(Schema.Struct({ q: Schema.optionalWith(Schema.String, { default: () => "" }) }))
      .addSuccess(Json),
  )
  .middleware(Authorization)

/** The engine's API. */
export class WardenApi extends HttpApi.make("warden").add(health).add(orders).add(users).add(views).add(dashboard) {}

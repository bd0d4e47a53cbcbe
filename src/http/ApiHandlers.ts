/**
 * The handlers of the engine's HTTP API: each route is a thin translation onto the engine's
 * services — the same entry path, exit service and actors every other source uses, never a side
 * door. Refusals become JSON errors with a code and the field at fault.
 */
import { HttpApiBuilder } from "@effect/platform"
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Context, Effect, Layer, Option, Redacted } from "effect"
import type { TradeContext } from "../../machines/TradeMachine.js"
import { Brokers } from "../broker/Brokers.js"
import type { UniversalOrderCommand } from "../domain/Commands.js"
import { DashboardViews } from "../dashboard/DashboardViews.js"
import { ExitQualification } from "../exits/ExitQualification.js"
import { ExitService } from "../exits/ExitService.js"
import { TickHub } from "../market/TickHub.js"
import { OrderEntry } from "../orders/OrderEntry.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { Ids } from "../runtime/Ids.js"
import { Diagnostics } from "../store/Diagnostics.js"
import { Authorization, NotFound, NotReady, Refused, Unauthorized, WardenApi } from "./Api.js"
import { sameToken } from "./Token.js"

/** What the API needs to know of the engine's configuration. */
export interface ApiConfig {
  /** The bearer token; without one the API listens on loopback only and asks for none. */
  readonly token: string | null
}

/** Bearer-token checks. */
export const authorizationLayer = (config: ApiConfig) => {
  const check = (token: Redacted.Redacted<string>) =>
    config.token === null || sameToken(Redacted.value(token), config.token)
      ? Effect.void
      : Effect.fail(new Unauthorized({ code: "UNAUTHORIZED", message: "missing or wrong bearer token" }))
  return Layer.succeed(Authorization, { bearer: check, cookie: check })
}

const orDieSql = <A, E, R>(e: Effect.Effect<A, E, R>) => Effect.orDie(e)

const health = HttpApiBuilder.group(WardenApi, "health", (h) =>
  h
    .handle("healthz", () => Effect.succeed({ status: "ok" as const }))
    .handle("readyz", () =>
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const brokers = yield* Brokers
        const reachable = yield* Effect.forEach(brokers.all, ([id, b]) =>
          b.funds.pipe(
            Effect.timeout("2 seconds"),
            Effect.match({
              onFailure: (e) => ({ account: id, ok: false, error: String("message" in e ? e.message : e) }),
              onSuccess: () => ({ account: id, ok: true }),
            }),
          ),
        )
        const body = {
          migrated: true,
          rehydrated: true,
          liveActors: rt.liveIds().length,
          rehydrateMs: Math.round(rt.rehydrateMs),
          brokers: reachable,
        }
        if (reachable.some((r) => !r.ok))
          return yield* Effect.fail(new NotReady({ code: "BROKER_UNREACHABLE", message: JSON.stringify(body) }))
        return body
      }),
    ),
)

/** A command from the API's order request. */
const commandOf = (p: typeof import("./Api.js").OrderRequest.Type, commandId: string): UniversalOrderCommand => ({
  commandId,
  executionType: "ENTRY",
  source: p.source ?? "api",
  accountId: p.accountId,
  symbol: p.symbol,
  exchange: p.exchange,
  side: p.side,
  qty: p.qty,
  product: p.product,
  orderType: p.orderType ?? "MARKET",
  price: p.price ?? null,
  triggerPrice: p.triggerPrice ?? null,
  stopLoss: p.stopLoss ?? null,
  target: p.target ?? null,
  trailing: p.trailing ? { distance: p.trailing.distance, unit: p.trailing.unit ?? "price" } : null,
})

/** Closes one open trade through the exit pipeline: a signal, its intent, the gates, the exit order. */
const closeTrade = (tradeId: string, reason: string, source: string) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const view = yield* rt.view(tradeId)
    if (Option.isNone(view) || view.value.type !== "trade")
      return yield* Effect.fail(new NotFound({ code: "NOT_FOUND", message: `no trade ${tradeId}`, field: "id" }))
    if (view.value.state !== "OPEN")
      return yield* Effect.fail(
        new Refused({ code: "TRADE_NOT_OPEN", message: `trade ${tradeId} is ${view.value.state}`, field: "id" }),
      )
    const c = view.value.context as unknown as TradeContext
    const hub = yield* TickHub
    const qualification = yield* ExitQualification
    const q = yield* qualification.submit(
      {
        tradeId,
        accountId: c.accountId,
        symbol: c.symbol,
        exchange: c.exchange,
        product: c.product,
        reason,
        price: hub.last(c.symbol)?.ltp ?? c.entryPrice,
        at: yield* Clock.currentTimeMillis,
      },
      { source: `api:close:${source}`, bypassCooldown: true },
    )
    if (q._tag === "NotEligible")
      return yield* Effect.fail(new Refused({ code: q.reason, message: q.detail, field: "id" }))
    const d = q.decision
    if (!d.approved) return yield* Effect.fail(new Refused({ code: d.code, message: d.reason, field: "id" }))
    return { tradeId, intentId: q.intentId, orderId: d.executed ? d.orderId : null, executed: d.executed }
  })

const orders = HttpApiBuilder.group(WardenApi, "orders", (h) =>
  h
    .handle("create", ({ payload }) =>
      Effect.gen(function* () {
        const entry = yield* OrderEntry
        const commandId = payload.commandId ?? (yield* Effect.flatMap(Ids, (ids) => ids.next("cmd")))
        return yield* entry
          .submit(commandOf(payload, commandId))
          .pipe(Effect.mapError((r) => new Refused({ code: "REFUSED", message: r.message, field: r.field })))
      }),
    )
    .handle("cancel", ({ path }) =>
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const view = yield* rt.view(path.id)
        if (Option.isNone(view) || view.value.type !== "order")
          return yield* Effect.fail(new NotFound({ code: "NOT_FOUND", message: `no order ${path.id}`, field: "id" }))
        const r = yield* rt.send(path.id, { type: "cmd.cancel" }, "api:cancel")
        if (r.refused)
          return yield* Effect.fail(new Refused({ code: "NOT_CANCELLABLE", message: r.refused, field: "id" }))
        return { orderId: path.id, state: r.to }
      }),
    )
    .handle("closeTrade", ({ path, payload }) => closeTrade(path.id, payload.reason, payload.source))
    .handle("exits", ({ payload }) =>
      Effect.flatMap(ExitService, (exits) =>
        exits.requestExit({
          scope: payload.scope,
          symbols: payload.symbols,
          product: payload.product_type,
          reason: payload.reason,
          source: payload.source,
        }),
      ),
    ),
)

const accountView = (id: string) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const view = yield* rt.view(id)
    if (Option.isNone(view) || view.value.type !== "account")
      return yield* Effect.fail(new NotFound({ code: "NOT_FOUND", message: `no account ${id}`, field: "id" }))
    const c = view.value.context as {
      forcedUnwind?: boolean
      unwindReason?: string | null
      unwindSince?: number | null
    }
    return {
      accountId: id,
      state: view.value.state,
      forcedUnwind: c.forcedUnwind === true,
      reason: c.unwindReason ?? null,
      since: c.unwindSince ?? null,
    }
  })

/** Makes sure the account actor exists (accounts with a broker connection only). */
const ensureAccount = (id: string) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    if (Option.isSome(yield* rt.view(id))) return
    const brokers = yield* Brokers
    if (!brokers.all.has(id))
      return yield* Effect.fail(new NotFound({ code: "NOT_FOUND", message: `no account ${id}`, field: "id" }))
    yield* rt.spawn("account", id, { accountId: id, createdAt: yield* Clock.currentTimeMillis }, "api:account")
  })

const users = HttpApiBuilder.group(WardenApi, "users", (h) =>
  h
    .handle("unwindOn", ({ path, payload }) =>
      Effect.gen(function* () {
        yield* ensureAccount(path.id)
        yield* Effect.flatMap(ActorRuntime, (rt) =>
          rt.send(path.id, { type: "unwind.on", reason: payload.reason ?? "forced unwind" }, "api:forced_unwind"),
        )
        return yield* accountView(path.id)
      }),
    )
    .handle("unwindOff", ({ path }) =>
      Effect.gen(function* () {
        yield* ensureAccount(path.id)
        yield* Effect.flatMap(ActorRuntime, (rt) => rt.send(path.id, { type: "unwind.off" }, "api:forced_unwind"))
        return yield* accountView(path.id)
      }),
    )
    .handle("unwindGet", ({ path }) => Effect.zipRight(ensureAccount(path.id), accountView(path.id))),
)

const views = HttpApiBuilder.group(WardenApi, "views", (h) =>
  h
    .handle("trades", ({ urlParams }) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        orDieSql(
          sql`SELECT * FROM trades WHERE (${urlParams.status ?? null} IS NULL OR status = ${urlParams.status ?? null}) AND (${urlParams.account ?? null} IS NULL OR account_id = ${urlParams.account ?? null}) ORDER BY opened_at DESC LIMIT 500`,
        ),
      ),
    )
    .handle("positions", () =>
      Effect.gen(function* () {
        const brokers = yield* Brokers
        return yield* Effect.forEach(brokers.all, ([accountId, b]) =>
          Effect.map(Effect.either(Effect.all({ positions: b.positions, holdings: b.holdings })), (r) =>
            r._tag === "Right" ? { accountId, ...r.right } : { accountId, error: r.left.message },
          ),
        )
      }),
    )
    .handle("actor", ({ path }) =>
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        const view = yield* rt.view(path.id)
        if (Option.isNone(view))
          return yield* Effect.fail(new NotFound({ code: "NOT_FOUND", message: `no actor ${path.id}`, field: "id" }))
        const journal = yield* orDieSql(
          sql`SELECT seq, event_type, event, from_state, to_state, at, cause, refused FROM journal WHERE actor_id = ${path.id} ORDER BY seq`,
        )
        return { ...view.value, journal }
      }),
    )
    .handle("orderbook", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const brokers = yield* Brokers
        const system = yield* orDieSql(sql`SELECT * FROM orders ORDER BY created_at DESC LIMIT 500`)
        const broker = yield* Effect.forEach(brokers.all, ([accountId, b]) =>
          Effect.map(Effect.either(b.orderBook), (r) =>
            r._tag === "Right" ? { accountId, orders: r.right } : { accountId, error: r.left.message },
          ),
        )
        const diagnostics = yield* Diagnostics
        const { counts } = yield* diagnostics.orders
        return { counts, system, broker }
      }),
    )
    .handle("diagnosticsOrders", () => Effect.flatMap(Diagnostics, (d) => d.orders))
    .handle("intentVerification", () =>
      Effect.flatMap(Diagnostics, (d) => Effect.map(d.checks, (checks) => ({ ok: checks.every((c) => c.ok), checks }))),
    ),
)

const dashboard = HttpApiBuilder.group(WardenApi, "dashboard", (h) =>
  Effect.gen(function* () {
    const config = yield* DashboardConfig
    return h
      .handle("dashboardMeta", () => Effect.flatMap(DashboardViews, (v) => v.meta(config.tokenRequired)))
      .handle("dashboardTrades", () => Effect.flatMap(DashboardViews, (v) => v.trades))
      .handle("dashboardRisk", () => Effect.flatMap(DashboardViews, (v) => v.risk))
      .handle("dashboardReconciliation", () => Effect.flatMap(DashboardViews, (v) => v.reconciliation))
      .handle("dashboardInstruments", ({ urlParams }) => Effect.map(DashboardViews, (v) => v.search(urlParams.q)))
  }),
)

/** What the dashboard's handlers know of the configuration. */
export class DashboardConfig extends Context.Tag("warden/DashboardConfig")<
  DashboardConfig,
  { readonly tokenRequired: boolean }
>() {}

/** Every handler of the API. */
export const handlersLayer = Layer.mergeAll(health, orders, users, views, dashboard)

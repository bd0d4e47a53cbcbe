/**
 * The audit's HTTP routes, as an `@effect/platform` HttpRouter meant to be mounted at `/audit`:
 *
 *   GET /                               the page (views rendered by its script)
 *   GET /api/actors?type&state&symbol&account&from&to&cursor&limit   one page of the actor list
 *   GET /api/facets                     types, states, symbols and accounts for the filters
 *   GET /api/actors/:id?offset=N        one actor in full (chart, path, steps, timeline, chain)
 *   GET /api/actors/:id/report.html     the self-contained report of the actor and its chain
 *   GET /api/machines                   every machine version known
 *   GET /api/machines/:type/:version    one machine's chart
 *
 * Everything is read-only GET; the routes need `AuditService` (on the engine's SqlClient).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, Effect } from "effect"
import { clientScript, pageHtml, reportHtml } from "./AuditPage.js"
import { AuditService } from "./AuditService.js"
import type { ActorFilter } from "./AuditStore.js"
import { currentDefinitions } from "./MachineDefinitions.js"
import { flatten } from "./ChartDefinition.js"

/** Options of the audit routes. */
export interface AuditRouteOptions {
  /** The path of the engine's websocket of committed transitions; "" when there is none (standalone). */
  readonly liveSocketPath?: string
}

/** Rows per page of the actor list unless the page asks for another size. */
export const actorPageRowsDefault = 50

const json = (body: unknown, status = 200) =>
  HttpServerResponse.unsafeJson(body, { status, headers: { "cache-control": "no-store" } })

const notFound = (what: string) => json({ error: `${what} not found` }, 404)

const one = (v: string | ReadonlyArray<string> | undefined): string | undefined => {
  const s = Array.isArray(v) ? v[0] : (v as string | undefined)
  return s === undefined || s === "" ? undefined : s
}

/** `2026-03-02T09:15:00` (UTC, as the page's datetime fields send it) or epoch ms. */
const timeParam = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`)
  return Number.isFinite(ms) ? ms : undefined
}

const listActors = Effect.gen(function* () {
  const q = yield* HttpServerRequest.ParsedSearchParams
  const audit = yield* AuditService
  const filter: ActorFilter = {
    type: one(q.type),
    state: one(q.state),
    symbol: one(q.symbol),
    account: one(q.account),
    from: timeParam(one(q.from)),
    to: timeParam(one(q.to)),
  }
  const limit = Number(one(q.limit) ?? actorPageRowsDefault)
  return json(yield* audit.actors(filter, one(q.cursor) ?? null, Number.isFinite(limit) ? limit : actorPageRowsDefault))
})

const facets = Effect.gen(function* () {
  const audit = yield* AuditService
  const { symbols, accounts } = yield* audit.facets
  const defs = currentDefinitions()
  const states = Object.fromEntries(
    defs.map((d) => [d.actorType, flatten(d.root).flatMap((n) => (n.path === "" ? [] : [n.path]))]),
  )
  return json({ types: defs.map((d) => d.actorType), states, symbols, accounts })
})

const actorDetail = Effect.gen(function* () {
  const { id } = yield* HttpRouter.params
  const q = yield* HttpServerRequest.ParsedSearchParams
  const audit = yield* AuditService
  const detail = yield* audit.detail(id ?? "", Number(one(q.offset) ?? 0) || 0)
  return detail ? json(detail) : notFound(`actor ${id}`)
})

const actorReport = Effect.gen(function* () {
  const { id } = yield* HttpRouter.params
  const audit = yield* AuditService
  const report = yield* audit.report(id ?? "", yield* Clock.currentTimeMillis)
  if (!report) return notFound(`actor ${id}`)
  return HttpServerResponse.html(reportHtml(report, yield* clientScript)).pipe(
    HttpServerResponse.setHeader(
      "content-disposition",
      `attachment; filename="audit-${(id ?? "").replace(/[^A-Za-z0-9_.-]/g, "_")}.html"`,
    ),
  )
})

const machineChart = Effect.gen(function* () {
  const { type, version } = yield* HttpRouter.params
  const audit = yield* AuditService
  const known = (yield* audit.machines).some((m) => m.actorType === type && m.version === version)
  return known ? json(yield* audit.machineChart(type!, version!)) : notFound(`machine ${type} ${version}`)
})

/** The audit routes; mount with `HttpRouter.mount("/audit", auditRouter())`. */
export const auditRouter = (options: AuditRouteOptions = {}) => {
  const live = options.liveSocketPath ?? "/ws"
  const page = Effect.map(clientScript, (script) =>
    HttpServerResponse.html(pageHtml(script, live)).pipe(HttpServerResponse.setHeader("cache-control", "no-store")),
  )
  return HttpRouter.empty.pipe(
    HttpRouter.get("/", page),
    HttpRouter.get("/api/actors", listActors),
    HttpRouter.get("/api/facets", facets),
    HttpRouter.get("/api/actors/:id", actorDetail),
    HttpRouter.get("/api/actors/:id/report.html", actorReport),
    HttpRouter.get(
      "/api/machines",
      Effect.flatMap(AuditService, (a) => Effect.map(a.machines, (m) => json(m))),
    ),
    HttpRouter.get("/api/machines/:type/:version", machineChart),
    HttpRouter.catchTag("SqlError", (e) => Effect.succeed(json({ error: `database: ${e.message}` }, 500))),
  )
}

/**
 * The audit routes mounted at `/audit` on an HttpApi's router (`HttpApiBuilder.Router`), for a
 * server built with `HttpApiBuilder.serve`; needs `AuditService.Default` (on the engine's SqlClient).
 */
export const auditApiRoutesLayer = (options: AuditRouteOptions = {}) =>
  HttpApiBuilder.Router.use((router) =>
    Effect.gen(function* () {
      const audit = yield* AuditService
      yield* router.mount("/audit", auditRouter(options).pipe(HttpRouter.provideService(AuditService, audit)))
    }),
  )

/**
 * The engine's HTTP server: the API (HttpApi, with its OpenAPI document at `/api/openapi.json`),
 * `/metrics` in Prometheus text, the TradingView webhook, the `/ws` live stream, the operator
 * dashboard at `/` and the audit at `/audit` (both behind the sign-in when a token is set), on one
 * Node server. Without a token it listens on loopback only. Request bodies are limited in size.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import {
  type HttpApp,
  HttpApiBuilder,
  HttpIncomingMessage,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse,
} from "@effect/platform"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import * as UrlParams from "@effect/platform/UrlParams"
import { DashboardViews } from "../dashboard/DashboardViews.js"
import { dashboardHtml, dashboardScript, safeNext, signInHtml } from "../dashboard/DashboardPage.js"
import type { ExitService } from "../exits/ExitService.js"
import type { InstrumentMaster } from "../orders/Instruments.js"
import type { OrderEntry } from "../orders/OrderEntry.js"
import type { Ids } from "../runtime/Ids.js"
import { auditApiRoutesLayer } from "../audit/AuditRoutes.js"
import { WardenApi } from "./Api.js"
import { authorizationLayer, DashboardConfig, handlersLayer } from "./ApiHandlers.js"
import { attachLiveStream } from "./LiveStream.js"
import { sameToken, tokenOf } from "./Token.js"
import { prometheusText } from "./PrometheusMetrics.js"
import { type WebhookConfig, webhookRoute } from "./WebhookRoute.js"

/** The server's settings. */
export interface HttpConfig {
  readonly port: number
  /** The interface to listen on when a token is set; loopback is forced without one. */
  readonly host: string
  readonly token: string | null
  readonly webhook: WebhookConfig
  /** Largest request body accepted. */
  readonly bodyBytesMax: number
}

/** Bytes of an oversized body read (and dropped) before the 413, so the client reads the answer. */
const oversizedDrainBytesMax = 16 * 1024 * 1024

/**
 * Refuses a body larger than `bytesMax` with a 413 JSON error before reading it; a body without a
 * length is limited while it is read.
 */
const limitBody = <E, R>(app: HttpApp.Default<E, R>, bytesMax: number): HttpApp.Default<E, R> =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const length = Number(request.headers["content-length"] ?? 0)
    if (length > bytesMax) {
      const incoming = NodeHttpServerRequest.toIncomingMessage(request)
      if (length <= oversizedDrainBytesMax) incoming.resume()
      return HttpServerResponse.unsafeJson(
        {
          code: "BODY_TOO_LARGE",
          message: `the body is ${length} bytes; at most ${bytesMax} are accepted`,
          field: "body",
        },
        { status: 413, headers: length > oversizedDrainBytesMax ? { connection: "close" } : {} },
      )
    }
    return yield* HttpIncomingMessage.withMaxBodySize(app, Option.some(bytesMax))
  })

/** Whether a path is one of the engine's pages (the dashboard at `/`, the audit at `/audit`). */
const isPage = (path: string) =>
  path === "/" || path === "/index.html" || path === "/audit" || path.startsWith("/audit/")

/** The request carries a bearer header (a program), not only the dashboard's cookie (a browser). */
const hasBearer = (headers: Readonly<Record<string, string | undefined>>) =>
  (headers.authorization ?? "").startsWith("Bearer ")

/** The header the dashboard's own requests carry; a cross-site form or link cannot set it. */
export const csrfHeader = "x-warden-csrf"

/**
 * With a token configured, the pages need it too, and show the sign-in form without it. A browser
 * cannot send a bearer header on a page load: signing in (`/login`) sets an HttpOnly, SameSite
 * cookie that the page's own requests (and `/ws`) then carry. A state-changing request signed in
 * by that cookie alone must also carry `x-warden-csrf`, which no other site can make a browser send.
 */
const guardPages = <E, R>(app: HttpApp.Default<E, R>, token: string | null): HttpApp.Default<E, R> =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (token === null) return yield* app
    const path = new URL(request.url, "http://localhost").pathname
    const given = tokenOf(request.headers, request.url)
    const signedIn = given !== null && sameToken(given, token)
    if (isPage(path) && !signedIn) {
      const wantsHtml = (request.headers.accept ?? "").includes("text/html")
      return wantsHtml
        ? HttpServerResponse.html(signInHtml({ next: request.url })).pipe(HttpServerResponse.setStatus(401))
        : HttpServerResponse.unsafeJson(
            { code: "UNAUTHORIZED", message: "the pages need the engine's token: sign in at /login" },
            { status: 401 },
          )
    }
    const changes = request.method !== "GET" && request.method !== "HEAD"
    const exempt = path === "/login" || path === "/logout" || path.startsWith("/webhook/")
    if (changes && !exempt && signedIn && !hasBearer(request.headers) && request.headers[csrfHeader] !== "1") {
      return HttpServerResponse.unsafeJson(
        {
          code: "FORBIDDEN",
          message: `a signed-in browser's request needs the ${csrfHeader} header`,
          field: csrfHeader,
        },
        { status: 403 },
      )
    }
    return yield* app
  })

/** The cookie the sign-in sets. */
const withTokenCookie = (response: HttpServerResponse.HttpServerResponse, value: string, maxAge?: number) =>
  HttpServerResponse.unsafeSetCookie(response, "warden_token", value, {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    ...(maxAge === undefined ? {} : { maxAge }),
  })

/** `GET /login` (the form, or `?token=` for a link), `POST /login` (the form), `POST /logout`. */
const signInRoutes = (token: string | null) =>
  HttpApiBuilder.Router.use((router) =>
    Effect.gen(function* () {
      const signedIn = (given: string | null | undefined, next: string) =>
        token !== null && (given === null || given === undefined || !sameToken(given, token))
          ? HttpServerResponse.html(signInHtml({ next, error: given ? "That is not the engine's token." : null })).pipe(
              HttpServerResponse.setStatus(401),
            )
          : withTokenCookie(HttpServerResponse.empty({ status: 303, headers: { location: next } }), given ?? "")
      yield* router.get(
        "/login",
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const q = new URL(request.url, "http://localhost").searchParams
          const next = safeNext(q.get("next"))
          const given = q.get("token")
          if (given === null && token !== null) return HttpServerResponse.html(signInHtml({ next }))
          return signedIn(given, next)
        }),
      )
      yield* router.post(
        "/login",
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const form = yield* Effect.orElseSucceed(request.urlParamsBody, () => [] as UrlParams.UrlParams)
          const given = Option.getOrElse(UrlParams.getFirst(form, "token"), () => "")
          return signedIn(given, safeNext(Option.getOrNull(UrlParams.getFirst(form, "next"))))
        }),
      )
      yield* router.post(
        "/logout",
        Effect.succeed(
          withTokenCookie(HttpServerResponse.empty({ status: 303, headers: { location: "/login" } }), "", 0),
        ),
      )
    }),
  )

/** The dashboard's page at `/`. */
const dashboardRoutes = (token: string | null) =>
  HttpApiBuilder.Router.use((router) =>
    Effect.gen(function* () {
      const page = Effect.map(dashboardScript, (script) =>
        HttpServerResponse.html(dashboardHtml(script, { live: "/ws", signOut: token !== null })).pipe(
          HttpServerResponse.setHeader("cache-control", "no-store"),
        ),
      )
      yield* router.get("/", page)
      yield* router.get("/index.html", page)
    }),
  )

/** The host the server actually binds: loopback unless a token protects the API. */
export const bindHost = (config: HttpConfig): string => (config.token === null ? "127.0.0.1" : config.host)

/**
 * A Node server that holds the requests arriving before the app's handler is attached and hands
 * them to it once it is. `@effect/platform-node` listens first and attaches its handler only when
 * the app is built; a request in between would find no listener and never be answered (a client
 * polling `/healthz` while the engine starts waited until its own timeout).
 */
export const holdingServer = (): Server => {
  const server = createServer()
  const held: Array<[IncomingMessage, ServerResponse]> = []
  const hold = (req: IncomingMessage, res: ServerResponse) => held.push([req, res])
  const onListener = (event: string | symbol, listener: (req: IncomingMessage, res: ServerResponse) => void) => {
    if (event !== "request" || listener === hold) return
    server.off("request", hold)
    server.off("newListener", onListener)
    // The handler is being attached: the held requests go to it as soon as it is.
    queueMicrotask(() => {
      for (const [req, res] of held.splice(0)) listener(req, res)
    })
  }
  server.on("request", hold)
  server.on("newListener", onListener)
  return server
}

/** The HTTP server as a layer; it needs the engine's services. */
export const httpLayer = (config: HttpConfig) => {
  const server = holdingServer()
  const extraRoutes = HttpApiBuilder.Router.use((router) =>
    Effect.gen(function* () {
      yield* router.get(
        "/metrics",
        Effect.map(prometheusText, (text) =>
          HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4" }),
        ),
      )
      // Route handlers take no services of their own: the webhook's are captured here, once.
      const services = yield* Effect.context<ExitService | OrderEntry | InstrumentMaster | Ids>()
      yield* router.post("/webhook/tradingview", Effect.provide(webhookRoute(config.webhook), services))
    }),
  )
  const dashboardViews = Layer.merge(
    DashboardViews.Default,
    Layer.succeed(DashboardConfig, { tokenRequired: config.token !== null }),
  )
  const api = HttpApiBuilder.api(WardenApi).pipe(
    Layer.provide(handlersLayer),
    Layer.provide(dashboardViews),
    Layer.provide(authorizationLayer(config)),
  )
  const serve = HttpApiBuilder.serve((app) => guardPages(limitBody(app, config.bodyBytesMax), config.token)).pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
    Layer.provide(auditApiRoutesLayer()),
    Layer.provide(extraRoutes),
    Layer.provide(signInRoutes(config.token)),
    Layer.provide(dashboardRoutes(config.token)),
    Layer.provide(api),
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(() => server, { port: config.port, host: bindHost(config) })),
  )
  // The live stream attaches once the server is up (it takes over the server's upgrades).
  return Layer.scopedDiscard(attachLiveStream(server, config.token)).pipe(Layer.provide(serve))
}

/**
 * The engine's HTTP server: the API (HttpApi, with its OpenAPI document at `/api/openapi.json`),
 * `/metrics` in Prometheus text, the TradingView webhook, and the `/ws` live stream, on one Node
 * server. Without a token it listens on loopback only. Request bodies are limited in size.
 */
import { createServer } from "node:http"
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
import type { ExitService } from "../exits/ExitService.js"
import type { InstrumentMaster } from "../orders/Instruments.js"
import type { OrderEntry } from "../orders/OrderEntry.js"
import type { Ids } from "../runtime/Ids.js"
import { auditApiRoutesLayer } from "../audit/AuditRoutes.js"
import { WardenApi } from "./Api.js"
import { authorizationLayer, handlersLayer } from "./ApiHandlers.js"
import { attachLiveStream } from "./LiveStream.js"
import { tokenOf } from "./Token.js"
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

/**
 * With a token configured, the audit pages need it too. A browser cannot send a bearer header on a
 * page load: `/login?token=…` sets a cookie that the page's own requests (and `/ws`) then carry.
 */
const guardPages = <E, R>(app: HttpApp.Default<E, R>, token: string | null): HttpApp.Default<E, R> =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (token === null || !request.url.startsWith("/audit")) return yield* app
    if (tokenOf(request.headers, request.url) !== token) {
      return HttpServerResponse.unsafeJson(
        { code: "UNAUTHORIZED", message: "the audit pages need the engine's token: open /login?token=…" },
        { status: 401 },
      )
    }
    return yield* app
  })

/** The host the server actually binds: loopback unless a token protects the API. */
export const bindHost = (config: HttpConfig): string => (config.token === null ? "127.0.0.1" : config.host)

/** The HTTP server as a layer; it needs the engine's services. */
export const httpLayer = (config: HttpConfig) => {
  const server = createServer()
  const extraRoutes = HttpApiBuilder.Router.use((router) =>
    Effect.gen(function* () {
      yield* router.get(
        "/login",
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const given = new URL(request.url, "http://localhost").searchParams.get("token")
          if (config.token !== null && given !== config.token) {
            return HttpServerResponse.unsafeJson(
              { code: "UNAUTHORIZED", message: "wrong token", field: "token" },
              { status: 401 },
            )
          }
          return HttpServerResponse.empty({ status: 302, headers: { location: "/audit/" } }).pipe(
            HttpServerResponse.unsafeSetCookie("warden_token", given ?? "", {
              path: "/",
              httpOnly: true,
              sameSite: "strict",
            }),
          )
        }),
      )
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
  const api = HttpApiBuilder.api(WardenApi).pipe(
    Layer.provide(handlersLayer),
    Layer.provide(authorizationLayer(config)),
  )
  const serve = HttpApiBuilder.serve((app) => guardPages(limitBody(app, config.bodyBytesMax), config.token)).pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
    Layer.provide(auditApiRoutesLayer()),
    Layer.provide(extraRoutes),
    Layer.provide(api),
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(() => server, { port: config.port, host: bindHost(config) })),
  )
  // The live stream attaches once the server is up (it takes over the server's upgrades).
  return Layer.scopedDiscard(attachLiveStream(server, config.token)).pipe(Layer.provide(serve))
}

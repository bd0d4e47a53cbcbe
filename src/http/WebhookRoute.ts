/**
 * `POST /webhook/tradingview`: a TradingView alert (JSON or a plain-text template), authenticated
 * by the webhook's secret, becomes the same command or exit request as every other source.
 * Answers 202 with the command id; a bad body is a 400 naming the field, a wrong secret a 401, and
 * neither writes anything.
 */
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Either, ParseResult, Schema } from "effect"
import { ExitService } from "../exits/ExitService.js"
import { InstrumentMaster } from "../orders/Instruments.js"
import { OrderEntry } from "../orders/OrderEntry.js"
import { Ids } from "../runtime/Ids.js"
import { bodyObject, WebhookAlert } from "./TradingViewWebhook.js"

/** The webhook's settings. */
export interface WebhookConfig {
  readonly secret: string
  /** The account an alert without `account` trades. */
  readonly accountId: string
}

const error = (status: number, code: string, message: string, field?: string) =>
  HttpServerResponse.unsafeJson({ code, message, ...(field ? { field } : {}) }, { status })

/** The webhook's request handler. */
export const webhookRoute = (config: WebhookConfig) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Effect.either(request.text)
    if (Either.isLeft(text)) return error(413, "BODY_TOO_LARGE", "the body could not be read or is too large", "body")
    const parsed = bodyObject(text.right)
    if (Either.isLeft(parsed)) return error(400, "BAD_REQUEST", parsed.left.message, parsed.left.field)
    const decoded = Schema.decodeUnknownEither(WebhookAlert)(parsed.right)
    if (Either.isLeft(decoded)) {
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
      const field = issue?.path.join(".") || "body"
      return error(400, "BAD_REQUEST", `${field}: ${issue?.message ?? "invalid"}`, field)
    }
    const alert = decoded.right
    if (config.secret === "")
      return error(401, "UNAUTHORIZED", "the webhook is off: no secret is configured (webhook.secret)", "secret")
    if (alert.secret !== config.secret) return error(401, "UNAUTHORIZED", "wrong webhook secret", "secret")
    const instruments = yield* InstrumentMaster
    const instrument = instruments.all.find(
      (i) => i.symbol === alert.symbol && (alert.exchange === undefined || i.exchange === alert.exchange),
    )
    if (!instrument) return error(422, "REFUSED", `unknown symbol ${alert.symbol}`, "symbol")
    if (alert.action === "EXIT") {
      const result = yield* Effect.flatMap(ExitService, (exits) =>
        exits.requestExit({
          scope: "SYMBOLS",
          symbols: [alert.symbol],
          product: alert.product === "CNC" ? "ALL" : alert.product,
          reason: "WEBHOOK",
          source: "webhook",
        }),
      )
      return HttpServerResponse.unsafeJson({ action: "EXIT", ...result }, { status: 202 })
    }
    const side = alert.action
    const qty = alert.qty
    if (qty === undefined) return error(400, "BAD_REQUEST", "qty is required to open a trade", "qty")
    const commandId = alert.id ?? (yield* Effect.flatMap(Ids, (ids) => ids.next("tv")))
    const outcome = yield* Effect.flatMap(OrderEntry, (entry) =>
      entry.submit({
        commandId,
        executionType: "ENTRY",
        source: "webhook",
        accountId: alert.account ?? config.accountId,
        symbol: alert.symbol,
        exchange: instrument.exchange,
        side,
        qty,
        product: alert.product,
        orderType: alert.price !== undefined ? "LIMIT" : "MARKET",
        price: alert.price ?? null,
        triggerPrice: null,
        stopLoss: alert.stopLoss ?? null,
        target: alert.target ?? null,
        trailing: alert.trailing ? { distance: alert.trailing.distance, unit: alert.trailing.unit ?? "price" } : null,
      }),
    ).pipe(Effect.either)
    if (Either.isLeft(outcome)) return error(422, "REFUSED", outcome.left.message, outcome.left.field)
    return HttpServerResponse.unsafeJson(outcome.right, { status: 202 })
  })

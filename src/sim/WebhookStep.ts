/**
 * A scenario's `webhook` step: the body goes through the TradingView route's own parsing
 * (`bodyObject`, `WebhookAlert`) and the same decisions as `POST /webhook/tradingview` (secret,
 * instrument, EXIT → `ExitService.requestExit`, BUY/SELL → `OrderEntry.submit`), answering the
 * status and body the route would. The route lives in `src/http/WebhookRoute.ts` and builds an
 * HTTP response; this mirrors its decision without the HTTP types (see the report of issue 6).
 */
import { Effect, Either, ParseResult, Schema } from "effect"
import { ExitService } from "../exits/ExitService.js"
import { bodyObject, WebhookAlert } from "../http/TradingViewWebhook.js"
import { InstrumentMaster } from "../orders/Instruments.js"
import { OrderEntry } from "../orders/OrderEntry.js"
import { Ids } from "../runtime/Ids.js"

/** The secret a scenario's webhook bodies carry. */
export const scenarioWebhookSecret = "scenario"

/** What the route would have answered. */
export interface WebhookAnswer {
  readonly status: number
  readonly body: unknown
}

const error = (status: number, code: string, message: string, field?: string): WebhookAnswer => ({
  status,
  body: { code, message, ...(field ? { field } : {}) },
})

/** Runs one webhook body as the route would, for the account `accountId` when the body names none. */
export const runWebhook = (body: unknown, accountId: string) =>
  Effect.gen(function* () {
    const parsed = bodyObject(typeof body === "string" ? body : JSON.stringify(body))
    if (Either.isLeft(parsed)) return error(400, "BAD_REQUEST", parsed.left.message, parsed.left.field)
    const decoded = Schema.decodeUnknownEither(WebhookAlert)(parsed.right)
    if (Either.isLeft(decoded)) {
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
      const field = issue?.path.join(".") || "body"
      return error(400, "BAD_REQUEST", `${field}: ${issue?.message ?? "invalid"}`, field)
    }
    const alert = decoded.right
    if (alert.secret !== scenarioWebhookSecret) return error(401, "UNAUTHORIZED", "wrong webhook secret", "secret")
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
      return { status: 202, body: { action: "EXIT", ...result } }
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
        accountId: alert.account ?? accountId,
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
    return { status: 202, body: outcome.right }
  })

/**
 * TradingView alert bodies: JSON (`{"secret", "symbol", "action", "qty", "product", …}`), or the
 * plain-text templates users commonly send: `key=value` pairs (`action=BUY symbol=NIFTY26DECFUT
 * qty=65 secret=…`, separated by spaces, commas or new lines) or `BUY NIFTY26DECFUT 65 MIS
 * secret=…`. `action` BUY or SELL opens a trade of that direction; EXIT exits the open trades on
 * the symbol. Parsing names the field at fault.
 */
import { Effect, Either, ParseResult, Schema } from "effect"
import { ExitService } from "../exits/ExitService.js"
import { InstrumentMaster } from "../orders/Instruments.js"
import { OrderEntry } from "../orders/OrderEntry.js"
import { Ids } from "../runtime/Ids.js"

/** An alert, parsed. */
export const WebhookAlert = Schema.Struct({
  secret: Schema.String,
  symbol: Schema.String.pipe(Schema.minLength(1)),
  action: Schema.transform(Schema.String, Schema.Literal("BUY", "SELL", "EXIT"), {
    strict: false,
    decode: (s) => s.toUpperCase(),
    encode: (s) => s,
  }),
  qty: Schema.optional(Schema.Int.pipe(Schema.positive())),
  product: Schema.optionalWith(Schema.Literal("MIS", "NRML", "CNC"), { default: () => "MIS" as const }),
  exchange: Schema.optional(Schema.String),
  account: Schema.optional(Schema.String),
  price: Schema.optional(Schema.Number),
  stopLoss: Schema.optional(Schema.Number),
  target: Schema.optional(Schema.Number),
  trailing: Schema.optional(
    Schema.Struct({ distance: Schema.Number, unit: Schema.optional(Schema.Literal("price", "percent", "ticks")) }),
  ),
  id: Schema.optional(Schema.String),
})
export type WebhookAlert = typeof WebhookAlert.Type

const numeric = new Set(["qty", "price", "stopLoss", "target"])

/** A text body as an object: JSON, `key=value` pairs, or `ACTION SYMBOL [QTY] [PRODUCT] key=value…`. */
export const bodyObject = (
  text: string,
): Either.Either<Record<string, unknown>, { field: string; message: string }> => {
  const trimmed = text.trim()
  if (trimmed === "") return Either.left({ field: "body", message: "empty body" })
  if (trimmed.startsWith("{")) {
    try {
      const v = JSON.parse(trimmed) as unknown
      return v && typeof v === "object" && !Array.isArray(v)
        ? Either.right(v as Record<string, unknown>)
        : Either.left({ field: "body", message: "JSON body must be an object" })
    } catch (e) {
      return Either.left({ field: "body", message: `malformed JSON: ${e instanceof Error ? e.message : String(e)}` })
    }
  }
  const out: Record<string, unknown> = {}
  const positional: Array<string> = []
  for (const token of trimmed.split(/[\s,;]+/).filter(Boolean)) {
    const eq = token.indexOf("=")
    if (eq > 0) {
      const key = token.slice(0, eq)
      const value = token.slice(eq + 1)
      out[key] = numeric.has(key) && value !== "" && !Number.isNaN(Number(value)) ? Number(value) : value
    } else positional.push(token)
  }
  const [action, symbol, qty, product] = positional
  if (action !== undefined && out.action === undefined) out.action = action
  if (symbol !== undefined && out.symbol === undefined) out.symbol = symbol
  if (qty !== undefined && out.qty === undefined) out.qty = Number.isNaN(Number(qty)) ? qty : Number(qty)
  if (product !== undefined && out.product === undefined) out.product = product.toUpperCase()
  return Either.right(out)
}

/** The webhook's settings. */
export interface WebhookConfig {
  readonly secret: string
  /** The account an alert without `account` trades. */
  readonly accountId: string
}

/** What the webhook answers. */
export interface WebhookAnswer {
  readonly status: number
  readonly body: unknown
}

const error = (status: number, code: string, message: string, field?: string): WebhookAnswer => ({
  status,
  body: { code, message, ...(field ? { field } : {}) },
})

/**
 * The webhook's answer to one body: its status and JSON body. The HTTP route and the simulator's
 * webhook steps both use it, so an alert means the same wherever it comes from.
 */
export const answerWebhook = (text: string, config: WebhookConfig) =>
  Effect.gen(function* () {
    const parsed = bodyObject(text)
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
    return { status: 202, body: outcome.right }
  })

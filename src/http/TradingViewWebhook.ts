/**
 * TradingView alert bodies: JSON (`{"secret", "symbol", "action", "qty", "product", …}`), or the
 * plain-text templates users commonly send: `key=value` pairs (`action=BUY symbol=NIFTY26DECFUT
 * qty=65 secret=…`, separated by spaces, commas or new lines) or `BUY NIFTY26DECFUT 65 MIS
 * secret=…`. `action` BUY or SELL opens a trade of that direction; EXIT exits the open trades on
 * the symbol. Parsing names the field at fault.
 */
import { Either, Schema } from "effect"

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

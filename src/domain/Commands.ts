/**
 * The one command shape every order source is parsed into (seed "complete order flow"): a
 * webhook, the HTTP API, a strategy, an option-chain pick or a rebalance all become a
 * `UniversalOrderCommand` with a `commandId`, validated by Effect Schema at the boundary so that
 * a bad field is refused with an error naming it, before anything is written.
 */
import { Schema } from "effect"

const NonEmpty = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64))
const Positive = Schema.Number.pipe(Schema.positive(), Schema.finite())

/** Where a command came from. */
export const CommandSource = Schema.Literal(
  "webhook",
  "api",
  "dashboard",
  "strategy",
  "option_chain",
  "rebalance",
  "risk",
  "simulation",
)
export type CommandSource = typeof CommandSource.Type

/** A trailing stop: a distance in price (default), percent or ticks. */
export const TrailingSpec = Schema.Struct({
  distance: Positive,
  unit: Schema.optionalWith(Schema.Literal("price", "percent", "ticks"), { default: () => "price" as const }),
})

/** The command every source is parsed into. */
export const UniversalOrderCommand = Schema.Struct({
  commandId: NonEmpty,
  executionType: Schema.Literal("ENTRY", "EXIT", "ADJUST"),
  source: CommandSource,
  accountId: NonEmpty,
  symbol: NonEmpty,
  exchange: NonEmpty,
  side: Schema.Literal("BUY", "SELL"),
  qty: Schema.Int.pipe(Schema.positive()),
  product: Schema.Literal("MIS", "NRML", "CNC"),
  orderType: Schema.optionalWith(Schema.Literal("MARKET", "LIMIT", "SL", "SL-M"), { default: () => "MARKET" as const }),
  price: Schema.optionalWith(Schema.NullOr(Positive), { default: () => null }),
  triggerPrice: Schema.optionalWith(Schema.NullOr(Positive), { default: () => null }),
  stopLoss: Schema.optionalWith(Schema.NullOr(Positive), { default: () => null }),
  target: Schema.optionalWith(Schema.NullOr(Positive), { default: () => null }),
  trailing: Schema.optionalWith(Schema.NullOr(TrailingSpec), { default: () => null }),
})
export type UniversalOrderCommand = typeof UniversalOrderCommand.Type

/** What became of a command: answered again, unchanged, for a command id seen before. */
export const CommandOutcome = Schema.Struct({
  commandId: Schema.String,
  status: Schema.Literal("ACCEPTED", "REFUSED"),
  orderId: Schema.NullOr(Schema.String),
  tradeId: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  duplicate: Schema.Boolean,
})
export type CommandOutcome = typeof CommandOutcome.Type

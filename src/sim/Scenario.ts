/**
 * The scenario file, format v1 (`../shared/SCENARIOS.md`): an Effect Schema for every field, and a
 * decoder that names the field at fault and why. Unknown fields are ignored (the format may grow),
 * except inside `expect`, where a misspelt name would silently expect nothing.
 */
import { Either, ParseResult, Schema } from "effect"

const NonEmpty = Schema.String.pipe(Schema.minLength(1))
const Ms = Schema.Int.pipe(Schema.nonNegative())
const PositiveMs = Schema.Int.pipe(Schema.positive())
const Price = Schema.Number.pipe(Schema.positive(), Schema.finite())
const NonNegative = Schema.Number.pipe(Schema.nonNegative(), Schema.finite())
const Rate = Schema.Number.pipe(Schema.between(0, 1))
const Count = Schema.Int.pipe(Schema.nonNegative())
const Product = Schema.Literal("MIS", "NRML", "CNC")
const HhMm = Schema.String.pipe(Schema.pattern(/^([01]\d|2[0-3]):[0-5]\d$/, { message: () => "expected HH:MM" }))

/** An instrument the scenario trades. */
export const ScenarioInstrument = Schema.Struct({
  symbol: NonEmpty,
  exchange: NonEmpty,
  tickSize: Schema.optionalWith(Price, { default: () => 0.05 }),
  lotSize: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
  startPrice: Price,
  marketOrders: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  freezeQty: Schema.optional(Schema.Int.pipe(Schema.positive())),
})
export type ScenarioInstrument = typeof ScenarioInstrument.Type

const Holding = Schema.Struct({
  symbol: NonEmpty,
  exchange: NonEmpty,
  qty: Schema.Int.pipe(Schema.positive()),
  avgPrice: Price,
})

/** The account risk fields a scenario may set (on an account, or with a `setLimit` step). */
export const limitFields = {
  maxDailyLoss: Schema.optional(NonNegative),
  maxOpenPositions: Schema.optional(Count),
  maxQtyPerPosition: Schema.optional(NonNegative),
  maxNotionalPerPosition: Schema.optional(NonNegative),
  capitalReserve: Schema.optional(Rate),
  priceBandPct: Schema.optional(NonNegative),
}

/**
 * An account with its capital, delivery holdings and risk limits, at the paper broker (the
 * default) or, beyond format v1, at a fake Shoonya or fake Dhan server the simulation starts on
 * loopback and reaches through the real adapter (`src/sim/fakes/SimVenues.ts`).
 */
export const ScenarioAccount = Schema.Struct({
  id: NonEmpty,
  broker: Schema.optionalWith(Schema.Literal("paper", "shoonya-fake", "dhan-fake"), {
    default: () => "paper" as const,
  }),
  capital: Schema.optionalWith(Price, { default: () => 1_000_000 }),
  holdings: Schema.optionalWith(Schema.Array(Holding), { default: () => [] }),
  ...limitFields,
})
export type ScenarioAccount = typeof ScenarioAccount.Type

const RandomWalk = Schema.Struct({
  symbol: NonEmpty,
  kind: Schema.Literal("randomWalk"),
  intervalMs: PositiveMs,
  volatilityBps: NonNegative,
  driftBps: Schema.optionalWith(Schema.Number.pipe(Schema.finite()), { default: () => 0 }),
})
const Path = Schema.Struct({
  symbol: NonEmpty,
  kind: Schema.Literal("path"),
  points: Schema.Array(Schema.Tuple(Ms, Price)),
})
/** A tick stream: a seeded random walk or explicit points. */
export const TickStream = Schema.Union(RandomWalk, Path)
export type TickStream = typeof TickStream.Type

const Trailing = Schema.Struct({
  distance: Price,
  unit: Schema.optionalWith(Schema.Literal("price", "percent", "ticks"), { default: () => "price" as const }),
})
const Entry = Schema.Struct({
  account: NonEmpty,
  symbol: NonEmpty,
  exchange: Schema.optional(NonEmpty),
  side: Schema.Literal("BUY", "SELL"),
  qty: Schema.Int.pipe(Schema.positive()),
  product: Product,
  orderType: Schema.optionalWith(Schema.Literal("MARKET", "LIMIT"), { default: () => "MARKET" as const }),
  price: Schema.optionalWith(Schema.NullOr(Price), { default: () => null }),
  stopLoss: Schema.optionalWith(Schema.NullOr(Price), { default: () => null }),
  target: Schema.optionalWith(Schema.NullOr(Price), { default: () => null }),
  trailing: Schema.optionalWith(Schema.NullOr(Trailing), { default: () => null }),
  id: Schema.optional(NonEmpty),
})
const Exit = Schema.Struct({
  scope: Schema.Literal("ALL", "SYMBOLS"),
  symbols: Schema.optional(Schema.Array(NonEmpty)),
  product: Schema.Literal("MIS", "NRML", "ALL"),
  reason: NonEmpty,
  source: Schema.optionalWith(NonEmpty, { default: () => "simulation" }),
})
const actions = ["entry", "exit", "webhook", "forcedUnwind", "feedDown", "brokerDown", "crash", "setLimit"] as const

/** One action at `atMs`. */
export const Step = Schema.Struct({
  atMs: Ms,
  entry: Schema.optional(Entry),
  exit: Schema.optional(Exit),
  webhook: Schema.optional(Schema.Struct({ body: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })),
  forcedUnwind: Schema.optional(
    Schema.Struct({ account: NonEmpty, on: Schema.Boolean, reason: Schema.optional(NonEmpty) }),
  ),
  feedDown: Schema.optional(Schema.Struct({ symbol: NonEmpty, forMs: PositiveMs })),
  brokerDown: Schema.optional(Schema.Struct({ forMs: PositiveMs, account: Schema.optional(NonEmpty) })),
  crash: Schema.optional(Schema.Literal(true)),
  setLimit: Schema.optional(Schema.Struct({ account: NonEmpty, ...limitFields })),
}).pipe(
  Schema.filter(
    (s) =>
      actions.filter((a) => s[a] !== undefined).length === 1 || `a step has exactly one action: ${actions.join(", ")}`,
  ),
)
export type Step = typeof Step.Type

/** The `broker` block: the paper broker's fault knobs. */
export const BrokerBlock = Schema.Struct({
  latencyMs: Schema.optionalWith(Schema.Tuple(Ms, Ms), { default: () => [0, 0] as const }),
  rejectRate: Schema.optionalWith(Rate, { default: () => 0 }),
  partialFillRate: Schema.optionalWith(Rate, { default: () => 0 }),
  duplicateUpdateRate: Schema.optionalWith(Rate, { default: () => 0 }),
  outOfOrderRate: Schema.optionalWith(Rate, { default: () => 0 }),
  sendTimeoutRate: Schema.optionalWith(Rate, { default: () => 0 }),
  disconnects: Schema.optionalWith(Schema.Array(Schema.Struct({ atMs: Ms, forMs: PositiveMs })), { default: () => [] }),
})
export type BrokerBlock = typeof BrokerBlock.Type

/** The names of the report's counts. */
export const countNames = [
  "ticks",
  "transitions",
  "brokerOrders",
  "duplicateBrokerOrders",
  "fills",
  "tradesOpened",
  "tradesClosed",
  "exitSignals",
  "exitIntentsApproved",
  "exitIntentsRejected",
  "exitIntentsFilled",
  "exitIntentsFailed",
  "crashes",
] as const
export type CountName = (typeof countNames)[number]

/** What the run must show: counts with exact values, plus the named booleans. */
export const Expect = Schema.Struct({
  invariants: Schema.optional(Schema.Boolean),
  netPositionsZero: Schema.optional(Schema.Boolean),
  holdingsUntouched: Schema.optional(Schema.Boolean),
  ...Object.fromEntries(countNames.map((n) => [n, Schema.optional(Count)])),
} as Record<CountName, Schema.optional<typeof Count>> & {
  invariants: Schema.optional<typeof Schema.Boolean>
  netPositionsZero: Schema.optional<typeof Schema.Boolean>
  holdingsUntouched: Schema.optional<typeof Schema.Boolean>
}).annotations({ parseOptions: { onExcessProperty: "error" } })
export type Expect = typeof Expect.Type

/** A scenario, format v1. */
export const Scenario = Schema.Struct({
  name: NonEmpty,
  seed: Schema.optionalWith(Schema.Int, { default: () => 0 }),
  start: Schema.String.pipe(
    Schema.filter((s) => !Number.isNaN(Date.parse(s)) || "expected an ISO date-time such as 2026-03-02T09:15:00+05:30"),
  ),
  durationMs: PositiveMs,
  squareOff: Schema.optional(Schema.Struct({ MIS: Schema.optional(HhMm) })),
  instruments: Schema.Array(ScenarioInstrument),
  accounts: Schema.Array(ScenarioAccount).pipe(Schema.minItems(1)),
  ticks: Schema.Array(TickStream),
  broker: Schema.optionalWith(BrokerBlock, { default: () => Schema.decodeSync(BrokerBlock)({}) }),
  steps: Schema.Array(Step),
  expect: Schema.optionalWith(Expect, { default: () => ({ invariants: true }) }),
})
export type Scenario = typeof Scenario.Type

/** A file that is not a valid scenario: the field (a dotted path) and why. */
export class ScenarioInvalid {
  readonly _tag = "ScenarioInvalid"
  constructor(
    readonly field: string,
    readonly message: string,
  ) {}
}

/** Decodes a parsed JSON value as a scenario, or names the first field at fault. */
export const decodeScenario = (value: unknown): Either.Either<Scenario, ScenarioInvalid> => {
  const decoded = Schema.decodeUnknownEither(Scenario, { errors: "all" })(value)
  if (Either.isRight(decoded)) return Either.flatMap(Either.right(decoded.right), crossCheck)
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
  const field = issue?.path.join(".") || "scenario"
  return Either.left(new ScenarioInvalid(field, `${field}: ${issue?.message ?? "invalid"}`))
}

/** Decodes the text of a scenario file. */
export const parseScenario = (text: string): Either.Either<Scenario, ScenarioInvalid> => {
  try {
    return decodeScenario(JSON.parse(text))
  } catch (e) {
    return Either.left(new ScenarioInvalid("file", `file: not JSON: ${e instanceof Error ? e.message : String(e)}`))
  }
}

/** Checks across fields: ticked and traded symbols and accounts must be known. */
const crossCheck = (s: Scenario): Either.Either<Scenario, ScenarioInvalid> => {
  const fail = (field: string, why: string) => Either.left(new ScenarioInvalid(field, `${field}: ${why}`))
  const known = new Set([
    ...s.instruments.map((i) => i.symbol),
    ...s.accounts.flatMap((a) => a.holdings.map((h) => h.symbol)),
  ])
  const accounts = new Set(s.accounts.map((a) => a.id))
  for (const [i, t] of s.ticks.entries()) {
    if (!known.has(t.symbol))
      return fail(`ticks.${i}.symbol`, `unknown symbol ${t.symbol} (not in instruments or holdings)`)
    if (t.kind === "randomWalk" && !s.instruments.some((x) => x.symbol === t.symbol))
      return fail(`ticks.${i}.symbol`, `a random walk needs ${t.symbol} in instruments (its startPrice)`)
  }
  for (const [i, step] of s.steps.entries()) {
    const account =
      step.entry?.account ?? step.forcedUnwind?.account ?? step.setLimit?.account ?? step.brokerDown?.account
    if (account !== undefined && !accounts.has(account)) return fail(`steps.${i}`, `unknown account ${account}`)
    const symbol = step.entry?.symbol ?? step.feedDown?.symbol
    if (symbol !== undefined && !known.has(symbol)) return fail(`steps.${i}`, `unknown symbol ${symbol}`)
  }
  return Either.right(s)
}

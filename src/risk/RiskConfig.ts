/**
 * The risk manager's configuration: limits per account (defaults, with per-account overrides) and
 * the continuous enforcer's timing. Every field has a default, so `RiskConfig.layer()` alone runs.
 * `RiskOptionsSchema` decodes the same shape from a configuration file.
 */
import { Context, Layer, Schema } from "effect"
import type { Product } from "../domain/Trading.js"

/** The limits the risk manager enforces on one account. */
export interface RiskLimits {
  /** Loss in rupees (a positive number) of the day, realised plus unrealised, that halts the account and exits all. */
  readonly maxDailyLoss: number
  /** Most MIS/NRML positions open at once; above it the enforcer closes the smallest first. */
  readonly maxOpenPositions: number
  /** Most units one position (symbol, product) may hold, working orders included. */
  readonly maxQtyPerPosition: number
  /** Most rupees of notional one position may hold, working orders included. */
  readonly maxNotionalPerPosition: number
  /** Share (0–1) of the account's total funds an entry must leave free after its margin. */
  readonly capitalReserve: number
  /** Share of the notional an entry blocks as margin, by product (the paper broker's rates). */
  readonly marginRates: Readonly<Record<Product, number>>
  /** Widest gap, in percent, between an order's limit or trigger price and the last price. */
  readonly priceBandPct: number
}

/** The risk manager's and the continuous enforcer's configuration. */
export interface RiskOptions extends RiskLimits {
  /** Overrides of the limits per account id. */
  readonly accounts: Readonly<Record<string, Partial<RiskLimits>>>
  /** How often the continuous enforcer checks every account, in ms. */
  readonly enforceIntervalMs: number
  /** Longest one account's check may take before it is abandoned (and retried next cycle), in ms. */
  readonly accountCheckTimeoutMs: number
  /** Longest a broker read (positions, funds) may take in a risk decision, retry included, in ms. */
  readonly brokerReadTimeoutMs: number
  /** Times the enforcer asks again, within a cycle, for exits the broker could not be read for. */
  readonly exitRetriesMax: number
  /** Pause before such a retry, in ms. */
  readonly exitRetryDelayMs: number
  /** Exchange time offset from UTC in minutes, for the start of the trading day (IST: 330). */
  readonly utcOffsetMinutes: number
}

/** The defaults: a 25,000 loss limit, ten positions, a 10 % capital reserve, a five-second enforcer. */
export const defaultRiskOptions: RiskOptions = {
  maxDailyLoss: 25_000,
  maxOpenPositions: 10,
  maxQtyPerPosition: 10_000,
  maxNotionalPerPosition: 5_000_000,
  capitalReserve: 0.1,
  marginRates: { MIS: 0.2, NRML: 1, CNC: 1 },
  priceBandPct: 10,
  accounts: {},
  enforceIntervalMs: 5_000,
  accountCheckTimeoutMs: 20_000,
  brokerReadTimeoutMs: 3_000,
  exitRetriesMax: 2,
  exitRetryDelayMs: 250,
  utcOffsetMinutes: 330,
}

const NonNegative = Schema.Number.pipe(Schema.nonNegative(), Schema.finite())
const Count = Schema.Int.pipe(Schema.nonNegative())
const Share = Schema.Number.pipe(Schema.between(0, 1))
const Ms = Schema.Int.pipe(Schema.positive())

const limitFields = {
  maxDailyLoss: NonNegative,
  maxOpenPositions: Count,
  maxQtyPerPosition: NonNegative,
  maxNotionalPerPosition: NonNegative,
  capitalReserve: Share,
  marginRates: Schema.Struct({ MIS: NonNegative, NRML: NonNegative, CNC: NonNegative }),
  priceBandPct: NonNegative,
}

/** The limits of one account in a configuration file, every field optional. */
export const RiskLimitsSchema = Schema.partial(Schema.Struct(limitFields))

/** The `risk` section of a configuration file, every field optional (missing ones take the defaults). */
export const RiskOptionsSchema = Schema.partial(
  Schema.Struct({
    ...limitFields,
    accounts: Schema.Record({ key: Schema.String, value: RiskLimitsSchema }),
    enforceIntervalMs: Ms,
    accountCheckTimeoutMs: Ms,
    brokerReadTimeoutMs: Ms,
    exitRetriesMax: Count,
    exitRetryDelayMs: Count,
    utcOffsetMinutes: Schema.Int,
  }),
)

/** The limits that apply to one account: its overrides over the defaults. */
export const limitsFor = (options: RiskOptions, accountId: string): RiskLimits => ({
  ...options,
  ...options.accounts[accountId],
})

/** Epoch ms of the start of the trading day that contains `now`, at the exchange's UTC offset. */
export const dayStartOf = (now: number, utcOffsetMinutes: number): number => {
  const offsetMs = utcOffsetMinutes * 60_000
  const dayMs = 86_400_000
  return Math.floor((now + offsetMs) / dayMs) * dayMs - offsetMs
}

/** The risk configuration as a service. */
export class RiskConfig extends Context.Tag("warden/RiskConfig")<RiskConfig, RiskOptions>() {
  /** The defaults with these overrides. */
  static readonly layer = (overrides: Partial<RiskOptions> = {}) =>
    Layer.succeed(RiskConfig, { ...defaultRiskOptions, ...overrides })
}

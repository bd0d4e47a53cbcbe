/**
 * The engine's configuration: `warden.config.json` (or `--config FILE`), every field defaulted, so
 * that with no file at all the engine runs on `data/warden.db` with one paper account and a
 * simulated market. Environment variables override the file: `WARDEN_DB`, `WARDEN_PORT`,
 * `WARDEN_TOKEN`, `WARDEN_WEBHOOK_SECRET`. A bad field stops the start with its path named.
 */
import { existsSync, readFileSync } from "node:fs"
import { Either, ParseResult, Schema } from "effect"
import { AlertConfigError, AlertsConfigSchema, noAlerts, resolveChannels } from "../alerts/AlertConfig.js"
import { RiskOptionsSchema } from "../risk/RiskConfig.js"
import { StrategyConfigSchema } from "../strategy/StrategyHost.js"
import { readTokenFile } from "../broker/LiveCore.js"

const Instrument = Schema.Struct({
  symbol: Schema.String,
  exchange: Schema.String,
  startPrice: Schema.Number.pipe(Schema.positive()),
  tickSize: Schema.Number.pipe(Schema.positive()),
  lotSize: Schema.Int.pipe(Schema.positive()),
  marketOrders: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  freezeQty: Schema.optional(Schema.Int.pipe(Schema.positive())),
  intervalMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 250 }),
  volatilityBps: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 3 }),
})

const PaperAccount = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  broker: Schema.optionalWith(Schema.Literal("paper"), { default: () => "paper" as const }),
  capital: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 2_000_000 }),
})

/** Where a live account's access token comes from: the file, or (better) an environment variable. */
const TokenFields = {
  accessToken: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  accessTokenEnv: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  /** A file holding the token: read at start and watched, so writing a new token renews the session. */
  accessTokenFile: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  baseUrl: Schema.optional(Schema.String),
  wsUrl: Schema.optional(Schema.String),
}

const ShoonyaAccount = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  broker: Schema.Literal("shoonya"),
  userId: Schema.String.pipe(Schema.minLength(1)),
  actid: Schema.optional(Schema.String),
  ...TokenFields,
})

const DhanAccount = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  broker: Schema.Literal("dhan"),
  clientId: Schema.String.pipe(Schema.minLength(1)),
  ...TokenFields,
})

const Account = Schema.Union(ShoonyaAccount, DhanAccount, PaperAccount)

const defaultInstruments = [
  {
    symbol: "NIFTY26DECFUT",
    exchange: "NFO",
    startPrice: 26_150,
    tickSize: 0.05,
    lotSize: 65,
    intervalMs: 250,
    volatilityBps: 3,
  },
  {
    symbol: "BANKNIFTY26DECFUT",
    exchange: "NFO",
    startPrice: 59_400,
    tickSize: 0.2,
    lotSize: 30,
    intervalMs: 250,
    volatilityBps: 4,
  },
  {
    symbol: "RELIANCE-EQ",
    exchange: "NSE",
    startPrice: 1_540,
    tickSize: 0.05,
    lotSize: 1,
    intervalMs: 500,
    volatilityBps: 5,
  },
]

/** The configuration file's schema, with every default. */
export const WardenConfigSchema = Schema.Struct({
  db: Schema.optionalWith(Schema.String, { default: () => "data/warden.db" }),
  synchronous: Schema.optionalWith(Schema.Literal("FULL", "NORMAL"), { default: () => "FULL" as const }),
  http: Schema.optionalWith(
    Schema.Struct({
      port: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 65_535)), { default: () => 8080 }),
      host: Schema.optionalWith(Schema.String, { default: () => "0.0.0.0" }),
      token: Schema.optionalWith(Schema.NullOr(Schema.String.pipe(Schema.minLength(8))), { default: () => null }),
      bodyBytesMax: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1_048_576 }),
    }),
    { default: () => ({ port: 8080, host: "0.0.0.0", token: null, bodyBytesMax: 1_048_576 }) },
  ),
  webhook: Schema.optionalWith(
    Schema.Struct({
      secret: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
      accountId: Schema.optional(Schema.String),
    }),
    { default: () => ({ secret: null }) },
  ),
  accounts: Schema.optionalWith(Schema.Array(Account).pipe(Schema.minItems(1)), {
    default: () => [{ id: "PAPER1", broker: "paper" as const, capital: 2_000_000 }],
  }),
  market: Schema.optionalWith(
    Schema.Struct({
      simulated: Schema.optionalWith(Schema.Boolean, { default: () => true }),
      instruments: Schema.optionalWith(Schema.Array(Instrument), {
        default: () => defaultInstruments.map((i) => ({ ...i, marketOrders: true })),
      }),
    }),
    {
      default: () => ({ simulated: true, instruments: defaultInstruments.map((i) => ({ ...i, marketOrders: true })) }),
    },
  ),
  /** Risk limits (defaults and per account), enforcement interval: see src/risk/RiskConfig.ts. */
  risk: Schema.optional(RiskOptionsSchema),
  /** Strategy modules the engine loads: `{ "module": "strategies/Mine.ts", "accountId": "PAPER1" }`. */
  strategies: Schema.optional(Schema.Array(StrategyConfigSchema)),
  /** Alert channels (JSON webhook, Telegram) and their bounds: see src/alerts/AlertConfig.ts. */
  alerts: Schema.optionalWith(AlertsConfigSchema, { default: () => noAlerts }),
  /** A file that gets one JSON line per committed lifecycle event (`tail -f`); null: none. */
  lifecycleLog: Schema.optionalWith(Schema.NullOr(Schema.String.pipe(Schema.minLength(1))), { default: () => null }),
  demo: Schema.optionalWith(
    Schema.Struct({
      entryEverySec: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 15 }),
    }),
    {
      default: () => ({ entryEverySec: 15 }),
    },
  ),
})

/** The engine's configuration, every field present. */
export type WardenConfig = typeof WardenConfigSchema.Type

/**
 * A live account's access token: `accessToken` from the file, else the file `accessTokenFile`
 * names (read now; the adapter watches it for renewals), else the environment variable named by
 * `accessTokenEnv` (default `WARDEN_<ID>_TOKEN`). Never logged.
 */
export const accessTokenOf = (
  a: {
    id: string
    accessToken?: string | undefined
    accessTokenEnv?: string | undefined
    accessTokenFile?: string | undefined
  },
  env: NodeJS.ProcessEnv = process.env,
): string => {
  if (a.accessToken) return a.accessToken
  if (a.accessTokenFile !== undefined) {
    const read = readTokenFile(a.accessTokenFile)
    if (Either.isLeft(read))
      throw new ConfigError("(token file)", `accounts[${a.id}].accessTokenFile`, `no access token: ${read.left}`)
    return read.right
  }
  const name = a.accessTokenEnv ?? `WARDEN_${a.id.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_TOKEN`
  const token = env[name]
  if (!token)
    throw new ConfigError(
      "(environment)",
      `accounts[${a.id}].accessToken`,
      `no access token: set ${name}, accessToken or accessTokenFile`,
    )
  return token
}

/** A configuration that could not be read: the file, the field path and why. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}: ${field}: ${reason}`)
  }
}

/** Reads the configuration: the file (when it exists, or when named), then the environment. */
export const loadConfig = (file: string | undefined, env: NodeJS.ProcessEnv = process.env): WardenConfig => {
  const path = file ?? "warden.config.json"
  let raw: unknown = {}
  if (file !== undefined || existsSync(path)) {
    try {
      raw = JSON.parse(readFileSync(path, "utf8")) as unknown
    } catch (e) {
      throw new ConfigError(path, "(file)", e instanceof Error ? e.message : String(e))
    }
  }
  const decoded = Schema.decodeUnknownEither(WardenConfigSchema)(raw, { onExcessProperty: "error" })
  if (Either.isLeft(decoded)) {
    const [issue] = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
    throw new ConfigError(path, issue?.path.join(".") || "(root)", issue?.message ?? "invalid")
  }
  const c = decoded.right
  try {
    resolveChannels(c.alerts, env)
  } catch (e) {
    if (e instanceof AlertConfigError) throw new ConfigError(path, e.field, e.reason)
    throw e
  }
  const port = env.WARDEN_PORT !== undefined ? Number(env.WARDEN_PORT) : c.http.port
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigError("WARDEN_PORT", "WARDEN_PORT", `not a port: ${env.WARDEN_PORT}`)
  return {
    ...c,
    db: env.WARDEN_DB ?? c.db,
    http: { ...c.http, port, token: env.WARDEN_TOKEN ?? c.http.token },
    webhook: { ...c.webhook, secret: env.WARDEN_WEBHOOK_SECRET ?? c.webhook.secret },
  }
}

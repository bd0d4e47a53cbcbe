/**
 * The `alerts` section of the configuration: the channels alerts are sent to (a generic JSON
 * webhook, the Telegram Bot API's `sendMessage` at a configurable base URL), the kinds sent, and
 * the bounds of the queue and the retries. A Telegram bot token belongs in the environment
 * (`botTokenEnv`, default `WARDEN_TELEGRAM_TOKEN`), not in the file.
 */
import { Schema } from "effect"
import { alertKinds } from "./AlertEvents.js"

const HttpUrl = Schema.String.pipe(
  Schema.filter((s) => /^https?:\/\/[^\s/]+/.test(s) || "an http:// or https:// URL", {
    identifier: "HttpUrl",
  }),
)

const WebhookChannel = Schema.Struct({
  type: Schema.Literal("webhook"),
  url: HttpUrl,
  /** Extra request headers (an API key of the receiver). */
  headers: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { default: () => ({}) }),
})

const TelegramChannel = Schema.Struct({
  type: Schema.Literal("telegram"),
  chatId: Schema.Union(Schema.String.pipe(Schema.minLength(1)), Schema.Int),
  botToken: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  botTokenEnv: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  baseUrl: Schema.optionalWith(HttpUrl, { default: () => "https://api.telegram.org" }),
})

const Ms = Schema.Int.pipe(Schema.positive())

/** The `alerts` section, every field defaulted. */
export const AlertsConfigSchema = Schema.Struct({
  channels: Schema.optionalWith(Schema.Array(Schema.Union(WebhookChannel, TelegramChannel)), { default: () => [] }),
  /** The kinds sent; every kind when absent. */
  kinds: Schema.optional(Schema.Array(Schema.Literal(...alertKinds))),
  /** Alerts waiting per channel; beyond it new ones are dropped (and counted), never waited for. */
  queueMax: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1_000 }),
  /** Attempts after the first for a delivery that failed transiently. */
  retriesMax: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 5 }),
  retryBaseMs: Schema.optionalWith(Ms, { default: () => 500 }),
  retryDelayMsMax: Schema.optionalWith(Ms, { default: () => 30_000 }),
  /** Longest one delivery attempt may take. */
  timeoutMs: Schema.optionalWith(Ms, { default: () => 5_000 }),
  /** How often the enforcer's interventions and reconciliation differences are looked for. */
  pollMs: Schema.optionalWith(Ms, { default: () => 1_000 }),
})

/** The alerts configuration, every field present. */
export type AlertsConfig = typeof AlertsConfigSchema.Type

/** One configured channel. */
export type AlertChannelConfig = AlertsConfig["channels"][number]

/** No channels: nothing is sent. */
export const noAlerts: AlertsConfig = Schema.decodeSync(AlertsConfigSchema)({})

/** A channel ready to send: a name for logs and stats, and its resolved secrets. */
export type ResolvedChannel =
  | { readonly name: string; readonly type: "webhook"; readonly url: string; readonly headers: Record<string, string> }
  | { readonly name: string; readonly type: "telegram"; readonly url: string; readonly chatId: string | number }

/** A channel that cannot be used, naming its field. */
export class AlertConfigError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`)
  }
}

/** The channels with their secrets read (Telegram's token from the file or the environment). */
export const resolveChannels = (
  config: AlertsConfig,
  env: NodeJS.ProcessEnv = process.env,
): ReadonlyArray<ResolvedChannel> =>
  config.channels.map((c, i): ResolvedChannel => {
    if (c.type === "webhook") {
      return { name: `webhook ${new URL(c.url).host}`, type: "webhook", url: c.url, headers: { ...c.headers } }
    }
    const envName = c.botTokenEnv ?? "WARDEN_TELEGRAM_TOKEN"
    const token = c.botToken ?? env[envName]
    if (!token) throw new AlertConfigError(`alerts.channels.${i}.botToken`, `no bot token: set ${envName} or botToken`)
    const base = c.baseUrl.replace(/\/+$/, "")
    return { name: `telegram ${c.chatId}`, type: "telegram", url: `${base}/bot${token}/sendMessage`, chatId: c.chatId }
  })

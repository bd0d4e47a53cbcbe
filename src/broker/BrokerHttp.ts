/**
 * Shared plumbing of the real broker adapters: their bounds, one HTTP request over Node's
 * `fetch` with a timeout on the Effect Clock, its failures as `BrokerError`s, the decoding of a
 * JSON answer, field readers that name the field at fault, the redaction of secrets, IST wire
 * times, and the shaping of one order for the wire.
 *
 * The one rule that matters: a request that changes the book (`mutating`: place, modify, cancel)
 * and whose outcome is not certain (no answer, a garbled answer, a 5xx) fails `Timeout`, so the
 * engine finds the order by its tag instead of declaring it rejected or sending it twice. Only
 * what surely did not take effect (connection refused, 429, 503, an expired session) is anything
 * else.
 */
import { Duration, Effect, Either, type Scope, type Stream } from "effect"
import type { Instrument, Instruments } from "../orders/Instruments.js"
import { type OrderDraft, type ShapedOrder, shapeOrder } from "../orders/OrderShaping.js"
import { type Broker, BrokerError, type BrokerErrorReason, type OrderUpdate } from "./Broker.js"
import type { RateLimit } from "./RateLimiter.js"

/** The bounds of a real adapter; each adapter has its broker's defaults. */
/** What a live adapter (Shoonya, Dhan) is given, whatever its broker's login `C`. */
export interface LiveAdapterOptions<C> extends Partial<AdapterTuning> {
  /** The engine's account id (user_broker id) this connection serves. */
  readonly accountId: string
  /** The REST root (the broker's production URL by default). */
  readonly baseUrl?: string
  readonly wsUrl?: string
  /** The login: never logged, redacted from every error. */
  readonly credentials: C
  /** The broker's scrip master: symbol to token, tick and lot. */
  readonly instruments: Instruments
  /** The last traded price of a symbol (the engine's TickHub): positions' `ltp`, MARKET sent as limit. */
  readonly lastPrice?: (symbol: string, exchange: string) => number | null | undefined
  /** The protection band of market orders sent as limits (fraction, default 0.5 %). */
  readonly marketBand?: number
  /** Send MARKET as is (default: what the broker and the instrument allow). */
  readonly marketOrders?: boolean
  /**
   * A file holding the access token: read at start, then every `accessTokenPollMs`; a changed
   * token renews the login, and order calls refused for an expired session wait for it.
   */
  readonly accessTokenFile?: string
  /** How often the token file is read (default 2000 ms). */
  readonly accessTokenPollMs?: number
  /** Sends one HTTP request (`send` by default); the simulation wraps it to pace the wire. */
  readonly transport?: (req: HttpRequest, redact: Redactor) => Effect.Effect<HttpAnswer, BrokerError>
}

/** A live connection: the port, plus credential renewal and an eager subscription. */
export interface LiveBroker<C> extends Broker {
  /** Replaces the login (a renewed access token); later calls and reconnects use it. */
  readonly setCredentials: (credentials: C) => Effect.Effect<void>
  /** The update stream, subscribed when this is evaluated (nothing published after is missed). */
  readonly subscribe: Effect.Effect<Stream.Stream<OrderUpdate>, never, Scope.Scope>
}

export interface AdapterTuning {
  /** Limits on place, modify and cancel, a little below the broker's documented ones. */
  readonly orderRateLimits: ReadonlyArray<RateLimit>
  /** Limits on book reads. */
  readonly readRateLimits: ReadonlyArray<RateLimit>
  /** How many times a rate-limited call is sent again, after the backoff, before it fails. */
  readonly rateLimitRetriesMax: number
  /** The pause after a rate-limit answer, doubling up to `backoffMsMax`. */
  readonly backoffMs: number
  readonly backoffMsMax: number
  /** A request with no answer by then fails (`Timeout` when it may have taken effect). */
  readonly requestTimeoutMs: number
  readonly heartbeatMs: number
  /** A connected socket with no frame and no pong for this long is reconnected. */
  readonly silenceMs: number
  readonly reconnectDelayMs: number
  readonly reconnectDelayMsMax: number
}

/** How an order is shaped for the wire. */
export interface WireShaping {
  readonly ltp: number | null
  /** The protection band of market orders sent as limits (fraction). */
  readonly band: number
  /** Whether MARKET / SL-M may go out as they are. */
  readonly marketOrders: boolean
}

/**
 * The order as one wire order: lot and tick checked, MARKET / SL-M turned into limits where
 * they may not go out. A refusal (or a quantity that would need splitting at the freeze) is
 * `Invalid` naming the field: one port call sends one order.
 */
export const shapeOne = (
  draft: OrderDraft,
  instrument: Instrument,
  how: WireShaping,
): Effect.Effect<ShapedOrder, BrokerError> =>
  Either.match(shapeOrder(draft, instrument, how), {
    onLeft: (e) => Effect.fail(new BrokerError({ reason: "Invalid", field: e.field, message: e.message })),
    onRight: (orders) =>
      orders.length === 1
        ? Effect.as(
            Effect.forEach(orders[0]!.notes, (n) => Effect.logInfo(`${instrument.symbol}: ${n}`)),
            orders[0]!,
          )
        : Effect.fail(
            new BrokerError({
              reason: "Invalid",
              field: "qty",
              message: `${draft.qty} is at or above the freeze quantity ${instrument.freezeQty} of ${instrument.symbol}: split it`,
            }),
          ),
  })

/** One HTTP request to a broker. */
export interface HttpRequest {
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
  /** True for calls that change the book: an unclear outcome is then a `Timeout`. */
  readonly mutating: boolean
  /** What the call is, for messages (`PlaceOrder`, `GET /orders`). */
  readonly label: string
  readonly timeoutMs: number
}

/** A broker's HTTP answer, body unread. */
export interface HttpAnswer {
  readonly status: number
  readonly text: string
}

/** Removes every secret (tokens) from a text before it goes into an error or a log line. */
export type Redactor = (text: string) => string

/** A redactor of the secrets `secrets()` returns now (they may be renewed). */
export const makeRedactor =
  (secrets: () => ReadonlyArray<string>): Redactor =>
  (text) =>
    secrets().reduce((t, s) => (s.length >= 4 ? t.split(s).join("[redacted]") : t), text)

// Connection errors raised before a byte of the request left: the request surely did not happen.
const notSentCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH"])

const codeOf = (e: unknown): string => {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause
  return typeof cause?.code === "string" ? cause.code : ""
}

const networkError = (req: HttpRequest, e: unknown, redact: Redactor): BrokerError => {
  const code = codeOf(e)
  const text = redact(`${req.label}: ${code || String(e)}`)
  if (notSentCodes.has(code) || !req.mutating) return new BrokerError({ reason: "Unavailable", message: text })
  return new BrokerError({ reason: "Timeout", message: `${text}; the outcome is unknown` })
}

/** Sends one request; fails `Unavailable` or (for a mutating call) `Timeout` when no answer arrives. */
export const send = (req: HttpRequest, redact: Redactor): Effect.Effect<HttpAnswer, BrokerError> =>
  Effect.tryPromise({
    try: async (signal) => {
      const init: RequestInit = { method: req.method, headers: req.headers, signal }
      if (req.body !== undefined) init.body = req.body
      const response = await fetch(req.url, init)
      return { status: response.status, text: await response.text() }
    },
    catch: (e) => networkError(req, e, redact),
  }).pipe(
    Effect.timeoutFail({
      duration: Duration.millis(req.timeoutMs),
      onTimeout: () =>
        new BrokerError({
          reason: req.mutating ? "Timeout" : "Unavailable",
          message: `${req.label}: no answer within ${req.timeoutMs} ms${req.mutating ? "; the outcome is unknown" : ""}`,
        }),
    }),
  )

/** How an unreadable or unexpected answer fails: unknown outcome for a mutating call. */
export const unclearReason = (req: HttpRequest, status: number): BrokerErrorReason => {
  if (req.mutating) return status === 503 ? "Unavailable" : "Timeout"
  return status >= 500 ? "Unavailable" : "Invalid"
}

const describeBody = (text: string): string => {
  const t = text.trim()
  if (t === "") return "an empty body"
  if (t.startsWith("<")) return "an HTML page"
  return `malformed or truncated JSON (${JSON.stringify(t.slice(0, 60))}${t.length > 60 ? "…" : ""})`
}

/** The answer's body as JSON, or a `BrokerError` with `field: "body"` saying what arrived instead. */
export const parseJson = (
  req: HttpRequest,
  answer: HttpAnswer,
  redact: Redactor,
): Either.Either<unknown, BrokerError> => {
  try {
    return Either.right(JSON.parse(answer.text) as unknown)
  } catch {
    const outcome = req.mutating ? "; the outcome is unknown" : ""
    return Either.left(
      new BrokerError({
        reason: unclearReason(req, answer.status),
        field: "body",
        message: redact(`${req.label}: HTTP ${answer.status} answer is ${describeBody(answer.text)}${outcome}`),
      }),
    )
  }
}

/** A JSON object as the wire gives it. */
export type WireRow = Readonly<Record<string, unknown>>

/** True for a plain JSON object. */
export const isRow = (v: unknown): v is WireRow => typeof v === "object" && v !== null && !Array.isArray(v)

const flipFirst = (name: string): string => {
  const first = name.charAt(0)
  const flipped = first === first.toUpperCase() ? first.toLowerCase() : first.toUpperCase()
  return flipped + name.slice(1)
}

/**
 * Reads the fields of one wire object. A name is looked up as spelled, then with its first
 * letter's case flipped (Dhan sends `OrderNo` and `orderNo`); a list of names is tried in order.
 * A missing or ill-typed field fails with `reason` and names the field.
 */
export class Fields {
  constructor(
    readonly row: WireRow,
    readonly what: string,
    readonly reason: BrokerErrorReason = "Invalid",
  ) {}

  /** The first present (non-null) value among the names. */
  get(names: string | ReadonlyArray<string>): unknown {
    for (const name of typeof names === "string" ? [names] : names) {
      for (const key of [name, flipFirst(name)]) {
        const v = this.row[key]
        if (v !== undefined && v !== null) return v
      }
    }
    return undefined
  }

  /** The error of a field that is missing or wrong. */
  invalid(field: string, problem: string): BrokerError {
    return new BrokerError({ reason: this.reason, field, message: `${this.what}: ${field} ${problem}` })
  }

  private fail(names: string | ReadonlyArray<string>, problem: string): Either.Either<never, BrokerError> {
    return Either.left(this.invalid(typeof names === "string" ? names : (names[0] ?? "?"), problem))
  }

  /** A text field that must be present and non-blank (numbers are read as text). */
  str(names: string | ReadonlyArray<string>): Either.Either<string, BrokerError> {
    const v = this.get(names)
    if (typeof v === "number" && Number.isFinite(v)) return Either.right(String(v))
    if (typeof v !== "string") return this.fail(names, v === undefined ? "is missing" : "is not text")
    return v.trim() === "" ? this.fail(names, "is blank") : Either.right(v.trim())
  }

  /** A text field that may be absent or blank (null then). */
  optStr(names: string | ReadonlyArray<string>): string | null {
    const v = this.get(names)
    if (typeof v === "number") return String(v)
    return typeof v === "string" && v.trim() !== "" ? v.trim() : null
  }

  /** A number (JSON number or numeric text) that must be present. */
  num(names: string | ReadonlyArray<string>): Either.Either<number, BrokerError> {
    const v = this.get(names)
    if (v === undefined) return this.fail(names, "is missing")
    const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN
    return Number.isFinite(n) ? Either.right(n) : this.fail(names, `is not a number (${JSON.stringify(v)})`)
  }

  /** A coded field read through its table (case-insensitively); an unknown code names the field. */
  code<A>(names: string | ReadonlyArray<string>, table: Readonly<Record<string, A>>): Either.Either<A, BrokerError> {
    return Either.flatMap(this.str(names), (code) => {
      const value = table[code.toUpperCase()]
      return value !== undefined ? Either.right(value) : this.fail(names, `"${code}" is not a known code`)
    })
  }

  /** A number that may be absent or blank (`fallback` then), but not anything else. */
  optNum(names: string | ReadonlyArray<string>, fallback = 0): Either.Either<number, BrokerError> {
    const v = this.get(names)
    return v === undefined || v === "" || (typeof v === "string" && v.trim() === "")
      ? Either.right(fallback)
      : this.num(names)
  }
}

const istOffsetMs = 330 * 60_000

const istEpoch = (y: string, mo: string, d: string, h: string, mi: string, s: string): number =>
  Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - istOffsetMs

/**
 * An IST wire time as epoch ms, or null: `HH:MM:SS DD-MM-YYYY` (Shoonya `norentm`),
 * `DD-MM-YYYY HH:MM:SS` (Shoonya `exch_tm`, `fltm`), `YYYY-MM-DD HH:MM:SS` (Dhan), or epoch
 * seconds as text (Shoonya `ordenttm`).
 */
export const istTime = (text: string | null): number | null => {
  if (text === null) return null
  const t = text.trim()
  let m = /^(\d{2}):(\d{2}):(\d{2}) (\d{2})-(\d{2})-(\d{4})$/.exec(t)
  if (m) return istEpoch(m[6]!, m[5]!, m[4]!, m[1]!, m[2]!, m[3]!)
  m = /^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(t)
  if (m) return istEpoch(m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!)
  m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(t)
  if (m) return istEpoch(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!)
  if (/^\d{9,11}$/.test(t)) return Number(t) * 1000
  return null
}

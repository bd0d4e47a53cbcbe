/**
 * What every live adapter (Shoonya, Dhan) is built on: its options and tuning, the current login
 * (replaceable when a token is renewed, redacted from every error), the order and read throttles,
 * the HTTP transport, and the hub its order updates are published to.
 *
 * Session renewal: with `accessTokenFile`, the token is read from that file at start and the file
 * is read again every `accessTokenPollMs`; a changed token renews the login (logged, never the
 * token). While the session is expired an order call (place, modify, cancel) that the broker
 * refused for it waits for the renewal and is then sent again: the refusal proves it never took
 * effect, so the engine's exits stay queued instead of failing. Without a token file nothing can
 * renew the session, and the call fails `SessionExpired` at once.
 */
import { readFileSync } from "node:fs"
import { Duration, Effect, Either, PubSub, Stream, SubscriptionRef } from "effect"
import type { BrokerError, OrderUpdate } from "./Broker.js"
import {
  type AdapterTuning,
  type HttpAnswer,
  type HttpRequest,
  type LiveAdapterOptions,
  makeRedactor,
  type Redactor,
  send,
} from "./BrokerHttp.js"
import * as RateLimiter from "./RateLimiter.js"

/** A live adapter's shared parts, for a broker whose login is `C`. */
export interface LiveCore<C> {
  readonly options: LiveAdapterOptions<C>
  readonly tuning: AdapterTuning
  readonly login: { current: C }
  readonly redact: Redactor
  /** One HTTP request through the options' transport (`send` by default). */
  readonly send: (req: HttpRequest) => Effect.Effect<HttpAnswer, BrokerError>
  /** Order calls: throttled, and held while the session is expired and can be renewed. */
  readonly throttleOrders: <A>(call: Effect.Effect<A, BrokerError>) => Effect.Effect<A, BrokerError>
  readonly throttleReads: <A>(call: Effect.Effect<A, BrokerError>) => Effect.Effect<A, BrokerError>
  /** Replaces the login; calls held for an expired session go out again. */
  readonly renew: (credentials: C) => Effect.Effect<void>
  readonly hub: PubSub.PubSub<OrderUpdate>
}

/** The token in a token file (trimmed), or why it could not be read. */
export const readTokenFile = (file: string): Either.Either<string, string> => {
  try {
    const token = readFileSync(file, "utf8").trim()
    return token === "" ? Either.left(`${file} is empty`) : Either.right(token)
  } catch (e) {
    return Either.left(`${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
}

/** Builds the shared parts with the broker's default tuning, overridden by the options. */
export const makeLiveCore = <C extends { readonly accessToken: string }>(
  options: LiveAdapterOptions<C>,
  defaults: AdapterTuning,
  brokerName: string,
) =>
  Effect.gen(function* () {
    const tuning: AdapterTuning = { ...defaults, ...options }
    const backoff = { backoffMs: tuning.backoffMs, backoffMsMax: tuning.backoffMsMax }
    const orders = yield* RateLimiter.make(tuning.orderRateLimits, backoff)
    const reads = yield* RateLimiter.make(tuning.readRateLimits, backoff)
    const name = `${brokerName} ${options.accountId}`
    const tokenFile = options.accessTokenFile
    const initial = tokenFile === undefined ? Either.left("") : readTokenFile(tokenFile)
    const login = {
      current: Either.isRight(initial) ? { ...options.credentials, accessToken: initial.right } : options.credentials,
    }
    const redact = makeRedactor(() => [login.current.accessToken])
    const transport = options.transport ?? send
    // Bumped by every renewal: a call refused for an expired session waits for the next one.
    const generation = yield* SubscriptionRef.make(0)
    let expiryLogged = false
    const renew = (credentials: C) =>
      Effect.zipRight(
        Effect.sync(() => {
          login.current = credentials
          expiryLogged = false
        }),
        SubscriptionRef.update(generation, (n) => n + 1),
      )
    const untilRenewed = <A>(call: Effect.Effect<A, BrokerError>): Effect.Effect<A, BrokerError> =>
      Effect.gen(function* () {
        const seen = yield* SubscriptionRef.get(generation)
        const result = yield* Effect.either(call)
        if (Either.isRight(result)) return result.right
        if (result.left.reason !== "SessionExpired" || tokenFile === undefined) return yield* result.left
        if (!expiryLogged) {
          expiryLogged = true
          yield* Effect.logWarning(
            `${name}: ${result.left.message}; order calls wait until a new access token is written to ${tokenFile}`,
          )
        }
        yield* generation.changes.pipe(
          Stream.filter((g) => g > seen),
          Stream.take(1),
          Stream.runDrain,
        )
        return yield* untilRenewed(call)
      })
    const throttleOrders = RateLimiter.throttled(orders, tuning.rateLimitRetriesMax)
    const core: LiveCore<C> = {
      options,
      tuning,
      login,
      redact,
      send: (req) => transport(req, redact),
      throttleOrders: (call) => untilRenewed(throttleOrders(call)),
      throttleReads: RateLimiter.throttled(reads, tuning.rateLimitRetriesMax),
      renew,
      hub: yield* Effect.acquireRelease(PubSub.unbounded<OrderUpdate>(), PubSub.shutdown),
    }
    if (tokenFile !== undefined) {
      if (Either.isLeft(initial)) yield* Effect.logWarning(`${name}: access token file ${initial.left}`)
      yield* Effect.forkScoped(watchTokenFile(core, tokenFile, name))
    }
    return core
  })

/** Reads the token file every `accessTokenPollMs`; a new token renews the login. */
const watchTokenFile = <C extends { readonly accessToken: string }>(core: LiveCore<C>, file: string, name: string) => {
  let lastProblem: string | null = null
  const check = Effect.suspend(() => {
    const read = readTokenFile(file)
    if (Either.isLeft(read)) {
      // Logged once per problem (an editor's save may leave the file missing for a moment).
      if (read.left === lastProblem) return Effect.void
      lastProblem = read.left
      return Effect.logWarning(`${name}: access token file ${read.left}; keeping the current token`)
    }
    lastProblem = null
    if (read.right === core.login.current.accessToken) return Effect.void
    return Effect.zipRight(
      core.renew({ ...core.login.current, accessToken: read.right }),
      Effect.logInfo(`${name}: access token renewed from ${file}`),
    )
  })
  return Effect.forever(Effect.zipRight(Effect.sleep(Duration.millis(core.options.accessTokenPollMs ?? 2_000)), check))
}

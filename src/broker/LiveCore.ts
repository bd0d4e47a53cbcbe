/**
 * What every live adapter (Shoonya, Dhan) is built on: its options and tuning, the current login
 * (replaceable when a token is renewed, redacted from every error), the order and read throttles,
 * and the hub its order updates are published to.
 */
import { Effect, PubSub } from "effect"
import type { BrokerError, OrderUpdate } from "./Broker.js"
import { type AdapterTuning, type LiveAdapterOptions, makeRedactor, type Redactor } from "./BrokerHttp.js"
import * as RateLimiter from "./RateLimiter.js"

/** A live adapter's shared parts, for a broker whose login is `C`. */
export interface LiveCore<C> {
  readonly options: LiveAdapterOptions<C>
  readonly tuning: AdapterTuning
  readonly login: { current: C }
  readonly redact: Redactor
  readonly throttleOrders: <A>(call: Effect.Effect<A, BrokerError>) => Effect.Effect<A, BrokerError>
  readonly throttleReads: <A>(call: Effect.Effect<A, BrokerError>) => Effect.Effect<A, BrokerError>
  readonly hub: PubSub.PubSub<OrderUpdate>
}

/** Builds the shared parts with the broker's default tuning, overridden by the options. */
export const makeLiveCore = <C extends { readonly accessToken: string }>(
  options: LiveAdapterOptions<C>,
  defaults: AdapterTuning,
) =>
  Effect.gen(function* () {
    const tuning: AdapterTuning = { ...defaults, ...options }
    const backoff = { backoffMs: tuning.backoffMs, backoffMsMax: tuning.backoffMsMax }
    const orders = yield* RateLimiter.make(tuning.orderRateLimits, backoff)
    const reads = yield* RateLimiter.make(tuning.readRateLimits, backoff)
    const login = { current: options.credentials }
    const core: LiveCore<C> = {
      options,
      tuning,
      login,
      redact: makeRedactor(() => [login.current.accessToken]),
      throttleOrders: RateLimiter.throttled(orders, tuning.rateLimitRetriesMax),
      throttleReads: RateLimiter.throttled(reads, tuning.rateLimitRetriesMax),
      hub: yield* Effect.acquireRelease(PubSub.unbounded<OrderUpdate>(), PubSub.shutdown),
    }
    return core
  })

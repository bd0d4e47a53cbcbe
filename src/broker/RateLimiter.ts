/**
 * A client-side throttle for broker calls: one token bucket per documented limit, on the Effect
 * Clock (so the test clock drives it), plus a pause after the broker says "too many requests".
 *
 * A bucket of capacity `c` refilled at `r` per ms lets at most `c + r·T` requests through in any
 * window of `T` ms, so a limit of `n` per `windowMs` becomes a bucket with a small burst
 * (`c` = a fifth of `n`, at least 1) refilled at `(n − c) / windowMs`: never more than `n` in any
 * window, measured at the sender. Adapters pass limits a little below the broker's documented
 * ones, leaving room for network jitter.
 */
import { type Clock, Duration, Effect } from "effect"
import type { BrokerError } from "./Broker.js"

/** At most `limit` requests in any window of `windowMs`. */
export interface RateLimit {
  readonly limit: number
  readonly windowMs: number
}

/** How long to pause everything after a rate-limit answer: doubling from `backoffMs` to `backoffMsMax`. */
export interface Backoff {
  readonly backoffMs: number
  readonly backoffMsMax: number
}

/** A throttle shared by every call of one kind (orders, reads) of one broker account. */
export interface RateLimiter {
  /** Waits on the Clock until every limit allows one more request, and takes it. */
  readonly take: Effect.Effect<void>
  /** The broker said "too many requests": pause every caller for the backoff, which then doubles. */
  readonly penalize: Effect.Effect<void>
  /** A call went through: the backoff returns to its base. */
  readonly relax: Effect.Effect<void>
}

interface Bucket {
  readonly capacity: number
  readonly refillPerMs: number
  tokens: number
  at: number
}

const bucketOf = (limit: RateLimit, now: number): Bucket => {
  const n = Math.max(1, Math.floor(limit.limit))
  const capacity = Math.max(1, Math.floor(n / 5))
  // A limit of 1 cannot spare a burst token; it refills one per window.
  const refillPerMs = Math.max(n - capacity, 1) / limit.windowMs
  return { capacity, refillPerMs, tokens: capacity, at: now }
}

const refill = (b: Bucket, now: number): void => {
  b.tokens = Math.min(b.capacity, b.tokens + (now - b.at) * b.refillPerMs)
  b.at = now
}

const waitFor = (b: Bucket): number => (b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / b.refillPerMs))

/** A limiter over these limits; callers queue in order behind one permit. */
export const make = (limits: ReadonlyArray<RateLimit>, backoff: Backoff): Effect.Effect<RateLimiter> =>
  Effect.gen(function* () {
    const clock: Clock.Clock = yield* Effect.clock
    const permit = yield* Effect.makeSemaphore(1)
    const start = yield* clock.currentTimeMillis
    const buckets = limits.map((l) => bucketOf(l, start))
    let pausedUntil = 0
    let nextBackoffMs = backoff.backoffMs
    const take = permit.withPermits(1)(
      Effect.gen(function* () {
        for (;;) {
          const now = yield* clock.currentTimeMillis
          for (const b of buckets) refill(b, now)
          const wait = Math.max(pausedUntil - now, ...buckets.map(waitFor))
          if (wait <= 0) {
            for (const b of buckets) b.tokens -= 1
            return
          }
          yield* clock.sleep(Duration.millis(wait))
        }
      }),
    )
    const penalize = Effect.flatMap(clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        pausedUntil = Math.max(pausedUntil, now + nextBackoffMs)
        nextBackoffMs = Math.min(nextBackoffMs * 2, backoff.backoffMsMax)
      }),
    )
    const relax = Effect.sync(() => {
      nextBackoffMs = backoff.backoffMs
    })
    return { take, penalize, relax }
  })

/**
 * Runs a call under the limiter. A `RateLimited` failure (it surely did not take effect) pauses
 * the limiter and the call is sent again, at most `retriesMax` more times; then it fails.
 */
export const throttled =
  (limiter: RateLimiter, retriesMax: number) =>
  <A>(call: Effect.Effect<A, BrokerError>): Effect.Effect<A, BrokerError> => {
    const attempt = (n: number): Effect.Effect<A, BrokerError> =>
      Effect.zipRight(limiter.take, call).pipe(
        Effect.tap(() => limiter.relax),
        Effect.catchIf(
          (e) => e.reason === "RateLimited",
          (e) => Effect.zipRight(limiter.penalize, n < retriesMax ? attempt(n + 1) : Effect.fail(e)),
        ),
      )
    return attempt(0)
  }

import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import { BrokerError } from "../../src/broker/Broker.js"
import * as RateLimiter from "../../src/broker/RateLimiter.js"

const backoff = { backoffMs: 500, backoffMsMax: 2_000 }

/** The most times within any window of `windowMs`. */
const maxInWindow = (times: ReadonlyArray<number>, windowMs: number): number => {
  let max = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++
    max = Math.max(max, i - j + 1)
  }
  return max
}

/** Forks `n` takers that record the Clock time they got through at. */
const takers = (limiter: RateLimiter.RateLimiter, n: number) =>
  Effect.gen(function* () {
    const times: Array<number> = []
    const fibers = yield* Effect.forEach(Array.from({ length: n }), () =>
      Effect.fork(
        Effect.zipRight(
          limiter.take,
          Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => times.push(t))),
        ),
      ),
    )
    return { times, fibers }
  })

describe("rate limiter (token buckets on the Effect Clock)", () => {
  it.effect("10 per second lets 2 through at once, then 8 a second, never more than 10 in any second", () =>
    Effect.gen(function* () {
      const limiter = yield* RateLimiter.make([{ limit: 10, windowMs: 1_000 }], backoff)
      const { times, fibers } = yield* takers(limiter, 30)
      yield* TestClock.adjust(0)
      expect(times).toHaveLength(2)
      for (let i = 0; i < 40; i++) yield* TestClock.adjust(100)
      yield* Fiber.joinAll(fibers)
      expect(times).toHaveLength(30)
      // 2 at once, then one every 125 ms: 9 in any half-open second, 10 in a closed one.
      expect(maxInWindow(times, 1_000)).toBe(9)
      expect(maxInWindow(times, 1_001)).toBe(10)
      expect(times.at(-1)).toBe(3_500)
    }),
  )

  it.effect("every limit holds at once: 10 per second and 20 per minute", () =>
    Effect.gen(function* () {
      const limits = [
        { limit: 10, windowMs: 1_000 },
        { limit: 20, windowMs: 60_000 },
      ]
      const limiter = yield* RateLimiter.make(limits, backoff)
      const { times, fibers } = yield* takers(limiter, 25)
      for (let i = 0; i < 3; i++) yield* TestClock.adjust(60_000)
      yield* Fiber.joinAll(fibers)
      expect(times).toHaveLength(25)
      expect(maxInWindow(times, 1_001)).toBeLessThanOrEqual(10)
      expect(maxInWindow(times, 60_001)).toBeLessThanOrEqual(20)
    }),
  )

  it.effect("a penalty holds every caller for the backoff, which doubles to its bound and resets after a success", () =>
    Effect.gen(function* () {
      const limiter = yield* RateLimiter.make([{ limit: 100, windowMs: 1_000 }], backoff)
      const waitOf = Effect.gen(function* () {
        const start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.fork(limiter.take)
        for (let i = 0; i < 100 && fiber.unsafePoll() === null; i++) yield* TestClock.adjust(50)
        yield* Fiber.join(fiber)
        return (yield* Clock.currentTimeMillis) - start
      })
      yield* limiter.penalize
      expect(yield* waitOf).toBe(500)
      yield* limiter.penalize
      expect(yield* waitOf).toBe(1_000)
      yield* limiter.penalize
      yield* limiter.penalize
      expect(yield* waitOf).toBe(2_000)
      yield* limiter.relax
      yield* limiter.penalize
      expect(yield* waitOf).toBe(500)
    }),
  )

  it.effect("throttled sends a rate-limited call again after the backoff, and gives up after retriesMax", () =>
    Effect.gen(function* () {
      const limiter = yield* RateLimiter.make([{ limit: 100, windowMs: 1_000 }], backoff)
      let calls = 0
      const refused = Effect.suspend(() => {
        calls += 1
        return Effect.fail(new BrokerError({ reason: "RateLimited", message: "429" }))
      })
      const fiber = yield* Effect.fork(Effect.flip(RateLimiter.throttled(limiter, 2)(refused)))
      yield* TestClock.adjust(0)
      expect(calls).toBe(1)
      yield* TestClock.adjust(500)
      expect(calls).toBe(2)
      yield* TestClock.adjust(1_000)
      expect(calls).toBe(3)
      expect((yield* Fiber.join(fiber)).reason).toBe("RateLimited")
    }),
  )
})

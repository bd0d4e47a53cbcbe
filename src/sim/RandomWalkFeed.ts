/**
 * A simulated market: a seeded random walk per instrument, published to the tick hub every
 * `intervalMs`. Prices move by a normal step of `volatilityBps` (plus `driftBps`), rounded to the
 * tick; randomness comes from Effect's Random service and time from its Clock, so a seed and the
 * test clock reproduce the same ticks.
 */
import { Clock, Effect, Random } from "effect"
import { TickHub } from "../market/TickHub.js"

/** One instrument of the simulated market. */
export interface WalkSpec {
  readonly symbol: string
  readonly exchange: string
  readonly startPrice: number
  readonly tickSize: number
  readonly intervalMs: number
  /** Standard deviation of one step, in basis points of the price. */
  readonly volatilityBps: number
  readonly driftBps?: number
}

/** A standard normal draw (Box–Muller) from the Random service. */
const normal = Effect.gen(function* () {
  const u = Math.max(yield* Random.next, 1e-12)
  const v = yield* Random.next
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
})

/** The next price of a walk, rounded to the tick and never below one tick. */
export const step = (price: number, spec: WalkSpec, z: number): number => {
  const next = price * (1 + ((spec.driftBps ?? 0) + spec.volatilityBps * z) / 10_000)
  return Math.max(spec.tickSize, Math.round(next / spec.tickSize) * spec.tickSize)
}

/** Publishes each instrument's walk to the tick hub until interrupted. */
export const runRandomWalk = (specs: ReadonlyArray<WalkSpec>) =>
  Effect.gen(function* () {
    const hub = yield* TickHub
    const walk = (spec: WalkSpec) =>
      Effect.gen(function* () {
        let price = spec.startPrice
        for (;;) {
          const at = yield* Clock.currentTimeMillis
          yield* hub.publish({ symbol: spec.symbol, exchange: spec.exchange, ltp: Number(price.toFixed(4)), at })
          yield* Effect.sleep(`${spec.intervalMs} millis`)
          price = step(price, spec, yield* normal)
        }
      })
    yield* Effect.forEach(specs, walk, { concurrency: "unbounded", discard: true })
  })

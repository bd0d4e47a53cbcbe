/**
 * The tick hub: every market tick the engine sees (a broker's feed or the simulated one) is
 * published here once, and each consumer (paper brokers, exit qualification, trailing stops,
 * dashboards) reads it from its own subscription or a synchronous listener.
 */
import { Context, Effect, Layer, PubSub, type Queue, type Scope } from "effect"

/** One trade print on the market. */
export interface Tick {
  readonly symbol: string
  readonly exchange: string
  /** Last traded price in rupees. */
  readonly ltp: number
  /** Epoch ms. */
  readonly at: number
}

/** A consumer called synchronously for every tick, in registration order (the hot path). */
export type TickListener = (tick: Tick) => Effect.Effect<void>

/** Publishes ticks to every subscriber. */
export class TickHub extends Context.Tag("warden/TickHub")<
  TickHub,
  {
    /** Publishes one tick: listeners first, in order, then the subscriptions. */
    readonly publish: (tick: Tick) => Effect.Effect<void>
    /** Adds a listener for the life of the scope. */
    readonly listen: (listener: TickListener) => Effect.Effect<void, never, Scope.Scope>
    /** A queue of every tick from now on (sliding: a slow reader loses old ticks, never blocks the feed). */
    readonly subscribe: Effect.Effect<Queue.Dequeue<Tick>, never, Scope.Scope>
    /** The last price seen per symbol. */
    readonly last: (symbol: string) => Tick | undefined
  }
>() {
  /** A hub whose subscriptions keep at most `ticksBufferedMax` ticks each. */
  static readonly layer = (ticksBufferedMax = 10_000) =>
    Layer.scoped(
      TickHub,
      Effect.gen(function* () {
        const pubsub = yield* PubSub.sliding<Tick>(ticksBufferedMax)
        const listeners: Array<TickListener> = []
        const last = new Map<string, Tick>()
        return {
          publish: (tick) =>
            Effect.gen(function* () {
              last.set(tick.symbol, tick)
              for (const l of listeners) yield* l(tick)
              yield* PubSub.publish(pubsub, tick)
            }),
          listen: (listener) =>
            Effect.acquireRelease(
              Effect.sync(() => listeners.push(listener)),
              () => Effect.sync(() => listeners.splice(listeners.indexOf(listener), 1)),
            ),
          subscribe: PubSub.subscribe(pubsub),
          last: (symbol) => last.get(symbol),
        }
      }),
    )
}

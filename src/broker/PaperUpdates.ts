/**
 * The paper broker's update socket, with the faults of a real one: an update delivered twice
 * (`duplicateUpdateRate`), two updates swapped (`outOfOrderRate`), and spells when nothing is
 * delivered at all (scheduled `disconnects`, `setConnected(false)`, or the broker down). What is
 * not delivered is lost from the stream; the order book stays true, so polling finds it.
 */
import { type Clock, Effect, PubSub, type Random, type Scope, Stream } from "effect"
import type { OrderUpdate } from "./Broker.js"

/** A spell without updates, in ms from the simulation's start (SCENARIOS.md `broker.disconnects`). */
export interface Disconnect {
  readonly atMs: number
  readonly forMs: number
}

/** The socket's fault knobs. */
export interface UpdateFaults {
  readonly duplicateUpdateRate: number
  readonly outOfOrderRate: number
  readonly disconnects: ReadonlyArray<Disconnect>
}

/** The update socket of one paper account. */
export interface UpdateChannel {
  /** Delivers one operation's updates, in order but for the faults. */
  readonly publish: (updates: ReadonlyArray<OrderUpdate>) => Effect.Effect<void>
  readonly setConnected: (connected: boolean) => Effect.Effect<void>
  readonly setDown: (down: boolean) => Effect.Effect<void>
  readonly isDown: Effect.Effect<boolean>
  /** Updates from the moment the stream runs. */
  readonly stream: Stream.Stream<OrderUpdate>
  /** Updates from the moment this is evaluated (nothing published after it is missed). */
  readonly subscribe: Effect.Effect<Stream.Stream<OrderUpdate>, never, Scope.Scope>
}

/** True with probability `rate`; draws from `random` only for a rate strictly between 0 and 1. */
export const chance = (random: Random.Random, rate: number): Effect.Effect<boolean> =>
  rate <= 0 ? Effect.succeed(false) : rate >= 1 ? Effect.succeed(true) : Effect.map(random.next, (r) => r < rate)

/** Makes the channel; `startMs` is the origin of the scheduled disconnects. */
export const makeUpdateChannel = (options: {
  readonly random: Random.Random
  readonly clock: Clock.Clock
  readonly faults: UpdateFaults
  readonly startMs: number
}): Effect.Effect<UpdateChannel> =>
  Effect.gen(function* () {
    const { random, clock, faults, startMs } = options
    const pubsub = yield* PubSub.unbounded<OrderUpdate>()
    let connected = true
    let down = false
    // An update held back to be delivered after the next one; `batch` is when it was held.
    let held: { readonly update: OrderUpdate; readonly batch: number } | null = null
    let batch = 0

    const scheduledOff = Effect.map(clock.currentTimeMillis, (now) =>
      faults.disconnects.some((d) => now >= startMs + d.atMs && now < startMs + d.atMs + d.forMs),
    )

    const deliver = (out: Array<OrderUpdate>, u: OrderUpdate) =>
      Effect.map(chance(random, faults.duplicateUpdateRate), (twice) => {
        out.push(u)
        if (twice) out.push(u)
      })

    const publish = (updates: ReadonlyArray<OrderUpdate>) =>
      Effect.gen(function* () {
        batch++
        const live = connected && !down && !(yield* scheduledOff)
        const out: Array<OrderUpdate> = []
        for (const u of live ? updates : []) {
          if (held !== null) {
            const late = held.update
            held = null
            yield* deliver(out, u)
            yield* deliver(out, late)
          } else if (yield* chance(random, faults.outOfOrderRate)) {
            held = { update: u, batch }
          } else {
            yield* deliver(out, u)
          }
        }
        // A held update waits at most until the end of the next operation (a tick, usually).
        if (held !== null && held.batch < batch) {
          if (live) yield* deliver(out, held.update)
          held = null
        }
        if (out.length > 0) yield* PubSub.publishAll(pubsub, out)
      })

    return {
      publish,
      setConnected: (c) =>
        Effect.sync(() => {
          connected = c
        }),
      setDown: (d) =>
        Effect.sync(() => {
          down = d
        }),
      isDown: Effect.sync(() => down),
      stream: Stream.fromPubSub(pubsub),
      subscribe: Stream.fromPubSub(pubsub, { scoped: true }),
    }
  })

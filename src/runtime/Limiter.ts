/**
 * A counting limiter that serves its waiters one at a time, in arrival order.
 *
 * Why not `Effect.Semaphore`: on every release it wakes *every* waiter, they race for the permit
 * and the losers wait again. With a few waiters that is harmless; with thousands (an exit storm
 * queues one broker call per exit order behind the effects' limit, a paper broker's lock, a
 * broker's throttle) each release costs as much as the queue is long, and the whole storm becomes
 * quadratic. Here a release hands the permit to the oldest waiter directly.
 */
import { Deferred, Effect, Exit, FiberId } from "effect"

export class Limiter {
  private free: number
  private waiters: Array<Deferred.Deferred<void> | undefined> = []
  private head = 0

  constructor(permits: number) {
    this.free = permits
  }

  /** How many are waiting for a permit. */
  get waiting(): number {
    return this.waiters.length - this.head
  }

  /** Runs `effect` holding one permit; waits (interruptibly) for it in arrival order. */
  withPermit<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(restore(this.take), restore(effect).pipe(Effect.ensuring(Effect.sync(() => this.release())))),
    )
  }

  /**
   * Takes one permit, waiting (interruptibly) in arrival order; the caller must `release` it
   * (for a permit held across a scope, e.g. a transaction's connection).
   */
  readonly take: Effect.Effect<void> = Effect.suspend(() => {
    if (this.free > 0 && this.waiting === 0) {
      this.free--
      return Effect.void
    }
    const turn = Deferred.unsafeMake<void>(FiberId.none)
    this.waiters.push(turn)
    return Deferred.await(turn).pipe(
      Effect.onInterrupt(() =>
        Effect.sync(() => {
          const at = this.waiters.indexOf(turn, this.head)
          if (at >= 0) this.waiters[at] = undefined
          // Interrupted after its turn came: the permit goes on to the next.
          else this.release()
        }),
      ),
    )
  })

  /** Gives back a permit taken with `take`: to the oldest waiter, or to the pool. */
  release(): void {
    while (this.head < this.waiters.length) {
      const next = this.waiters[this.head]
      this.waiters[this.head++] = undefined
      if (this.head > 1024 && this.head * 2 > this.waiters.length) {
        this.waiters = this.waiters.slice(this.head)
        this.head = 0
      }
      if (next) {
        Deferred.unsafeDone(next, Exit.void)
        return
      }
    }
    this.free++
  }
}

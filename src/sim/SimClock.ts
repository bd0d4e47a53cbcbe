/**
 * The simulation's clock: a `Clock` whose time moves only when the harness moves it, like
 * Effect's `TestClock`, but without its wait for every fiber to suspend (which polls with
 * `setTimeout(0)`, about two wall-clock milliseconds per wake-up, and caps a run near 60× real
 * time). Here the harness settles the fibers itself. Sleepers wake in time order, ties in the
 * order they went to sleep; an interrupted sleep leaves the queue at once.
 *
 * The time is always a whole number of milliseconds, as `Date.now()` is: a sleep of a fraction of
 * a millisecond (a jittered retry delay, say) wakes at the next whole millisecond, as a timer
 * would. (It used to wake at the fraction, and the time went fractional: the engine's commits
 * store times as integers and refused the step, so a broker call's outcome was lost and its
 * order stayed unresolved for good.)
 */
import { Clock, Duration, Effect } from "effect"

interface Sleeper {
  readonly at: number
  readonly seq: number
  readonly wake: () => void
}

/** A clock the harness advances. */
export class SimClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  private sleepers: Array<Sleeper> = []
  private seq = 0

  constructor(private now: number) {}

  unsafeCurrentTimeMillis(): number {
    return this.now
  }
  readonly currentTimeMillis = Effect.sync(() => this.now)
  unsafeCurrentTimeNanos(): bigint {
    return BigInt(this.now) * 1_000_000n
  }
  readonly currentTimeNanos = Effect.sync(() => this.unsafeCurrentTimeNanos())

  sleep(duration: Duration.Duration): Effect.Effect<void> {
    const ms = Math.ceil(Duration.toMillis(duration))
    if (!(ms > 0)) return Effect.yieldNow()
    return Effect.async<void>((resume) => {
      const sleeper: Sleeper = { at: this.now + ms, seq: this.seq++, wake: () => resume(Effect.void) }
      this.insert(sleeper)
      return Effect.sync(() => this.remove(sleeper))
    })
  }

  /** When the earliest sleeper is due, or null when none sleeps. */
  nextWake(): number | null {
    return this.sleepers[0]?.at ?? null
  }

  /** Moves the time to `at` (never back; a fraction rounds up) and wakes every sleeper due by then, earliest first. */
  advanceTo(at: number): void {
    if (at > this.now) this.now = Math.ceil(at)
    while (this.sleepers.length > 0 && this.sleepers[0]!.at <= this.now) this.sleepers.shift()!.wake()
  }

  private insert(s: Sleeper): void {
    let i = this.sleepers.length
    while (i > 0 && this.sleepers[i - 1]!.at > s.at) i--
    this.sleepers.splice(i, 0, s)
  }

  private remove(s: Sleeper): void {
    const i = this.sleepers.indexOf(s)
    if (i >= 0) this.sleepers.splice(i, 1)
  }
}

/**
 * The engine's scheduler: every fiber's tasks share one queue, run as microtasks, and the engine
 * hands the event loop back (`setImmediate`) at least every `sliceMs` of work.
 *
 * Effect's default scheduler keeps a queue per fiber, each falling back to `setTimeout` only after
 * 2,048 microtask rounds of its own. With thousands of fibers waking one another (an exit storm:
 * signals, intents, orders, broker answers), the microtask queue never empties and no socket,
 * HTTP request or timer runs for seconds (10 s at 4,000 exits, measured). One shared queue with a
 * time slice bounds that wait to the slice plus the longest single task (a group commit).
 *
 * Tasks run lowest priority number first, and the choice is made again before every task: a fiber
 * of the exit path (`exitPath`: the committer, the exit workers) woken in the middle of a round
 * runs next, not behind every broker answer and tick already queued. Without it a firing tick's
 * few fiber hops each waited behind a round of other work, milliseconds on a busy engine. The
 * broker's order updates (`brokerUpdates`) run after everything else.
 */
import { defaultShouldYield, type Scheduler } from "effect/Scheduler"

/** The scheduling priority of the exit path's fibers (Effect's default is 0; lower runs first). */
export const exitPath = -1

/**
 * The scheduling priority of the broker's order updates (the order watcher's stream): runs when
 * nothing else is ready. An exit-all places its orders before it books their fills (a storm of
 * 1,000 positions: 2.2 s for every exit order, against 3.0 s with each fill's steps, ten trades
 * closed a fill, taken in between); on an engine with time to spare, an update waits for nothing.
 * On a saturated one it waits at most `backgroundWaitMs` (see `EngineScheduler`), never for ever.
 */
export const brokerUpdates = 1

interface Bucket {
  readonly priority: number
  tasks: Array<(() => void) | undefined>
  head: number
  /** When each task was queued, for a background bucket (priority above 0) only. */
  since: Array<number> | null
}

export class EngineScheduler implements Scheduler {
  /** By priority, lowest first. */
  private readonly buckets: Array<Bucket> = []
  private size = 0
  private running = false
  private sliceStarted = 0
  /** The clock as the current round began: a background task's wait is measured in rounds (≤ 5 ms off). */
  private roundAt = 0

  /**
   * @param sliceMs the longest run of tasks before the event loop gets its turn.
   * @param backgroundWaitMs the longest a task of the least urgent bucket, when it is a background
   *   one (priority above 0), waits while more urgent ones keep coming: past it, it runs first, so
   *   a saturated engine still books its fills. Longer than an exit storm (1,000 positions take
   *   1.9 s; at 50 ms, fills were booked in between again and it took 2.6 s).
   */
  constructor(
    readonly sliceMs = 5,
    readonly backgroundWaitMs = 5_000,
  ) {}

  shouldYield = defaultShouldYield

  scheduleTask(task: () => void, priority: number): void {
    let bucket: Bucket | undefined
    let i = 0
    for (; i < this.buckets.length; i++) {
      const b = this.buckets[i]!
      if (b.priority === priority) bucket = b
      if (b.priority >= priority) break
    }
    if (!bucket) {
      bucket = { priority, tasks: [], head: 0, since: priority > 0 ? [] : null }
      this.buckets.splice(i, 0, bucket)
    }
    bucket.tasks.push(task)
    if (!this.running) {
      this.running = true
      this.sliceStarted = performance.now()
      this.roundAt = this.sliceStarted
      queueMicrotask(this.drain)
    }
    bucket.since?.push(this.roundAt)
    this.size++
  }

  /**
   * The next task: the first of the most urgent bucket that has one, unless a background task has
   * waited longer than `backgroundWaitMs`.
   */
  private take(): (() => void) | undefined {
    const last = this.buckets[this.buckets.length - 1]
    if (last?.since && last.head < last.tasks.length) {
      const waited = this.roundAt - last.since[last.head]!
      if (waited > this.backgroundWaitMs) return this.takeFrom(last)
    }
    for (const b of this.buckets) if (b.head < b.tasks.length) return this.takeFrom(b)
    return undefined
  }

  private takeFrom(b: Bucket): (() => void) | undefined {
    const task = b.tasks[b.head]
    b.tasks[b.head++] = undefined
    if (b.head === b.tasks.length) {
      b.tasks = []
      if (b.since) b.since = []
      b.head = 0
    }
    this.size--
    return task
  }

  /**
   * One round: as many tasks as were queued when it began (those queued meanwhile may run first
   * if more urgent), then other microtasks (promise callbacks) get their turn, or the event loop
   * once the slice is used up.
   */
  private drain = (): void => {
    for (let n = this.size; n > 0; n--) this.take()?.()
    if (this.size === 0) {
      this.running = false
      return
    }
    this.roundAt = performance.now()
    if (this.roundAt - this.sliceStarted < this.sliceMs) queueMicrotask(this.drain)
    else
      setImmediate(() => {
        this.sliceStarted = performance.now()
        this.drain()
      })
  }
}

/** The one scheduler the engine's fibers run on. */
export const engineScheduler = new EngineScheduler()

/**
 * The engine's scheduler: every fiber's tasks share one queue, run as microtasks, and the engine
 * hands the event loop back (`setImmediate`) at least every `sliceMs` of work.
 *
 * Effect's default scheduler keeps a queue per fiber, each falling back to `setTimeout` only after
 * 2,048 microtask rounds of its own. With thousands of fibers waking one another (an exit storm:
 * signals, intents, orders, broker answers), the microtask queue never empties and no socket,
 * HTTP request or timer runs for seconds (10 s at 4,000 exits, measured). One shared queue with a
 * time slice bounds that wait to the slice plus the longest single task (a group commit).
 */
import { PriorityBuckets, type Scheduler, defaultShouldYield } from "effect/Scheduler"

export class EngineScheduler implements Scheduler {
  private tasks = new PriorityBuckets()
  private running = false
  private sliceStarted = 0

  constructor(readonly sliceMs = 5) {}

  shouldYield = defaultShouldYield

  scheduleTask(task: () => void, priority: number): void {
    this.tasks.scheduleTask(task, priority)
    if (!this.running) {
      this.running = true
      this.sliceStarted = performance.now()
      queueMicrotask(this.drain)
    }
  }

  private drain = (): void => {
    const buckets = this.tasks.buckets
    this.tasks.buckets = []
    for (const [, toRun] of buckets) for (let i = 0; i < toRun.length; i++) toRun[i]!()
    if (this.tasks.buckets.length === 0) {
      this.running = false
      return
    }
    if (performance.now() - this.sliceStarted < this.sliceMs) queueMicrotask(this.drain)
    else
      setImmediate(() => {
        this.sliceStarted = performance.now()
        this.drain()
      })
  }
}

/** The one scheduler the engine's fibers run on. */
export const engineScheduler = new EngineScheduler()

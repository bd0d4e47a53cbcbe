import { describe, expect, it } from "vitest"
import { Effect, Fiber, Queue } from "effect"
import { brokerUpdates, EngineScheduler, exitPath } from "../../src/runtime/EngineScheduler.js"

/**
 * A ring of 100 fibers with 10 messages going round for ever: each fiber wakes the next, so a task
 * is always ready (an exit storm's signals, intents, orders and broker answers, in small). On
 * Effect's default scheduler (a queue per fiber, each deferring to a timer only after 2,048
 * microtask rounds of its own) this ring never lets a timer or a socket run again.
 */
const ring = (rounds: { n: number }) =>
  Effect.gen(function* () {
    const size = 100
    const queues = yield* Effect.forEach(Array.from({ length: size }), () => Queue.unbounded<number>())
    const fibers: Array<Fiber.RuntimeFiber<never>> = []
    for (let i = 0; i < size; i++) {
      const from = queues[i]!
      const to = queues[(i + 1) % size]!
      const relay = Effect.forever(
        Effect.flatMap(Queue.take(from), (k) => {
          rounds.n++
          return Queue.offer(to, k + 1)
        }),
      )
      fibers.push(yield* Effect.forkDaemon(relay))
    }
    for (let i = 0; i < size; i += 10) yield* Queue.offer(queues[i]!, 0)
    return fibers
  })

describe("EngineScheduler", () => {
  it("hands the event loop back while fibers keep one another busy: sockets, timers and I/O still run", async () => {
    const scheduler = new EngineScheduler(2)
    const rounds = { n: 0 }
    const fibers = await Effect.runPromise(ring(rounds).pipe(Effect.withScheduler(scheduler)))
    // A macrotask (what an HTTP request, a websocket frame or a timer is) gets its turn, and again.
    const seen: Array<number> = []
    for (let i = 0; i < 3; i++) seen.push(await new Promise<number>((resolve) => setImmediate(() => resolve(rounds.n))))
    await new Promise<void>((resolve) => setTimeout(resolve, 5))
    const afterTimer = rounds.n
    await Effect.runPromise(Fiber.interruptAll(fibers))
    // The fibers ran in between: the loop was shared, not stopped.
    expect(seen[0]).toBeGreaterThan(0)
    expect(seen[2]).toBeGreaterThan(seen[0]!)
    expect(afterTimer).toBeGreaterThan(seen[2]!)
  })

  it("runs tasks in priority order, then in arrival order", async () => {
    const scheduler = new EngineScheduler()
    const order: Array<string> = []
    await new Promise<void>((resolve) => {
      scheduler.scheduleTask(() => order.push("a0"), 0)
      scheduler.scheduleTask(() => order.push("b1"), 1)
      scheduler.scheduleTask(() => order.push("c0"), 0)
      scheduler.scheduleTask(() => resolve(), 2)
    })
    expect(order).toEqual(["a0", "c0", "b1"])
  })

  it("runs an exit-path task woken mid-round before the tasks already queued", async () => {
    const scheduler = new EngineScheduler()
    const order: Array<string> = []
    await new Promise<void>((resolve) => {
      // A broker answer wakes the committer while ticks are queued behind it.
      scheduler.scheduleTask(() => {
        order.push("answer")
        scheduler.scheduleTask(() => order.push("committer"), exitPath)
      }, 0)
      for (let i = 0; i < 3; i++) scheduler.scheduleTask(() => order.push(`tick${i}`), 0)
      scheduler.scheduleTask(() => resolve(), 0)
    })
    expect(order).toEqual(["answer", "committer", "tick0", "tick1", "tick2"])
  })

  it("gives the exit path's fibers their turn first while others keep the scheduler busy", async () => {
    const scheduler = new EngineScheduler()
    const rounds = { n: 0 }
    const fibers = await Effect.runPromise(ring(rounds).pipe(Effect.withScheduler(scheduler)))
    // Woken by a queue, as the committer is by the inbox: how many relay hops ran before it did.
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const inbox = yield* Queue.unbounded<number>()
        const urgent = yield* Effect.fork(
          Effect.withSchedulingPriority(
            Effect.map(Queue.take(inbox), () => rounds.n),
            exitPath,
          ),
        )
        yield* Effect.sleep("5 millis")
        const before = rounds.n
        yield* Queue.offer(inbox, 1)
        return (yield* Fiber.join(urgent)) - before
      }).pipe(Effect.withScheduler(scheduler)),
    )
    await Effect.runPromise(Fiber.interruptAll(fibers))
    // The ring's ten messages are always ready; at the default priority the waiter would queue behind them.
    expect(result).toBeLessThanOrEqual(10)
  })

  it("runs a background task (a broker update) once it has waited its longest, however busy the others keep it", async () => {
    const scheduler = new EngineScheduler(5, 20)
    const rounds = { n: 0 }
    const fibers = await Effect.runPromise(ring(rounds).pipe(Effect.withScheduler(scheduler)))
    const started = performance.now()
    // Never idle: without the bound, the ring would keep this task waiting for ever.
    const waited = await new Promise<number>((resolve) =>
      scheduler.scheduleTask(() => resolve(performance.now() - started), brokerUpdates),
    )
    await Effect.runPromise(Fiber.interruptAll(fibers))
    expect(waited).toBeGreaterThanOrEqual(20)
    expect(rounds.n).toBeGreaterThan(0)
  })

  it("keeps a background task behind the others while it is within its wait", async () => {
    const scheduler = new EngineScheduler(5, 1_000)
    const order: Array<string> = []
    await new Promise<void>((resolve) => {
      scheduler.scheduleTask(() => order.push("update"), brokerUpdates)
      for (let i = 0; i < 3; i++) scheduler.scheduleTask(() => order.push(`tick${i}`), 0)
      scheduler.scheduleTask(() => resolve(), brokerUpdates)
    })
    expect(order).toEqual(["tick0", "tick1", "tick2", "update"])
  })
})

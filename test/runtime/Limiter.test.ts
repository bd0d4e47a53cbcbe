import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { Limiter } from "../../src/runtime/Limiter.js"

describe("Limiter", () => {
  it.effect("holds at most its permits at once and serves waiters in arrival order", () =>
    Effect.gen(function* () {
      const limiter = new Limiter(2)
      const gate = yield* Deferred.make<void>()
      const order: Array<number> = []
      let running = 0
      let most = 0
      const job = (i: number) =>
        limiter.withPermit(
          Effect.gen(function* () {
            running++
            most = Math.max(most, running)
            order.push(i)
            yield* Deferred.await(gate)
            running--
          }),
        )
      const fibers = yield* Effect.forEach([0, 1, 2, 3, 4, 5], (i) => Effect.fork(job(i)))
      yield* Effect.yieldNow()
      expect(order).toEqual([0, 1])
      expect(limiter.waiting).toBe(4)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.joinAll(fibers)
      expect(order).toEqual([0, 1, 2, 3, 4, 5])
      expect(most).toBe(2)
      expect(limiter.waiting).toBe(0)
    }),
  )

  it.effect("a waiter interrupted in the queue gives up its place; a failing holder still releases", () =>
    Effect.gen(function* () {
      const limiter = new Limiter(1)
      const gate = yield* Deferred.make<void>()
      const ran: Array<string> = []
      const holder = yield* Effect.fork(limiter.withPermit(Deferred.await(gate)))
      yield* Effect.yieldNow()
      const quitter = yield* Effect.fork(limiter.withPermit(Effect.sync(() => ran.push("quitter"))))
      const failing = yield* Effect.fork(Effect.either(limiter.withPermit(Effect.fail("boom"))))
      const last = yield* Effect.fork(limiter.withPermit(Effect.sync(() => ran.push("last"))))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(quitter)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      expect((yield* Fiber.join(failing))._tag).toBe("Left")
      yield* Fiber.join(last)
      expect(ran).toEqual(["last"])
      // Every permit came back: a new holder gets one at once.
      expect(yield* limiter.withPermit(Effect.succeed("free"))).toBe("free")
    }),
  )
})

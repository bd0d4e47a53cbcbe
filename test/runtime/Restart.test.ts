import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import type { EffectHandler } from "../../src/runtime/EffectHandlers.js"
import { verifyReplay } from "../../src/runtime/Replay.js"
import { ActorStore } from "../../src/store/ActorStore.js"
import { orderInput, tempDir, testEngine } from "../fixtures/TestEngine.js"

/** A placement that reaches the broker's book, then the process dies before the answer. */
const placeThenDie = (ledger: ReturnType<typeof testEngine>["ledger"]): Record<string, EffectHandler> => ({
  "broker.place": {
    ...ledger.handlers["broker.place"],
    run: (payload, ctx) =>
      Effect.zipRight(Effect.orDie(ledger.handlers["broker.place"].run(payload, ctx)), Effect.never),
  },
})

/** A placement that never reaches the broker: the process dies first. */
const dieBeforeSend: Record<string, EffectHandler> = {
  "broker.place": { run: () => Effect.never, onFailure: () => null },
}

const stateOf = (id: string) =>
  Effect.flatMap(ActorRuntime, (rt) => Effect.map(rt.view(id), (v) => Option.getOrThrow(v).state))

/** Waits (in real time) until the actor reaches a state. */
const until = (id: string, state: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 2_000; i++) {
      if ((yield* stateOf(id)) === state) return
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 1)))
    }
    throw new Error(`${id} never reached ${state}; it is in ${yield* stateOf(id)}`)
  })

describe("restart", () => {
  it.live("re-drives an effect that may have run by looking it up by key: one broker order, not two", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const first = testEngine({ dir, handlers: placeThenDie })
      yield* Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          yield* rt.spawn("order", "o1", orderInput("o1"))
          yield* rt.send("o1", { type: "cmd.place" })
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
        }).pipe(Effect.provide(first.layer)),
      )
      expect(first.ledger.placements()).toBe(1)
      first.ledger.close()

      const second = testEngine({ dir })
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* until("o1", "SENT_TO_BROKER.working")
          const sql = yield* SqlClient.SqlClient
          const outbox = yield* sql<{ status: string }>`SELECT status FROM outbox`
          expect(outbox).toEqual([{ status: "done" }])
        }).pipe(Effect.provide(second.layer)),
      )
      expect(second.ledger.placements()).toBe(1)
      expect(second.ledger.duplicates()).toEqual([])
    }),
  )

  it.live("re-sends an effect the broker never saw", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const first = testEngine({ dir, handlers: () => dieBeforeSend })
      yield* Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          yield* rt.spawn("order", "o1", orderInput("o1"))
          yield* rt.send("o1", { type: "cmd.place" })
        }).pipe(Effect.provide(first.layer)),
      )
      expect(first.ledger.placements()).toBe(0)
      const second = testEngine({ dir })
      yield* Effect.scoped(until("o1", "SENT_TO_BROKER.working").pipe(Effect.provide(second.layer)))
      expect(second.ledger.placements()).toBe(1)
    }),
  )

  it.effect("re-arms a durable timer from its stored due time: the ack timeout still fires after a restart", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const hang = () => dieBeforeSend
      yield* Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          yield* rt.spawn("order", "o1", orderInput("o1", { ackTimeoutMs: 10_000 }))
          yield* rt.send("o1", { type: "cmd.place" })
          yield* TestClock.adjust("4 seconds")
        }).pipe(Effect.provide(testEngine({ dir, handlers: hang }).layer)),
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const timers = yield* sql<{ name: string; due_at: number }>`SELECT name, due_at FROM timers`
          expect(timers).toEqual([{ name: "ackTimeout", due_at: 10_000 }])
          yield* TestClock.setTime(9_999)
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
          expect(yield* stateOf("o1")).toBe("SENT_TO_BROKER.awaitingAck")
          yield* TestClock.setTime(10_000)
          yield* until("o1", "SENT_TO_BROKER.lookupWait")
          const rows = yield* sql<{
            event_type: string
            at: number
          }>`SELECT event_type, at FROM journal WHERE event_type LIKE 'timer.%'`
          expect(rows).toEqual([{ event_type: "timer.ackTimeout", at: 10_000 }])
          expect(yield* sql`SELECT name FROM timers`).toEqual([{ name: "lookupRetry" }])
        }).pipe(Effect.provide(testEngine({ dir, handlers: hang }).layer)),
      )
    }),
  )

  it.live("replaying every actor's journal gives its stored snapshot", () =>
    Effect.gen(function* () {
      const t = testEngine()
      const result = yield* Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          for (let i = 0; i < 20; i++) {
            yield* rt.spawn("order", `o${i}`, orderInput(`o${i}`, { qty: 10 }))
            yield* rt.send(`o${i}`, { type: "cmd.place" })
          }
          yield* rt.awaitIdle
          for (let i = 0; i < 20; i++) {
            yield* rt.send(`o${i}`, { type: "broker.filled", fillId: "f1", qty: 4, price: 100 + i })
            yield* rt.send(`o${i}`, { type: "broker.filled", fillId: "f1", qty: 4, price: 100 + i })
            if (i % 2 === 0) yield* rt.send(`o${i}`, { type: "broker.filled", fillId: "f2", qty: 6, price: 101 })
          }
          return yield* verifyReplay(7)
        }).pipe(Effect.provide(t.layer)),
      )
      expect(result).toEqual({ checked: 20, mismatches: [] })
    }),
  )

  it.live("replay catches a snapshot that does not match its journal", () =>
    Effect.gen(function* () {
      const t = testEngine()
      const result = yield* Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          const sql = yield* SqlClient.SqlClient
          yield* rt.spawn("order", "o1", orderInput("o1"))
          yield* rt.spawn("order", "o2", orderInput("o2"))
          yield* sql`UPDATE actors SET snapshot = json_set(snapshot, '$.context.qty', 999) WHERE actor_id = 'o2'`
          yield* ActorStore
          return yield* verifyReplay()
        }).pipe(Effect.provide(t.layer)),
      )
      expect(result.mismatches.map((m) => m.actorId)).toEqual(["o2"])
    }),
  )
})

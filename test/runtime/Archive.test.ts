/**
 * Archiving: an actor terminal in meaning but live in XState's terms (a cancelled order still takes
 * a late fill) is archived once it has been quiet long enough: journaled, no longer rehydrated,
 * events to it refused and journaled, and its replay unchanged.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { verifyReplay } from "../../src/runtime/Replay.js"
import { isTerminal } from "../../src/runtime/Step.js"
import { orderInput, tempDir, testEngine } from "../fixtures/TestEngine.js"

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

describe("archiving", () => {
  it("knows the terminal states from the machines' tags", () => {
    expect(isTerminal("order", "CANCELLED")).toBe(true)
    expect(isTerminal("order", "SENT_TO_BROKER.awaitingAck")).toBe(false)
    expect(isTerminal("exitIntent", "APPROVED.dark")).toBe(true)
    expect(isTerminal("exitIntent", "APPROVED.live")).toBe(false)
    expect(isTerminal("exitSignal", "PUBLISHED.rearmed")).toBe(true)
  })

  it.live("archives a quiet cancelled order, not a working one; a restart no longer loads it; replay holds", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const archiving = { archiveAfterMs: 0, archiveEveryMs: 20 }
      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          const sql = yield* SqlClient.SqlClient
          yield* rt.spawn("order", "cancelled", orderInput("cancelled"))
          yield* rt.send("cancelled", { type: "cmd.cancel" })
          yield* rt.spawn("order", "waiting", orderInput("waiting"))
          for (let i = 0; i < 200 && rt.liveIds().includes("cancelled"); i++) yield* sleep(10)
          const late = yield* rt.send("cancelled", { type: "broker.filled", fillId: "F1", qty: 65, price: 1 })
          const rows = yield* sql<{ actor_id: string; status: string; state: string }>`
            SELECT actor_id, status, state FROM actors ORDER BY actor_id`
          const journal = yield* sql<{ event_type: string; from_state: string; to_state: string; cause: string }>`
            SELECT event_type, from_state, to_state, cause FROM journal WHERE actor_id = 'cancelled' ORDER BY seq`
          return { late, rows, journal, live: rt.liveIds() }
        }).pipe(Effect.provide(testEngine({ dir, runtime: archiving }).layer)),
      )
      expect(first.rows).toEqual([
        { actor_id: "cancelled", status: "done", state: "CANCELLED" },
        { actor_id: "waiting", status: "active", state: "CREATED" },
      ])
      expect(first.journal.slice(2)).toEqual([
        { event_type: "runtime.archived", from_state: "CANCELLED", to_state: "CANCELLED", cause: "runtime:archive" },
        { event_type: "broker.filled", from_state: "CANCELLED", to_state: "CANCELLED", cause: null },
      ])
      expect(first.late.refused).toMatch(/final state/)
      expect(first.live).toEqual(["waiting"])

      const second = yield* Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          const view = yield* rt.view("cancelled")
          return { live: rt.liveIds(), view: Option.map(view, (v) => v.state), replay: yield* verifyReplay() }
        }).pipe(Effect.provide(testEngine({ dir, runtime: { archiveEveryMs: 0 } }).layer)),
      )
      expect(second.live).toEqual(["waiting"])
      expect(second.view).toEqual(Option.some("CANCELLED"))
      expect(second.replay.mismatches).toEqual([])
    }),
  )
})

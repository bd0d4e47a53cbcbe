/**
 * The audit's data on a database made by the real engine (test/audit/auditFixture.ts), read
 * through a read-only copy as `warden audit` reads it: the actor list and its filters, one
 * actor's path, steps and timeline, and the causal chain both ways.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { auditOfCopy } from "../../src/audit/AuditServer.js"
import { type ActorDetail, AuditService } from "../../src/audit/AuditService.js"
import type { ActorFilter, ActorPage } from "../../src/audit/AuditStore.js"
import { canonical, replay } from "../../src/runtime/Replay.js"
import type { StoredJournalRow } from "../../src/store/ActorStore.js"
import { buildAuditDatabase } from "./auditFixture.js"

const fixture = buildAuditDatabase()
const audit = Layer.unwrapEffect(
  Effect.map(
    Effect.promise(() => fixture),
    (f) => auditOfCopy(f.dbFile),
  ),
)
const ids = Effect.promise(() => fixture)

const list = (filter: ActorFilter, limit = 100) =>
  Effect.flatMap(AuditService, (a) => Effect.map(a.actors(filter, null, limit), (p) => p.rows.map((r) => r.actor_id)))
const detail = (id: string) => Effect.flatMap(AuditService, (a) => Effect.map(a.detail(id), (d) => d as ActorDetail))

/** The context after each step, rebuilt from the steps' diffs as the page does. */
const contexts = (d: ActorDetail) => {
  let current: Record<string, unknown> = {}
  return d.steps.map((s) => {
    if (s.changes) {
      current = { ...current, ...s.changes }
      for (const k of s.removed ?? []) delete current[k]
    }
    return current
  })
}

layer(audit)("the actor list", (it) => {
  it.effect("lists every actor newest first, each with its symbol and account", () =>
    Effect.gen(function* () {
      const f = yield* ids
      const page = yield* Effect.flatMap(AuditService, (a) => a.actors({}, null, 100))
      const created = page.rows.map((r) => r.created_at)
      expect(created).toEqual([...created].sort((a, b) => b - a))
      expect(page.rows.map((r) => r.actor_id)).toEqual(
        expect.arrayContaining([f.tradeId, f.entryOrderId, f.signalId, f.intentId, f.exitOrderId, f.openTradeId]),
      )
      for (const r of page.rows) expect([r.symbol, r.account]).toEqual(["NIFTY26MARFUT", "U1"])
      expect(page.next).toBeNull()
    }),
  )

  it.effect("filters by type, by state or state prefix, by symbol, by account and by time alive", () =>
    Effect.gen(function* () {
      const f = yield* ids
      expect(yield* list({ type: "exitIntent" })).toEqual([f.intentId])
      expect((yield* list({ type: "trade", state: "OPEN" })).sort()).toEqual([f.openTradeId])
      expect(yield* list({ state: "PUBLISHED" })).toEqual([f.signalId])
      expect(yield* list({ state: "PUBLISH" })).toEqual([])
      expect((yield* list({ symbol: "NIFTY26MARFUT" })).length).toBe(7)
      expect(yield* list({ symbol: "BANKNIFTY26MARFUT" })).toEqual([])
      expect(yield* list({ account: "U2" })).toEqual([])
      expect((yield* list({ account: "U1", type: "order" })).length).toBe(3)
      expect(yield* list({ to: 0 })).toEqual([])
      expect((yield* list({ from: Date.now() - 3_600_000, to: Date.now() })).length).toBe(7)
    }),
  )

  it.effect("pages with a cursor: the pages are disjoint and together hold every actor", () =>
    Effect.gen(function* () {
      const a = yield* AuditService
      const seen: Array<string> = []
      let cursor: string | null = null
      for (let i = 0; i < 10; i++) {
        const page: ActorPage = yield* a.actors({}, cursor, 2)
        seen.push(...page.rows.map((r) => r.actor_id))
        cursor = page.next
        if (cursor === null) break
      }
      expect(seen.length).toBe(7)
      expect(new Set(seen).size).toBe(7)
    }),
  )
})

layer(audit)("one actor", (it) => {
  it.effect("an exit intent's path: the states it entered and the transitions it took, with counts", () =>
    Effect.gen(function* () {
      const d = yield* detail((yield* ids).intentId)
      expect(d.visited.map((v) => [v.state, v.visits])).toEqual([
        ["PENDING", 1],
        ["APPROVED", 1],
        ["APPROVED.live", 1],
        ["PLACED", 1],
        ["FILLED", 1],
      ])
      expect(d.taken.map((t) => `${t.from} --${t.label}--> ${t.to} ×${t.count}`)).toEqual([
        "PENDING --gate.approved [executes]--> APPROVED.live ×1",
        "APPROVED.live --order.accepted [isOwnOrder]--> PLACED ×1",
        "PLACED --order.filled [isNewFill]--> (stays) ×1",
        "PLACED --order.executed [isCompleteExecution]--> FILLED ×1",
      ])
      expect(d.chart.exact).toBe(true)
      expect(d.chart.source).toBe("recorded")
    }),
  )

  it.effect("the state and context at every step are the replay of the journal up to that step", () =>
    Effect.gen(function* () {
      const f = yield* ids
      const d = yield* detail(f.tradeId)
      const rows = d.timeline.rows.map(
        (r) =>
          ({
            id: r.id,
            actor_id: f.tradeId,
            seq: r.seq,
            event_type: r.event,
            event: JSON.stringify({ type: r.event, ...r.payload, at: r.at }),
            from_state: r.from,
            to_state: r.to,
            at: r.at,
            cause: r.cause,
            refused: r.refused,
          }) satisfies StoredJournalRow,
      )
      const ctx = contexts(d)
      d.steps.forEach((step, k) => {
        const replayed = JSON.parse(replay("trade", rows.slice(0, k + 1))) as { value: unknown; context: unknown }
        expect(canonical(ctx[k])).toBe(canonical(replayed.context))
        expect(step.state).toBe(rows[k]!.to_state)
      })
      expect(d.steps.map((s) => s.state).at(-1)).toBe("CLOSED")
    }),
  )

  it.effect("a refused event is on the timeline with its reason, and changes no state", () =>
    Effect.gen(function* () {
      const d = yield* detail((yield* ids).exitOrderId)
      const refused = d.timeline.rows.filter((r) => r.refused !== null)
      expect(refused.map((r) => [r.event, r.from, r.to, r.cause])).toEqual([
        ["cmd.cancel", "EXECUTED", "EXECUTED", "api:test-cancel"],
      ])
      expect(refused[0]!.refused).toContain("final state")
      expect(d.steps.at(-1)).toEqual({ seq: refused[0]!.seq, event: "cmd.cancel", state: "EXECUTED" })
      expect(d.timeline.total).toBe(d.steps.length)
    }),
  )
})

layer(audit)("the causal chain", (it) => {
  it.effect("from an exit intent: its signal and order upstream, its order and the trade downstream", () =>
    Effect.gen(function* () {
      const f = yield* ids
      const d = yield* detail(f.intentId)
      const up = d.chain.upstream.map((l) => l.actor?.id)
      const down = d.chain.downstream.map((l) => l.actor?.id)
      expect(up).toEqual(expect.arrayContaining([f.signalId, f.exitOrderId, f.tradeId]))
      expect(down).toEqual(expect.arrayContaining([f.exitOrderId, f.tradeId]))
      const fromSignal = d.chain.upstream.find((l) => l.actor?.id === f.signalId)!
      expect(fromSignal.relations[0]).toBe("created this at its step 1")
      const toTrade = d.chain.downstream.find((l) => l.actor?.id === f.tradeId)!
      expect(toTrade.relations).toEqual(["received exit.started from step 1", "received exit.filled from step 4"])
    }),
  )

  it.effect("lays out the trade: entry command → order → fill, and tick → signal → intent → order → fill", () =>
    Effect.gen(function* () {
      const f = yield* ids
      const t = (yield* detail(f.intentId)).chain.trade!
      expect(t.trade.id).toBe(f.tradeId)
      expect(t.entries.map((o) => [o.command, o.order.id, o.fills.map((x) => [x.qty, x.price])])).toEqual([
        ["trades:enter", f.entryOrderId, [[65, 22_000]]],
      ])
      expect(t.exits).toHaveLength(1)
      const exit = t.exits[0]!
      expect([exit.reason, exit.tick.price, exit.tick.source, exit.signal.id, exit.intent?.id]).toEqual([
        "TARGET",
        22_120,
        "exit:tick",
        f.signalId,
        f.intentId,
      ])
      expect(exit.orders.map((o) => [o.order.id, o.purpose, o.fills.map((x) => [x.qty, x.price])])).toEqual([
        [f.exitOrderId, "EXIT", [[65, 22_120]]],
      ])
    }),
  )

  it.effect("every actor of the trade, and no other, finds the same trade", () =>
    Effect.gen(function* () {
      const f = yield* ids
      for (const id of [f.tradeId, f.entryOrderId, f.signalId, f.intentId, f.exitOrderId])
        expect((yield* detail(id)).chain.trade?.trade.id, id).toBe(f.tradeId)
      expect((yield* detail(f.openTradeId)).chain.trade?.trade.id).toBe(f.openTradeId)
      const entry = yield* detail(f.entryOrderId)
      expect(entry.chain.upstream.map((l) => l.text ?? l.actor?.id)).toEqual([f.tradeId, "trades:enter"])
    }),
  )
})

describe("the report", () => {
  layer(audit)("of an exit intent", (it) => {
    it.effect("holds every actor of its chain in full", () =>
      Effect.gen(function* () {
        const f = yield* ids
        const report = (yield* Effect.flatMap(AuditService, (a) => a.report(f.intentId, 0)))!
        expect(Object.keys(report.actors).sort()).toEqual(
          [f.tradeId, f.entryOrderId, f.signalId, f.intentId, f.exitOrderId].sort(),
        )
      }),
    )
  })
})

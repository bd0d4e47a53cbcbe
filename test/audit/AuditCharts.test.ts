/**
 * Machine charts and their versions: definitions recorded by version, the layout (compound states
 * hold their children), the path drawn by line style, an actor drawn on the chart of an older
 * version, and the query plans of the audit's SQL.
 */
import { copyFileSync } from "node:fs"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it, layer } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Effect, Layer } from "effect"
import { auditOfCopy } from "../../src/audit/AuditServer.js"
import { type ActorDetail, AuditService } from "../../src/audit/AuditService.js"
import { AuditStore } from "../../src/audit/AuditStore.js"
import { flatten } from "../../src/audit/ChartDefinition.js"
import { layoutChart } from "../../src/audit/ChartLayout.js"
import { currentDefinitions, recordMachineDefinitions } from "../../src/audit/MachineDefinitions.js"
import { databaseLayer } from "../../src/store/Database.js"
import { tempDir } from "../fixtures/TestEngine.js"
import { buildAuditDatabase } from "./auditFixture.js"

const fixture = buildAuditDatabase()
const ids = Effect.promise(() => fixture)

describe("machine definitions", () => {
  layer(databaseLayer({ filename: join(tempDir(), "defs.db") }))((it) => {
    it.effect("are recorded once per version; a change without a version bump is reported, not recorded", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        expect(yield* recordMachineDefinitions).toEqual([])
        const count = sql<{ n: number }>`SELECT COUNT(*) AS n FROM machine_definitions`
        expect((yield* count)[0]!.n).toBe(currentDefinitions().length)
        expect(yield* recordMachineDefinitions).toEqual([])
        yield* sql`UPDATE machine_definitions SET definition = '{"changed":true}' WHERE actor_type = 'order'`
        expect(yield* recordMachineDefinitions).toEqual(["order@1"])
        const [row] = yield* sql<{
          definition: string
        }>`SELECT definition FROM machine_definitions WHERE actor_type = 'order'`
        expect(row!.definition).toBe('{"changed":true}')
        expect((yield* count)[0]!.n).toBe(currentDefinitions().length)
      }),
    )
  })
})

describe("layout", () => {
  for (const def of currentDefinitions()) {
    it.effect(`${def.actorType}: every state is placed once, inside its parent`, () =>
      Effect.gen(function* () {
        const layout = yield* layoutChart(def)
        const placed = new Map(layout.nodes.map((p) => [p.node.id, p]))
        expect([...placed.keys()].sort()).toEqual(
          flatten(def.root)
            .map((n) => n.id)
            .sort(),
        )
        for (const parent of flatten(def.root))
          for (const child of parent.children) {
            const [p, c] = [placed.get(parent.id)!, placed.get(child.id)!]
            expect(c.x >= p.x && c.y >= p.y, child.id).toBe(true)
            expect(c.x + c.width <= p.x + p.width && c.y + c.height <= p.y + p.height, child.id).toBe(true)
          }
        const drawn = layout.edges.flatMap((e) => e.edges.map((x) => x.id))
        expect(drawn.sort()).toEqual(def.edges.map((e) => e.id).sort())
        for (const e of layout.edges) expect(e.points.length, e.id).toBeGreaterThanOrEqual(2)
      }),
    )
  }
})

/** The `<g>` elements of a class in an SVG string, with their text up to the closing tag. */
const groups = (svg: string, cls: string): Array<string> =>
  svg
    .split(`<g class="${cls} `)
    .slice(1)
    .map((s) => s.slice(0, s.indexOf("</g>")))

const audit = Layer.unwrapEffect(Effect.map(ids, (f) => auditOfCopy(f.dbFile)))
const detail = (id: string) => Effect.flatMap(AuditService, (a) => Effect.map(a.detail(id), (d) => d as ActorDetail))

layer(audit)("the path on the chart", (it) => {
  it.effect("taken transitions are thick and solid with a count, the others thin and dashed", () =>
    Effect.gen(function* () {
      const svg = (yield* detail((yield* ids).intentId)).chart.svg
      const edges = groups(svg, "edge")
      const taken = edges.filter((g) => g.includes(`data-taken="true"`))
      expect(taken.length).toBe(4)
      for (const g of taken) {
        expect(g).toMatch(/<path [^>]*stroke-width="3.5"/)
        expect(g).not.toMatch(/<path [^>]*stroke-dasharray/)
        expect(g).toMatch(/ ×1<\/tspan>/)
      }
      for (const g of edges.filter((x) => !x.includes(`data-taken="true"`)))
        expect(g).toMatch(/<path [^>]*stroke-width="1.2" stroke-dasharray="6 4"/)
    }),
  )

  it.effect("entered states have a thick border and a count; the current state a second frame", () =>
    Effect.gen(function* () {
      const svg = (yield* detail((yield* ids).intentId)).chart.svg
      const states = groups(svg, "state")
      const entered = states
        .filter((g) => g.includes(`data-visited="true"`))
        .map((g) => /data-state="([^"]*)"/.exec(g)![1])
      expect(entered).toEqual(["", "PENDING", "APPROVED", "PLACED", "FILLED", "APPROVED.live"])
      for (const g of states.filter((x) => x.includes(`data-visited="true"`)))
        expect(g).toMatch(/class="frame"[^>]*stroke-width="3"/)
      for (const g of states.filter((x) => !x.includes(`data-visited="true"`)))
        expect(g).toMatch(/stroke-dasharray="5 4"/)
      const current = states.filter((g) => g.includes("current-frame")).map((g) => /data-state="([^"]*)"/.exec(g)![1])
      expect(current).toEqual(["FILLED"])
    }),
  )
})

/** The fixture's file, copied, with the exit order stored as run by an older order machine. */
const olderVersionDb = Effect.gen(function* () {
  const f = yield* ids
  const file = join(tempDir(), "older.db")
  copyFileSync(f.dbFile, file)
  const db = new Sqlite(file)
  const old = { ...currentDefinitions().find((d) => d.actorType === "order")!, version: "order@0" }
  const root = {
    ...old.root,
    children: old.root.children.map((c) => (c.key === "CREATED" ? { ...c, tags: ["legacy"] } : c)),
  }
  db.prepare("INSERT INTO machine_definitions VALUES ('order', 'order@0', ?, 0)").run(JSON.stringify({ ...old, root }))
  db.prepare("UPDATE actors SET machine_version = 'order@0' WHERE actor_id = ?").run(f.exitOrderId)
  db.close()
  return { file, orderId: f.exitOrderId }
})

describe("an actor of an older machine version", () => {
  it.effect("is drawn on its version's recorded chart, its path read off the journal", () =>
    Effect.gen(function* () {
      const { file, orderId } = yield* olderVersionDb
      const d = yield* detail(orderId).pipe(Effect.provide(auditOfCopy(file)))
      expect([d.chart.source, d.chart.version, d.chart.exact]).toEqual(["recorded", "order@0", false])
      expect(d.chart.note).toContain("from → to")
      expect(d.chart.svg).toContain(">legacy</text>")
      expect(d.taken.map((t) => t.label).sort()).toEqual([
        "broker.accepted",
        "broker.filled [completesOrder]",
        "cmd.place",
      ])
      expect(d.visited.map((v) => v.state)).toEqual(
        expect.arrayContaining(["CREATED", "SENT_TO_BROKER.awaitingAck", "SENT_TO_BROKER.working", "EXECUTED"]),
      )
    }),
  )
})

const scans = (plan: ReadonlyArray<string>) =>
  plan.filter((l) => /^SCAN /.test(l) && !/USING (COVERING )?INDEX/.test(l))

layer(
  Layer.unwrapEffect(
    Effect.map(ids, (f) =>
      AuditStore.Default.pipe(Layer.provide(databaseLayer({ filename: f.dbFile, readonly: true }))),
    ),
  ),
)("query plans", (it) => {
  it.effect("every filter of the list, a deep page and the caused-by query are served by indexes", () =>
    Effect.gen(function* () {
      const store = yield* AuditStore
      const filters = [
        {},
        { type: "order" },
        { state: "FILLED" },
        { type: "order", state: "SENT_TO_BROKER" },
        { symbol: "NIFTY26MARFUT" },
        { account: "U1" },
        { from: 0, to: Date.now() },
        { type: "trade", symbol: "NIFTY26MARFUT", account: "U1" },
      ]
      for (const f of filters) {
        const plans = yield* store.plans(f, `${Date.now()}:x`)
        expect(scans(plans.list), JSON.stringify(f)).toEqual([])
        expect(plans.list.join("\n"), JSON.stringify(f)).toMatch(/USING INDEX actors_by_(type_)?created/)
        expect(plans.causedBy.join("\n")).toContain("USING INDEX journal_by_actor_cause")
      }
    }),
  )
})

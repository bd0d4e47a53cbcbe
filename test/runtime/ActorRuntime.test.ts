import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, type Layer, Option, Queue } from "effect"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { type EffectHandler, EffectFailure } from "../../src/runtime/EffectHandlers.js"
import { EngineScheduler } from "../../src/runtime/EngineScheduler.js"
import { orderInput, testEngine } from "../fixtures/TestEngine.js"

const run = <A, E>(layer: Layer.Layer<any, any, never>, eff: Effect.Effect<A, E, any>) =>
  Effect.runPromise(Effect.scoped(eff.pipe(Effect.provide(layer))) as Effect.Effect<A, E, never>)

type Place = EffectHandler["run"]

/**
 * The ledger broker with placements in lanes of `effectsInFlightMax` calls each: `place` wraps the
 * ledger's own placement (to hold or drop some calls), `lane` names a call's lane.
 */
const laneEngine = (
  effectsInFlightMax: number,
  place: (ledgerPlace: Place) => Place,
  lane: NonNullable<EffectHandler["lane"]>,
) =>
  testEngine({
    runtime: { effectsInFlightMax },
    handlers: (ledger) => ({
      "broker.place": { ...ledger.handlers["broker.place"]!, run: place(ledger.handlers["broker.place"]!.run), lane },
    }),
  })

describe("ActorRuntime", () => {
  it("commits a spawn and a placement, runs the effect after commit, and feeds its outcome back", async () => {
    const t = testEngine()
    const result = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        const created = yield* rt.spawn("order", "o1", orderInput("o1"), "test")
        expect(created).toMatchObject({ seq: 0, to: "CREATED", refused: null })
        const placed = yield* rt.send("o1", { type: "cmd.place" }, "test")
        expect(placed).toMatchObject({ seq: 1, from: "CREATED", to: "SENT_TO_BROKER.awaitingAck" })
        yield* rt.awaitIdle
        const journal = yield* sql<{
          seq: number
          event_type: string
          to_state: string
          cause: string
        }>`SELECT seq, event_type, to_state, cause FROM journal WHERE actor_id = 'o1' ORDER BY seq`
        const order = yield* sql<{
          status: string
          broker_order_id: string
        }>`SELECT status, broker_order_id FROM orders WHERE order_id = 'o1'`
        const outbox = yield* sql<{ status: string }>`SELECT status FROM outbox`
        const timers = yield* sql`SELECT * FROM timers`
        return { journal, order, outbox, timers }
      }),
    )
    expect(result.journal.map((j) => `${j.seq} ${j.event_type} ${j.to_state}`)).toEqual([
      "0 xstate.init CREATED",
      "1 cmd.place SENT_TO_BROKER.awaitingAck",
      "2 broker.accepted SENT_TO_BROKER.working",
    ])
    expect(result.journal[2]!.cause).toMatch(/^outbox:/)
    expect(result.order).toEqual([{ status: "SENT_TO_BROKER", broker_order_id: "B-tag-o1" }])
    expect(result.outbox).toEqual([{ status: "done" }])
    expect(result.timers).toEqual([])
    expect(t.ledger.placements()).toBe(1)
  })

  it("offerAll commits steps in the order given: a creation, then the events to it, each answered; a refused one spoils nothing", async () => {
    const t = testEngine()
    const out = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        yield* rt.spawn("order", "o0", orderInput("o0"))
        const answers = yield* rt.offerAll([
          { actorId: "o1", create: { actorType: "order", input: orderInput("o1") }, cause: "test" },
          { actorId: "o1", event: { type: "cmd.place" }, cause: "test" },
          // Already exists: refused, and the steps after it still go through.
          { actorId: "o0", create: { actorType: "order", input: orderInput("o0") }, cause: "test" },
          { actorId: "o2", create: { actorType: "order", input: orderInput("o2") }, cause: "test" },
        ])
        yield* rt.awaitIdle
        const journal = yield* sql<{ actor_id: string; seq: number; to_state: string }>`
          SELECT actor_id, seq, to_state FROM journal WHERE actor_id IN ('o1', 'o2') AND seq <= 1 ORDER BY id`
        return { answers, journal }
      }),
    )
    expect(out.answers.map((a) => [a.actorId, a.to, a.refused === null])).toEqual([
      ["o1", "CREATED", true],
      ["o1", "SENT_TO_BROKER.awaitingAck", true],
      ["o0", "", false],
      ["o2", "CREATED", true],
    ])
    expect(out.answers[2]!.refused).toMatch(/already exists/)
    expect(out.journal.map((j) => `${j.actor_id} ${j.seq} ${j.to_state}`)).toEqual([
      "o1 0 CREATED",
      "o1 1 SENT_TO_BROKER.awaitingAck",
      "o2 0 CREATED",
    ])
  })

  it("an effect's answer the store cannot commit is offered again until it can, never dropped", async () => {
    const go = Effect.runSync(Deferred.make<void>())
    const t = testEngine({
      handlers: (ledger) => ({
        "broker.place": {
          ...ledger.handlers["broker.place"]!,
          run: (payload, ctx) =>
            Effect.zipRight(Deferred.await(go), ledger.handlers["broker.place"]!.run(payload, ctx)),
        },
      }),
    })
    const out = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        yield* rt.spawn("order", "o1", orderInput("o1"))
        yield* rt.send("o1", { type: "cmd.place" })
        // The store breaks while the broker call is out: its answer can be neither committed nor refused.
        yield* sql`ALTER TABLE journal RENAME TO journal_away`
        yield* Deferred.succeed(go, undefined)
        yield* Effect.sleep("150 millis")
        const stuck = yield* sql<{ status: string }>`SELECT status FROM outbox`
        yield* sql`ALTER TABLE journal_away RENAME TO journal`
        for (let i = 0; i < 400; i++) {
          const o = yield* rt.view("o1")
          if (Option.getOrThrow(o).state === "SENT_TO_BROKER.working") break
          yield* Effect.sleep("10 millis")
        }
        const journal = yield* sql<{ event_type: string; refused: string | null }>`
          SELECT event_type, refused FROM journal WHERE actor_id = 'o1' ORDER BY seq`
        return { stuck, journal, outbox: yield* sql<{ status: string }>`SELECT status FROM outbox` }
      }),
    )
    expect(out.stuck).toEqual([{ status: "pending" }])
    expect(out.journal.map((j) => [j.event_type, j.refused])).toEqual([
      ["xstate.init", null],
      ["cmd.place", null],
      ["broker.accepted", null],
    ])
    expect(out.outbox).toEqual([{ status: "done" }])
    expect(t.ledger.placements()).toBe(1)
  })

  it("effects run in lanes: calls stuck at one account never hold up another account's order", async () => {
    const t = laneEngine(
      2,
      // Account A's broker never answers (down, or a session waiting for a new token).
      (place) => (payload, ctx) =>
        (payload as { accountId: string }).accountId === "A" ? Effect.never : place(payload, ctx),
      (payload) => (payload as { accountId: string }).accountId,
    )
    const state = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        for (const id of ["a1", "a2", "a3"]) {
          yield* rt.spawn("order", id, orderInput(id, { accountId: "A" }))
          yield* rt.send(id, { type: "cmd.place" })
        }
        yield* rt.spawn("order", "b1", orderInput("b1", { accountId: "B" }))
        yield* rt.send("b1", { type: "cmd.place" })
        for (let i = 0; i < 500; i++) {
          const b = Option.getOrThrow(yield* rt.view("b1")).state
          if (b === "SENT_TO_BROKER.working") return b
          yield* Effect.sleep("5 millis")
        }
        return Option.getOrThrow(yield* rt.view("b1")).state
      }),
    )
    expect(state).toBe("SENT_TO_BROKER.working")
  })

  it("an order queued behind its lane's in-flight limit gets its whole ack timeout from when its call leaves", async () => {
    const release = Effect.runSync(Deferred.make<void>())
    const t = laneEngine(
      1,
      // The lane's one call slot: "first" holds it until released; "queued" is then sent and never answered.
      (place) => (payload, ctx) =>
        ctx.actorId === "first" ? Effect.zipRight(Deferred.await(release), place(payload, ctx)) : Effect.never,
      () => "U1",
    )
    const out = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        const stateOf = (id: string) => Effect.map(rt.view(id), (v) => Option.getOrThrow(v).state)
        yield* rt.spawn("order", "first", orderInput("first"))
        yield* rt.send("first", { type: "cmd.place" })
        yield* rt.spawn("order", "queued", orderInput("queued", { ackTimeoutMs: 100 }))
        yield* rt.send("queued", { type: "cmd.place" })
        // Four ack timeouts pass while "queued" waits in the engine: its request has not left.
        yield* Effect.sleep("400 millis")
        const whileQueued = yield* stateOf("queued")
        const releasedAt = Date.now()
        yield* Deferred.succeed(release, undefined)
        for (let i = 0; i < 400 && (yield* stateOf("queued")) === "SENT_TO_BROKER.awaitingAck"; i++)
          yield* Effect.sleep("5 millis")
        const timedOut = yield* sql<{ at: number }>`
          SELECT at FROM journal WHERE actor_id = 'queued' AND event_type = 'timer.ackTimeout'`
        return { whileQueued, first: yield* stateOf("first"), timedOut, releasedAt }
      }),
    )
    expect(out.whileQueued).toBe("SENT_TO_BROKER.awaitingAck")
    expect(out.first).toBe("SENT_TO_BROKER.working")
    // Sent and never answered, it does time out: a full 100 ms after it left, not before.
    expect(out.timedOut).toHaveLength(1)
    expect(out.timedOut[0]!.at).toBeGreaterThanOrEqual(out.releasedAt + 100)
  })

  it("on the engine scheduler, steps offered by many fibers at once still share group commits", async () => {
    const t = testEngine()
    const program = Effect.gen(function* () {
      const rt = yield* ActorRuntime
      const sub = yield* rt.subscribe
      yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => `o${i}`),
        (id) => rt.spawn("order", id, orderInput(id)),
        { concurrency: "unbounded", discard: true },
      )
      // One group's transitions are published with the same commit time.
      return new Set(Array.from(yield* Queue.takeAll(sub), (tr) => tr.committedAt)).size
    })
    // The whole engine on the scheduler, the runtime's committer included.
    const groups = await Effect.runPromise(
      Effect.scoped(program.pipe(Effect.provide(t.layer))).pipe(Effect.withScheduler(new EngineScheduler())),
    )
    // The committer runs at the exit path's priority, but yields once to let the queued fibers add
    // their steps; without that each spawn would be a commit (and an fsync) of its own.
    expect(groups).toBeLessThanOrEqual(10)
  })

  it("journals an event the machine does not accept as refused, with the reason, and changes nothing else", async () => {
    const t = testEngine()
    const out = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        yield* rt.spawn("order", "o1", orderInput("o1"))
        const refused = yield* rt.send("o1", { type: "broker.filled", fillId: "f1", qty: 1, price: 1 })
        const rows = yield* sql<{
          refused: string | null
          to_state: string
        }>`SELECT refused, to_state FROM journal WHERE seq = 1`
        const actor = yield* sql<{ state: string; seq: number }>`SELECT state, seq FROM actors`
        return { refused, rows, actor }
      }),
    )
    expect(out.refused.refused).toBe("broker.filled is not accepted in CREATED")
    expect(out.rows).toEqual([{ refused: "broker.filled is not accepted in CREATED", to_state: "CREATED" }])
    expect(out.actor).toEqual([{ state: "CREATED", seq: 1 }])
  })

  it("publishes a transition only after its row is committed", async () => {
    const t = testEngine()
    const seen = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        const sub = yield* rt.subscribe
        yield* rt.spawn("order", "o1", orderInput("o1"))
        yield* rt.send("o1", { type: "cmd.place" })
        yield* rt.awaitIdle
        const published = yield* Queue.takeAll(sub)
        const checks: Array<boolean> = []
        for (const tr of published) {
          const rows =
            yield* sql`SELECT 1 FROM journal WHERE id = ${tr.journalId} AND actor_id = ${tr.actorId} AND seq = ${tr.seq}`
          checks.push(rows.length === 1)
        }
        return checks
      }),
    )
    expect(seen.length).toBe(3)
    expect(seen.every(Boolean)).toBe(true)
  })

  it("retries a transient effect failure and places exactly once", async () => {
    const t = testEngine({ ledger: { transientFailures: 3 } })
    const state = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        yield* rt.spawn("order", "o1", orderInput("o1"))
        yield* rt.send("o1", { type: "cmd.place" })
        yield* rt.awaitIdle
        return (yield* rt.view("o1")).pipe((o) => (o._tag === "Some" ? o.value.state : "none"))
      }),
    )
    expect(state).toBe("SENT_TO_BROKER.working")
    expect(t.ledger.placements()).toBe(1)
  })

  it("retries a transient failure after the policy's delay, as many times as configured, and a definitive one never", async () => {
    const calls: Array<{ tag: string; at: number }> = []
    const failing =
      (retryable: boolean): EffectHandler["run"] =>
      (payload) =>
        Effect.suspend(() => {
          calls.push({ tag: (payload as { clientTag: string }).clientTag, at: performance.now() })
          return Effect.fail(
            new EffectFailure({ reason: retryable ? "Unavailable" : "Rejected", message: "no", retryable }),
          )
        })
    const t = testEngine({
      runtime: { effectRetryBaseMs: 40, effectRetriesMax: 2 },
      handlers: () => ({
        "broker.place": {
          run: (payload, ctx) => failing((payload as { clientTag: string }).clientTag === "down")(payload, ctx),
          onFailure: (f) => ({ type: "broker.rejected", reason: f.message }),
        },
      }),
    })
    const states = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        for (const [id, tag] of [
          ["a", "down"],
          ["b", "refused"],
        ] as const) {
          yield* rt.spawn("order", id, orderInput(id, { clientTag: tag }))
          yield* rt.send(id, { type: "cmd.place" })
        }
        yield* rt.awaitIdle
        const state = (id: string) => Effect.map(rt.view(id), (o) => (o._tag === "Some" ? o.value.state : "none"))
        return [yield* state("a"), yield* state("b")]
      }),
    )
    const down = calls.filter((c) => c.tag === "down")
    // The first call, then two retries: the first of them waits the policy's first delay (40 ms,
    // jittered down to no less than 32 ms), not a moment.
    expect(down).toHaveLength(3)
    expect(down[1]!.at - down[0]!.at).toBeGreaterThanOrEqual(30)
    expect(calls.filter((c) => c.tag === "refused")).toHaveLength(1)
    expect(states).toEqual(["FAILED", "FAILED"])
  })

  it("refuses, after a restart, a group's creations of ids that exist only in the store, and creates the new ones", async () => {
    const t = testEngine()
    await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        yield* rt.spawn("order", "ended", orderInput("ended"))
        yield* rt.send("ended", { type: "risk.denied", reason: "test" })
        yield* rt.spawn("order", "live", orderInput("live"))
      }),
    )
    const answers = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        // The ended order is not in memory after the restart; the live one is.
        expect(rt.liveIds()).toEqual(["live"])
        return yield* rt.offerAll(
          ["ended", "new1", "live", "new2", "new1"].map((id) => ({
            actorId: id,
            create: { actorType: "order" as const, input: orderInput(id, { clientTag: `again-${id}` }) },
            cause: "test",
          })),
        )
      }),
    )
    expect(answers.map((a) => [a.actorId, a.refused === null ? a.to : a.refused])).toEqual([
      ["ended", "actor ended already exists"],
      ["new1", "CREATED"],
      ["live", "actor live already exists"],
      ["new2", "CREATED"],
      ["new1", "actor new1 already exists"],
    ])
  })

  it("refuses a second actor with the same id and writes nothing for it", async () => {
    const t = testEngine()
    const out = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        yield* rt.spawn("order", "o1", orderInput("o1"))
        const again = yield* rt.spawn("order", "o1", orderInput("o1"))
        const n = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM journal`
        return { again, n: n[0]!.n }
      }),
    )
    expect(out.again.refused).toBe("actor o1 already exists")
    expect(out.n).toBe(1)
  })

  it("refuses a step that breaks a database constraint without losing the other steps of its group", async () => {
    const t = testEngine()
    const out = await run(
      t.layer,
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const sql = yield* SqlClient.SqlClient
        // Same client tag twice: the orders read model's unique key refuses the second order.
        const results = yield* Effect.all(
          [
            rt.spawn("order", "a", orderInput("a", { clientTag: "dup" })),
            rt.spawn("order", "b", orderInput("b", { clientTag: "dup" })),
            rt.spawn("order", "c", orderInput("c")),
          ],
          { concurrency: "unbounded" },
        )
        const ids = yield* sql<{ actor_id: string }>`SELECT actor_id FROM actors ORDER BY actor_id`
        return { results, ids: ids.map((r) => r.actor_id) }
      }),
    )
    expect(out.results.map((r) => r.refused === null)).toEqual([true, false, true])
    expect(out.results[1]!.refused).toMatch(/UNIQUE constraint failed: orders.client_tag/)
    expect(out.ids).toEqual(["a", "c"])
  })
})

/**
 * Benchmarks of the durable core (issue 2): the same Order workload through pure transitions and
 * through the runtime; 100,000 live actors rehydrated; heap per live actor; the store's raw bound.
 */
import { join } from "node:path"
import type * as SqlClient from "@effect/sql/SqlClient"
import Sqlite from "better-sqlite3"
import { Effect, Layer } from "effect"
import { type AnyMachineSnapshot, type AnyStateMachine, initialTransition, transition } from "xstate"
import { OrderMachine } from "../machines/OrderMachine.js"
import { coreLayer } from "../src/main.js"
import { ActorRuntime, defaultRuntimeConfig } from "../src/runtime/ActorRuntime.js"
import type { EffectHandler } from "../src/runtime/EffectHandlers.js"
import {
  type Cell,
  create,
  type Envelope,
  emptyWrites,
  persist,
  type StepContext,
  stateKeyOf,
  step,
} from "../src/runtime/Step.js"
import { ActorStore, type Batch } from "../src/store/ActorStore.js"
import { benchDir, gc, repeat, runBench } from "./Measure.js"
import { pureInitialTransition, pureTransition } from "../src/runtime/PureTransition.js"

const fills = 4
/** Transitions per actor in the workload: creation, place, accepted, then the fills. */
const perActor = 3 + fills

const input = (id: string) => ({
  orderId: id,
  accountId: "U1",
  symbol: "NIFTY26MARFUT",
  exchange: "NFO",
  side: "BUY",
  qty: fills * 10,
  product: "MIS",
  orderType: "MARKET",
  price: null,
  triggerPrice: null,
  clientTag: `tag-${id}`,
  purpose: "ENTRY",
  parentId: null,
  createdAt: 0,
})

const fill = (k: number) => ({ type: "broker.filled", fillId: `f${k}`, qty: 10, price: 100 + k })

/** The broker call answers at once: the benchmark measures the engine, not a broker. */
const instantBroker: Record<string, EffectHandler> = {
  "broker.place": {
    run: (p) =>
      Effect.succeed({ type: "broker.accepted", brokerOrderId: `B-${(p as { clientTag: string }).clientTag}` }),
    onFailure: () => null,
  },
}

const quiet = <A, E>(e: Effect.Effect<A, E, never>) => runBench(e)

/** A pair of pure transition functions: the runtime's or XState's own. */
interface Transitions {
  readonly init: (m: AnyStateMachine, input: unknown) => AnyMachineSnapshot
  readonly next: (
    m: AnyStateMachine,
    s: AnyMachineSnapshot,
    event: { type: string; [k: string]: unknown },
  ) => AnyMachineSnapshot
}

/**
 * The workload through pure transitions, in the same order the durable run takes it (every actor's
 * first event, then every actor's second …) with every snapshot held in memory: transitions per
 * second. Only persistence differs between this and `durableTransitionsPerSec`.
 */
const interleavedTransitionsPerSec = (actors: number, t: Transitions): number => {
  const m = OrderMachine as unknown as AnyStateMachine
  const live = new Map<string, AnyMachineSnapshot>()
  const ids = Array.from({ length: actors }, (_, i) => `o${i}`)
  const step = (event: (id: string) => { type: string; [k: string]: unknown }) => {
    for (const id of ids) live.set(id, t.next(m, live.get(id)!, event(id)))
  }
  const t0 = performance.now()
  for (const id of ids) live.set(id, t.init(m, input(id)))
  step(() => ({ type: "cmd.place", at: 1 }))
  step((id) => ({ type: "broker.accepted", brokerOrderId: `B-${id}`, at: 2 }))
  for (let k = 1; k <= fills; k++) step(() => ({ ...fill(k), at: 3 }))
  return (actors * perActor) / ((performance.now() - t0) / 1000)
}

/** The workload through the runtime's pure transitions (`pureTransition`), no storage. */
export const rawTransitionsPerSec = (actors: number): number =>
  interleavedTransitionsPerSec(actors, {
    init: (m, i) => pureInitialTransition(m, i)[0],
    next: (m, s, e) => pureTransition(m, s, e)[0],
  })

/** The same through XState's own `transition()`, which builds a throw-away actor per call. */
export const xstateTransitionsPerSec = (actors: number): number =>
  interleavedTransitionsPerSec(actors, {
    init: (m, i) => (initialTransition(m, i as never) as unknown as [AnyMachineSnapshot])[0],
    next: (m, s, e) => (transition(m, s, e as never) as unknown as [AnyMachineSnapshot])[0],
  })

/** The same workload through the runtime, every step committed (group commit on). */
export const durableTransitionsPerSec = (actors: number): Promise<number> => {
  const dir = benchDir()
  const layer = coreLayer({ database: { filename: join(dir, "w.db") }, handlers: instantBroker })
  return quiet(
    Effect.scoped(
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const ids = Array.from({ length: actors }, (_, i) => `o${i}`)
        const t0 = performance.now()
        yield* Effect.forEach(ids, (id) => rt.spawn("order", id, input(id)), { concurrency: 512, discard: true })
        for (const id of ids) yield* rt.post(id, { type: "cmd.place" })
        yield* rt.awaitIdle
        for (let k = 1; k <= fills; k++) for (const id of ids) yield* rt.post(id, fill(k))
        yield* rt.awaitIdle
        return (actors * perActor) / ((performance.now() - t0) / 1000)
      }).pipe(Effect.provide(layer as Layer.Layer<ActorRuntime>)),
    ),
  )
}

/**
 * The durable contract's floor (ARCHITECTURE.md §2.3): the same workload, each step computed by the
 * runtime's own `step` and committed by the store's own `commit`, groups of the runtime's size, but
 * no runtime around them: no inbox, no fibers, no effects (the broker's answer is the next event,
 * as in the raw run), no publication. What a durable step costs with a runtime that costs nothing;
 * `durableOverRaw` can come no closer to 1 than `floorOverRaw`.
 */
export const contractFloorPerSec = (actors: number): Promise<number> => {
  const dir = benchDir()
  const layer = coreLayer({ database: { filename: join(dir, "f.db") }, handlers: instantBroker })
  const groupSize = defaultRuntimeConfig.groupCommitRowsMax
  return quiet(
    Effect.scoped(
      Effect.gen(function* () {
        const store = yield* ActorStore
        const cells = new Map<string, Cell>()
        const ctx: StepContext = { cell: (id) => cells.get(id), hasEffect: (name) => name in instantBroker }
        let journalId = 1
        let outboxId = 1
        // The placement's outbox row, marked done by the step that takes its answer.
        const placed = new Map<string, number>()
        const ids = Array.from({ length: actors }, (_, i) => `o${i}`)
        const round = (envelope: (id: string) => Envelope) =>
          Effect.gen(function* () {
            for (let from = 0; from < actors; from += groupSize) {
              const out = emptyWrites()
              for (let i = from; i < Math.min(actors, from + groupSize); i++) {
                const env = envelope(ids[i]!)
                if (env.create) create(ctx, env, 0, out, { sends: [] })
                else step(ctx, env, 0, out, { sends: [] })
                if (env.outboxId !== undefined) out.outboxDone.push({ id: env.outboxId, result: env.outboxResult! })
              }
              const refused = out.journal.find((j) => j.refused !== null)
              if (refused) throw new Error(`floor workload refused: ${refused.refused}`)
              for (const o of out.outbox) {
                o.id = outboxId++
                placed.set(o.actorId, o.id)
              }
              for (const j of out.journal) j.id = journalId++
              const batch: Batch = {
                journal: out.journal,
                cells: [...out.cells.values()],
                outbox: out.outbox,
                outboxDone: out.outboxDone.map((d) => ({ ...d, at: 0 })),
                timers: [],
              }
              yield* store.commit(batch)
              for (const c of batch.cells) cells.set(c.id, c)
            }
          })
        const t0 = performance.now()
        yield* round((id) => ({
          actorId: id,
          event: null,
          cause: null,
          create: { actorType: "order", input: input(id) },
        }))
        yield* round((id) => ({ actorId: id, event: { type: "cmd.place" }, cause: null }))
        yield* round((id) => {
          const event = { type: "broker.accepted", brokerOrderId: `B-${id}` }
          return { actorId: id, event, cause: null, outboxId: placed.get(id)!, outboxResult: JSON.stringify(event) }
        })
        for (let k = 1; k <= fills; k++) yield* round((id) => ({ actorId: id, event: fill(k), cause: null }))
        const perSec = (actors * perActor) / ((performance.now() - t0) / 1000)
        const last = yield* store.actor(ids[actors - 1]!)
        if (last?.state !== "EXECUTED" || last.seq !== perActor - 1)
          throw new Error(`floor workload ended in ${last?.state} at seq ${last?.seq}`)
        return perSec
      }).pipe(Effect.provide(layer as Layer.Layer<ActorStore>)),
    ),
  )
}

/** Plain batched inserts into a journal-shaped table, same durability: the store's physical bound. */
export const sqliteRowsPerSec = (rows: number): number => {
  const db = new Sqlite(join(benchDir(), "raw.db"))
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = FULL")
  db.exec(
    "CREATE TABLE journal (id INTEGER PRIMARY KEY, actor_id TEXT, seq INTEGER, event_type TEXT, event TEXT, from_state TEXT, to_state TEXT, at INTEGER, cause TEXT, refused TEXT, UNIQUE (actor_id, seq))",
  )
  const ins = db.prepare("INSERT INTO journal VALUES (?,?,?,?,?,?,?,?,?,?)")
  const batch = db.transaction((from: number) => {
    for (let i = from; i < from + 500; i++)
      ins.run(
        i,
        `o${i % 1000}`,
        i,
        "broker.filled",
        '{"type":"broker.filled","qty":10}',
        "PARTIAL",
        "PARTIAL",
        i,
        null,
        null,
      )
  })
  const t0 = performance.now()
  for (let i = 0; i < rows; i += 500) batch(i)
  const perSec = rows / ((performance.now() - t0) / 1000)
  db.close()
  return perSec
}

/** Writes `n` live Order actors (snapshots, journal rows, read model) into a new database file. */
const seedLiveActors = (filename: string, n: number) =>
  Effect.gen(function* () {
    const store = yield* ActorStore
    const m = OrderMachine as unknown as AnyStateMachine
    for (let from = 0; from < n; from += 5_000) {
      const cells = []
      const journal = []
      for (let i = from; i < Math.min(n, from + 5_000); i++) {
        const id = `o${String(i).padStart(6, "0")}`
        const [s0] = pureInitialTransition(m, input(id)) as unknown as [AnyMachineSnapshot]
        const json = persist("order", s0)
        cells.push({
          id,
          type: "order" as const,
          version: "order@1",
          seq: 0,
          stateKey: stateKeyOf(s0.value),
          status: "active" as const,
          json,
          createdAt: 0,
          updatedAt: 0,
          snapshot: s0,
        })
        journal.push({
          id: i + 1,
          actorId: id,
          actorType: "order" as const,
          seq: 0,
          eventType: "xstate.init",
          event: JSON.stringify({ type: "xstate.init", input: input(id), at: 0 }),
          from: null,
          to: "CREATED",
          at: 0,
          cause: null,
          refused: null,
        })
      }
      yield* store.commit({ journal, cells, outbox: [], outboxDone: [], timers: [] })
    }
  }).pipe(
    Effect.provide(
      ActorStore.Default.pipe(Layer.provideMerge(coreLayer({ database: { filename }, handlers: {} }))) as Layer.Layer<
        ActorStore | SqlClient.SqlClient
      >,
    ),
  )

/** 100,000 live actors: ms until restored and ready, and heap bytes per live actor. */
export const rehydrate = async (n: number): Promise<{ ms: number; bytesPerLiveActor: number }> => {
  const filename = join(benchDir(), "live.db")
  await quiet(Effect.scoped(seedLiveActors(filename, n)))
  const layer = coreLayer({ database: { filename }, handlers: instantBroker })
  // From opening the file to a runtime ready for events: open, migration check, rehydration.
  const ms = await repeat(3, 1, async () => {
    const t0 = performance.now()
    return quiet(
      Effect.scoped(
        Effect.gen(function* () {
          const rt = yield* ActorRuntime
          if (rt.liveIds().length !== n) throw new Error(`rehydrated ${rt.liveIds().length}, expected ${n}`)
          return performance.now() - t0
        }).pipe(Effect.provide(layer as Layer.Layer<ActorRuntime>)),
      ),
    )
  })
  gc()
  const before = process.memoryUsage().heapUsed
  const bytes = await quiet(
    Effect.scoped(
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        gc()
        const after = process.memoryUsage().heapUsed
        return (after - before) / rt.liveIds().length
      }).pipe(Effect.provide(layer as Layer.Layer<ActorRuntime>)),
    ),
  )
  return { ms, bytesPerLiveActor: bytes }
}

/** All of the durable core's figures. */
export const runtimeBench = async (quick: boolean) => {
  const actors = quick ? 2_000 : 10_000
  const reps = quick ? 3 : 5
  const raw = await repeat(reps, 1, () => rawTransitionsPerSec(actors))
  const stock = await repeat(reps, 1, () => xstateTransitionsPerSec(actors))
  const durable = await repeat(reps, 1, () => durableTransitionsPerSec(actors))
  const floor = await repeat(reps, 1, () => contractFloorPerSec(actors))
  const rows = await repeat(reps, 1, () => sqliteRowsPerSec(quick ? 50_000 : 200_000))
  const live = await rehydrate(quick ? 20_000 : 100_000)
  return {
    rawTransitionsPerSec: Math.round(raw),
    durableTransitionsPerSec: Math.round(durable),
    durableOverRaw: Number((durable / raw).toFixed(3)),
    contractFloorPerSec: Math.round(floor),
    floorOverRaw: Number((floor / raw).toFixed(3)),
    durableOverFloor: Number((durable / floor).toFixed(3)),
    xstateTransitionsPerSec: Math.round(stock),
    durableOverXstate: Number((durable / stock).toFixed(3)),
    sqliteRowsPerSec: Math.round(rows),
    [quick ? "rehydrate20kMs" : "rehydrate100kMs"]: Math.round(live.ms),
    bytesPerLiveActor: Math.round(live.bytesPerLiveActor),
  }
}

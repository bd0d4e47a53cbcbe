/**
 * The durable actor runtime (ARCHITECTURE.md §2). Events enter an inbox; one committer fiber takes
 * them in groups (group commit), computes each step with XState's pure `transition()`, commits
 * every step of the group in one SQLite transaction, and only then publishes the transitions,
 * arms the timers and runs the declared effects. At start it rehydrates the live actors from
 * their snapshots, re-arms the timers and re-drives the outbox, looking up by key any effect that
 * may already have run.
 */
import {
  Cause,
  Clock,
  Context,
  Deferred,
  Effect,
  Either,
  FiberRef,
  FiberSet,
  Layer,
  Option,
  PubSub,
  Queue,
  type Scope,
  Schedule,
} from "effect"
import type { ActorType } from "../../machines/Machines.js"
import type { Json } from "../domain/Json.js"
import { type ActorRow, ActorStore, type Batch } from "../store/ActorStore.js"
import { errorText } from "../store/Database.js"
import { type EffectFailure, type EffectHandler, EffectHandlers, type OutcomeEvent } from "./EffectHandlers.js"
import {
  archive,
  type Cell,
  create,
  type Envelope,
  emptyWrites,
  isTerminal,
  type JournalRow,
  type OutboxRow,
  Refusal,
  type StepContext,
  step,
  type TimerOp,
  type UnitWrites,
  versionOf,
} from "./Step.js"
import { exitPath } from "./EngineScheduler.js"
import { Limiter } from "./Limiter.js"
import { type TimerEntry, TimerHeap } from "./TimerHeap.js"

/** Bounds and knobs of the runtime. */
export interface RuntimeConfig {
  /** Most envelopes committed in one transaction. */
  readonly groupCommitRowsMax: number
  /** How long the committer waits for more envelopes before committing a group (0: commit what is there). */
  readonly groupCommitDelayMs: number
  /** Most actors whose resolved snapshot stays in memory; the rest keep only their JSON. */
  readonly hotActorsMax: number
  /** Most effects running at once in one lane (an account's order calls; see `EffectHandler.lane`). */
  readonly effectsInFlightMax: number
  /** First retry delay of a transient effect failure; doubles, jittered. */
  readonly effectRetryBaseMs: number
  /** Most retries of a transient effect failure. */
  readonly effectRetriesMax: number
  /** Longest a step may cascade (sends and spawns) before it is refused as a defect. */
  readonly cascadeStepsMax: number
  /** How long an actor must have been terminal and unchanged before it is archived. */
  readonly archiveAfterMs: number
  /** How often live actors are swept for archiving (also once at start); 0: never. */
  readonly archiveEveryMs: number
}

export const defaultRuntimeConfig: RuntimeConfig = {
  groupCommitRowsMax: 512,
  groupCommitDelayMs: 0,
  hotActorsMax: 20_000,
  effectsInFlightMax: 256,
  effectRetryBaseMs: 100,
  effectRetriesMax: 5,
  cascadeStepsMax: 1_000,
  archiveAfterMs: 24 * 3_600_000,
  archiveEveryMs: 3_600_000,
}

/** A committed transition, as published after its commit (refusals included). */
export interface Transition {
  readonly journalId: number
  readonly actorId: string
  readonly actorType: ActorType
  readonly seq: number
  readonly eventType: string
  readonly event: string
  readonly from: string | null
  readonly to: string
  readonly at: number
  readonly cause: string | null
  readonly refused: string | null
  /** When its commit returned, on this process's monotonic clock (`performance.now()`): for latencies. */
  readonly committedAt: number
}

/** What became of an event offered to an actor, once committed. */
export interface StepOutcome {
  readonly actorId: string
  readonly seq: number
  readonly from: string | null
  readonly to: string
  readonly refused: string | null
}

/** A view of one actor. */
export interface ActorView {
  readonly id: string
  readonly type: ActorType
  readonly seq: number
  readonly state: string
  readonly status: "active" | "done"
  /** Shared with the runtime (its committed state): never changed by a reader. */
  readonly context: Readonly<Record<string, unknown>>
}

/** One step of `offerAll`: an event to an actor, or an actor's creation. */
export type Offer =
  | { readonly actorId: string; readonly event: OutcomeEvent; readonly cause?: string }
  | {
      readonly actorId: string
      readonly create: { readonly actorType: ActorType; readonly input: Json }
      readonly cause?: string
    }

/** The actor runtime. */
export class ActorRuntime extends Context.Tag("warden/ActorRuntime")<
  ActorRuntime,
  {
    /** Offers an event to an actor and waits until its step is committed. */
    readonly send: (actorId: string, event: OutcomeEvent, cause?: string) => Effect.Effect<StepOutcome>
    /** Offers an event without waiting (ticks, fire-and-forget notices). */
    readonly post: (actorId: string, event: OutcomeEvent, cause?: string) => Effect.Effect<void>
    /** Creates an actor and waits until its creation is committed. */
    readonly spawn: (actorType: ActorType, actorId: string, input: Json, cause?: string) => Effect.Effect<StepOutcome>
    /**
     * Offers several steps at once, in this order (a creation before the events to the created
     * actor; they share group commits), and waits until each is committed.
     */
    readonly offerAll: (steps: ReadonlyArray<Offer>) => Effect.Effect<ReadonlyArray<StepOutcome>>
    /** An actor's current state, from memory or the store. */
    readonly view: (actorId: string) => Effect.Effect<Option.Option<ActorView>>
    /** Committed transitions, as they are committed. */
    readonly subscribe: Effect.Effect<Queue.Dequeue<Transition>, never, Scope.Scope>
    /** The ids of the live actors held in memory. */
    readonly liveIds: () => ReadonlyArray<string>
    /** Waits until nothing is queued, committing or running (tests, shutdown). */
    readonly awaitIdle: Effect.Effect<void>
    /** How long the last start-up rehydration took, in ms. */
    readonly rehydrateMs: number
  }
>() {}

interface Item {
  readonly env: Envelope
  readonly done: Deferred.Deferred<StepOutcome> | null
  /**
   * The scheduling priority of the fiber that offered it (default 0). The exit path's
   * (`EngineScheduler.exitPath`) is committed without waiting to batch; any other waits one turn at
   * its own priority, so that the fibers of that priority already queued add theirs to the group.
   */
  readonly priority?: number
  /** How many times this envelope was offered again after a failed commit. */
  readonly attempt?: number
}

/** The store could not be read for an actor not in memory: the whole group fails, nothing is committed. */
class LookupFailed {
  constructor(readonly error: unknown) {}
}

/** Actors that ended, kept in memory for views (the rest are read from the store). */
const doneCacheMax = 20_000
/** How many entries a cache may run over before its oldest are evicted together. */
const evictionBatch = 1_024

const timerKey = (actorId: string, name: string) => `${actorId}\u0000${name}`

/** Builds the runtime: rehydrates, then starts the committer, the timer fiber and the outbox. */
export const make = (config: RuntimeConfig = defaultRuntimeConfig) =>
  Effect.gen(function* () {
    const store = yield* ActorStore
    const handlers = yield* EffectHandlers
    const inbox = yield* Queue.unbounded<Item>()
    const pubsub = yield* PubSub.unbounded<Transition>()
    const wake = yield* Queue.sliding<void>(1)
    const fibers = yield* FiberSet.make()
    // Effects in flight, limited per lane (see `EffectHandler.lane`).
    const lanes = new Map<string, Limiter>()
    const laneFor = (handler: EffectHandler, payload: Json): Limiter => {
      const name = handler.lane?.(payload) ?? ""
      let lane = lanes.get(name)
      if (!lane) {
        lane = new Limiter(config.effectsInFlightMax)
        lanes.set(name, lane)
      }
      return lane
    }

    const cells = new Map<string, Cell>()
    const doneCache = new Map<string, Cell>()
    const hot = new Map<string, true>()
    /** Armed timers by (actor, name), with the delay they were armed for. */
    const armed = new Map<string, { dueAt: number; armedSeq: number; delayMs: number }>()
    const heap = new TimerHeap()
    // An actor's timers time the world's answer to its effects (a broker's acknowledgement), not
    // the engine's own queue: while one of its effects waits for its lane (an exit-all queues
    // thousands of orders behind one account's in-flight limit), a timer that comes due is held,
    // and counts its whole delay again from when the effect starts.
    const queuedEffects = new Map<string, number>()
    const heldTimers = new Map<string, Array<TimerEntry>>()
    let busy = 0
    let effectsInFlight = 0

    // ---- rehydrate ------------------------------------------------------------------------
    const t0 = yield* Clock.currentTimeMillis
    const started = performance.now()
    const ids = yield* Effect.orDie(store.maxIds)
    let nextJournalId = ids.journal + 1
    let nextOutboxId = ids.outbox + 1
    for (const row of yield* Effect.orDie(store.liveActors)) {
      if (row.machine_version !== versionOf(row.actor_type)) {
        yield* Effect.logWarning(
          `actor ${row.actor_id} was stored by ${row.machine_version}, running ${versionOf(row.actor_type)}`,
        )
      }
      cells.set(row.actor_id, cellOf(row))
    }
    for (const t of yield* Effect.orDie(store.timers)) {
      const delayMs = Math.max(0, t.due_at - t0)
      armed.set(timerKey(t.actor_id, t.name), { dueAt: t.due_at, armedSeq: t.armed_seq, delayMs })
      heap.push({ dueAt: t.due_at, actorId: t.actor_id, name: t.name, armedSeq: t.armed_seq })
    }
    const pending = yield* Effect.orDie(store.pendingEffects)
    const rehydrateMs = performance.now() - started
    yield* Effect.logInfo(
      `rehydrated ${cells.size} live actors, ${armed.size} timers, ${pending.length} pending effects`,
    ).pipe(Effect.annotateLogs({ rehydrateMs: Math.round(rehydrateMs), at: t0 }))

    // ---- memory ---------------------------------------------------------------------------
    const touch = (id: string) => {
      hot.delete(id)
      hot.set(id, true)
      if (hot.size > config.hotActorsMax + evictionBatch) {
        // Evicted a batch at a time: a Map iterated from the front after many deletes there
        // skips the deleted entries each time, so one eviction per insert costs the map's size.
        let n = hot.size - config.hotActorsMax
        for (const oldest of hot.keys()) {
          if (n-- <= 0) break
          hot.delete(oldest)
          const c = cells.get(oldest)
          if (c) c.snapshot = null
        }
      }
    }

    const remember = (cell: Cell) => {
      if (cell.status === "active") {
        cells.set(cell.id, cell)
        if (cell.snapshot) touch(cell.id)
      } else {
        cells.delete(cell.id)
        hot.delete(cell.id)
        doneCache.delete(cell.id)
        doneCache.set(cell.id, { ...cell, snapshot: null })
        if (doneCache.size > doneCacheMax + evictionBatch) {
          let n = doneCache.size - doneCacheMax
          for (const oldest of doneCache.keys()) {
            if (n-- <= 0) break
            doneCache.delete(oldest)
          }
        }
      }
    }

    // ---- steps ----------------------------------------------------------------------------
    const hasEffect = (name: string) => name in handlers

    /**
     * An actor not in memory, read from the store at once (then kept: live in `cells`, ended in
     * the done cache, missing in `absent` for the rest of the group). Synchronous, so a step that
     * meets one (a spawn checking its id is new, an event to an archived actor) is computed once.
     */
    const fetchNow = (id: string, absent: Set<string>): Cell | undefined => {
      let row: ActorRow | undefined
      try {
        row = store.actorNow(id)
      } catch (err) {
        throw new LookupFailed(err)
      }
      if (!row) {
        absent.add(id)
        return undefined
      }
      const cell = cellOf(row)
      if (row.status === "active") cells.set(row.actor_id, cell)
      else doneCache.set(row.actor_id, cell)
      return cell
    }

    /** Runs one envelope and what it cascades into; pure but for the reads of actors not in memory. */
    const runUnit = (
      env: Envelope,
      at: number,
      staged: Map<string, Cell>,
      stagedTimers: Map<string, TimerOp>,
      absent: Set<string>,
    ): { writes: UnitWrites; outcome: StepOutcome | null } => {
      const writes = emptyWrites()
      const queue: Array<Envelope> = [env]
      let outcome: StepOutcome | null = null
      let steps = 0
      while (queue.length > 0) {
        const e = queue.shift()!
        if (++steps > config.cascadeStepsMax)
          throw new Refusal(`defect: cascade of more than ${config.cascadeStepsMax} steps`)
        const sub = emptyWrites()
        const lookup = (id: string): Cell | undefined => {
          const c = sub.cells.get(id) ?? writes.cells.get(id) ?? staged.get(id) ?? cells.get(id) ?? doneCache.get(id)
          if (c || absent.has(id)) return c
          return fetchNow(id, absent)
        }
        const ctx: StepContext = { cell: lookup, hasEffect }
        const effects = { sends: [] as Array<Envelope> }
        if (e.timer) {
          const key = timerKey(e.actorId, e.timer.name)
          const current = stagedTimers.get(key) ?? writes.timers.findLast((t) => timerKey(t.actorId, t.name) === key)
          const live = current
            ? current.op === "arm" && current.armedSeq === e.timer.armedSeq
            : armed.get(key)?.armedSeq === e.timer.armedSeq
          if (!live) continue
          sub.timers.push({ op: "clear", actorId: e.actorId, name: e.timer.name })
        }
        try {
          if (e.create) create(ctx, e, at, sub, effects)
          else if (e.archive) archive(ctx, e, at, sub)
          else if (e.event) step(ctx, e, at, sub, effects)
        } catch (err) {
          if (err instanceof LookupFailed) throw err.error
          const reason = err instanceof Refusal ? err.reason : `defect: ${errorText(err)}`
          if (!(err instanceof Refusal)) cells.get(e.actorId) && evict(e.actorId)
          const timers = sub.timers.filter((t) => t.op === "clear" && e.timer && t.name === e.timer.name)
          sub.journal.length = 0
          sub.cells.clear()
          sub.outbox.length = 0
          sub.timers.length = 0
          sub.timers.push(...timers)
          effects.sends.length = 0
          const cell = e.create ? undefined : lookup(e.actorId)
          if (cell) {
            const seq = cell.seq + 1
            sub.cells.set(cell.id, { ...cell, seq })
            const event = { ...(e.event ?? {}), at }
            sub.journal.push(refusedRow(cell, seq, event as { type: string; at: number }, e.cause, reason))
          } else if (e === env) {
            outcome = { actorId: e.actorId, seq: -1, from: null, to: "", refused: reason }
          }
        }
        if (e.outboxId !== undefined) sub.outboxDone.push({ id: e.outboxId, result: e.outboxResult ?? null })
        merge(writes, sub)
        queue.push(...effects.sends)
        if (e === env && outcome === null) {
          const row = sub.journal.find((j) => j.actorId === e.actorId)
          outcome = row
            ? { actorId: e.actorId, seq: row.seq, from: row.from, to: row.to, refused: row.refused }
            : { actorId: e.actorId, seq: -1, from: null, to: "", refused: null }
        }
      }
      return { writes, outcome }
    }

    const evict = (id: string) => {
      cells.delete(id)
      hot.delete(id)
    }

    /** Computes, commits and then publishes one group of envelopes. */
    const processGroup = (items: ReadonlyArray<Item>): Effect.Effect<void> =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const staged = new Map<string, Cell>()
        const stagedTimers = new Map<string, TimerOp>()
        const absent = new Set<string>()
        const all = emptyWrites()
        const outcomes: Array<StepOutcome | null> = []
        for (const item of items) {
          const { writes, outcome } = runUnit(item.env, at, staged, stagedTimers, absent)
          for (const [id, c] of writes.cells) staged.set(id, c)
          for (const t of writes.timers) stagedTimers.set(timerKey(t.actorId, t.name), t)
          merge(all, writes)
          outcomes.push(outcome)
        }
        const journal = all.journal
        for (const j of journal) j.id = nextJournalId++
        for (const o of all.outbox) o.id = nextOutboxId++
        const batch: Batch = {
          journal,
          cells: [...staged.values()],
          outbox: all.outbox,
          outboxDone: all.outboxDone.map((d) => ({ ...d, at })),
          timers: [...stagedTimers.values()],
        }
        const committed = yield* Effect.exit(store.commit(batch))
        if (committed._tag === "Failure") {
          nextJournalId -= journal.length
          nextOutboxId -= all.outbox.length
          for (const c of staged.values()) if (c.snapshot) evict(c.id)
          if (items.length > 1) {
            // One step broke the group (a unique key, a foreign key): commit them one by one.
            for (const item of items) yield* processGroup([item])
            return
          }
          return yield* refuseAlone(items[0]!, at, errorText(Cause.squash(committed.cause)))
        }
        yield* afterCommit(batch, items, outcomes, at, performance.now())
      })

    /** A single envelope whose commit failed: journal it as refused (if its actor exists) and answer. */
    const refuseAlone = (item: Item, at: number, reason: string) =>
      Effect.gen(function* () {
        const env = item.env
        let outcome: StepOutcome = { actorId: env.actorId, seq: -1, from: null, to: "", refused: reason }
        const outboxDone =
          env.outboxId !== undefined ? [{ id: env.outboxId, result: env.outboxResult ?? null, at }] : []
        let settled = outboxDone.length === 0
        // The failed group evicted its actors from memory: the refusal goes on the stored actor.
        let live = env.create ? undefined : cells.get(env.actorId)
        let known = true
        if (!live && !env.create && env.event) {
          const stored = yield* Effect.either(store.actor(env.actorId))
          if (Either.isLeft(stored)) known = false
          else if (stored.right) live = cellOf(stored.right)
        }
        if (live && env.event) {
          const seq = live.seq + 1
          const row = {
            ...refusedRow(live, seq, { ...env.event, at } as { type: string; at: number }, env.cause, reason),
            id: nextJournalId++,
          }
          const next = { ...live, seq }
          const batch: Batch = { journal: [row], cells: [next], outbox: [], outboxDone, timers: [] }
          const ok = yield* Effect.exit(store.commit(batch))
          if (ok._tag === "Success") {
            remember(next)
            yield* PubSub.publish(pubsub, toTransition(row, performance.now()))
            outcome = { actorId: env.actorId, seq, from: live.stateKey, to: live.stateKey, refused: reason }
            settled = true
          } else nextJournalId--
        } else if (!settled && known) {
          // There is no such actor: the effect's row is done all the same.
          const batch: Batch = { journal: [], cells: [], outbox: [], outboxDone, timers: [] }
          settled = (yield* Effect.exit(store.commit(batch)))._tag === "Success"
        }
        yield* Effect.logWarning(`step refused at commit: ${reason}`).pipe(
          Effect.annotateLogs({ actorId: env.actorId }),
        )
        if (!settled) yield* redeliver(item, reason)
        if (item.done) yield* Deferred.succeed(item.done, outcome)
      })

    /**
     * An effect's outcome that could be neither committed nor refused (the store failed): offered
     * again after a growing delay, for as long as it takes. It is never dropped: its outbox row
     * would stay pending and its actor wait for an answer that never comes.
     */
    const redeliver = (item: Item, reason: string) => {
      const attempt = (item.attempt ?? 0) + 1
      const delayMs = Math.min(30_000, config.effectRetryBaseMs * 2 ** Math.min(attempt, 16))
      return Effect.zipRight(
        Effect.logError(`effect outcome not committed (${reason}); offered again in ${delayMs} ms`).pipe(
          Effect.annotateLogs({ actorId: item.env.actorId, outboxId: item.env.outboxId, attempt }),
        ),
        FiberSet.run(
          fibers,
          Effect.zipRight(Effect.sleep(`${delayMs} millis`), Queue.offer(inbox, { ...item, attempt })),
        ),
      )
    }

    /** After the commit: memory, timers, publication, answers, then effects. */
    const afterCommit = (
      batch: Batch,
      items: ReadonlyArray<Item>,
      outcomes: ReadonlyArray<StepOutcome | null>,
      at: number,
      committedAt: number,
    ) =>
      Effect.gen(function* () {
        for (const c of batch.cells) remember(c)
        let armedEarlier = false
        for (const t of batch.timers) {
          const key = timerKey(t.actorId, t.name)
          if (t.op === "arm") {
            armed.set(key, { dueAt: t.dueAt, armedSeq: t.armedSeq, delayMs: Math.max(0, t.dueAt - at) })
            heap.push({ dueAt: t.dueAt, actorId: t.actorId, name: t.name, armedSeq: t.armedSeq })
            armedEarlier = true
          } else armed.delete(key)
        }
        if (armedEarlier) yield* Queue.offer(wake, undefined)
        yield* PubSub.publishAll(
          pubsub,
          batch.journal.map((j) => toTransition(j, committedAt)),
        )
        for (let i = 0; i < items.length; i++) {
          const done = items[i]!.done
          if (done)
            yield* Deferred.succeed(
              done,
              outcomes[i] ?? { actorId: items[i]!.env.actorId, seq: -1, from: null, to: "", refused: "dropped" },
            )
        }
        for (const row of batch.outbox) yield* startEffect(row.id, row.actorId, row.effect, row.key, row.payload, false)
      })

    // ---- effects --------------------------------------------------------------------------
    const retryPolicy = Schedule.exponential(`${config.effectRetryBaseMs} millis`).pipe(
      Schedule.jittered,
      Schedule.intersect(Schedule.recurs(config.effectRetriesMax)),
    )

    /**
     * An effect's call, retried on the policy while its failures are transient. The policy's driver
     * is set up only after a first transient failure (on the usual first-time success it cost about
     * 5 µs a call for nothing); that failure is then replayed to it, so the first retry still waits
     * the policy's first delay and the retries are counted as before.
     */
    const retried = <A>(call: Effect.Effect<A, EffectFailure>): Effect.Effect<A, EffectFailure> =>
      Effect.catchIf(
        call,
        (e) => e.retryable,
        (first) => {
          let replayed = false
          const again = Effect.suspend(() => {
            if (replayed) return call
            replayed = true
            return Effect.fail(first)
          })
          return Effect.retry(again, { schedule: retryPolicy, while: (e) => e.retryable })
        },
      )

    const startEffect = (
      id: number,
      actorId: string,
      effect: string,
      key: string,
      payloadText: string,
      maybeRan: boolean,
    ) =>
      Effect.gen(function* () {
        const handler = handlers[effect]
        if (!handler)
          return yield* store
            .failEffect(id, `no handler for ${effect}`, yield* Clock.currentTimeMillis)
            .pipe(Effect.orDie)
        effectsInFlight++
        queuedEffects.set(actorId, (queuedEffects.get(actorId) ?? 0) + 1)
        let queued = true
        const started = Effect.suspend(() => {
          queued = false
          return effectStarted(actorId)
        })
        yield* FiberSet.run(
          fibers,
          Effect.suspend(() => {
            const payload = JSON.parse(payloadText) as Json
            return laneFor(handler, payload).withPermit(
              Effect.zipRight(started, runEffect(handler, id, actorId, key, payload, maybeRan)),
            )
          }).pipe(
            // Forked by the committer, but a broker call is not the exit path's to hurry.
            Effect.withSchedulingPriority(0),
            Effect.ensuring(
              Effect.suspend(() => {
                effectsInFlight--
                return queued ? effectStarted(actorId) : Effect.void
              }),
            ),
          ),
        )
      })

    /** One of an actor's effects left its lane's queue: its held timers count again from now. */
    const effectStarted = (actorId: string) =>
      Effect.gen(function* () {
        const n = (queuedEffects.get(actorId) ?? 1) - 1
        if (n > 0) {
          queuedEffects.set(actorId, n)
          return
        }
        queuedEffects.delete(actorId)
        const held = heldTimers.get(actorId)
        if (!held) return
        heldTimers.delete(actorId)
        const now = yield* Clock.currentTimeMillis
        for (const t of held) {
          const live = armed.get(timerKey(t.actorId, t.name))
          if (live?.armedSeq !== t.armedSeq) continue
          live.dueAt = now + live.delayMs
          heap.push({ ...t, dueAt: live.dueAt })
        }
        yield* Queue.offer(wake, undefined)
      })

    const runEffect = (
      handler: EffectHandler,
      id: number,
      actorId: string,
      key: string,
      payload: Json,
      maybeRan: boolean,
    ) => {
      const ctx = { key, actorId, outboxId: id }
      const attempt = retried(handler.run(payload, ctx))
      const recovered: Effect.Effect<OutcomeEvent | null, EffectFailure> =
        maybeRan && handler.recover
          ? retried(handler.recover(payload, ctx)).pipe(
              Effect.flatMap(Option.match({ onNone: () => attempt, onSome: Effect.succeed })),
            )
          : attempt
      return recovered.pipe(
        Effect.catchAll((failure) => Effect.succeed(handler.onFailure(failure, payload, ctx))),
        // At the priority the effect ran at (the default): deferred to the broker updates' priority
        // (`EngineScheduler.brokerUpdates`), an exit-all's orders went out 0.2 s sooner, but each
        // answer's steps were then taken in whatever gap came next, and a firing tick met them
        // (tick to order p99 6 ms instead of 3).
        Effect.flatMap((outcome) =>
          Queue.offer(inbox, {
            env: {
              actorId,
              event: outcome,
              cause: `outbox:${id}`,
              outboxId: id,
              outboxResult: JSON.stringify(outcome),
            },
            done: null,
          }),
        ),
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.void
            : Effect.gen(function* () {
                yield* Effect.logError(`effect defect; outbox row ${id} failed`, cause).pipe(
                  Effect.annotateLogs({ actorId, effectKey: key }),
                )
                yield* store
                  .failEffect(id, errorText(Cause.squash(cause)), yield* Clock.currentTimeMillis)
                  .pipe(Effect.orDie)
              }),
        ),
      )
    }

    // ---- archiving --------------------------------------------------------------------------
    /**
     * Archives the live actors that have been terminal and quiet for `archiveAfterMs`: a cancelled
     * order, a dark intent, a re-armed signal stay live in XState's terms, and without this every
     * restart would load them all again. Through the inbox, so each is journaled in order.
     */
    const archiveQuiet = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const quietSince = now - config.archiveAfterMs
      const quiet: Array<Item> = []
      for (const c of cells.values())
        if (c.updatedAt <= quietSince && isTerminal(c.type, c.stateKey))
          quiet.push({
            env: { actorId: c.id, event: null, cause: "runtime:archive", archive: { quietSince } },
            done: null,
          })
      if (quiet.length === 0) return 0
      yield* Queue.offerAll(inbox, quiet)
      yield* Effect.logInfo(
        `archiving ${quiet.length} actors terminal since before ${new Date(quietSince).toISOString()}`,
      )
      return quiet.length
    })

    // ---- timers ---------------------------------------------------------------------------
    const timerLoop = Effect.gen(function* () {
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        for (let t = heap.peek(); t && t.dueAt <= now; t = heap.peek()) {
          heap.pop()
          if (armed.get(timerKey(t.actorId, t.name))?.armedSeq !== t.armedSeq) continue
          if (queuedEffects.has(t.actorId)) {
            const held = heldTimers.get(t.actorId)
            if (held) held.push(t)
            else heldTimers.set(t.actorId, [t])
            continue
          }
          yield* Queue.offer(inbox, {
            env: {
              actorId: t.actorId,
              event: { type: `timer.${t.name}` },
              cause: `timer:${t.name}`,
              timer: { name: t.name, armedSeq: t.armedSeq },
            },
            done: null,
          })
        }
        const next = heap.peek()
        const wait = next ? Math.max(0, next.dueAt - now) : 60_000
        yield* Effect.raceFirst(Effect.sleep(`${wait} millis`), Queue.take(wake))
      }
    })

    // ---- the committer --------------------------------------------------------------------
    const committer = Effect.gen(function* () {
      for (;;) {
        const first = yield* Queue.take(inbox)
        busy++
        if (config.groupCommitDelayMs > 0) yield* Effect.sleep(`${config.groupCommitDelayMs} millis`)
        else if ((first.priority ?? 0) >= 0) yield* Effect.yieldNow({ priority: first.priority ?? 0 })
        const rest = yield* Queue.takeUpTo(inbox, config.groupCommitRowsMax - 1)
        yield* processGroup([first, ...rest]).pipe(
          Effect.catchAllCause((cause) =>
            Effect.gen(function* () {
              // Our own defect while computing a group: nothing was committed. Drop the in-memory
              // state of the actors involved; they are rebuilt from the store on their next event.
              yield* Effect.logError("group commit failed; actors rebuilt from the store", cause)
              for (const item of [first, ...rest]) {
                evict(item.env.actorId)
                if (item.done)
                  yield* Deferred.succeed(item.done, {
                    actorId: item.env.actorId,
                    seq: -1,
                    from: null,
                    to: "",
                    refused: `defect: ${errorText(Cause.squash(cause))}`,
                  })
              }
            }),
          ),
          Effect.ensuring(Effect.sync(() => busy--)),
        )
      }
    })

    // The committer runs at the exit path's priority (see `EngineScheduler`), so that a firing
    // tick's steps are taken at once; any other first envelope makes it yield once at the normal
    // priority, so that the fibers already queued can add theirs to the group (group commit).
    yield* FiberSet.run(fibers, Effect.withSchedulingPriority(committer, exitPath))
    yield* FiberSet.run(fibers, timerLoop)
    if (config.archiveEveryMs > 0)
      yield* FiberSet.run(
        fibers,
        Effect.repeat(archiveQuiet, Schedule.spaced(`${config.archiveEveryMs} millis`)).pipe(
          Effect.catchAllCause((cause) => Effect.logError("archive sweep failed", cause)),
        ),
      )
    for (const p of pending) yield* startEffect(p.id, p.actor_id, p.effect, p.idem_key, p.payload, true)

    const offererPriority = FiberRef.get(FiberRef.currentSchedulingPriority)

    const offer = (env: Envelope) =>
      Effect.gen(function* () {
        const done = yield* Deferred.make<StepOutcome>()
        yield* Queue.offer(inbox, { env, done, priority: yield* offererPriority })
        return yield* Deferred.await(done)
      })

    const idle = () => Option.getOrElse(inbox.unsafeSize(), () => 0) <= 0 && busy === 0 && effectsInFlight === 0

    return ActorRuntime.of({
      send: (actorId, event, cause) => offer({ actorId, event, cause: cause ?? null }),
      post: (actorId, event, cause) =>
        Effect.flatMap(offererPriority, (priority) =>
          Queue.offer(inbox, { env: { actorId, event, cause: cause ?? null }, done: null, priority }),
        ).pipe(Effect.asVoid),
      spawn: (actorType, actorId, input, cause) =>
        offer({ actorId, event: null, cause: cause ?? null, create: { actorType, input } }),
      offerAll: (steps) =>
        Effect.gen(function* () {
          const items: Array<Item & { readonly done: Deferred.Deferred<StepOutcome> }> = []
          const priority = yield* offererPriority
          for (const s of steps) {
            const done = yield* Deferred.make<StepOutcome>()
            const env: Envelope =
              "create" in s
                ? { actorId: s.actorId, event: null, cause: s.cause ?? null, create: s.create }
                : { actorId: s.actorId, event: s.event, cause: s.cause ?? null }
            items.push({ env, done, priority })
          }
          yield* Queue.offerAll(inbox, items)
          return yield* Effect.forEach(items, (i) => Deferred.await(i.done))
        }),
      // A read of an actor in memory is the exit path's most frequent call (every member trade,
      // several times a decision): answered without a generator, the store read only when needed.
      view: (actorId) =>
        Effect.suspend(() => {
          const cell = cells.get(actorId) ?? doneCache.get(actorId)
          if (cell) return Effect.succeed(Option.some(viewOf(cell)))
          return Effect.map(Effect.orDie(store.actor(actorId)), (row) =>
            row ? Option.some(viewOf(cellOf(row))) : Option.none<ActorView>(),
          )
        }),
      subscribe: PubSub.subscribe(pubsub),
      liveIds: () => [...cells.keys()],
      awaitIdle: Effect.gen(function* () {
        let quiet = 0
        while (quiet < 3) {
          yield* Effect.promise(() => new Promise<void>((r) => setImmediate(r)))
          quiet = idle() ? quiet + 1 : 0
        }
      }),
      rehydrateMs,
    })
  })

/** The runtime as a scoped layer: its fibers stop when the scope closes. */
export const layer = (config: RuntimeConfig = defaultRuntimeConfig) => Layer.scoped(ActorRuntime, make(config))

/**
 * What a reader sees of an actor. A hot actor's resolved snapshot is its committed state (XState
 * never changes a snapshot in place): its context as is, not parsed again from the JSON.
 */
const viewOf = (cell: Cell): ActorView => ({
  id: cell.id,
  type: cell.type,
  seq: cell.seq,
  state: cell.stateKey,
  status: cell.status,
  context: cell.snapshot?.context ?? (JSON.parse(cell.json) as { context: Record<string, unknown> }).context,
})

const cellOf = (row: {
  actor_id: string
  actor_type: ActorType
  machine_version: string
  seq: number
  state: string
  status: "active" | "done"
  snapshot: string
  created_at: number
  updated_at: number
}): Cell => ({
  id: row.actor_id,
  type: row.actor_type,
  version: row.machine_version,
  seq: row.seq,
  stateKey: row.state,
  status: row.status,
  json: row.snapshot,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  snapshot: null,
})

const merge = (into: UnitWrites, from: UnitWrites) => {
  into.journal.push(...from.journal)
  for (const [id, c] of from.cells) into.cells.set(id, c)
  into.outbox.push(...from.outbox)
  into.timers.push(...from.timers)
  into.outboxDone.push(...from.outboxDone)
}

const refusedRow = (
  cell: Cell,
  seq: number,
  event: { type: string; at: number },
  cause: string | null,
  reason: string,
): JournalRow => ({
  id: 0,
  actorId: cell.id,
  actorType: cell.type,
  seq,
  eventType: event.type,
  event: JSON.stringify(event),
  from: cell.stateKey,
  to: cell.stateKey,
  at: event.at,
  cause,
  refused: reason,
})

const toTransition = (j: JournalRow, committedAt: number): Transition => ({
  journalId: j.id,
  actorId: j.actorId,
  actorType: j.actorType,
  seq: j.seq,
  eventType: j.eventType,
  event: j.event,
  from: j.from,
  to: j.to,
  at: j.at,
  cause: j.cause,
  refused: j.refused,
  committedAt,
})

export type { OutboxRow }

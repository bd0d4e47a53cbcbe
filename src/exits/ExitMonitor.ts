/**
 * Stage 1 wired into the engine: the `TradeIndex` is loaded from the trades read model at start
 * and kept current from the runtime's committed transitions; a TickHub listener judges every
 * tick synchronously (nothing is allocated when nothing fires), sends `tick.price` to a trailing
 * trade only when its best price improves, and queues the candidates for stage 2, which a few
 * worker fibers qualify. A sweep checks time exits on symbols that stopped ticking.
 *
 * A fired trade stays latched until the pipeline lets it fire again: its trade back to OPEN
 * (a failed exit), its signal's cooldown over (`PUBLISHED.rearmed`), an operator switch changed,
 * or a candidate that could not be taken at all (BUSY, refused).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Cause, Clock, Effect, Option, Queue } from "effect"
import type { ExitIntentContext } from "../../machines/ExitIntentMachine.js"
import type { TradeContext } from "../../machines/TradeMachine.js"
import { type Tick, TickHub } from "../market/TickHub.js"
import { ActorRuntime, type Transition } from "../runtime/ActorRuntime.js"
import { exitPath } from "../runtime/EngineScheduler.js"
import { ExitConfig, type ExitOptions, instrumentOf } from "./ExitConfig.js"
import { countIntentOutcome } from "./ExitMetrics.js"
import { ExitQualification, type Qualified } from "./ExitQualification.js"
import { timeExitOf } from "./ExitRules.js"
import { ExitSettings } from "./ExitSettings.js"
import { type ExitCandidate, type IndexedTrade, TradeIndex } from "./TradeIndex.js"

interface Queued {
  readonly candidate: ExitCandidate
  readonly source: "tick" | "sweep"
}

/** A trade's context as the index needs it. */
export const indexedTradeOf = (c: TradeContext, state: string, config: ExitOptions): IndexedTrade => ({
  tradeId: c.tradeId,
  accountId: c.accountId,
  symbol: c.symbol,
  exchange: c.exchange,
  product: c.product,
  direction: c.direction,
  stopLoss: c.stopLoss,
  target: c.target,
  trailing: c.trailing,
  trailLevel: c.trailLevel,
  bestPrice: c.bestPrice,
  open: state === "OPEN",
  timeExit: timeExitOf(
    {
      product: c.product,
      exchange: c.exchange,
      openedAt: c.openedAt,
      expiry: instrumentOf(config.instruments, c.exchange, c.symbol).expiry,
    },
    config,
  ),
})

/** Stage 1 of the exit pipeline, running: the index, the tick listener and the workers. */
export class ExitMonitor extends Effect.Service<ExitMonitor>()("warden/ExitMonitor", {
  scoped: Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const sql = yield* SqlClient.SqlClient
    const hub = yield* TickHub
    const qualification = yield* ExitQualification
    const settings = yield* ExitSettings
    const config = yield* ExitConfig
    const index = new TradeIndex({ ticks: config.confirmTicks, ms: config.confirmMs })
    const queue = yield* Queue.unbounded<Queued>()
    let pendingCount = 0
    const enqueue = (q: Queued) => {
      pendingCount++
      queue.unsafeOffer(q)
    }

    // Subscribed before loading, so that no transition committed after the load is missed.
    const transitions = yield* rt.subscribe
    const open = yield* Effect.orDie(sql<{ trade_id: string; state: string; snapshot: string }>`
      SELECT t.trade_id, t.state, a.snapshot FROM trades t JOIN actors a ON a.actor_id = t.trade_id
      WHERE t.status <> 'CLOSED'`)
    for (const row of open) {
      const c = (JSON.parse(row.snapshot) as { context: TradeContext }).context
      index.add(indexedTradeOf(c, row.state, config))
    }

    const onTick = (tick: Tick): Effect.Effect<void> => {
      let fired: ReadonlyArray<ExitCandidate>
      try {
        fired = index.onTick(tick.symbol, tick.ltp, tick.at)
      } catch (e) {
        // Our own defect must not take the tick feed (and the other listeners) down with it.
        return Effect.logError(`stage 1 failed on a ${tick.symbol} tick`, e)
      }
      const improved = index.improvedCount
      if (fired.length === 0 && improved === 0) return Effect.void
      for (const candidate of fired) enqueue({ candidate, source: "tick" })
      const posts: Array<Effect.Effect<void>> = []
      for (let i = 0; i < improved; i++)
        posts.push(rt.post(index.improvedId(i), { type: "tick.price", price: index.improvedPrice(i) }, "tick"))
      return Effect.all(posts, { discard: true })
    }

    const settle = (tradeId: string, q: Qualified): void => {
      if (q._tag === "Published") return
      if (q.reason === "BUSY" || q.reason === "REFUSED") index.rearm(tradeId)
      if (q.reason === "NO_TRADE") index.remove(tradeId)
    }

    const work = (q: Queued) =>
      qualification.submit(q.candidate, { source: q.source }).pipe(
        Effect.tap((result) => Effect.sync(() => settle(q.candidate.tradeId, result))),
        Effect.catchAllCause((cause) =>
          Effect.zipRight(
            Effect.logError("exit candidate failed; the trade is re-armed", Cause.squash(cause)),
            Effect.sync(() => index.rearm(q.candidate.tradeId)),
          ),
        ),
        Effect.ensuring(Effect.sync(() => pendingCount--)),
      )

    const worker = Effect.forever(Effect.flatMap(Queue.take(queue), work))

    const follow = (t: Transition): Effect.Effect<void> =>
      Effect.gen(function* () {
        const view = yield* rt.view(t.actorId)
        if (Option.isNone(view) || view.value.status === "done") {
          index.remove(t.actorId)
          return
        }
        const c = view.value.context as unknown as TradeContext
        if (!index.has(t.actorId)) index.add(indexedTradeOf(c, view.value.state, config))
        else index.follow(t.actorId, view.value.state === "OPEN", c.bestPrice, c.trailLevel)
      })

    const onTransition = (t: Transition): Effect.Effect<void> => {
      if (t.refused !== null) return Effect.void
      if (t.actorType === "trade") return t.eventType === "tick.price" ? Effect.void : follow(t)
      if (t.actorType === "exitSignal" && t.to === "PUBLISHED.rearmed")
        return Effect.map(rt.view(t.actorId), (v) => {
          if (Option.isSome(v)) index.rearm(String(v.value.context.tradeId))
        })
      if (t.actorType === "exitIntent")
        return countIntentOutcome(t, () =>
          Effect.map(rt.view(t.actorId), (v) =>
            Option.isSome(v) ? (v.value.context as unknown as ExitIntentContext) : null,
          ),
        )
      return Effect.void
    }

    const sweep = Effect.gen(function* () {
      for (;;) {
        yield* Effect.sleep(`${config.timeSweepMs} millis`)
        const now = yield* Clock.currentTimeMillis
        for (const candidate of index.sweep(now)) enqueue({ candidate, source: "sweep" })
      }
    })

    const followSafely = (t: Transition) =>
      Effect.catchAllCause(onTransition(t), (cause) =>
        Effect.logError(`exit monitor: ${t.actorId} not followed`, cause),
      )
    yield* Effect.forkScoped(
      Effect.forever(
        // Waits for at least one transition: `takeAll` alone answers an empty batch at once (a busy loop).
        Effect.flatMap(Queue.takeBetween(transitions, 1, Number.MAX_SAFE_INTEGER), (batch) =>
          Effect.forEach(batch, followSafely, { discard: true }),
        ),
      ),
    )
    // The workers run ahead of other fibers (see `EngineScheduler`): a firing tick's exit first.
    for (let i = 0; i < config.qualifyConcurrencyMax; i++)
      yield* Effect.forkScoped(Effect.withSchedulingPriority(worker, exitPath))
    if (config.timeSweepMs > 0) yield* Effect.forkScoped(sweep)
    yield* settings.onChange(() => index.rearmAll())
    yield* hub.listen(onTick)

    return {
      /** The index of open trades (read-only use: diagnostics, tests). */
      index,
      /** Candidates queued or being qualified. */
      pending: (): number => pendingCount,
    }
  }),
}) {}

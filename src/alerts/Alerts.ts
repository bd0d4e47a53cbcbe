/**
 * Alerts to the operator's channels, sent after commit and never in the engine's way. Committed
 * transitions come from the runtime's publication (after their commit); enforcer interventions and
 * reconciliation differences are read from their tables every `pollMs`. Each alert is offered to
 * every channel's bounded queue: a full queue drops it (counted), it never waits. Each channel has
 * its own fiber that delivers in order, retrying a transient failure with a growing, jittered
 * delay. An alert id seen before is not sent again. Every fiber is isolated: a failure is logged
 * and the next alert goes; nothing here can stop or slow a commit.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Cause, Clock, Context, Effect, Layer, Option, Queue, Random } from "effect"
import type { AlertStats } from "../dashboard/DashboardTypes.js"
import { ActorRuntime, type Transition } from "../runtime/ActorRuntime.js"
import { type AlertsConfig, type ResolvedChannel, resolveChannels } from "./AlertConfig.js"
import { deliver } from "./AlertChannels.js"
import {
  type AlertEvent,
  alertOfIntervention,
  alertOfIssue,
  alertOfTransition,
  type InterventionRow,
  type IssueRow,
  mayAlert,
} from "./AlertEvents.js"

/** Drops between two warnings about them. */
const dropsPerWarning = 100
/** Alert ids remembered for deduplication; the oldest are forgotten beyond it. */
const seenIdsMax = 50_000

/** The alerts service. */
export class Alerts extends Context.Tag("warden/Alerts")<
  Alerts,
  {
    /** Offers an alert to every channel; false when it was a duplicate or filtered out. */
    readonly offer: (event: AlertEvent) => Effect.Effect<boolean>
    /** Counters since start. */
    readonly stats: Effect.Effect<AlertStats>
  }
>() {}

/** A growing, jittered delay before retry `attempt` (0-based), or what the receiver asked for. */
export const retryDelayMs = (config: AlertsConfig, attempt: number, jitter: number, asked: number | null): number =>
  Math.min(config.retryDelayMsMax, asked ?? config.retryBaseMs * 2 ** attempt * (0.5 + jitter / 2))

/** The alerts service over the configuration; with no channels it sends nothing and reads nothing. */
export const make = (config: AlertsConfig, channels: ReadonlyArray<ResolvedChannel> = resolveChannels(config)) =>
  Effect.gen(function* () {
    const counts = { sent: 0, retried: 0, failed: 0, dropped: 0, duplicates: 0 }
    const seen = new Set<string>()
    const kinds = config.kinds ? new Set<string>(config.kinds) : null
    const queues = yield* Effect.forEach(channels, (channel) =>
      Effect.map(Queue.dropping<AlertEvent>(config.queueMax), (queue) => ({ channel, queue })),
    )

    const offer = (event: AlertEvent): Effect.Effect<boolean> =>
      Effect.gen(function* () {
        if (kinds !== null && !kinds.has(event.kind)) return false
        if (seen.has(event.id)) {
          counts.duplicates++
          return false
        }
        seen.add(event.id)
        if (seen.size > seenIdsMax) seen.delete(seen.values().next().value!)
        for (const { channel, queue } of queues) {
          if (!(yield* Queue.offer(queue, event))) {
            counts.dropped++
            // Logged at the first drop and every hundredth: an overload must not flood the log too.
            if (counts.dropped % dropsPerWarning === 1)
              yield* Effect.logWarning(`alerts dropped for ${channel.name} (queue full): ${counts.dropped} so far`)
          }
        }
        return true
      })

    /** Delivers one alert to one channel, retrying transient failures; never fails. */
    const send = (channel: ResolvedChannel, event: AlertEvent) =>
      Effect.gen(function* () {
        for (let attempt = 0; ; attempt++) {
          const result = yield* Effect.either(deliver(channel, event, config.timeoutMs))
          if (result._tag === "Right") {
            counts.sent++
            return
          }
          const e = result.left
          if (!e.transient || attempt >= config.retriesMax) {
            counts.failed++
            return yield* Effect.logWarning(
              `alert ${event.id} not delivered to ${channel.name} after ${attempt + 1} attempts: ${e.message}`,
            )
          }
          counts.retried++
          yield* Effect.sleep(retryDelayMs(config, attempt, yield* Random.next, e.retryAfterMs))
        }
      })

    for (const { channel, queue } of queues) {
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.flatMap(Queue.take(queue), (event) =>
            send(channel, event).pipe(
              Effect.catchAllCause((cause) =>
                Effect.logError(`alert delivery to ${channel.name} failed`, Cause.pretty(cause)),
              ),
            ),
          ),
        ),
      )
    }

    if (queues.length > 0) {
      // Subscribed and positioned before the layer is up: nothing committed after the start is missed.
      const rt = yield* ActorRuntime
      yield* Effect.forkScoped(fromTransitions(rt, yield* rt.subscribe, offer))
      yield* Effect.forkScoped(yield* fromTables(config, offer))
      yield* Effect.logInfo(`alerts: sending to ${channels.map((c) => c.name).join(", ")}`)
    }

    return {
      offer,
      stats: Effect.gen(function* () {
        const queued = yield* Effect.forEach(queues, ({ queue }) => Queue.size(queue))
        return {
          channels: channels.map((c) => c.name),
          queued: queued.reduce((a, b) => a + b, 0),
          ...counts,
        }
      }),
    }
  })

/** Alerts of committed transitions, as the runtime publishes them. */
const fromTransitions = (
  rt: ActorRuntime["Type"],
  sub: Queue.Dequeue<Transition>,
  offer: (e: AlertEvent) => Effect.Effect<boolean>,
) =>
  Effect.gen(function* () {
    for (;;) {
      const batch = yield* Queue.takeBetween(sub, 1, 1_000)
      for (const t of batch) {
        if (!mayAlert(t)) continue
        const view = yield* rt.view(t.actorId)
        const event = alertOfTransition(t, Option.match(view, { onNone: () => ({}), onSome: (v) => v.context }))
        if (event) yield* offer(event)
      }
    }
  }).pipe(
    Effect.catchAllCause((cause) => Effect.logError("alerts: the transition reader stopped", Cause.pretty(cause))),
  )

/** The reader of enforcer interventions and reconciliation differences recorded after the start. */
const fromTables = (config: AlertsConfig, offer: (e: AlertEvent) => Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const start = yield* sql<{ n: number | null }>`SELECT MAX(intervention_id) AS n FROM risk_interventions`
    let cursor = start[0]?.n ?? 0
    const openIssues = (yield* sql<IssueRow>`SELECT * FROM reconciliation_issues WHERE resolved_at IS NULL`).map(
      (r) => r.id,
    )
    // Differences already open at the start were alerted by the run that found them.
    let known = new Set<number>(openIssues)
    const poll = Effect.gen(function* () {
      const rows = yield* sql<InterventionRow>`
        SELECT * FROM risk_interventions WHERE intervention_id > ${cursor} ORDER BY intervention_id LIMIT 500`
      for (const r of rows) {
        cursor = r.intervention_id
        yield* offer(alertOfIntervention(r))
      }
      const open = yield* sql<IssueRow>`SELECT * FROM reconciliation_issues WHERE resolved_at IS NULL`
      const now = yield* Clock.currentTimeMillis
      for (const r of open) if (!known.has(r.id)) yield* offer(alertOfIssue(r, now))
      known = new Set(open.map((r) => r.id))
    })
    return Effect.forever(
      Effect.zipRight(
        poll.pipe(Effect.catchAllCause((cause) => Effect.logWarning("alerts: poll failed", Cause.pretty(cause)))),
        Effect.sleep(config.pollMs),
      ),
    )
  }).pipe(Effect.orDie)

/** The alerts service as a layer (it needs the runtime and the engine's SqlClient). */
export const layer = (config: AlertsConfig) => Layer.scoped(Alerts, make(config))

/**
 * The order watcher: keeps every engine order true to the broker's book. It consumes each
 * broker's update stream and, as a fallback, polls the order book — fast (every
 * `fastPollIntervalMs`) when the stream has been quiet for `quietStreamMs`, slowly otherwise.
 * Updates become Order events by `eventsFor`: fills by the cumulative filled quantity (a duplicate
 * or reordered update changes nothing; the stream and the poll cannot count a fill twice), then
 * the order's final status. Updates for orders the engine did not place go to the reconciler.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Context, Effect, FiberSet, Layer, Metric, Option, Stream } from "effect"
import type { BrokerOrder, OrderUpdate } from "../broker/Broker.js"
import { Brokers } from "../broker/Brokers.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { brokerUpdates } from "../runtime/EngineScheduler.js"
import type { OutcomeEvent } from "../runtime/EffectHandlers.js"

/** Bounds of the watcher. */
export interface WatcherConfig {
  /** Poll interval while the update stream is live. */
  readonly pollIntervalMs: number
  /** Poll interval once the stream has been quiet for `quietStreamMs`. */
  readonly fastPollIntervalMs: number
  readonly quietStreamMs: number
}

export const defaultWatcherConfig: WatcherConfig = {
  pollIntervalMs: 5_000,
  fastPollIntervalMs: 1_000,
  quietStreamMs: 60_000,
}

/** What the watcher knows of an engine order. */
export interface KnownOrder {
  readonly state: string
  readonly filledQty: number
  readonly avgPrice: number
}

/** States in which a broker's word settles a send with no answer (in awaitingAck the placement's own answer is on its way). */
const unresolved = new Set(["SENT_TO_BROKER.unknown", "SENT_TO_BROKER.lookupWait"])
const finalStates = new Set(["EXECUTED", "FAILED"])

/** The update as the order's fill state: cumulative quantity and average price. */
type Update = Pick<OrderUpdate, "brokerOrderId" | "status" | "filledQty" | "avgPrice" | "fill" | "reason">

/**
 * The Order events an update means for an order in `known` state. Pure: the same update twice,
 * or an older one after a newer, yields nothing new.
 */
export const eventsFor = (known: KnownOrder, u: Update): Array<OutcomeEvent> => {
  if (finalStates.has(known.state)) return []
  const events: Array<OutcomeEvent> = []
  if (unresolved.has(known.state)) {
    if (u.status === "REJECTED") return [{ type: "broker.rejected", reason: u.reason ?? "rejected" }]
    events.push({ type: "broker.accepted", brokerOrderId: u.brokerOrderId })
  }
  const delta = u.filledQty - known.filledQty
  if (delta > 0) {
    const exact = u.fill !== undefined && u.fill.qty === delta
    const price = exact ? u.fill!.price : round4((u.avgPrice * u.filledQty - known.avgPrice * known.filledQty) / delta)
    const fillId = exact ? u.fill!.fillId : `${u.brokerOrderId}#${u.filledQty}`
    events.push({ type: "broker.filled", fillId, qty: delta, price })
  }
  const reason = u.reason ?? u.status.toLowerCase()
  if (u.status === "CANCELLED" && !known.state.startsWith("CANCELLED"))
    events.push({ type: "broker.cancelled", reason })
  if (u.status === "EXPIRED" && !known.state.startsWith("EXPIRED")) events.push({ type: "broker.expired" })
  // Also while awaiting the ack: an exchange's reject right after the broker accepted (RMS, price
  // band) can come on the stream before the placement's answer is committed. Dropped, it waited for
  // the next poll; the answer that follows (accepted) is then refused by the FAILED order.
  if (u.status === "REJECTED" && !unresolved.has(known.state)) events.push({ type: "broker.rejected", reason })
  return events
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000

/** A broker order as an update (for polling and reconciliation). */
export const updateOf = (o: BrokerOrder): Update => ({
  brokerOrderId: o.brokerOrderId,
  status: o.status,
  filledQty: o.filledQty,
  avgPrice: o.avgPrice,
  reason: o.reason,
})

const updatesApplied = Metric.counter("warden_order_updates_applied_total", {
  description: "broker order updates that changed an engine order",
})
const pollsRun = Metric.counter("warden_order_polls_total", { description: "order-book polls by the order watcher" })

/** The watcher's operations, for the reconciler and tests. */
export class OrderWatcher extends Context.Tag("warden/OrderWatcher")<
  OrderWatcher,
  {
    /** Applies one update for an order found by its client tag; false when the engine has no such order. */
    readonly apply: (clientTag: string, update: Update, source: string) => Effect.Effect<boolean>
    /** Polls every account's order book once and applies what differs. */
    readonly pollOnce: Effect.Effect<void>
  }
>() {}

/** Starts the watcher's stream and poll fibers in the layer's scope. */
export const layer = (config: WatcherConfig = defaultWatcherConfig) =>
  Layer.scoped(
    OrderWatcher,
    Effect.gen(function* () {
      const rt = yield* ActorRuntime
      const brokers = yield* Brokers
      const sql = yield* SqlClient.SqlClient
      const lastUpdateAt = new Map<string, number>()
      const workers = yield* FiberSet.make<void>()
      const orderIdByTag = new Map<string, string>()

      const orderIdOf = (clientTag: string) =>
        Effect.gen(function* () {
          const cached = orderIdByTag.get(clientTag)
          if (cached) return Option.some(cached)
          // The engine tags its orders with their own ids: a live order is found in memory.
          const own = yield* rt.view(clientTag)
          if (Option.isSome(own) && own.value.type === "order" && own.value.context.clientTag === clientTag) {
            orderIdByTag.set(clientTag, clientTag)
            return Option.some(clientTag)
          }
          const rows = yield* sql<{
            order_id: string
          }>`SELECT order_id FROM orders WHERE client_tag = ${clientTag}`.pipe(Effect.orDie)
          const id = rows[0]?.order_id
          if (id) orderIdByTag.set(clientTag, id)
          return Option.fromNullable(id)
        })

      const apply = (clientTag: string, update: Update, source: string) =>
        Effect.gen(function* () {
          const id = yield* orderIdOf(clientTag)
          if (Option.isNone(id)) return false
          const view = yield* rt.view(id.value)
          if (Option.isNone(view)) return false
          const c = view.value.context as { filledQty: number; avgPrice: number }
          const events = eventsFor({ state: view.value.state, filledQty: c.filledQty, avgPrice: c.avgPrice }, update)
          for (const e of events) yield* rt.send(id.value, e, `broker:${source}:${update.brokerOrderId}`)
          if (events.length > 0) yield* Metric.increment(updatesApplied)
          return true
        }).pipe(Effect.annotateLogs({ clientTag }))

      // One order's updates are applied in order (each is read against the order's state after the
      // last); different orders' updates in parallel, so their steps share group commits.
      const pending = new Map<string, Array<OrderUpdate>>()
      const drain = (clientTag: string): Effect.Effect<void> =>
        Effect.gen(function* () {
          for (;;) {
            const queue = pending.get(clientTag)
            const next = queue?.shift()
            if (!next) {
              pending.delete(clientTag)
              return
            }
            yield* apply(clientTag, next, "stream")
          }
        })

      const onUpdate = (accountId: string, u: OrderUpdate) =>
        Effect.gen(function* () {
          lastUpdateAt.set(accountId, yield* Clock.currentTimeMillis)
          const queue = pending.get(u.clientTag)
          if (queue) {
            queue.push(u)
            return
          }
          pending.set(u.clientTag, [u])
          yield* FiberSet.run(workers, drain(u.clientTag))
        })

      /**
       * Subscribes to an account's updates now, as the layer starts, and returns the loop that
       * applies them. Subscribed by the loop's own fiber, the watcher would miss whatever the
       * broker published before that fiber first ran: at its priority, after every other task.
       */
      const watchStream = (accountId: string, updates: Stream.Stream<OrderUpdate>) =>
        Effect.map(Stream.toPull(updates), (pull) =>
          Effect.forever(Effect.flatMap(pull, (chunk) => Effect.forEach(chunk, (u) => onUpdate(accountId, u)))).pipe(
            // The stream ended (`None`): nothing more will come.
            Effect.catchAll(() => Effect.logWarning("order update stream ended")),
          ),
        )

      const open = (accountId: string) =>
        sql<{
          client_tag: string
        }>`SELECT client_tag FROM orders WHERE account_id = ${accountId} AND status IN ('SENT_TO_BROKER', 'PARTIAL', 'CANCELLED', 'EXPIRED')`.pipe(
          Effect.orDie,
        )

      const pollAccount = (accountId: string) =>
        Effect.gen(function* () {
          const broker = yield* brokers.forAccount(accountId)
          const tags = new Set((yield* open(accountId)).map((r) => r.client_tag))
          if (tags.size === 0) return
          const book = yield* broker.orderBook
          for (const o of book) if (tags.has(o.clientTag)) yield* apply(o.clientTag, updateOf(o), "poll")
          yield* Metric.increment(pollsRun)
        }).pipe(
          Effect.catchAll((e) => Effect.logWarning(`order-book poll failed: ${e.message}`)),
          Effect.annotateLogs({ accountId }),
        )

      const pollOnce = Effect.forEach(brokers.all.keys(), pollAccount, { discard: true })

      const pollLoop = Effect.gen(function* () {
        for (;;) {
          const now = yield* Clock.currentTimeMillis
          const quiet = [...brokers.all.keys()].some((a) => now - (lastUpdateAt.get(a) ?? 0) > config.quietStreamMs)
          yield* Effect.sleep(`${quiet ? config.fastPollIntervalMs : config.pollIntervalMs} millis`)
          yield* pollOnce
        }
      })

      for (const [accountId, broker] of brokers.all) {
        const loop = yield* watchStream(accountId, broker.updates)
        yield* Effect.forkScoped(
          loop.pipe(
            Effect.catchAllCause((cause) => Effect.logError("order update stream failed", cause)),
            Effect.annotateLogs({ accountId }),
            // Its workers (forked from it) too: see `EngineScheduler.brokerUpdates`.
            Effect.withSchedulingPriority(brokerUpdates),
          ),
        )
      }
      yield* Effect.forkScoped(pollLoop)
      return { apply, pollOnce }
    }),
  )

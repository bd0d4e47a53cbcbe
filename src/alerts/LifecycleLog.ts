/**
 * The lifecycle log (the seeds' intent-tracking log): one JSON line per committed lifecycle event
 * (exit intent created, order sent, order executed, order or intent failed, trade closed) appended
 * to a file, for `tail -f` and for tools. It is written after the commit, from the runtime's
 * publication, by its own fiber; the journal stays the source of truth. A slow or failing disk
 * drops lines (counted, logged), never holds the engine.
 */
import { createWriteStream, mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { Cause, Context, Effect, Layer, Option, Queue } from "effect"
import { ActorRuntime, type Transition } from "../runtime/ActorRuntime.js"

/** Bytes written but not yet flushed beyond which lines are dropped rather than buffered. */
const unflushedBytesMax = 8 * 1024 * 1024

/** The lifecycle events logged. */
export type LifecycleEventName =
  | "intent_created"
  | "order_sent"
  | "order_executed"
  | "order_failed"
  | "intent_failed"
  | "trade_closed"

/** The lifecycle event a committed transition is, if any. */
export const lifecycleEventOf = (t: Transition): LifecycleEventName | null => {
  if (t.refused !== null || t.from === t.to) return null
  const top = (s: string | null) => (s === null ? null : (s.split(/[.|]/)[0] ?? s))
  const from = top(t.from)
  const to = top(t.to)
  if (t.actorType === "exitIntent") {
    if (t.from === null) return "intent_created"
    if (to === "FAILED") return "intent_failed"
    return null
  }
  if (t.actorType === "order") {
    if (to === "SENT_TO_BROKER" && from === "CREATED") return "order_sent"
    if (to === "EXECUTED") return "order_executed"
    if (to === "FAILED") return "order_failed"
    return null
  }
  if (t.actorType === "trade" && to === "CLOSED") return "trade_closed"
  return null
}

const pick = (c: Readonly<Record<string, unknown>>, keys: ReadonlyArray<string>) =>
  Object.fromEntries(keys.filter((k) => c[k] !== undefined && c[k] !== null).map((k) => [k, c[k]]))

const detailKeys: Record<LifecycleEventName, ReadonlyArray<string>> = {
  intent_created: ["tradeId", "signalId", "accountId", "symbol", "exitReason", "side", "qty"],
  intent_failed: ["tradeId", "accountId", "symbol", "exitReason", "rejectCode", "error", "orderId"],
  order_sent: [
    "accountId",
    "symbol",
    "exchange",
    "side",
    "qty",
    "product",
    "orderType",
    "price",
    "purpose",
    "parentId",
  ],
  order_executed: [
    "accountId",
    "symbol",
    "side",
    "qty",
    "filledQty",
    "avgPrice",
    "purpose",
    "parentId",
    "brokerOrderId",
  ],
  order_failed: ["accountId", "symbol", "side", "qty", "filledQty", "purpose", "parentId", "reason"],
  trade_closed: ["accountId", "symbol", "direction", "qty", "entryPrice", "exitPrice", "exitReason", "realizedPnl"],
}

/** The line of a lifecycle event: the transition and the facts of its actor. */
export const lifecycleLine = (
  name: LifecycleEventName,
  t: Transition,
  context: Readonly<Record<string, unknown>>,
): string =>
  JSON.stringify({
    ts: new Date(t.at).toISOString(),
    event: name,
    actorId: t.actorId,
    actorType: t.actorType,
    seq: t.seq,
    from: t.from,
    to: t.to,
    on: t.eventType,
    cause: t.cause,
    ...pick(context, detailKeys[name]),
  })

/** The lifecycle log, running. */
export class LifecycleLog extends Context.Tag("warden/LifecycleLog")<
  LifecycleLog,
  { readonly path: string; readonly stats: Effect.Effect<{ written: number; dropped: number }> }
>() {}

/** Appends the lifecycle log to `path` (its folder made if needed) for the life of the scope. */
export const layer = (path: string) =>
  Layer.scoped(
    LifecycleLog,
    Effect.gen(function* () {
      const rt = yield* ActorRuntime
      const counts = { written: 0, dropped: 0 }
      mkdirSync(dirname(path), { recursive: true })
      const out = yield* Effect.acquireRelease(
        Effect.sync(() => createWriteStream(path, { flags: "a" })),
        (stream) =>
          Effect.async<void>((resume) => {
            stream.end(() => resume(Effect.void))
          }),
      )
      let broken: string | null = null
      out.on("error", (e) => {
        broken = e.message
      })
      const sub = yield* rt.subscribe
      const write = (t: Transition) =>
        Effect.gen(function* () {
          const name = lifecycleEventOf(t)
          if (name === null) return
          if (broken !== null || out.writableLength > unflushedBytesMax) {
            counts.dropped++
            return yield* Effect.logWarning(`lifecycle log: line dropped (${broken ?? "the disk is behind"})`)
          }
          const view = yield* rt.view(t.actorId)
          out.write(`${lifecycleLine(name, t, Option.match(view, { onNone: () => ({}), onSome: (v) => v.context }))}\n`)
          counts.written++
        })
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.flatMap(Queue.takeBetween(sub, 1, 1_000), (batch) => Effect.forEach(batch, write, { discard: true })),
        ).pipe(Effect.catchAllCause((cause) => Effect.logError("lifecycle log stopped", Cause.pretty(cause)))),
      )
      yield* Effect.logInfo(`lifecycle log: ${path}`)
      return { path, stats: Effect.sync(() => ({ ...counts })) }
    }),
  )

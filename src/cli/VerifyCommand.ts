/**
 * `warden verify` (the seeds' `verify_orders.py`): orders by status, the data-quality checks of
 * the order and exit pipeline, `--replay` (every actor's journal replayed against its snapshot)
 * and `--order ID` (one order traced through every table and transition). Exit 1 on any problem.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Console, Effect, Layer } from "effect"
import { verifyReplay } from "../runtime/Replay.js"
import { ActorStore } from "../store/ActorStore.js"
import { databaseLayer } from "../store/Database.js"
import { Diagnostics } from "../store/Diagnostics.js"
import { CliExit } from "./Launch.js"

const traceOrder = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [order] = yield* sql<
      Record<string, unknown>
    >`SELECT * FROM orders WHERE order_id = ${id} OR client_tag = ${id} OR broker_order_id = ${id}`
    if (!order) {
      yield* Console.log(`no order ${id}`)
      return false
    }
    const orderId = String(order.order_id)
    yield* Console.log(`order ${orderId}\n${JSON.stringify(order, null, 2)}`)
    const command =
      yield* sql`SELECT command_id, source, status, reason, created_at FROM commands WHERE order_id = ${orderId}`
    if (command.length > 0) yield* Console.log(`command: ${JSON.stringify(command[0])}`)
    const parent = order.parent_id
      ? yield* sql`SELECT actor_id, actor_type, state FROM actors WHERE actor_id = ${String(order.parent_id)}`
      : []
    if (parent.length > 0) yield* Console.log(`parent: ${JSON.stringify(parent[0])}`)
    yield* Console.log("transitions:")
    const journal = yield* sql<{
      seq: number
      at: number
      event_type: string
      from_state: string | null
      to_state: string
      cause: string | null
      refused: string | null
    }>`
      SELECT seq, at, event_type, from_state, to_state, cause, refused FROM journal WHERE actor_id = ${orderId} ORDER BY seq`
    for (const j of journal) {
      yield* Console.log(
        `  ${String(j.seq).padStart(3)} ${new Date(j.at).toISOString()} ${j.event_type.padEnd(22)} ${j.from_state ?? "·"} → ${j.to_state}${j.refused ? `  REFUSED: ${j.refused}` : ""}${j.cause ? `  (${j.cause})` : ""}`,
      )
    }
    const effects =
      yield* sql`SELECT effect, idem_key, status, result FROM outbox WHERE actor_id = ${orderId} ORDER BY id`
    for (const e of effects) yield* Console.log(`effect: ${JSON.stringify(e)}`)
    return true
  })

/** Exit 0 when every check passes, 1 otherwise (2 for a usage error). */
export const verifyCommand = (values: Record<string, string | boolean | undefined>) =>
  Effect.gen(function* () {
    const db = values.db
    if (typeof db !== "string") return yield* Effect.fail(new CliExit(2, "warden verify: --db FILE is required"))
    const base = databaseLayer({ filename: db, readonly: true })
    const layer = Layer.mergeAll(ActorStore.Default, Diagnostics.Default).pipe(Layer.provideMerge(base))
    return yield* Effect.gen(function* () {
      if (typeof values.order === "string") return (yield* traceOrder(values.order)) ? 0 : 1
      const diagnostics = yield* Diagnostics
      const { counts, failed } = yield* diagnostics.orders
      yield* Console.log(
        `orders by status: ${
          Object.entries(counts)
            .map(([s, n]) => `${s} ${n}`)
            .join(", ") || "none"
        }`,
      )
      for (const f of failed.slice(0, 20)) yield* Console.log(`  FAILED ${JSON.stringify(f)}`)
      let problems = 0
      for (const c of yield* diagnostics.checks) {
        if (!c.ok) problems++
        yield* Console.log(
          `${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.description}${c.ok ? "" : ` (${c.count}: ${c.sample.join(", ")})`}`,
        )
      }
      if (values.replay === true) {
        const { checked, mismatches } = yield* verifyReplay()
        for (const m of mismatches) yield* Console.log(`MISMATCH ${m.actorId} (${m.actorType}): ${m.detail}`)
        yield* Console.log(`replay: ${checked} actors checked, ${mismatches.length} mismatches`)
        problems += mismatches.length
      }
      return problems === 0 ? 0 : 1
    }).pipe(Effect.provide(layer))
  })

/**
 * Reconciliation with the broker, at start and every `reconcileIntervalMs`: missed fills of the
 * engine's open orders are applied (through the watcher), orders placed outside the engine are
 * adopted as external and shown, and positions are compared with what the engine's and the
 * external orders' fills add up to. A difference nothing explains is recorded (table, log,
 * metric), never papered over; it is marked resolved when it goes away.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Context, Effect, Layer, Metric } from "effect"
import type { Broker, BrokerOrder } from "../broker/Broker.js"
import { Brokers } from "../broker/Brokers.js"
import { OrderWatcher, updateOf } from "./OrderWatcher.js"

/** What one reconciliation found. */
export interface ReconcileReport {
  readonly accounts: number
  readonly externalOrders: number
  readonly openIssues: ReadonlyArray<{ accountId: string; kind: string; subject: string; detail: string }>
}

const differences = Metric.counter("warden_reconciliation_differences_total", {
  description: "differences with the broker found by reconciliation",
})
const externals = Metric.counter("warden_external_orders_total", {
  description: "orders found at the broker that the engine did not place",
})

/** Reconciles on demand (the scheduled loop runs in the layer). */
export class Reconciler extends Context.Tag("warden/Reconciler")<
  Reconciler,
  { readonly reconcile: Effect.Effect<ReconcileReport> }
>() {}

type Issue = { kind: "position" | "order_missing"; subject: string; detail: string; engine: number; broker: number }

const signed = (side: string, qty: number) => (side === "BUY" ? qty : -qty)

/** The reconciler's work on one account. */
const reconcileAccount = (
  sql: SqlClient.SqlClient,
  watcher: OrderWatcher["Type"],
  accountId: string,
  broker: Broker,
  now: number,
) =>
  Effect.gen(function* () {
    const book = yield* broker.orderBook
    const positions = yield* broker.positions
    const ours = yield* sql<{
      client_tag: string
      status: string
      broker_order_id: string | null
      symbol: string
      product: string
      side: string
      filled_qty: number
    }>`
      SELECT client_tag, status, broker_order_id, symbol, product, side, filled_qty FROM orders WHERE account_id = ${accountId}`
    const byTag = new Map(ours.map((o) => [o.client_tag, o]))
    const external: Array<BrokerOrder> = []
    for (const o of book) {
      const mine = byTag.get(o.clientTag)
      if (mine) yield* watcher.apply(o.clientTag, updateOf(o), "reconcile")
      else external.push(o)
    }
    // One transaction (one sync to disk) for all of them, not one per outside order.
    if (external.length > 0)
      yield* sql.withTransaction(
        Effect.forEach(external, (o) => adoptExternal(sql, accountId, o, now), { discard: true }),
      )
    const issues: Array<Issue> = []
    const seenTags = new Set(book.map((o) => o.clientTag))
    for (const o of ours) {
      if (
        o.broker_order_id &&
        (o.status === "SENT_TO_BROKER" || o.status === "PARTIAL") &&
        !seenTags.has(o.client_tag)
      ) {
        issues.push({
          kind: "order_missing",
          subject: o.client_tag,
          detail: `engine order ${o.status} with broker id ${o.broker_order_id} is not in the broker's book`,
          engine: o.filled_qty,
          broker: 0,
        })
      }
    }
    // Positions: what the engine's orders (after the fills applied above) and the external orders add up to.
    const refreshed = yield* sql<{ symbol: string; product: string; side: string; filled_qty: number }>`
      SELECT symbol, product, side, filled_qty FROM orders WHERE account_id = ${accountId} AND filled_qty > 0`
    const expected = new Map<string, number>()
    const add = (symbol: string, product: string, qty: number) =>
      expected.set(`${symbol}|${product}`, (expected.get(`${symbol}|${product}`) ?? 0) + qty)
    for (const o of refreshed) add(o.symbol, o.product, signed(o.side, o.filled_qty))
    for (const o of external) add(o.symbol, o.product, signed(o.side, o.filledQty))
    const actual = new Map(positions.map((p) => [`${p.symbol}|${p.product}`, p.netQty]))
    for (const key of new Set([...expected.keys(), ...actual.keys()])) {
      const e = expected.get(key) ?? 0
      const a = actual.get(key) ?? 0
      if (e !== a)
        issues.push({
          kind: "position",
          subject: key,
          detail: `net quantity: engine ${e}, broker ${a}`,
          engine: e,
          broker: a,
        })
    }
    yield* recordIssues(sql, accountId, issues, now)
    return { externalOrders: external.length, issues }
  }).pipe(Effect.annotateLogs({ accountId }))

const adoptExternal = (sql: SqlClient.SqlClient, accountId: string, o: BrokerOrder, now: number) =>
  Effect.gen(function* () {
    const known =
      yield* sql`SELECT 1 FROM external_orders WHERE account_id = ${accountId} AND broker_order_id = ${o.brokerOrderId}`
    if (known.length === 0) {
      yield* Effect.logWarning(
        `adopted external order ${o.brokerOrderId} (${o.side} ${o.qty} ${o.symbol}, ${o.status}): not placed by this engine`,
      )
      yield* Metric.increment(externals)
    }
    yield* sql`INSERT INTO external_orders (account_id, broker_order_id, client_tag, symbol, exchange, side, product, qty, status, filled_qty, avg_price, first_seen_at, last_seen_at)
      VALUES (${accountId}, ${o.brokerOrderId}, ${o.clientTag || null}, ${o.symbol}, ${o.exchange}, ${o.side}, ${o.product}, ${o.qty}, ${o.status}, ${o.filledQty}, ${o.avgPrice}, ${now}, ${now})
      ON CONFLICT (account_id, broker_order_id) DO UPDATE SET status = excluded.status, filled_qty = excluded.filled_qty, avg_price = excluded.avg_price, last_seen_at = excluded.last_seen_at`
  })

const recordIssues = (sql: SqlClient.SqlClient, accountId: string, issues: ReadonlyArray<Issue>, now: number) =>
  sql.withTransaction(
    Effect.gen(function* () {
      for (const i of issues) {
        const open =
          yield* sql`SELECT 1 FROM reconciliation_issues WHERE account_id = ${accountId} AND kind = ${i.kind} AND subject = ${i.subject} AND resolved_at IS NULL`
        if (open.length === 0) {
          yield* Effect.logWarning(`reconciliation: ${i.kind} ${i.subject}: ${i.detail}`)
          yield* Metric.increment(differences)
        }
        yield* sql`INSERT INTO reconciliation_issues (account_id, kind, subject, detail, engine_value, broker_value, first_seen_at, last_seen_at)
          VALUES (${accountId}, ${i.kind}, ${i.subject}, ${i.detail}, ${i.engine}, ${i.broker}, ${now}, ${now})
          ON CONFLICT (account_id, kind, subject) DO UPDATE SET detail = excluded.detail, engine_value = excluded.engine_value,
            broker_value = excluded.broker_value, last_seen_at = excluded.last_seen_at, resolved_at = NULL`
      }
      const current = new Set(issues.map((i) => `${i.kind}|${i.subject}`))
      const open = yield* sql<{
        id: number
        kind: string
        subject: string
      }>`SELECT id, kind, subject FROM reconciliation_issues WHERE account_id = ${accountId} AND resolved_at IS NULL`
      for (const o of open)
        if (!current.has(`${o.kind}|${o.subject}`))
          yield* sql`UPDATE reconciliation_issues SET resolved_at = ${now} WHERE id = ${o.id}`
    }),
  )

/** The reconciler: once at start, then every `reconcileIntervalMs`. */
export const layer = (reconcileIntervalMs = 60_000) =>
  Layer.scoped(
    Reconciler,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const brokers = yield* Brokers
      const watcher = yield* OrderWatcher
      const reconcile = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        let externalOrders = 0
        const openIssues: Array<ReconcileReport["openIssues"][number]> = []
        for (const [accountId, broker] of brokers.all) {
          const r = yield* reconcileAccount(sql, watcher, accountId, broker, now).pipe(
            Effect.catchAll((e) =>
              Effect.as(
                Effect.logWarning(`reconciliation of ${accountId} failed: ${"message" in e ? e.message : String(e)}`),
                { externalOrders: 0, issues: [] },
              ),
            ),
          )
          externalOrders += r.externalOrders
          for (const i of r.issues) openIssues.push({ accountId, kind: i.kind, subject: i.subject, detail: i.detail })
        }
        return { accounts: brokers.all.size, externalOrders, openIssues }
      })
      yield* Effect.forkScoped(
        Effect.repeat(Effect.delay(reconcile, `${reconcileIntervalMs} millis`), { while: () => true }),
      )
      yield* reconcile
      return { reconcile }
    }),
  )

/**
 * Diagnostics of the books (seeds' `/dashboard/diagnostics/*` and `verify_orders.py`): orders by
 * status, failed orders with reasons, pending orders, and the data-quality checks of the order and
 * exit pipeline, each named, with its count and a sample of offending ids.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

/** One data-quality check. */
export interface Check {
  readonly name: string
  readonly ok: boolean
  readonly count: number
  readonly sample: ReadonlyArray<string>
  readonly description: string
}

const checks: ReadonlyArray<{ name: string; description: string; sql: string }> = [
  {
    name: "intentsWithoutSignal",
    description: "every exit intent has its exit signal",
    sql: "SELECT i.intent_id AS id FROM exit_intents i LEFT JOIN exit_signals s ON s.signal_id = i.signal_id WHERE s.signal_id IS NULL",
  },
  {
    name: "liveIntentsPerTrade",
    description: "at most one live exit intent per trade",
    sql: "SELECT trade_id AS id FROM exit_intents WHERE status IN ('PENDING', 'PLACED') OR state = 'APPROVED.live' GROUP BY trade_id HAVING COUNT(*) > 1",
  },
  {
    name: "closedWithoutFilledIntent",
    description: "a trade is CLOSED only from exit fills: a FILLED exit intent, or its exits' orders filling it all",
    sql: "SELECT t.trade_id AS id FROM trades t WHERE t.status = 'CLOSED' AND t.exited_qty < t.qty AND NOT EXISTS (SELECT 1 FROM exit_intents i WHERE i.trade_id = t.trade_id AND i.status = 'FILLED')",
  },
  {
    name: "tradeExitExcess",
    description:
      "exit fills beyond a trade's quantity (recorded on the trade, never in its P&L): the broker holds the other side",
    sql: "SELECT trade_id AS id FROM trades WHERE excess_qty > 0",
  },
  {
    name: "filledIntentTradeOpen",
    description: "a FILLED exit intent's trade is not left OPEN",
    sql: "SELECT i.intent_id AS id FROM exit_intents i JOIN trades t ON t.trade_id = i.trade_id WHERE i.status = 'FILLED' AND t.status = 'OPEN'",
  },
  {
    name: "overfilledOrders",
    description: "filled quantity never exceeds order quantity",
    sql: "SELECT order_id AS id FROM orders WHERE filled_qty > qty",
  },
  {
    name: "executedNotFilled",
    description: "an EXECUTED order is fully filled",
    sql: "SELECT order_id AS id FROM orders WHERE status = 'EXECUTED' AND filled_qty <> qty",
  },
  {
    name: "ordersWithoutBrokerId",
    description: "an order past SENT_TO_BROKER.awaitingAck has a broker order id",
    sql: "SELECT order_id AS id FROM orders WHERE state IN ('SENT_TO_BROKER.working', 'PARTIAL', 'EXECUTED') AND broker_order_id IS NULL",
  },
  {
    name: "failedEffects",
    description: "no declared effect failed for good",
    sql: "SELECT idem_key AS id FROM outbox WHERE status = 'failed'",
  },
  {
    name: "stuckCommands",
    description: "no command left half-run (RECEIVED)",
    sql: "SELECT command_id AS id FROM commands WHERE status = 'RECEIVED'",
  },
  {
    name: "openReconciliationIssues",
    description: "the books agree with the broker's",
    sql: "SELECT account_id || ':' || kind || ':' || subject AS id FROM reconciliation_issues WHERE resolved_at IS NULL",
  },
]

/** The diagnostics queries. */
export class Diagnostics extends Effect.Service<Diagnostics>()("warden/Diagnostics", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return {
      /** Orders by status, the failed ones with their reasons, and the pending ones. */
      orders: Effect.gen(function* () {
        const byStatus = yield* sql<{
          status: string
          n: number
        }>`SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status`
        const failed =
          yield* sql`SELECT order_id, account_id, symbol, side, qty, reason, updated_at FROM orders WHERE status = 'FAILED' ORDER BY updated_at DESC LIMIT 100`
        const pending =
          yield* sql`SELECT order_id, account_id, symbol, side, qty, filled_qty, state, updated_at FROM orders WHERE status IN ('CREATED', 'SENT_TO_BROKER', 'PARTIAL') ORDER BY updated_at LIMIT 100`
        return { counts: Object.fromEntries(byStatus.map((r) => [r.status, r.n])), failed, pending }
      }).pipe(Effect.orDie),
      /** Every data-quality check of the pipeline. */
      checks: Effect.forEach(checks, (c) =>
        Effect.map(
          sql.unsafe<{ id: string }>(c.sql),
          (rows): Check => ({
            name: c.name,
            description: c.description,
            ok: rows.length === 0,
            count: rows.length,
            sample: rows.slice(0, 10).map((r) => String(r.id)),
          }),
        ),
      ).pipe(Effect.orDie),
    }
  }),
}) {}

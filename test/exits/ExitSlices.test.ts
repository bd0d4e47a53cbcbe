/**
 * Exits at or above the freeze quantity on the real engine (SQLite file, runtime, paper broker,
 * watcher): the intent places one order per slice, each below the freeze, and follows them all.
 * NIFTY26MARFUT in the test instruments: lot 65, freeze 1800, so a slice is at most 1755.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ExitIntentContext } from "../../machines/ExitIntentMachine.js"
import { auditOfCopy } from "../../src/audit/AuditServer.js"
import { AuditService } from "../../src/audit/AuditService.js"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { verifyReplay } from "../../src/runtime/Replay.js"
import { tempDir } from "../fixtures/TestEngine.js"
import { contextOf, exitEngine, openTrade, rows, settled, stateOf, tick, untilState } from "./exitHarness.js"

type Row = { order_id: string; qty: number; status: string; filled_qty: number; avg_price: number }
const slicesOf = (intentId: string) =>
  rows<Row>(
    `SELECT order_id, qty, status, filled_qty, avg_price FROM orders WHERE parent_id = '${intentId}' ORDER BY qty DESC, order_id`,
  )
const intentRow = (intentId: string) =>
  Effect.map(
    rows<{ state: string; qty: number; filled_qty: number; reject_code: string | null; order_id: string }>(
      `SELECT state, qty, filled_qty, reject_code, order_id FROM exit_intents WHERE intent_id = '${intentId}'`,
    ),
    (r) => r[0]!,
  )

describe("exits above the freeze quantity", () => {
  it.live("a stop on 3,640 (above 2× the freeze) exits fully through three orders and closes with the P&L of all", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      // A SELL that opens no position at the paper broker blocks margin: enough cash for all three.
      const engine = exitEngine({ dir, account: { capital: 100_000_000 } })
      const { tradeId, intentId } = yield* Effect.scoped(
        Effect.gen(function* () {
          yield* tick("NIFTY26MARFUT", 22000)
          const tradeId = yield* openTrade({ qty: 3640, entryPrice: 22000, stopLoss: 21950 })
          yield* tick("NIFTY26MARFUT", 21940)
          yield* untilState(tradeId, "CLOSED")
          yield* settled
          const intentId = `exi_${tradeId}_STOP_LOSS_0`
          expect(yield* stateOf(intentId)).toBe("FILLED")
          const orders = yield* slicesOf(intentId)
          expect(orders.map((o) => [o.qty, o.status, o.filled_qty])).toEqual([
            [1755, "EXECUTED", 1755],
            [1755, "EXECUTED", 1755],
            [130, "EXECUTED", 130],
          ])
          const intent = yield* intentRow(intentId)
          expect(intent).toMatchObject({ state: "FILLED", qty: 3640, filled_qty: 3640, reject_code: null })
          // The read model keeps the first slice's order.
          const c = (yield* contextOf(intentId)) as unknown as ExitIntentContext
          expect(intent.order_id).toBe(c.slices![0]!.orderId)
          expect(c.slices!.map((s) => s.end)).toEqual(["EXECUTED", "EXECUTED", "EXECUTED"])
          // The broker saw three orders, each below the freeze, none refused.
          const book = yield* (yield* PaperAccounts).accounts.get("U1")!.orderBook
          expect(book.map((o) => [o.qty, o.status]).sort()).toEqual([
            [130, "FILLED"],
            [1755, "FILLED"],
            [1755, "FILLED"],
          ])
          const trade = (yield* rows<{ realized_pnl: number; exit_price: number; state: string }>(
            `SELECT realized_pnl, exit_price, state FROM trades WHERE trade_id = '${tradeId}'`,
          ))[0]!
          // (21940 − 22000) × 3640: every slice's fills.
          expect(trade).toEqual({ realized_pnl: -218_400, exit_price: 21940, state: "CLOSED" })
          expect((yield* contextOf(tradeId)).exitedQty).toBe(3640)
          expect((yield* verifyReplay()).mismatches).toEqual([])
          return { tradeId, intentId }
        }).pipe(Effect.provide(engine.layer)),
      )
      // The audit's causal chain finds every slice from the intent and from the trade.
      yield* Effect.scoped(
        Effect.gen(function* () {
          const audit = yield* AuditService
          const intent = (yield* audit.detail(intentId))!
          const placed = intent.chain.downstream.filter((l) => l.relations.includes("order placed by this intent"))
          expect(placed.length).toBe(3)
          const trade = (yield* audit.detail(tradeId))!
          expect(trade.chain.trade!.exits[0]!.orders.map((o) => o.qty).sort()).toEqual([130, 1755, 1755])
          expect(trade.chain.trade!.exits[0]!.orders.every((o) => o.fills.length > 0)).toBe(true)
        }).pipe(Effect.provide(auditOfCopy(engine.dbFile))),
      )
    }),
  )

  it.live("a slice the broker rejects leaves the intent FAILED and the trade OPEN with the unfilled remainder", () =>
    Effect.gen(function* () {
      yield* tick("NIFTY26MARFUT", 22000)
      // 3,510 in two slices of 1,755. The paper broker blocks 20% margin for a SELL that opens a
      // position: about 7.7 million a slice, so of 10 million the second slice is refused for funds.
      const tradeId = yield* openTrade({ qty: 3510, entryPrice: 22000, stopLoss: 21950 })
      yield* tick("NIFTY26MARFUT", 21940)
      const intentId = `exi_${tradeId}_STOP_LOSS_0`
      yield* untilState(intentId, "FAILED")
      yield* untilState(tradeId, "OPEN")
      yield* settled
      const orders = yield* slicesOf(intentId)
      expect(orders.map((o) => [o.qty, o.status, o.filled_qty]).sort()).toEqual([
        [1755, "EXECUTED", 1755],
        [1755, "FAILED", 0],
      ])
      const book = yield* (yield* PaperAccounts).accounts.get("U1")!.orderBook
      expect(book.find((o) => o.status === "REJECTED")?.reason).toMatch(/insufficient funds/)
      expect(yield* intentRow(intentId)).toMatchObject({
        state: "FAILED",
        filled_qty: 1755,
        reject_code: "ORDER_FAILED",
      })
      // The filled slice is gone from the trade; the rest is still the trade's, OPEN for its next episode.
      const t = yield* contextOf(tradeId)
      expect(t).toMatchObject({ qty: 3510, exitedQty: 1755, episode: 1, realizedPnl: -105_300, exitPrice: 21940 })
      expect((yield* verifyReplay()).mismatches).toEqual([])
    }).pipe(Effect.provide(exitEngine().layer)),
  )
})

/**
 * Late exit fills on the real engine (SQLite file, runtime, paper broker, watcher, trade manager):
 * an exit order's fill that arrives after its intent has ended (FAILED) reaches the trade through
 * the trade manager, once per fill, across a restart that falls between the fill and the trade.
 *
 * The exit orders are LIMITs above the market, so they rest at the paper broker until the intent
 * cancels them; the late fills are then given to the orders as the order watcher gives a broker's
 * fill update (`broker.filled`): the exchange filled the order before the cancel landed, and the
 * update reached the engine after the cancel's.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { TradeContext } from "../../machines/TradeMachine.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { verifyReplay } from "../../src/runtime/Replay.js"
import { tempDir, testEngine } from "../fixtures/TestEngine.js"
import { contextOf, exitEngine, openTrade, rows, settled, stateOf, tick, until, untilState } from "./exitHarness.js"

const symbol = "NIFTY26MARFUT"

/**
 * An exit intent of `tradeId` (or of a position's `members`, `tradeId` first), approved with
 * resting SELL LIMIT orders of these quantities.
 */
const restingExit = (
  tradeId: string,
  intentId: string,
  episodeId: number,
  slices: ReadonlyArray<[string, number]>,
  members?: ReadonlyArray<{ tradeId: string; qty: number }>,
) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const qty = slices.reduce((n, [, q]) => n + q, 0)
    // Its signal publishes it (an intent has its signal); the gates' approval is given here.
    const signal = {
      signalId: `sig_${intentId}`,
      tradeId,
      accountId: "U1",
      symbol,
      exitReason: "STOP_LOSS",
      episodeId,
      detectedPrice: 22000,
      detectedAt: Date.now(),
      cooldownMs: 1_000,
      ...(members ? { members } : {}),
    }
    expect((yield* rt.spawn("exitSignal", signal.signalId, signal, "test")).refused).toBeNull()
    const publish = { type: "signal.publish", intentId, side: "SELL", qty, exchange: "NFO", product: "NRML" }
    expect((yield* rt.send(signal.signalId, publish, "test")).refused).toBeNull()
    expect(yield* stateOf(intentId)).toBe("PENDING")
    const approval = {
      type: "gate.approved",
      slices: slices.map(([orderId, q]) => ({ orderId, clientTag: orderId, qty: q })),
      execute: true,
      orderType: "LIMIT",
      price: 22500,
    }
    expect((yield* rt.send(intentId, approval, "test")).refused).toBeNull()
    for (const [orderId] of slices) yield* untilState(orderId, "SENT_TO_BROKER.working")
    yield* untilState(intentId, "PLACED")
  })

/** Two LONG trades of 65 on one position (no levels: nothing but the test exits them), as members. */
const twoOnOnePosition = Effect.gen(function* () {
  yield* tick(symbol, 22000)
  const open = { qty: 65, entryPrice: 22000, product: "NRML" as const, stopLoss: null, target: null }
  const a = yield* openTrade(open)
  const b = yield* openTrade(open)
  return { a, b, members: [a, b].map((tradeId) => ({ tradeId, qty: 65 })) }
})

/** A fill update for an engine order, as the order watcher sends it. */
const brokerFill = (orderId: string, fillId: string, qty: number, price: number) =>
  Effect.flatMap(ActorRuntime, (rt) =>
    rt.send(orderId, { type: "broker.filled", fillId, qty, price }, `broker:stream:${orderId}`),
  )

const trade = (tradeId: string) => Effect.map(contextOf(tradeId), (c) => c as unknown as TradeContext)

const tradeJournal = (tradeId: string) =>
  rows<{ event_type: string; refused: string | null; cause: string | null }>(
    `SELECT event_type, refused, cause FROM journal WHERE actor_id = '${tradeId}' AND event_type = 'exit.lateFill' ORDER BY seq`,
  )

describe("late exit fills", () => {
  it.live(
    "a fill after the intent FAILED is added to the trade (P&L at its price), cancels the working exit of the next episode, and the last one closes the trade after a restart",
    () =>
      Effect.gen(function* () {
        const dir = tempDir()
        const tradeId = yield* Effect.scoped(
          Effect.gen(function* () {
            yield* tick(symbol, 22000)
            // No stop, target or trailing: nothing but these tests exits it.
            const tradeId = yield* openTrade({
              qty: 130,
              entryPrice: 22000,
              product: "NRML",
              stopLoss: null,
              target: null,
            })
            // Episode 0: two slices resting at the broker; the intent is cancelled and ends FAILED.
            yield* restingExit(tradeId, "exi_late_0", 0, [
              ["ord_late_a", 65],
              ["ord_late_b", 65],
            ])
            expect(yield* stateOf(tradeId)).toBe("EXITING")
            const rt = yield* ActorRuntime
            yield* rt.send("exi_late_0", { type: "cmd.cancel" }, "test")
            yield* untilState("exi_late_0", "FAILED")
            yield* untilState(tradeId, "OPEN")
            expect(yield* stateOf("ord_late_a")).toBe("CANCELLED")
            expect(yield* trade(tradeId)).toMatchObject({ episode: 1, exitedQty: 0, realizedPnl: null })

            // Episode 1: a new exit for the 130 the trade still holds is working.
            yield* restingExit(tradeId, "exi_late_1", 1, [["ord_late_c", 130]])
            expect(yield* stateOf(tradeId)).toBe("EXITING")

            // The exchange had filled slice a before its cancel: the update arrives now.
            expect((yield* brokerFill("ord_late_a", "late-a-1", 65, 22010)).refused).toBeNull()
            expect(yield* stateOf("ord_late_a")).toBe("EXECUTED")
            // The trade holds 65 now; episode 1's exit of 130 would go through zero: it is cancelled.
            yield* untilState("exi_late_1", "FAILED")
            yield* untilState(tradeId, "OPEN")
            yield* settled
            expect(yield* stateOf("ord_late_c")).toBe("CANCELLED")
            const t = yield* trade(tradeId)
            // (22010 − 22000) × 65
            expect(t).toMatchObject({ episode: 2, exitedQty: 65, realizedPnl: 650, exitPrice: 22010 })
            expect(t.lateFills).toMatchObject([{ intentId: "exi_late_0", orderId: "ord_late_a", fillId: "late-a-1" }])
            expect(t.excessQty).toBeUndefined()
            // The same update again changes nothing (the order refuses it; the trade never hears it).
            expect((yield* brokerFill("ord_late_a", "late-a-1", 65, 22010)).refused).not.toBeNull()
            yield* settled
            expect((yield* trade(tradeId)).exitedQty).toBe(65)
            return tradeId
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )

        // The engine without its trade manager, as when it stops right after the fill's commit:
        // slice b's late fill is on its order (and refused by the ended intent), not yet on the trade.
        yield* Effect.scoped(
          Effect.gen(function* () {
            expect((yield* brokerFill("ord_late_b", "late-b-1", 65, 22020)).refused).toBeNull()
            const rt = yield* ActorRuntime
            yield* rt.awaitIdle
            expect(yield* stateOf("ord_late_b")).toBe("EXECUTED")
            expect((yield* trade(tradeId)).exitedQty).toBe(65)
            const refusals = yield* rows<{ n: number }>(
              `SELECT COUNT(*) AS n FROM journal WHERE actor_id = 'exi_late_0' AND event_type = 'order.filled' AND refused IS NOT NULL`,
            )
            expect(refusals[0]!.n).toBe(2)
          }).pipe(Effect.provide(testEngine({ dir }).layer)),
        )

        // Restarted: the trade manager finds the fill the trade has not heard of, and only that one.
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* untilState(tradeId, "CLOSED")
            yield* settled
            const t = yield* trade(tradeId)
            // 650 + (22020 − 22000) × 65; closed with the ended intent's reason.
            expect(t).toMatchObject({
              exitedQty: 130,
              realizedPnl: 1950,
              exitPrice: 22015,
              exitReason: "STOP_LOSS",
              exitIntentId: "exi_late_0",
            })
            expect(t.lateFills?.map((f) => f.fillId)).toEqual(["late-a-1", "late-b-1"])
            const row = (yield* rows<{ state: string; realized_pnl: number; exit_reason: string }>(
              `SELECT state, realized_pnl, exit_reason FROM trades WHERE trade_id = '${tradeId}'`,
            ))[0]
            expect(row).toEqual({ state: "CLOSED", realized_pnl: 1950, exit_reason: "STOP_LOSS" })
            // Each late fill told once, each caused by the intent's refusal of its notice.
            const told = yield* tradeJournal(tradeId)
            expect(told.map((r) => r.refused)).toEqual([null, null])
            expect(told.every((r) => r.cause?.startsWith("exi_late_0#"))).toBe(true)
            expect((yield* verifyReplay()).mismatches).toEqual([])
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )

        // Once more: nothing left to tell.
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* settled
            yield* until(
              "the trade is still CLOSED",
              Effect.map(stateOf(tradeId), (s) => s === "CLOSED"),
            )
            expect((yield* tradeJournal(tradeId)).length).toBe(2)
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
      }),
  )
  it.live(
    "a position's exit: what filled before the failure goes to the oldest trade, a late fill goes on from there to the next",
    () =>
      Effect.gen(function* () {
        const { a, b, members } = yield* twoOnOnePosition
        yield* restingExit(
          a,
          "exi_pos_0",
          0,
          [
            ["ord_pos_a", 65],
            ["ord_pos_b", 65],
          ],
          members,
        )
        expect([yield* stateOf(a), yield* stateOf(b)]).toEqual(["EXITING", "EXITING"])
        // 40 of slice a fill (the intent counts them), then the exit is cancelled: FAILED with 40.
        yield* brokerFill("ord_pos_a", "a-1", 40, 22010)
        const rt = yield* ActorRuntime
        yield* rt.send("exi_pos_0", { type: "cmd.cancel" }, "test")
        yield* untilState("exi_pos_0", "FAILED")
        yield* untilState(a, "OPEN")
        yield* untilState(b, "OPEN")
        expect((yield* trade(a)).exitedQty).toBe(40)
        expect((yield* trade(b)).exitedQty).toBe(0)
        // Slice b had filled whole before its cancel landed: 25 finish a, the other 40 are b's.
        yield* brokerFill("ord_pos_b", "b-1", 65, 22020)
        yield* untilState(a, "CLOSED")
        yield* until(
          "b has its share",
          Effect.map(trade(b), (t) => t.exitedQty === 40),
        )
        yield* settled
        // (22010 − 22000) × 40 + (22020 − 22000) × 25; b: (22020 − 22000) × 40.
        expect(yield* trade(a)).toMatchObject({ exitedQty: 65, realizedPnl: 900 })
        expect(yield* trade(b)).toMatchObject({ exitedQty: 40, realizedPnl: 800 })
        expect(yield* stateOf(b)).toBe("OPEN")
        expect((yield* verifyReplay()).mismatches).toEqual([])
      }).pipe(Effect.provide(exitEngine().layer)),
  )
  it.live(
    "a position's exit: a late fill committed while the trade manager was not running reaches the member at the next start, its first trade CLOSED",
    () =>
      Effect.gen(function* () {
        const dir = tempDir()
        const [a, b] = yield* Effect.scoped(
          Effect.gen(function* () {
            const { a, b, members } = yield* twoOnOnePosition
            yield* restingExit(a, "exi_posr_0", 0, [["ord_posr_a", 130]], members)
            yield* brokerFill("ord_posr_a", "a-1", 70, 22010)
            yield* (yield* ActorRuntime).send("exi_posr_0", { type: "cmd.cancel" }, "test")
            yield* untilState("exi_posr_0", "FAILED")
            // Oldest first: a took 65 and is CLOSED; b took 5 and is OPEN.
            yield* untilState(a, "CLOSED")
            yield* untilState(b, "OPEN")
            return [a, b] as const
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
        // The order filled 50 more before its cancel landed; the engine that hears of it has no
        // trade manager, as when it stops right after the fill's commit.
        yield* Effect.scoped(
          Effect.gen(function* () {
            expect((yield* brokerFill("ord_posr_a", "a-2", 50, 22020)).refused).toBeNull()
            yield* (yield* ActorRuntime).awaitIdle
            expect((yield* trade(b)).exitedQty).toBe(5)
          }).pipe(Effect.provide(testEngine({ dir }).layer)),
        )
        // Restarted: found through b (its first trade is CLOSED), all 50 are b's.
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* until(
              "b has its share",
              Effect.map(trade(b), (t) => t.exitedQty === 55),
            )
            expect((yield* trade(a)).exitedQty).toBe(65)
            expect(yield* stateOf(b)).toBe("OPEN")
            expect((yield* verifyReplay()).mismatches).toEqual([])
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
      }),
  )
  it.live(
    "what the next episode's exit filled beyond the trade after a late fill is an anomaly (excess_qty), and a late fill for a CLOSED trade is refused on its journal",
    () =>
      Effect.gen(function* () {
        yield* tick(symbol, 22000)
        const tradeId = yield* openTrade({ qty: 130, entryPrice: 22000, product: "NRML", stopLoss: null, target: null })
        yield* restingExit(tradeId, "exi_x_0", 0, [
          ["ord_x_a", 65],
          ["ord_x_b", 65],
        ])
        const rt = yield* ActorRuntime
        yield* rt.send("exi_x_0", { type: "cmd.cancel" }, "test")
        yield* untilState(tradeId, "OPEN")
        yield* restingExit(tradeId, "exi_x_1", 1, [["ord_x_c", 130]])
        // The next episode's order fills in part (its intent counts it), then slice a's late fill arrives.
        yield* brokerFill("ord_x_c", "c-1", 100, 21990)
        yield* brokerFill("ord_x_a", "late-a-1", 65, 21995)
        // The trade cancels exi_x_1; it ends FAILED with its 100, of which the trade held only 65.
        yield* untilState("exi_x_1", "FAILED")
        yield* untilState(tradeId, "CLOSED")
        yield* settled
        const t = yield* trade(tradeId)
        // (21995 − 22000) × 65 + (21990 − 22000) × 65; the other 35 are not the trade's.
        expect(t).toMatchObject({ exitedQty: 130, realizedPnl: -975, excessQty: 35, exitIntentId: "exi_x_1" })
        expect(t.exitExcess).toMatchObject([{ source: "exit.failed", intentId: "exi_x_1", qty: 35, price: 21990 }])
        const row = yield* rows<{ exited_qty: number; excess_qty: number; state: string }>(
          `SELECT exited_qty, excess_qty, state FROM trades WHERE trade_id = '${tradeId}'`,
        )
        expect(row).toEqual([{ exited_qty: 130, excess_qty: 35, state: "CLOSED" }])
        // Slice b's late fill finds the trade CLOSED: all of it went beyond the trade. The trade
        // refuses it, and its journal keeps the refusal (with the fill) for the auditor.
        yield* brokerFill("ord_x_b", "late-b-1", 65, 21980)
        yield* until(
          "the trade has refused the late fill",
          Effect.map(tradeJournal(tradeId), (r) => r.length === 2),
        )
        expect((yield* tradeJournal(tradeId)).map((r) => r.refused)).toEqual([null, "actor is in final state CLOSED"])
        expect((yield* trade(tradeId)).exitedQty).toBe(130)
        expect((yield* verifyReplay()).mismatches).toEqual([])
      }).pipe(Effect.provide(exitEngine().layer)),
  )
})

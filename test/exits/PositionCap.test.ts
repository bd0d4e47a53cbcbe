/**
 * The NOT_IN_POSITION gate on the real engine: exits are capped by the broker's net position, less
 * what exit orders working on it have still to fill, so no set of exits can take a position
 * through zero, and a fill the order watcher has not heard of yet is not counted twice.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { enterTrade, exitEngine, openTrade, rows, settled, stateOf, tick, untilState } from "./exitHarness.js"

const capped = () => exitEngine({ exits: { capByNetPosition: true } })
const paper = Effect.map(PaperAccounts, (p) => p.accounts.get("U1")!)
const net = Effect.map(
  Effect.flatMap(paper, (b) => b.positions),
  (ps) => ps.find((p) => p.symbol === "NIFTY26MARFUT" && p.product === "NRML")?.netQty ?? 0,
)
const intents = rows<{ trade_id: string; state: string; reject_code: string | null }>(
  "SELECT trade_id, state, reject_code FROM exit_intents ORDER BY trade_id",
)

describe("exits capped by the broker's net position", () => {
  it.live(
    "three trades fire on one tick with the broker holding two: two exit, the third is refused, net ends at 0",
    () =>
      Effect.gen(function* () {
        yield* tick("NIFTY26MARFUT", 22000)
        const a = yield* enterTrade({ stopLoss: 21950 })
        const b = yield* enterTrade({ stopLoss: 21950 })
        // A trade the broker's book does not hold (opened elsewhere, or a book out of step).
        const c = yield* openTrade({ product: "NRML", stopLoss: 21950 })
        expect(yield* net).toBe(130)
        yield* tick("NIFTY26MARFUT", 21940)
        yield* settled
        const byTrade = Object.fromEntries((yield* intents).map((i) => [i.trade_id, i]))
        const approved = [a, b, c].filter((t) => byTrade[t]?.state === "FILLED")
        const refused = [a, b, c].filter((t) => byTrade[t]?.state === "REJECTED")
        expect(approved.length).toBe(2)
        expect(refused.length).toBe(1)
        expect(byTrade[refused[0]!]!.reject_code).toBe("NOT_IN_POSITION")
        expect(yield* net).toBe(0)
      }).pipe(Effect.provide(capped().layer)),
  )

  it.live(
    "with the broker down, the engine's own trades stand in for its book: a LONG and a SHORT that net to flat are refused, a lone LONG exits once the broker is back",
    () =>
      Effect.gen(function* () {
        yield* tick("NIFTY26MARFUT", 22000)
        const long = yield* enterTrade({ stopLoss: 21950 })
        const short = yield* enterTrade({ side: "SELL", stopLoss: 22100 })
        expect(yield* net).toBe(0)
        const b = yield* paper
        yield* b.setDown(true)
        // The short's stop fires while the book cannot be read: flat by the engine's trades too.
        yield* tick("NIFTY26MARFUT", 22110)
        yield* untilState(`exi_${short}_STOP_LOSS_0`, "REJECTED")
        expect((yield* intents).find((i) => i.trade_id === short)?.reject_code).toBe("NOT_IN_POSITION")
        // A lone LONG (on another symbol) whose stop fires while the broker is down: its own trade
        // holds it, so it is approved, and its exit goes out once the broker is back.
        yield* b.setDown(false)
        yield* tick("BANKNIFTY26MARFUT", 48000)
        const alone = yield* enterTrade({ symbol: "BANKNIFTY26MARFUT", qty: 30, stopLoss: 47900 })
        yield* b.setDown(true)
        yield* tick("BANKNIFTY26MARFUT", 47890)
        yield* untilState(`exi_${alone}_STOP_LOSS_0`, "APPROVED.live")
        yield* b.setDown(false)
        yield* untilState(alone, "CLOSED")
        expect(yield* stateOf(long)).toBe("OPEN")
        expect(yield* net).toBe(0)
      }).pipe(Effect.provide(capped().layer)),
  )

  it.live("a fill the watcher has not heard of yet is in the net quantity once, not also as a working exit", () =>
    Effect.gen(function* () {
      yield* tick("NIFTY26MARFUT", 22000)
      const a = yield* enterTrade({ stopLoss: 21950 })
      const b = yield* enterTrade({ stopLoss: 21900 })
      // The update stream goes quiet: the broker fills A's exit, the engine's order stays working.
      yield* Effect.flatMap(paper, (p) => p.setConnected(false))
      yield* tick("NIFTY26MARFUT", 21940)
      yield* untilState(`exi_${a}_STOP_LOSS_0`, "PLACED")
      yield* settled
      expect(yield* net).toBe(65)
      const [order] = yield* rows<{ status: string; filled_qty: number }>(
        `SELECT o.status, o.filled_qty FROM orders o JOIN exit_intents i ON i.order_id = o.order_id
         WHERE i.trade_id = '${a}'`,
      )
      expect(order).toEqual({ status: "SENT_TO_BROKER", filled_qty: 0 })
      // B's stop: the broker holds 65 and A's exit has nothing left to fill, so B may exit 65.
      yield* tick("NIFTY26MARFUT", 21890)
      yield* untilState(`exi_${b}_STOP_LOSS_0`, "PLACED")
      expect(yield* net).toBe(0)
    }).pipe(Effect.provide(capped().layer)),
  )
})

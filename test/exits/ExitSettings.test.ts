/**
 * The operator's switches on the real engine: dark mode, execution per symbol and per account,
 * exit halts; and that they survive a restart.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ExitService } from "../../src/exits/ExitService.js"
import { ExitSettings } from "../../src/exits/ExitSettings.js"
import { tempDir } from "../fixtures/TestEngine.js"
import {
  contextOf,
  enterTrade,
  exitEngine,
  openTrade,
  rows,
  settled,
  stateOf,
  tick,
  untilArmed,
  untilIndexed,
  untilState,
} from "./exitHarness.js"

type Intent = { trade_id: string; state: string; reject_code: string | null; episode_id: number }
const intents = rows<Intent>(
  "SELECT trade_id, state, reject_code, episode_id FROM exit_intents ORDER BY created_at, episode_id",
)
const exitOrders = rows<{ order_id: string }>("SELECT order_id FROM orders WHERE purpose = 'EXIT'")

describe("dark mode", () => {
  it.live(
    "writes the signal and an APPROVED.dark intent, executes nothing, survives a restart, and exits once turned off",
    () =>
      Effect.gen(function* () {
        const dir = tempDir()
        const id = yield* Effect.scoped(
          Effect.gen(function* () {
            yield* (yield* ExitSettings).setDarkMode(true)
            yield* tick("NIFTY26MARFUT", 22000)
            const id = yield* enterTrade({ stopLoss: 21950 })
            yield* tick("NIFTY26MARFUT", 21940)
            yield* untilState(`exi_${id}_STOP_LOSS_0`, "APPROVED.dark")
            yield* settled
            return id
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
        yield* Effect.scoped(
          Effect.gen(function* () {
            const settings = yield* ExitSettings
            expect(settings.darkMode()).toBe(true)
            yield* untilIndexed(id)
            yield* tick("NIFTY26MARFUT", 21930)
            yield* settled
            // Recorded once while dark: no new signal for the same condition.
            expect((yield* intents).map((i) => i.state)).toEqual(["APPROVED.dark"])
            expect(yield* exitOrders).toEqual([])
            expect(yield* stateOf(id)).toBe("OPEN")
            yield* settings.setDarkMode(false)
            yield* tick("NIFTY26MARFUT", 21920)
            yield* untilState(id, "CLOSED")
            expect((yield* intents).map((i) => [i.state, i.episode_id])).toEqual([
              ["APPROVED.dark", 0],
              ["FILLED", 1],
            ])
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
      }),
  )
})

describe("dark mode and a position's exit", () => {
  it.live("an exit-all over a position of two trades records one dark intent, once, and places nothing", () =>
    Effect.gen(function* () {
      yield* (yield* ExitSettings).setDarkMode(true)
      yield* tick("NIFTY26MARFUT", 22000)
      const a = yield* enterTrade({ product: "MIS" })
      const b = yield* enterTrade({ product: "MIS" })
      const service = yield* ExitService
      const first = yield* service.exitAll("MANUAL", "test")
      expect(first.placed).toEqual([])
      expect(first.skipped.map((k) => [k.tradeId, k.reason.split(":")[0]])).toEqual([
        [a, "DARK"],
        [b, "DARK"],
      ])
      const again = yield* service.exitAll("MANUAL", "test")
      expect(again.skipped.map((k) => k.reason.split(":")[0])).toEqual(["RECORDED_DARK", "RECORDED_DARK"])
      expect((yield* intents).map((i) => [i.trade_id, i.state])).toEqual([[a, "APPROVED.dark"]])
      expect(yield* exitOrders).toEqual([])
      expect([yield* stateOf(a), yield* stateOf(b)]).toEqual(["OPEN", "OPEN"])
    }).pipe(Effect.provide(exitEngine().layer)),
  )
})

describe("execution flags", () => {
  it.live(
    "a symbol with execution disabled gets dark approvals while other symbols execute, and the flag survives a restart",
    () =>
      Effect.gen(function* () {
        const dir = tempDir()
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* (yield* ExitSettings).setExecution("symbol", "BANKNIFTY26MARFUT", false)
            yield* tick("NIFTY26MARFUT", 22000)
            yield* tick("BANKNIFTY26MARFUT", 48000)
            const nifty = yield* enterTrade({ stopLoss: 21950 })
            const bank = yield* openTrade({ symbol: "BANKNIFTY26MARFUT", qty: 30, entryPrice: 48000, stopLoss: 47900 })
            yield* tick("NIFTY26MARFUT", 21940)
            yield* tick("BANKNIFTY26MARFUT", 47880)
            yield* untilState(nifty, "CLOSED")
            yield* untilState(`exi_${bank}_STOP_LOSS_0`, "APPROVED.dark")
            expect(yield* stateOf(bank)).toBe("OPEN")
          }).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
        const view = yield* Effect.scoped(
          Effect.map(ExitSettings, (s) => s.view()).pipe(Effect.provide(exitEngine({ dir }).layer)),
        )
        expect(view.symbols).toEqual({ BANKNIFTY26MARFUT: false })
        expect(view.darkMode).toBe(false)
      }),
  )

  it.live("with the account default off, only an enabled account executes", () =>
    Effect.gen(function* () {
      const settings = yield* ExitSettings
      yield* settings.setExecutionDefault("account", false)
      yield* tick("NIFTY26MARFUT", 22000)
      const a = yield* enterTrade({ stopLoss: 21950 })
      yield* tick("NIFTY26MARFUT", 21940)
      yield* untilState(`exi_${a}_STOP_LOSS_0`, "APPROVED.dark")
      yield* settings.setExecution("account", "U1", true)
      yield* tick("NIFTY26MARFUT", 21930)
      yield* untilState(a, "CLOSED")
    }).pipe(Effect.provide(exitEngine().layer)),
  )
})

describe("exit halts", () => {
  it.live(
    "an account halted for exits has its intent rejected ACCOUNT_HALTED; after the cooldown and a resume it exits",
    () =>
      Effect.gen(function* () {
        const settings = yield* ExitSettings
        yield* settings.haltExits("U1", "operator")
        yield* tick("NIFTY26MARFUT", 22000)
        const id = yield* enterTrade({ stopLoss: 21950 })
        yield* tick("NIFTY26MARFUT", 21940)
        yield* untilState(`exi_${id}_STOP_LOSS_0`, "REJECTED")
        expect((yield* intents).map((i) => i.reject_code)).toEqual(["ACCOUNT_HALTED"])
        expect(yield* stateOf(id)).toBe("OPEN")
        yield* settings.resumeExits("U1")
        yield* untilState(`sig_${id}_STOP_LOSS_0`, "PUBLISHED.rearmed")
        yield* untilArmed(id)
        yield* tick("NIFTY26MARFUT", 21930)
        yield* untilState(id, "CLOSED")
        expect((yield* intents).map((i) => [i.state, i.episode_id])).toEqual([
          ["REJECTED", 0],
          ["FILLED", 1],
        ])
        expect((yield* contextOf(id)).episode).toBe(0)
      }).pipe(Effect.provide(exitEngine({ exits: { cooldownMs: 300 } }).layer)),
  )
})

/**
 * The risk manager as the entry path's gate, on the real engine (SQLite, paper broker): what it
 * allows is placed, what it refuses leaves a FAILED order with the reason and a `risk_blocks` row,
 * and the account's standing and forced-unwind flag come from the Account actor.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { OrderEntry } from "../../src/orders/OrderEntry.js"
import { ForcedUnwind } from "../../src/risk/ForcedUnwind.js"
import { RiskManager } from "../../src/risk/RiskManager.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { testRiskEngine } from "../fixtures/TestEngine.js"
import { tick, until } from "../exits/exitHarness.js"
import {
  accountState,
  command,
  netQty,
  query,
  riskAccount,
  riskInstruments,
  scriptedBrokers,
  submit,
} from "./riskHarness.js"

const engine = (options: Parameters<typeof testRiskEngine>[0] = {}) =>
  testRiskEngine({ accounts: [riskAccount()], instruments: riskInstruments, enforcer: false, ...options })

const market = Effect.gen(function* () {
  yield* tick("NIFTY26MARFUT", 22_000)
  yield* tick("RELIANCE-EQ", 2_800)
})

describe("risk manager as the entry gate", () => {
  it.live("an entry within the limits is placed and fills; one past a limit is refused with its reason, recorded", () =>
    Effect.gen(function* () {
      yield* market
      const ok = yield* submit()
      expect(ok.status).toBe("ACCEPTED")
      yield* until(
        "the entry fills",
        Effect.map(netQty(), (q) => q.NIFTY26MARFUT === 65),
      )
      const refused = yield* submit({ qty: 130 })
      expect(refused.status).toBe("REFUSED")
      expect(refused.reason).toMatch(/^MAX_QTY: /)
      const [order] = yield* query<{ status: string; reason: string }>(
        `SELECT status, reason FROM orders WHERE order_id = '${refused.orderId}'`,
      )
      expect(order).toEqual({ status: "FAILED", reason: refused.reason })
      const blocks = yield* Effect.flatMap(RiskManager, (r) => r.blocks({ accountId: "U1" }))
      expect(blocks.map((b) => [b.command_id, b.code, b.qty])).toEqual([[refused.commandId, "MAX_QTY", 130]])
      expect(yield* netQty()).toEqual({ NIFTY26MARFUT: 65 })
    }).pipe(Effect.provide(engine({ risk: { maxQtyPerPosition: 150 } }).layer)),
  )

  it.live("a replayed command id places nothing: the first outcome comes back, one order at the broker", () =>
    Effect.gen(function* () {
      yield* market
      const c = command()
      const entry = yield* OrderEntry
      const first = yield* entry.submit(c)
      const again = yield* entry.submit(c)
      expect(again).toEqual({ ...first, duplicate: true })
      yield* until(
        "the entry fills",
        Effect.map(netQty(), (q) => q.NIFTY26MARFUT === 65),
      )
      expect(yield* entry.submit(c)).toEqual({ ...first, duplicate: true })
      yield* Effect.flatMap(ActorRuntime, (rt) => rt.awaitIdle)
      const paper = yield* PaperAccounts
      const book = yield* Effect.orDie(paper.accounts.get("U1")!.orderBook)
      expect(book.map((o) => o.clientTag)).toEqual([first.orderId])
      expect(yield* netQty()).toEqual({ NIFTY26MARFUT: 65 })
    }).pipe(Effect.provide(engine().layer)),
  )

  it.live("HALTED by hand refuses entries while exits of the open position pass, until resumed", () =>
    Effect.gen(function* () {
      yield* market
      yield* submit({ symbol: "RELIANCE-EQ", qty: 10 })
      yield* until(
        "the entry fills",
        Effect.map(netQty(), (q) => q["RELIANCE-EQ"] === 10),
      )
      const risk = yield* RiskManager
      yield* risk.halt("U1", "operator stop")
      expect(yield* accountState()).toBe("HALTED")
      expect((yield* submit()).reason).toBe("HALTED: entries refused while the account is halted (operator stop)")
      const exit = yield* submit({ executionType: "EXIT", symbol: "RELIANCE-EQ", side: "SELL", qty: 4 })
      expect(exit.status).toBe("ACCEPTED")
      const overExit = yield* submit({ executionType: "EXIT", symbol: "RELIANCE-EQ", side: "SELL", qty: 7 })
      expect(overExit.reason).toMatch(/^EXIT_QTY: /)
      yield* until(
        "the exit fills",
        Effect.map(netQty(), (q) => q["RELIANCE-EQ"] === 6),
      )
      yield* risk.resume("U1")
      expect((yield* submit()).status).toBe("ACCEPTED")
    }).pipe(Effect.provide(engine().layer)),
  )

  it.live("REDUCING lets through only an order that reduces the position", () =>
    Effect.gen(function* () {
      yield* market
      yield* submit({ qty: 130 })
      yield* until(
        "the entry fills",
        Effect.map(netQty(), (q) => q.NIFTY26MARFUT === 130),
      )
      yield* Effect.flatMap(RiskManager, (r) => r.reduce("U1", "operator: bring exposure down"))
      expect((yield* submit({ symbol: "RELIANCE-EQ", qty: 1 })).reason).toMatch(/^REDUCING: /)
      expect((yield* submit({ side: "SELL", qty: 65 })).status).toBe("ACCEPTED")
      yield* until(
        "the reduction fills",
        Effect.map(netQty(), (q) => q.NIFTY26MARFUT === 65),
      )
    }).pipe(Effect.provide(engine().layer)),
  )

  it.live("forced unwind refuses entries until turned off; the flag is the Account actor's", () =>
    Effect.gen(function* () {
      yield* market
      const unwind = yield* ForcedUnwind
      const on = yield* unwind.set("U1", true, "operator")
      expect(on).toMatchObject({ accountId: "U1", on: true, reason: "operator" })
      expect((yield* submit()).reason).toMatch(/^FORCED_UNWIND: /)
      const [row] = yield* query<{ forced_unwind: number }>(
        "SELECT forced_unwind FROM accounts WHERE account_id = 'U1'",
      )
      expect(row).toEqual({ forced_unwind: 1 })
      expect((yield* unwind.set("U1", false)).on).toBe(false)
      expect((yield* submit()).status).toBe("ACCEPTED")
      expect(yield* Effect.flip(unwind.get("NOPE"))).toMatchObject({ _tag: "UnknownAccount", accountId: "NOPE" })
    }).pipe(Effect.provide(engine().layer)),
  )

  it.live("an entry against the opposite side working on the symbol is refused by the execution guard", () =>
    Effect.gen(function* () {
      yield* market
      const resting = yield* submit({ orderType: "LIMIT", price: 21_900 })
      expect(resting.status).toBe("ACCEPTED")
      const against = yield* submit({ side: "SELL" })
      expect(against.reason).toBe("OPPOSITE_WORKING: BUY 65 already working on NIFTY26MARFUT MIS")
      expect((yield* submit({ product: "NRML", side: "SELL" })).status).toBe("ACCEPTED")
    }).pipe(Effect.provide(engine().layer)),
  )

  it.live(
    "with the broker not answering, entries are refused (no funds) and exits are judged on the engine's fills",
    () =>
      Effect.gen(function* () {
        yield* market
        yield* submit({ symbol: "RELIANCE-EQ", qty: 10 })
        yield* until(
          "the entry fills",
          Effect.map(netQty(), (q) => q["RELIANCE-EQ"] === 10),
        )
        down.value = true
        expect((yield* submit()).reason).toBe("FUNDS_UNAVAILABLE: the broker's funds could not be read")
        expect((yield* submit({ executionType: "EXIT", symbol: "RELIANCE-EQ", side: "SELL", qty: 10 })).status).toBe(
          "ACCEPTED",
        )
        expect((yield* submit({ executionType: "EXIT", symbol: "TCS-EQ", side: "SELL", qty: 1 })).reason).toMatch(
          /^NO_POSITION: /,
        )
      }).pipe(Effect.provide(engine({ brokers: scriptedBrokers(() => (down.value ? "fail" : "ok")) }).layer)),
  )
})

const down = { value: false }

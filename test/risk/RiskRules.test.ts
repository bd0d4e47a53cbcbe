/**
 * The risk manager's decisions and the execution guard, pure: one account's facts and limits in,
 * allow or a block out.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { BrokerPosition } from "../../src/broker/Broker.js"
import type { UniversalOrderCommand } from "../../src/domain/Commands.js"
import { dayPnl } from "../../src/risk/DayPnl.js"
import { capExits } from "../../src/risk/ExitEnforcer.js"
import { dayStartOf, defaultRiskOptions, limitsFor, type RiskLimits } from "../../src/risk/RiskConfig.js"
import {
  type AccountFacts,
  activeStanding,
  keyOf,
  type PositionRow,
  type Standing,
  type WorkingOrder,
} from "../../src/risk/RiskFacts.js"
import { decide } from "../../src/risk/RiskRules.js"

const limits: RiskLimits = {
  ...defaultRiskOptions,
  maxDailyLoss: 10_000,
  maxOpenPositions: 2,
  maxQtyPerPosition: 200,
  maxNotionalPerPosition: 5_000_000,
  capitalReserve: 0.1,
}

const command = (over: Partial<UniversalOrderCommand> = {}): UniversalOrderCommand => ({
  commandId: "c1",
  executionType: "ENTRY",
  source: "api",
  accountId: "U1",
  symbol: "NIFTY26MARFUT",
  exchange: "NFO",
  side: "BUY",
  qty: 65,
  product: "MIS",
  orderType: "MARKET",
  price: null,
  triggerPrice: null,
  stopLoss: null,
  target: null,
  trailing: null,
  ...over,
})

const position = (
  symbol: string,
  netQty: number,
  ltp = 22_000,
  product: "MIS" | "NRML" | "CNC" = "MIS",
): PositionRow => ({
  symbol,
  exchange: symbol.endsWith("-EQ") ? "NSE" : "NFO",
  product,
  netQty,
  ltp,
})

const working = (side: "BUY" | "SELL", qty: number, over: Partial<WorkingOrder> = {}): WorkingOrder => ({
  orderId: `w-${side}-${qty}`,
  symbol: "NIFTY26MARFUT",
  exchange: "NFO",
  product: "MIS",
  side,
  remainingQty: qty,
  purpose: "ENTRY",
  ...over,
})

const facts = (over: Partial<AccountFacts> = {}): AccountFacts => ({
  standing: activeStanding,
  positions: [],
  positionsFrom: "broker",
  funds: { available: 1_000_000, usedMargin: 0, total: 1_000_000 },
  working: [],
  pnl: { realized: 0, unrealized: 0, total: 0 },
  ltp: 22_000,
  ...over,
})

const codeOf = (c: UniversalOrderCommand, f: AccountFacts, l: RiskLimits = limits) => decide(c, f, l)?.code ?? "ALLOW"

const halted: Standing = {
  state: "HALTED",
  reason: "DAILY_LOSS: day P&L -12000",
  forcedUnwind: false,
  unwindReason: null,
}
const reducing: Standing = {
  state: "REDUCING",
  reason: "POSITION_CAP: 3 open",
  forcedUnwind: false,
  unwindReason: null,
}
const unwinding: Standing = { ...activeStanding, forcedUnwind: true, unwindReason: "operator" }
const long65 = [position("NIFTY26MARFUT", 65)]
const exitCommand = command({ executionType: "EXIT", side: "SELL" })

describe("entry checks", () => {
  it("an entry within every limit is allowed", () => {
    expect(codeOf(command(), facts())).toBe("ALLOW")
  })

  it("forced unwind and HALTED refuse every entry (the guard's exit-all mode), while the exit passes", () => {
    expect(codeOf(command(), facts({ standing: unwinding, positions: long65 }))).toBe("FORCED_UNWIND")
    expect(codeOf(command(), facts({ standing: halted, positions: long65 }))).toBe("HALTED")
    expect(codeOf(exitCommand, facts({ standing: unwinding, positions: long65 }))).toBe("ALLOW")
    expect(codeOf(exitCommand, facts({ standing: halted, positions: long65 }))).toBe("ALLOW")
  })

  it("REDUCING lets through only an order that brings the position toward flat", () => {
    const f = facts({ standing: reducing, positions: long65 })
    expect(codeOf(command(), f)).toBe("REDUCING")
    expect(codeOf(command({ side: "SELL", qty: 65 }), f)).toBe("ALLOW")
    expect(codeOf(command({ side: "SELL", qty: 130 }), f)).toBe("REDUCING")
  })

  it("the daily loss limit refuses entries once the day's realised plus unrealised loss reaches it", () => {
    expect(codeOf(command(), facts({ pnl: { realized: -6_000, unrealized: -3_999, total: -9_999 } }))).toBe("ALLOW")
    expect(codeOf(command(), facts({ pnl: { realized: -6_000, unrealized: -4_000, total: -10_000 } }))).toBe(
      "DAILY_LOSS",
    )
  })

  it("an entry opening one position more than the maximum is refused; adding to an open one is not", () => {
    const two = [position("BANKNIFTY26MARFUT", 30), position("RELIANCE-EQ", 10, 2_800)]
    expect(codeOf(command(), facts({ positions: two }))).toBe("MAX_OPEN_POSITIONS")
    expect(codeOf(command({ symbol: "BANKNIFTY26MARFUT", qty: 30 }), facts({ positions: two, ltp: 48_000 }))).toBe(
      "ALLOW",
    )
    const opening = [position("BANKNIFTY26MARFUT", 30)]
    const entryWorking = [working("BUY", 10, { symbol: "RELIANCE-EQ", exchange: "NSE" })]
    expect(codeOf(command(), facts({ positions: opening, working: entryWorking }))).toBe("MAX_OPEN_POSITIONS")
  })

  it("notional per position counts the orders in flight, and an entry with no price to value it is refused", () => {
    const l = { ...limits, maxNotionalPerPosition: 2_000_000 }
    expect(codeOf(command(), facts(), l)).toBe("ALLOW")
    expect(codeOf(command(), facts({ working: [working("BUY", 65)] }), l)).toBe("MAX_NOTIONAL")
    expect(codeOf(command(), facts({ ltp: null }), l)).toBe("PRICE_UNKNOWN")
    expect(codeOf(command({ orderType: "LIMIT", price: 22_000 }), facts({ ltp: null }), l)).toBe("ALLOW")
  })

  it("margin beyond the free funds, or eating into the capital reserve, is refused; unknown funds refuse entries", () => {
    const f = (available: number, total: number) =>
      facts({ funds: { available, usedMargin: total - available, total } })
    // 65 × 22,000 × 20 % = 286,000 of margin.
    expect(codeOf(command(), f(285_999, 2_000_000))).toBe("MARGIN")
    expect(codeOf(command(), f(300_000, 1_000_000))).toBe("CAPITAL_RESERVE")
    expect(codeOf(command(), f(386_000, 1_000_000))).toBe("ALLOW")
    expect(codeOf(command(), facts({ funds: null }))).toBe("FUNDS_UNAVAILABLE")
    expect(codeOf(exitCommand, facts({ funds: null, positions: long65 }))).toBe("ALLOW")
  })

  it("a limit price far from the last price is refused", () => {
    expect(codeOf(command({ orderType: "LIMIT", price: 25_000 }), facts())).toBe("PRICE_BAND")
    expect(codeOf(command({ orderType: "LIMIT", price: 22_100 }), facts())).toBe("ALLOW")
  })
})

describe("execution guard", () => {
  it("refuses an entry while the opposite side is working on the same position", () => {
    const f = facts({ positions: long65, working: [working("SELL", 65, { purpose: "EXIT" })] })
    expect(codeOf(command(), f)).toBe("OPPOSITE_WORKING")
    const elsewhere = facts({ working: [working("SELL", 65, { product: "NRML" })] })
    expect(codeOf(command(), elsewhere)).toBe("ALLOW")
  })

  it("refuses an entry that, with what is in flight and the position, passes the quantity limit", () => {
    expect(codeOf(command({ qty: 130 }), facts({ positions: long65 }))).toBe("ALLOW")
    expect(codeOf(command(), facts({ positions: long65, working: [working("BUY", 130)] }))).toBe("MAX_QTY")
  })

  it("refuses an exit larger than what is left once the exits already working fill", () => {
    const f = facts({
      positions: [position("NIFTY26MARFUT", 130)],
      working: [working("SELL", 65, { purpose: "EXIT" })],
    })
    expect(codeOf(command({ executionType: "EXIT", side: "SELL", qty: 65 }), f)).toBe("ALLOW")
    expect(codeOf(command({ executionType: "EXIT", side: "SELL", qty: 130 }), f)).toBe("EXIT_QTY")
  })
})

describe("exit checks", () => {
  it("an exit needs a position to close, on the closing side; CNC is never exited", () => {
    expect(codeOf(exitCommand, facts())).toBe("NO_POSITION")
    expect(codeOf(command({ executionType: "EXIT", side: "BUY" }), facts({ positions: long65 }))).toBe("EXIT_SIDE")
    const cnc = [position("RELIANCE-EQ", 10, 2_800, "CNC")]
    const sellCnc = command({
      executionType: "EXIT",
      side: "SELL",
      symbol: "RELIANCE-EQ",
      exchange: "NSE",
      qty: 10,
      product: "CNC",
    })
    expect(codeOf(sellCnc, facts({ positions: cnc }))).toBe("CNC")
  })

  it("an exit with a limit price far from the last price is refused", () => {
    const far = command({ executionType: "EXIT", side: "SELL", orderType: "LIMIT", price: 15_000 })
    expect(codeOf(far, facts({ positions: long65 }))).toBe("PRICE_BAND")
  })

  it("an ADJUST that reduces the position is judged as an exit, one that grows it as an entry", () => {
    const f = facts({ standing: halted, positions: long65 })
    expect(codeOf(command({ executionType: "ADJUST", side: "SELL" }), f)).toBe("ALLOW")
    expect(codeOf(command({ executionType: "ADJUST", side: "BUY" }), f)).toBe("HALTED")
  })

  it("a valid exit passes whatever the account's state, P&L, funds and entry limits", () => {
    const standings = fc.constantFrom<Standing>(activeStanding, halted, reducing, unwinding, {
      ...halted,
      forcedUnwind: true,
      unwindReason: "x",
    })
    fc.assert(
      fc.property(
        standings,
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 19 }),
        fc.double({ min: -1e7, max: 1e5, noNaN: true }),
        fc.boolean(),
        fc.integer({ min: 0, max: 5 }),
        (standing, lots, workingLots, pnl, fundsKnown, cap) => {
          fc.pre(workingLots < lots)
          const f = facts({
            standing,
            positions: [position("NIFTY26MARFUT", -65 * lots)],
            working: workingLots > 0 ? [working("BUY", 65 * workingLots, { purpose: "EXIT" })] : [],
            pnl: { realized: pnl, unrealized: 0, total: pnl },
            funds: fundsKnown ? { available: 0, usedMargin: 1e6, total: 1e6 } : null,
          })
          const l = { ...limits, maxOpenPositions: cap, maxQtyPerPosition: 1, maxNotionalPerPosition: 1 }
          const exit = command({ executionType: "EXIT", side: "BUY", qty: 65 * (lots - workingLots) })
          expect(decide(exit, f, l)).toBeNull()
        },
      ),
    )
  })
})

describe("day P&L and the position cap", () => {
  const book = (over: Partial<BrokerPosition>): BrokerPosition => ({
    symbol: "NIFTY26MARFUT",
    exchange: "NFO",
    product: "MIS",
    netQty: 0,
    buyQty: 0,
    sellQty: 0,
    buyAvg: 0,
    sellAvg: 0,
    realizedPnl: 0,
    unrealizedPnl: 0,
    ltp: 22_000,
    ...over,
  })

  it("is the worse of the engine's trades and the broker's book, both revalued at the tick hub's last price", () => {
    const trades = [
      {
        symbol: "NIFTY26MARFUT",
        direction: "LONG" as const,
        qty: 65,
        entryPrice: 22_000,
        status: "OPEN",
        realizedPnl: null,
      },
      {
        symbol: "RELIANCE-EQ",
        direction: "SHORT" as const,
        qty: 10,
        entryPrice: 2_800,
        status: "CLOSED",
        realizedPnl: -500,
      },
    ]
    const last = (s: string) => (s === "NIFTY26MARFUT" ? 21_900 : undefined)
    expect(dayPnl(trades, null, last)).toEqual({ realized: -500, unrealized: -6_500, total: -7_000 })
    // The broker also holds 65 more bought outside the engine, valued by the broker at 22,000.
    const positions = [
      book({ netQty: 130, unrealizedPnl: 0, realizedPnl: -500 }),
      book({ product: "CNC", realizedPnl: -9e9 }),
    ]
    expect(dayPnl(trades, positions, last)).toEqual({ realized: -500, unrealized: -13_000, total: -13_500 })
  })

  it("the cap closes the smallest positions by notional first, counting those already exiting", () => {
    const open = [position("A", 10, 100), position("B", 1, 100), position("C", 5, 1_000), position("D", -2, 40)]
    expect(capExits(open, 2, new Set()).map((p) => p.symbol)).toEqual(["D", "B"])
    expect(capExits(open, 2, new Set([keyOf(open[2]!)])).map((p) => p.symbol)).toEqual(["D"])
    expect(capExits(open, 4, new Set())).toEqual([])
  })

  it("limits are the defaults with each account's overrides, and the day starts at midnight exchange time", () => {
    const options = { ...defaultRiskOptions, accounts: { U2: { maxOpenPositions: 3 } } }
    expect(limitsFor(options, "U1").maxOpenPositions).toBe(10)
    expect(limitsFor(options, "U2").maxOpenPositions).toBe(3)
    // 2026-03-02 03:30 UTC is 09:00 IST; the IST day began 2026-03-01 18:30 UTC.
    expect(dayStartOf(Date.UTC(2026, 2, 2, 3, 30), 330)).toBe(Date.UTC(2026, 2, 1, 18, 30))
  })
})

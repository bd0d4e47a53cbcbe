/** The operational gates of stage 2: each rejection with its code, and the order an approval sends. */
import { describe, expect, it } from "vitest"
import { decide, type GateFacts } from "../../src/exits/ExitGates.js"
import { Instruments } from "../../src/orders/Instruments.js"

const [nifty, bank] = Instruments.fromList([
  { exchange: "NFO", symbol: "NIFTY", tickSize: 0.05, lotSize: 65, freezeQty: 1800 },
  { exchange: "NFO", symbol: "BANK", tickSize: 0.2, lotSize: 30, marketOrders: false },
]).all

const facts = (over: Partial<GateFacts> = {}): GateFacts => ({
  tradeState: "OPEN",
  openQty: 65,
  intentQty: 65,
  side: "SELL",
  otherLiveIntents: 0,
  positionRoom: 10_000,
  exitsHalted: null,
  instrument: nifty!,
  detectedPrice: 21940,
  ltp: 21940,
  priceBandPct: 10,
  limitBand: 0.005,
  ...over,
})

const code = (over: Partial<GateFacts>) => {
  const d = decide(facts(over))
  return d.approved ? "APPROVED" : d.code
}

describe("gates", () => {
  it("approve a MARKET exit where market orders are allowed", () => {
    expect(decide(facts())).toEqual({ approved: true, orderType: "MARKET", price: null, slices: [65] })
  })

  it("approve a protective LIMIT where market orders are refused, priced off the last price", () => {
    // 47880 × (1 − 0.005), rounded up to the 0.2 tick
    expect(decide(facts({ instrument: bank!, intentQty: 30, openQty: 30, ltp: 47880, detectedPrice: 47880 }))).toEqual({
      approved: true,
      orderType: "LIMIT",
      price: 47640.6,
      slices: [30],
    })
  })

  it.each([
    [{ tradeState: "EXITING" }, "TRADE_NOT_OPEN"],
    [{ tradeState: "CLOSED" }, "TRADE_NOT_OPEN"],
    [{ tradeState: null }, "TRADE_NOT_OPEN"],
    [{ otherLiveIntents: 1 }, "LIVE_INTENT"],
    [{ exitsHalted: "operator" }, "ACCOUNT_HALTED"],
    [{ intentQty: 0 }, "QTY_INVALID"],
    [{ intentQty: 130 }, "QTY_INVALID"],
    [{ intentQty: 60, openQty: 60 }, "QTY_INVALID"],
    [{ detectedPrice: Number.NaN }, "PRICE_INSANE"],
    [{ detectedPrice: 0 }, "PRICE_INSANE"],
    [{ detectedPrice: 30000 }, "PRICE_INSANE"],
    [{ instrument: bank!, intentQty: 30, openQty: 30, ltp: null, detectedPrice: null }, "NO_PRICE"],
  ] as ReadonlyArray<[Partial<GateFacts>, string]>)("%o is rejected %s", (over, expected) => {
    expect(code(over)).toBe(expected)
  })

  it("approve an exit at or above the freeze quantity as slices, each a lot multiple below the freeze", () => {
    // Freeze 1800, lot 65: the largest slice is 27 lots (1755).
    expect(decide(facts({ intentQty: 1820, openQty: 1820 }))).toEqual({
      approved: true,
      orderType: "MARKET",
      price: null,
      slices: [1755, 65],
    })
    expect(decide(facts({ intentQty: 3640, openQty: 3640 }))).toMatchObject({ slices: [1755, 1755, 130] })
    expect(decide(facts({ intentQty: 1755, openQty: 1755 }))).toMatchObject({ slices: [1755] })
    // Limit-as-market prices every slice alike.
    const bankFreeze = Instruments.fromList([
      { exchange: "NFO", symbol: "BANK", tickSize: 0.2, lotSize: 30, freezeQty: 900, marketOrders: false },
    ]).all[0]!
    const split = facts({ instrument: bankFreeze, intentQty: 1800, openQty: 1800, ltp: 47880, detectedPrice: 47880 })
    expect(decide(split)).toEqual({ approved: true, orderType: "LIMIT", price: 47640.6, slices: [870, 870, 60] })
  })

  it("refuses a split exit the net position cannot take as a whole", () => {
    expect(code({ intentQty: 3640, openQty: 3640, positionRoom: 3639 })).toBe("NOT_IN_POSITION")
    expect(code({ intentQty: 3640, openQty: 3640, positionRoom: 3640 })).toBe("APPROVED")
  })

  it("accept a price within the band of the last one, and a missing last price where market orders are allowed", () => {
    expect(code({ detectedPrice: 21940, ltp: 20000 })).toBe("APPROVED")
    expect(code({ ltp: null, detectedPrice: null })).toBe("APPROVED")
  })

  it("refuses an exit the broker's net position cannot take: it would go through zero (NOT_IN_POSITION)", () => {
    expect(code({ positionRoom: 0 })).toBe("NOT_IN_POSITION")
    expect(code({ positionRoom: 64 })).toBe("NOT_IN_POSITION")
    expect(code({ positionRoom: -130 })).toBe("NOT_IN_POSITION")
  })

  it("approves an exit within the net position, and one whose position book could not be read", () => {
    expect(code({ positionRoom: 65 })).toBe("APPROVED")
    expect(code({ positionRoom: 1_000 })).toBe("APPROVED")
    expect(code({ positionRoom: null })).toBe("APPROVED")
  })
})

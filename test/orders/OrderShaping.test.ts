import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { Instruments } from "../../src/orders/Instruments.js"
import {
  checkLot,
  checkPrice,
  isOnTick,
  limitAsMarket,
  roundToTick,
  safeRounding,
  shapeOrder,
  splitByFreeze,
  stopLimitFor,
} from "../../src/orders/OrderShaping.js"

const nifty = Instruments.fromList([
  { exchange: "NFO", symbol: "NIFTY26MARFUT", tickSize: 0.05, lotSize: 65, freezeQty: 1800, marketOrders: false },
]).all[0]!

describe("order shaping", () => {
  it("rounds to the tick nearest, down or up, exactly to the tick's decimals", () => {
    expect(roundToTick(100.03, 0.05)).toBe(100.05)
    expect(roundToTick(100.03, 0.05, "down")).toBe(100)
    expect(roundToTick(100.01, 0.05, "up")).toBe(100.05)
    expect(roundToTick(100.05, 0.05, "down")).toBe(100.05)
    expect(roundToTick(100.05, 0.05, "up")).toBe(100.05)
    expect(roundToTick(83.12345, 0.0025, "down")).toBe(83.1225)
  })

  it("the safe rounding never worsens a limit: a BUY rounds down, a SELL rounds up", () => {
    expect(roundToTick(22000.03, 0.05, safeRounding("BUY"))).toBe(22000)
    expect(roundToTick(22000.03, 0.05, safeRounding("SELL"))).toBe(22000.05)
  })

  it("checks a price against the tick and a quantity against the lot, naming the field", () => {
    expect(checkPrice(22000.05, 0.05)).toEqual(Either.right(22000.05))
    expect(checkPrice(22000.03, 0.05)).toEqual(
      Either.left({ field: "price", message: "22000.03 is not a multiple of tick size 0.05" }),
    )
    expect(checkPrice(-1, 0.05, "triggerPrice")).toEqual(
      Either.left({ field: "triggerPrice", message: "-1 is not a positive price" }),
    )
    expect(checkLot(130, 65)).toEqual(Either.right(130))
    expect(checkLot(100, 65)).toEqual(Either.left({ field: "qty", message: "100 is not a multiple of lot size 65" }))
    expect(checkLot(0, 65)).toEqual(Either.left({ field: "qty", message: "0 is not a positive whole quantity" }))
  })

  it("limit as market: BUY = ltp × (1 + band) rounded down, SELL = ltp × (1 − band) rounded up", () => {
    expect(limitAsMarket("BUY", 22000, 0.05)).toBe(22110)
    expect(limitAsMarket("SELL", 22000, 0.05)).toBe(21890)
    expect(limitAsMarket("BUY", 101.37, 0.05, 0.01)).toBe(102.35)
    expect(limitAsMarket("SELL", 101.37, 0.05, 0.01)).toBe(100.4)
  })

  it("limit as market stays within the band and never less aggressive than the ltp (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.constantFrom(0.05, 0.1, 0.2, 1),
        fc.constantFrom(0.001, 0.005, 0.02),
        (ticks, tick, band) => {
          const ltp = roundToTick(ticks * tick, tick)
          const buy = limitAsMarket("BUY", ltp, tick, band)
          const sell = limitAsMarket("SELL", ltp, tick, band)
          expect(isOnTick(buy, tick) && isOnTick(sell, tick)).toBe(true)
          expect(buy).toBeGreaterThanOrEqual(ltp)
          expect(buy <= ltp * (1 + band) + 1e-9 || buy === ltp).toBe(true)
          expect(sell).toBeLessThanOrEqual(ltp)
          expect(sell >= ltp * (1 - band) - 1e-9 || sell === ltp || sell === tick).toBe(true)
        },
      ),
    )
  })

  it("a stop-market becomes a stop-limit off the trigger by the band, at least one tick beyond it", () => {
    expect(stopLimitFor("SELL", 22000, 0.05)).toBe(21890)
    expect(stopLimitFor("BUY", 22000, 0.05)).toBe(22110)
    expect(stopLimitFor("BUY", 5, 0.05)).toBe(5.05)
    expect(stopLimitFor("SELL", 5, 0.05)).toBe(4.95)
  })

  it("splits a quantity at the freeze into lot multiples strictly below it", () => {
    expect(splitByFreeze(1755, 65, 1800)).toEqual(Either.right([1755]))
    expect(splitByFreeze(3900, 65, 1800)).toEqual(Either.right([1755, 1755, 390]))
    expect(splitByFreeze(1820, 65, 1820)).toEqual(Either.right([1755, 65]))
    expect(splitByFreeze(650, 65, null)).toEqual(Either.right([650]))
    expect(splitByFreeze(100, 65, 1800)).toEqual(
      Either.left({ field: "qty", message: "100 is not a multiple of lot size 65" }),
    )
  })

  it("the freeze split keeps the total and every child a lot multiple below the freeze (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 2, max: 5000 }),
        (lots, lot, freeze) => {
          const split = splitByFreeze(lots * lot, lot, freeze)
          if (Either.isLeft(split)) {
            expect(freeze).toBeLessThanOrEqual(lot)
            return
          }
          expect(split.right.reduce((a, b) => a + b, 0)).toBe(lots * lot)
          for (const q of split.right) expect(q % lot === 0 && q < freeze).toBe(true)
        },
      ),
    )
  })

  it("shapes a MARKET order for an instrument that refuses it into a banded LIMIT, split at the freeze", () => {
    const shaped = shapeOrder({ side: "BUY", qty: 3900, orderType: "MARKET", price: null, triggerPrice: null }, nifty, {
      ltp: 22000,
    })
    expect(Either.getOrThrow(shaped).map((o) => [o.orderType, o.price, o.qty])).toEqual([
      ["LIMIT", 22110, 1755],
      ["LIMIT", 22110, 1755],
      ["LIMIT", 22110, 390],
    ])
    expect(Either.getOrThrow(shaped)[0]?.notes).toEqual([
      "MARKET sent as LIMIT 22110 (band 0.5%)",
      "split into 3 orders at freeze 1800",
    ])
  })

  it("refuses to turn MARKET into a limit without a last price, naming ltp", () => {
    const shaped = shapeOrder({ side: "SELL", qty: 65, orderType: "MARKET", price: null, triggerPrice: null }, nifty)
    expect(shaped).toEqual(Either.left({ field: "ltp", message: "a last price is needed to send MARKET as a limit" }))
  })

  it("shapes an SL-M into an SL priced off the trigger, and keeps MARKET where it is allowed", () => {
    const slm = shapeOrder({ side: "SELL", qty: 65, orderType: "SL-M", price: null, triggerPrice: 21950 }, nifty)
    expect(Either.getOrThrow(slm)[0]).toMatchObject({ orderType: "SL", triggerPrice: 21950, price: 21840.25 })
    const allowed = shapeOrder({ side: "BUY", qty: 65, orderType: "MARKET", price: null, triggerPrice: null }, nifty, {
      marketOrders: true,
    })
    expect(Either.getOrThrow(allowed)[0]).toMatchObject({ orderType: "MARKET", price: null })
  })

  it("refuses an off-tick limit unless asked to round, then rounds it to the safe side", () => {
    const draft = { side: "BUY", qty: 65, orderType: "LIMIT", price: 22000.03, triggerPrice: null } as const
    expect(shapeOrder(draft, nifty)).toEqual(
      Either.left({ field: "price", message: "22000.03 is not a multiple of tick size 0.05" }),
    )
    expect(Either.getOrThrow(shapeOrder(draft, nifty, { roundPrices: true }))[0]?.price).toBe(22000)
  })

  it("refuses a stop-limit whose limit is on the wrong side of its trigger", () => {
    const draft = { side: "BUY", qty: 65, orderType: "SL", price: 21990, triggerPrice: 22000 } as const
    expect(shapeOrder(draft, nifty)).toEqual(
      Either.left({ field: "price", message: "limit 21990 is below the trigger 22000" }),
    )
  })
})

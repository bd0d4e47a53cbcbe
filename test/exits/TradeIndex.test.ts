/**
 * Stage 1, the pure evaluator: direction-aware stop and target, trailing stops that ratchet only
 * in the trade's favour (and agree with the Trade machine), the latch, the confirmation rule,
 * time exits, and a no-fire path that allocates nothing.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type AnyMachineSnapshot, initialTransition, transition } from "xstate"
import { TradeMachine, type Trailing } from "../../machines/TradeMachine.js"
import { type IndexedTrade, TradeIndex } from "../../src/exits/TradeIndex.js"

const trade = (over: Partial<IndexedTrade> = {}): IndexedTrade => ({
  tradeId: "T1",
  accountId: "U1",
  symbol: "NIFTY",
  exchange: "NFO",
  product: "NRML",
  direction: "LONG",
  stopLoss: 21950,
  target: 22100,
  trailing: null,
  trailLevel: null,
  bestPrice: 22000,
  open: true,
  ...over,
})

const reasonAt = (t: Partial<IndexedTrade>, ltp: number) => {
  const index = new TradeIndex()
  index.add(trade(t))
  return index.onTick("NIFTY", ltp, 0)[0]?.reason ?? null
}

describe("stop-loss and target", () => {
  it.each([
    [21950, "STOP_LOSS"],
    [21900, "STOP_LOSS"],
    [21951, null],
    [22099, null],
    [22100, "TARGET"],
    [22150, "TARGET"],
  ])("a LONG at %d exits for %s", (ltp, reason) => {
    expect(reasonAt({}, ltp)).toBe(reason)
  })

  it.each([
    [22050, "STOP_LOSS"],
    [22100, "STOP_LOSS"],
    [22049, null],
    [21951, null],
    [21950, "TARGET"],
    [21900, "TARGET"],
  ])("a SHORT (stop 22050, target 21950) at %d exits for %s", (ltp, reason) => {
    expect(reasonAt({ direction: "SHORT", stopLoss: 22050, target: 21950 }, ltp)).toBe(reason)
  })

  it("a trade without levels never exits on price", () => {
    expect(reasonAt({ stopLoss: null, target: null }, 1)).toBe(null)
    expect(reasonAt({ stopLoss: null, target: null }, 1e9)).toBe(null)
  })

  it("when the price goes through both stops, the tighter one is the reason", () => {
    expect(reasonAt({ trailing: { distance: 20, unit: "price" }, trailLevel: 21990 }, 21900)).toBe("TRAILING_STOP")
    expect(reasonAt({ trailing: { distance: 20, unit: "price" }, trailLevel: 21900 }, 21890)).toBe("STOP_LOSS")
    const short = { direction: "SHORT" as const, stopLoss: 22050, target: null }
    expect(reasonAt({ ...short, trailing: { distance: 20, unit: "price" }, trailLevel: 22020 }, 22060)).toBe(
      "TRAILING_STOP",
    )
  })
})

/** The Trade machine's trailing level after these ticks. */
const machineTrail = (direction: "LONG" | "SHORT", trailing: Trailing, prices: ReadonlyArray<number>) => {
  const input = { ...trade({ direction, trailing }), qty: 65, entryPrice: 22000, entryOrderId: null, openedAt: 0 }
  let s: AnyMachineSnapshot = initialTransition(TradeMachine, { ...input, stopLoss: null, target: null })[0]
  for (const price of prices) s = transition(TradeMachine, s as never, { type: "tick.price", price, at: 1 })[0]
  return s.context.trailLevel as number
}

/** The index's trailing level after the same ticks, starting where the machine starts. */
const indexTrail = (direction: "LONG" | "SHORT", trailing: Trailing, prices: ReadonlyArray<number>) => {
  const index = new TradeIndex()
  const start = machineTrail(direction, trailing, [])
  index.add(trade({ direction, trailing, trailLevel: start, stopLoss: null, target: null }))
  const levels: Array<number> = []
  for (const p of prices) {
    index.onTick("NIFTY", p, 0)
    index.rearm("T1")
    levels.push(index.peek("T1")!.trailLevel!)
  }
  return levels
}

const trailings: ReadonlyArray<Trailing> = [
  { distance: 20, unit: "price" },
  { distance: 0.25, unit: "percent" },
  { distance: 7, unit: "ticks", tickSize: 0.05 },
]

describe("trailing stops", () => {
  it("a LONG's level follows new highs and never moves down", () => {
    expect(indexTrail("LONG", trailings[0]!, [22010, 22050, 22040, 21990, 22060])).toEqual([
      21990, 22030, 22030, 22030, 22040,
    ])
  })

  it("a SHORT's level follows new lows and never moves up", () => {
    expect(indexTrail("SHORT", trailings[0]!, [21990, 21950, 21960, 22015, 21940])).toEqual([
      22010, 21970, 21970, 21970, 21960,
    ])
  })

  it("only improvements are reported for the Trade actor, and only for trailing trades", () => {
    const index = new TradeIndex()
    index.add(trade({ trailing: trailings[0]!, trailLevel: 21980, stopLoss: null, target: null }))
    index.add(trade({ tradeId: "T2", stopLoss: null, target: null }))
    const reported: Array<Array<[string, number]>> = []
    for (const p of [22010, 22005, 22020]) {
      index.onTick("NIFTY", p, 0)
      reported.push(
        Array.from({ length: index.improvedCount }, (_, i) => [index.improvedId(i), index.improvedPrice(i)]),
      )
    }
    expect(reported).toEqual([[["T1", 22010]], [], [["T1", 22020]]])
  })

  it("agrees with the Trade machine's ratchet in every unit and direction, and never loosens", () => {
    const prices = fc.array(fc.integer({ min: 21_000, max: 23_000 }), { minLength: 1, maxLength: 40 })
    fc.assert(
      fc.property(
        prices,
        fc.constantFrom(...trailings),
        fc.constantFrom("LONG" as const, "SHORT" as const),
        (ps, t, d) => {
          const levels = indexTrail(d, t, ps)
          expect(levels.at(-1)).toBe(machineTrail(d, t, ps))
          for (let i = 1; i < levels.length; i++)
            expect(d === "LONG" ? levels[i]! >= levels[i - 1]! : levels[i]! <= levels[i - 1]!).toBe(true)
        },
      ),
    )
  })
})

describe("the latch", () => {
  it("a trade that fired does not fire again until it is re-armed", () => {
    const index = new TradeIndex()
    index.add(trade())
    expect(index.onTick("NIFTY", 21900, 1).map((c) => c.reason)).toEqual(["STOP_LOSS"])
    expect(index.onTick("NIFTY", 21890, 2)).toEqual([])
    index.rearm("T1")
    expect(index.onTick("NIFTY", 21890, 3).map((c) => [c.tradeId, c.reason, c.price, c.at])).toEqual([
      ["T1", "STOP_LOSS", 21890, 3],
    ])
  })

  it("an EXITING trade is not judged; back to OPEN it is judged again", () => {
    const index = new TradeIndex()
    index.add(trade({ open: false }))
    expect(index.onTick("NIFTY", 21900, 1)).toEqual([])
    index.follow("T1", true, 22000, null)
    expect(index.onTick("NIFTY", 21900, 2).length).toBe(1)
  })

  it("two trades on one symbol both fire on one tick; a removed trade never fires", () => {
    const index = new TradeIndex()
    index.add(trade())
    index.add(trade({ tradeId: "T2", stopLoss: 21960 }))
    index.add(trade({ tradeId: "T3", stopLoss: 21970 }))
    index.remove("T3")
    expect(
      index
        .onTick("NIFTY", 21940, 1)
        .map((c) => c.tradeId)
        .sort(),
    ).toEqual(["T1", "T2"])
    expect(index.size).toBe(2)
  })
})

describe("confirmation", () => {
  it("with N ticks, the condition must hold on N ticks in a row", () => {
    const index = new TradeIndex({ ticks: 3, ms: 0 })
    index.add(trade())
    const fired = [21940, 21940, 22000, 21940, 21930, 21920].map((p, i) => index.onTick("NIFTY", p, i).length)
    expect(fired).toEqual([0, 0, 0, 0, 0, 1])
  })

  it("with T ms, the condition must hold for T ms since its first tick", () => {
    const index = new TradeIndex({ ticks: 1, ms: 500 })
    index.add(trade())
    const fired = [
      [21940, 1_000],
      [21940, 1_400],
      [22000, 1_600],
      [21940, 2_000],
      [21940, 2_499],
      [21940, 2_500],
    ].map(([p, at]) => index.onTick("NIFTY", p!, at!).length)
    expect(fired).toEqual([0, 0, 0, 0, 0, 1])
  })
})

describe("time exits", () => {
  it("fires on the first tick at or after the trade's time exit", () => {
    const index = new TradeIndex()
    index.add(trade({ stopLoss: null, target: null, timeExit: { at: 1_000, code: 4 } }))
    expect(index.onTick("NIFTY", 22000, 999)).toEqual([])
    expect(index.onTick("NIFTY", 22000, 1_000).map((c) => c.reason)).toEqual(["SQUARE_OFF"])
  })

  it("the sweep fires due time exits at the symbol's last price, and skips a symbol with no price yet", () => {
    const index = new TradeIndex()
    index.add(trade({ timeExit: { at: 1_000, code: 5 } }))
    index.add(trade({ tradeId: "T2", symbol: "BANK", timeExit: { at: 1_000, code: 5 } }))
    index.onTick("NIFTY", 22010, 10)
    expect(index.sweep(999)).toEqual([])
    expect(index.sweep(1_000).map((c) => [c.tradeId, c.reason, c.price, c.at])).toEqual([
      ["T1", "EXPIRY", 22010, 1_000],
    ])
  })
})

describe("the no-fire path", () => {
  it("returns one shared empty array and reports nothing, for known and unknown symbols and bad prices", () => {
    const index = new TradeIndex()
    for (let i = 0; i < 50; i++) index.add(trade({ tradeId: `T${i}`, symbol: `S${i % 5}` }))
    const empty = index.onTick("S0", 22000, 0)
    expect(empty).toEqual([])
    expect(Object.isFrozen(empty)).toBe(true)
    for (let i = 0; i < 1_000; i++) expect(index.onTick(`S${i % 7}`, 22000 + (i % 90), i)).toBe(empty)
    expect(index.onTick("S1", Number.NaN, 0)).toBe(empty)
    expect(index.onTick("S1", -1, 0)).toBe(empty)
    expect(index.improvedCount).toBe(0)
  })
})

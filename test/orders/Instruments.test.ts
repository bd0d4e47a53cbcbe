import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import { Instruments } from "../../src/orders/Instruments.js"

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

describe("instrument master", () => {
  it.effect(
    "reads a Shoonya NFO master: lots, rupee ticks, DD-MON-YYYY expiries, options; drops blank placeholder rows",
    () =>
      Effect.gen(function* () {
        const master = yield* Instruments.load(fixture("instruments-shoonya-nfo.csv"))
        expect(master.all.length).toBe(4)
        expect(Option.getOrThrow(master.get("NFO", "NIFTY30MAR26F"))).toEqual({
          exchange: "NFO",
          symbol: "NIFTY30MAR26F",
          token: "35001",
          underlying: "NIFTY",
          kind: "FUTIDX",
          tickSize: 0.05,
          lotSize: 65,
          freezeQty: null,
          marketOrders: false,
          expiry: "2026-03-30",
          optionType: null,
          strike: null,
        })
        expect(Option.getOrThrow(master.get("NFO", "NIFTY30MAR26C22000"))).toMatchObject({
          optionType: "CE",
          strike: 22000,
        })
        expect(Option.getOrThrow(master.get("NFO", "BANKNIFTY30MAR26F")).tickSize).toBe(0.2)
        expect(Option.getOrThrow(master.byToken("NFO", "35003")).symbol).toBe("NIFTY30MAR26P22000")
      }),
  )

  it.effect("reads a Shoonya NSE master, normalising a cash tick given in paise and skipping index rows", () =>
    Effect.gen(function* () {
      const master = yield* Instruments.load(fixture("instruments-shoonya-nse.csv"), { marketOrders: true })
      expect(master.all.map((i) => [i.symbol, i.tickSize, i.lotSize, i.marketOrders])).toEqual([
        ["RELIANCE-EQ", 0.05, 1, true],
        ["INFY-EQ", 0.05, 1, true],
      ])
    }),
  )

  it.effect(
    "reads a Dhan compact master: exchange from (exchange, segment), ticks from paise, lot units, expiry dates",
    () =>
      Effect.gen(function* () {
        const master = yield* Instruments.load(fixture("instruments-dhan.csv"), { freezeQty: { NIFTY: 1800 } })
        expect(master.all.map((i) => `${i.exchange}:${i.symbol}`)).toEqual([
          "NSE:RELIANCE",
          "NFO:NIFTY-Oct2026-FUT",
          "NFO:NIFTY-Oct2026-25000-CE",
          "MCX:CRUDEOIL-Oct2026-FUT",
        ])
        expect(Option.getOrThrow(master.get("NFO", "NIFTY-Oct2026-FUT"))).toMatchObject({
          token: "48704",
          lotSize: 65,
          tickSize: 0.1,
          freezeQty: 1800,
          marketOrders: true,
          expiry: "2026-10-27",
          strike: null,
        })
        expect(Option.getOrThrow(master.get("NSE", "RELIANCE"))).toMatchObject({
          tickSize: 0.1,
          expiry: null,
          freezeQty: null,
        })
        expect(Option.getOrThrow(master.get("NFO", "NIFTY-Oct2026-25000-CE"))).toMatchObject({
          tickSize: 0.05,
          strike: 25000,
        })
        expect(Option.getOrThrow(master.get("MCX", "CRUDEOIL-Oct2026-FUT"))).toMatchObject({
          tickSize: 1,
          lotSize: 100,
        })
      }),
  )

  it.effect("a malformed row fails with the line and the field at fault", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Instruments.load(fixture("instruments-shoonya-malformed.csv")))
      expect(error).toMatchObject({ _tag: "InstrumentsError", line: 3, field: "LotSize" })
      expect(error.message).toBe('"sixty-five" is not a positive whole number')
    }),
  )

  it("a short row, a bad date and an unknown header are refused with their line and field", () => {
    const header = "Exchange,Token,LotSize,Symbol,TradingSymbol,Expiry,Instrument,OptionType,StrikePrice,TickSize,"
    const short = Instruments.parseCsv(`${header}\nNFO,1,65,NIFTY`)
    expect(Either.getLeft(short).pipe(Option.map((e) => [e.line, e.field]))).toEqual(Option.some([2, "row"]))
    const date = Instruments.parseCsv(`${header}\n\nNFO,1,65,NIFTY,NIFTYX,31-FOO-2026,FUTIDX,XX,0,0.05,`)
    expect(Either.getLeft(date).pipe(Option.map((e) => [e.line, e.field]))).toEqual(Option.some([3, "Expiry"]))
    const unknown = Instruments.parseCsv("a,b,c\n1,2,3")
    expect(Either.getLeft(unknown).pipe(Option.map((e) => [e.line, e.field]))).toEqual(Option.some([1, "header"]))
  })

  it("a missing file is an InstrumentsError naming the file", async () => {
    const error = await Effect.runPromise(Effect.flip(Instruments.load("/nonexistent/master.csv")))
    expect(error.field).toBe("file")
  })

  it("lookups ignore case and a plain list takes the defaults (tick 0.05, lot 1, market orders allowed)", () => {
    const master = Instruments.fromList([{ exchange: "NFO", symbol: "NIFTY26MARFUT", lotSize: 65 }])
    expect(Option.getOrThrow(master.get("nfo", "nifty26marfut"))).toMatchObject({
      tickSize: 0.05,
      lotSize: 65,
      marketOrders: true,
      underlying: "NIFTY26MARFUT",
    })
    expect(master.get("NSE", "NIFTY26MARFUT")).toEqual(Option.none())
  })
})

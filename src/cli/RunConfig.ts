/**
 * The engine's configuration for `warden run`, with a default for every field: with no config at
 * all the engine runs on `data/warden.db` with one paper account and a simulated market.
 * Environment variables override: `WARDEN_DB`.
 */
import { Instruments } from "../orders/Instruments.js"
import type { WalkSpec } from "../sim/RandomWalkFeed.js"

/** An instrument of the default simulated market. */
export interface MarketInstrument extends WalkSpec {
  readonly lotSize: number
  readonly marketOrders: boolean
}

/** The default simulated market. */
export const defaultMarket: ReadonlyArray<MarketInstrument> = [
  {
    symbol: "NIFTY26DECFUT",
    exchange: "NFO",
    startPrice: 26_150,
    tickSize: 0.05,
    lotSize: 65,
    marketOrders: true,
    intervalMs: 250,
    volatilityBps: 3,
  },
  {
    symbol: "BANKNIFTY26DECFUT",
    exchange: "NFO",
    startPrice: 59_400,
    tickSize: 0.2,
    lotSize: 30,
    marketOrders: true,
    intervalMs: 250,
    volatilityBps: 4,
  },
  {
    symbol: "RELIANCE-EQ",
    exchange: "NSE",
    startPrice: 1_540,
    tickSize: 0.05,
    lotSize: 1,
    marketOrders: true,
    intervalMs: 500,
    volatilityBps: 5,
  },
]

/** What `warden run` starts with. */
export interface RunConfig {
  readonly db: string
  readonly paperAccount: { readonly id: string; readonly capital: number }
  readonly market: ReadonlyArray<MarketInstrument>
  /** Seconds between the demo strategy's entries (0 turns it off). */
  readonly demoEntryEverySec: number
}

/** The configuration from the command line and environment, every field defaulted. */
export const runConfig = (values: Record<string, string | boolean | undefined>): RunConfig => ({
  db: typeof values.db === "string" ? values.db : (process.env.WARDEN_DB ?? "data/warden.db"),
  paperAccount: { id: "PAPER1", capital: 2_000_000 },
  market: defaultMarket,
  demoEntryEverySec: Number(process.env.WARDEN_DEMO_EVERY_SEC ?? 15),
})

/** The instrument master of a simulated market. */
export const instrumentsOf = (market: ReadonlyArray<MarketInstrument>) =>
  Instruments.fromList(
    market.map((m) => ({
      exchange: m.exchange,
      symbol: m.symbol,
      tickSize: m.tickSize,
      lotSize: m.lotSize,
      marketOrders: m.marketOrders,
    })),
  )

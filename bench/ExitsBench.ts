/**
 * Benchmarks of the exit pipeline (issue 4): ticks evaluated per second with 10,000 open trades
 * over 1,000 symbols none firing; an emergency exit-all of 10,000 open trades until every exit
 * order is committed as sent; and a firing tick to the committed exit order, under a background
 * load of 10,000 ticks per second.
 */
import { join } from "node:path"
import { Effect, Fiber, type Layer, type LogLevel, Queue, type Scope } from "effect"
import { PaperAccounts } from "../src/broker/PaperBroker.js"
import { ExitMonitor } from "../src/exits/ExitMonitor.js"
import { ExitService } from "../src/exits/ExitService.js"
import { TradeIndex } from "../src/exits/TradeIndex.js"
import { engineLayer } from "../src/main.js"
import { TickHub } from "../src/market/TickHub.js"
import type { Reconciler } from "../src/orders/Reconciler.js"
import { ActorRuntime, type Transition } from "../src/runtime/ActorRuntime.js"
import type { Ids } from "../src/runtime/Ids.js"
import { TradeManager } from "../src/trades/TradeManager.js"
import { benchDir, percentile, repeat, runBench } from "./Measure.js"

/**
 * Stage-1 ticks per second through a `TradeIndex` of `trades` open trades over `symbols` symbols,
 * none firing (half of them trailing), ticks spread over the symbols.
 */
export const ticksPerSec = (trades: number, symbols: number, ticks: number): number => {
  const index = new TradeIndex()
  for (let i = 0; i < trades; i++) {
    const long = i % 2 === 0
    index.add({
      tradeId: `T${i}`,
      accountId: "U1",
      symbol: `SYM${i % symbols}`,
      exchange: "NFO",
      product: "NRML",
      direction: long ? "LONG" : "SHORT",
      stopLoss: long ? 900 : 1_100,
      target: long ? 1_100 : 900,
      trailing: i % 4 < 2 ? { distance: 50, unit: "price" } : null,
      trailLevel: i % 4 < 2 ? (long ? 950 : 1_050) : null,
      bestPrice: 1_000,
      open: true,
      timeExit: { at: Number.POSITIVE_INFINITY, code: 0 },
    })
  }
  const names = Array.from({ length: symbols }, (_, i) => `SYM${i}`)
  const syms = new Array<string>(ticks)
  const prices = new Float64Array(ticks)
  let seed = 1
  for (let i = 0; i < ticks; i++) {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    syms[i] = names[seed % symbols]!
    prices[i] = 990 + (seed % 21)
  }
  let fired = 0
  const t0 = performance.now()
  for (let i = 0; i < ticks; i++) fired += index.onTick(syms[i]!, prices[i]!, i).length
  const perSec = ticks / ((performance.now() - t0) / 1_000)
  if (fired !== 0) throw new Error(`${fired} trades fired; the benchmark's prices must never reach a level`)
  return perSec
}

/** Ticks per second through the trade index, 10,000 open trades over 1,000 symbols, none firing. */
export const ticksPerSec10kTrades = (ticks: number): number => ticksPerSec(10_000, 1_000, ticks)

/** What a benchmark takes from the engine. */
export type EngineNeeds =
  | ActorRuntime
  | Ids
  | TickHub
  | TradeManager
  | ExitMonitor
  | ExitService
  | PaperAccounts
  | Reconciler
  | Scope.Scope

/**
 * Runs `e` in the engine on `filename` (a fresh file by default) with paper accounts U1 … U`accounts`,
 * no time sweep and no periodic reconciliation, and closes it.
 */
export const inEngine = <A>(
  e: Effect.Effect<A, unknown, EngineNeeds>,
  options: { readonly filename?: string; readonly accounts?: number; readonly logLevel?: LogLevel.LogLevel } = {},
): Promise<A> => {
  const layer = engineLayer({
    database: { filename: options.filename ?? join(benchDir(), "exits.db") },
    paperAccounts: Array.from({ length: options.accounts ?? 1 }, (_, i) => ({ accountId: `U${i + 1}`, capital: 1e13 })),
    reconcileIntervalMs: 3_600_000,
    exits: { timeSweepMs: 0 },
  })
  return runBench(
    Effect.scoped(e.pipe(Effect.provide(layer as Layer.Layer<Exclude<EngineNeeds, Scope.Scope>>))),
    options.logLevel,
  )
}

/** Opens `n` long trades over `symbols` symbols and waits until the exit monitor follows them all. */
const openTrades = (n: number, symbols: ReadonlyArray<string>, product: "MIS" | "NRML") =>
  Effect.gen(function* () {
    const tm = yield* TradeManager
    const monitor = yield* ExitMonitor
    yield* Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        tm.open({
          accountId: "U1",
          symbol: symbols[i % symbols.length]!,
          exchange: "NSE",
          product,
          direction: "LONG",
          qty: 10,
          entryPrice: 1_000,
          stopLoss: 900,
          target: 1_100,
        }),
      { concurrency: 256, discard: true },
    )
    while (monitor.index.size < n) yield* Effect.sleep("10 millis")
    yield* Effect.flatMap(ActorRuntime, (rt) => rt.awaitIdle)
  })

/** A market buy that gives the broker the position an engine trade holds (the exit gates check it). */
const seedOrder = (symbol: string, qty: number, product: "MIS" | "NRML") => ({
  clientTag: `seed-${symbol}`,
  accountId: "U1",
  symbol,
  exchange: "NSE",
  side: "BUY" as const,
  qty,
  product,
  orderType: "MARKET" as const,
  price: null,
  triggerPrice: null,
})

/** Emergency exit-all of `trades` open trades: ms until every exit order is committed as sent. */
export const exitStormMs = (trades: number): Promise<number> =>
  inEngine(
    Effect.gen(function* () {
      const hub = yield* TickHub
      const paper = (yield* PaperAccounts).accounts.get("U1")!
      const symbols = Array.from({ length: Math.max(1, trades / 10) }, (_, i) => `SYM${i}`)
      for (const s of symbols) {
        yield* hub.publish({ symbol: s, exchange: "NSE", ltp: 1_000, at: Date.now() })
        yield* paper.place(seedOrder(s, 100, "MIS"))
      }
      yield* openTrades(trades, symbols, "MIS")
      const t0 = performance.now()
      const result = yield* Effect.flatMap(ExitService, (s) => s.exitAll("EMERGENCY", "bench"))
      if (result.placed.length !== trades)
        throw new Error(
          `placed ${result.placed.length} of ${trades} exits; skipped: ${[...new Set(result.skipped.map((k) => k.reason.split(":")[0]))].join(", ")} e.g. ${result.skipped[0]?.reason}`,
        )
      return performance.now() - t0
    }),
  )

/** A background load of 10,000 ticks a second (100 every 10 ms) on `symbolAt(k)`, until interrupted. */
export const backgroundTicks = (hub: TickHub["Type"], symbolAt: (k: number) => string) => {
  let k = 0
  return Effect.fork(
    Effect.forever(
      Effect.gen(function* () {
        for (let i = 0; i < 100; i++, k++)
          yield* hub.publish({ symbol: symbolAt(k), exchange: "NSE", ltp: 1_000 + (k % 7), at: Date.now() })
        yield* Effect.sleep("10 millis")
      }),
    ),
  )
}

/**
 * Publishes a tick that meets trade `tradeId`'s stop and waits for its exit order to be sent: ms
 * to that transition's commit (the figure), and to this fiber seeing it (the scheduler's delay on
 * top). The trade's broker position must be there, or the exit gates refuse the exit.
 */
export const fireStop = (
  hub: TickHub["Type"],
  sub: Queue.Dequeue<Transition>,
  symbol: string,
  tradeId: string,
  price: number,
) =>
  Effect.gen(function* () {
    yield* Queue.takeAll(sub)
    const t0 = performance.now()
    yield* hub.publish({ symbol, exchange: "NSE", ltp: price, at: Date.now() })
    const cause = `exi_${tradeId}_STOP_LOSS_0#`
    const committedAt = yield* Effect.gen(function* () {
      for (;;) {
        const t = yield* Queue.take(sub)
        if (t.actorType === "order" && t.to === "SENT_TO_BROKER.awaitingAck" && (t.cause ?? "").startsWith(cause))
          return t.committedAt
      }
    }).pipe(
      Effect.timeoutFail({
        duration: "10 seconds",
        onTimeout: () => new Error(`no exit order for ${symbol} after 10 s: was the exit refused?`),
      }),
    )
    return { committed: committedAt - t0, seen: performance.now() - t0 }
  })

/**
 * One tick-to-order sample: a position of 1 at the broker, a trade on it with a stop at 990, then
 * a tick at 989 (see `fireStop`).
 */
export const stopSample = (accountId: string, symbol: string, sub: Queue.Dequeue<Transition>) =>
  Effect.gen(function* () {
    const hub = yield* TickHub
    const tm = yield* TradeManager
    const monitor = yield* ExitMonitor
    const paper = (yield* PaperAccounts).accounts.get(accountId)!
    yield* hub.publish({ symbol, exchange: "NSE", ltp: 1_000, at: Date.now() })
    yield* paper.place({ ...seedOrder(symbol, 1, "NRML"), accountId })
    const id = yield* tm.open({
      accountId,
      symbol,
      exchange: "NSE",
      product: "NRML",
      direction: "LONG",
      qty: 1,
      entryPrice: 1_000,
      stopLoss: 990,
      target: null,
    })
    while (!monitor.index.has(id)) yield* Effect.sleep("1 millis")
    return yield* fireStop(hub, sub, symbol, id, 989)
  })

/** A firing tick to its committed exit order, under 10,000 background ticks a second: ms per sample. */
export const tickToOrderMs = (
  samples: number,
): Promise<{ p50: number; p99: number; seenP99: number; samples: number }> =>
  inEngine(
    Effect.gen(function* () {
      const hub = yield* TickHub
      const rt = yield* ActorRuntime
      const _tm = yield* TradeManager
      const _monitor = yield* ExitMonitor
      const _paper = (yield* PaperAccounts).accounts.get("U1")!
      const background = Array.from({ length: 1_000 }, (_, i) => `BG${i}`)
      yield* openTrades(10_000, background, "NRML")
      const load = yield* backgroundTicks(hub, (k) => background[k % 1_000]!)
      const sub = yield* rt.subscribe
      const ms: Array<number> = []
      const seen: Array<number> = []
      for (let s = 0; s < samples; s++) {
        const fired = yield* stopSample("U1", `FIRE${s}`, sub)
        ms.push(fired.committed)
        seen.push(fired.seen)
      }
      yield* Fiber.interrupt(load)
      return {
        p50: percentile(ms, 50),
        p99: percentile(ms, 99),
        seenP99: percentile(seen, 99),
        samples: ms.length,
      }
    }),
  )

/** The exit pipeline's figures. */
export const exitsBench = async (quick: boolean) => {
  const ticks = await repeat(quick ? 3 : 5, 1, () => ticksPerSec10kTrades(quick ? 1_000_000 : 5_000_000))
  const storm = quick ? await exitStormMs(1_000) : await repeat(3, 0, () => exitStormMs(10_000))
  const latency = await tickToOrderMs(quick ? 300 : 10_000)
  return {
    ticksPerSec10kTrades: Math.round(ticks),
    [quick ? "exitStorm1kMs" : "exitStorm10kMs"]: Math.round(storm),
    tickToOrderMsP50: Number(latency.p50.toFixed(3)),
    tickToOrderMsP99: Number(latency.p99.toFixed(3)),
    tickToOrderSeenMsP99: Number(latency.seenP99.toFixed(3)),
    tickToOrderSamples: latency.samples,
  }
}

/**
 * How the cost grows with open trades, symbols and accounts (`npm run bench -- --scale`).
 *
 * For 1,000, 10,000 and 100,000 open trades (over N/10 symbols, one paper account), and for
 * 10,000 over 4 accounts: start-up on a database file holding them (open, migrations, rehydration
 * of the Trade actors, the exit monitor's index loaded, the start's reconciliation), heap bytes
 * per open trade with the engine running (less the same engine on an empty file), stage-1 ticks
 * evaluated per second none firing, and a firing tick to its committed exit order with the N
 * trades present. For the symbols, 10,000 trades over 100, 1,000 and 10,000 symbols through stage 1.
 *
 * Each file is built once per shape through the engine (entry orders filled by the paper broker,
 * trades opened by `TradeManager.open`: the same actors, journal, snapshots and read models as any
 * opening), then measured by starting the real engine on it. About two minutes in all.
 */
import { loadavg } from "node:os"
import { join } from "node:path"
import { Effect, Fiber, LogLevel, Option } from "effect"
import type { OrderInput } from "../machines/OrderMachine.js"
import { PaperAccounts } from "../src/broker/PaperBroker.js"
import { ExitMonitor } from "../src/exits/ExitMonitor.js"
import { TickHub } from "../src/market/TickHub.js"
import { Reconciler } from "../src/orders/Reconciler.js"
import { ActorRuntime } from "../src/runtime/ActorRuntime.js"
import { Ids } from "../src/runtime/Ids.js"
import { TradeManager } from "../src/trades/TradeManager.js"
import { backgroundTicks, type EngineNeeds, inEngine, stopSample, ticksPerSec } from "./ExitsBench.js"
import { benchDir, gc, median, percentile, repeat } from "./Measure.js"

/** One shape of the book: open trades spread round-robin over symbols and accounts. */
interface Shape {
  readonly trades: number
  readonly symbols: number
  readonly accounts: number
}

const accountIds = (n: number) => Array.from({ length: n }, (_, i) => `U${i + 1}`)
const symbolOf = (i: number) => `SYM${i}`

/** The engine as `ExitsBench` runs it, on `filename`, with `accounts` paper accounts. */
const inScaleEngine = <A>(filename: string, accounts: number, e: Effect.Effect<A, unknown, EngineNeeds>): Promise<A> =>
  inEngine(e, { filename, accounts, logLevel: LogLevel.Error })

/**
 * A database file with `shape.trades` open long trades (stop 900, target 1100, entry 1000). The
 * positions come from entry orders the engine placed and the paper broker filled, one per
 * (account, symbol) for all its trades (one order per trade would take minutes at 100k); each
 * trade is then opened through `TradeManager.open` from its entry order, as the entry path does.
 */
const buildFile = (shape: Shape): Promise<{ filename: string; seconds: number }> => {
  const filename = join(benchDir(), "scale.db")
  const t0 = performance.now()
  return inScaleEngine(
    filename,
    shape.accounts,
    Effect.gen(function* () {
      const hub = yield* TickHub
      const rt = yield* ActorRuntime
      const ids = yield* Ids
      const tm = yield* TradeManager
      const monitor = yield* ExitMonitor
      const accounts = accountIds(shape.accounts)
      const positionOf = (i: number) => ({
        accountId: accounts[i % accounts.length]!,
        symbol: symbolOf(i % shape.symbols),
      })
      // Each (account, symbol) position: 10 per trade on it, bought by one entry order.
      const held = new Map<string, { accountId: string; symbol: string; qty: number; orderId: string }>()
      for (let i = 0; i < shape.trades; i++) {
        const p = positionOf(i)
        const key = `${p.accountId}|${p.symbol}`
        const known = held.get(key)
        if (known) known.qty += 10
        else held.set(key, { ...p, qty: 10, orderId: yield* ids.next("ord") })
      }
      for (let s = 0; s < shape.symbols; s++)
        yield* hub.publish({ symbol: symbolOf(s), exchange: "NSE", ltp: 1_000, at: Date.now() })
      yield* Effect.forEach(
        held.values(),
        (p) =>
          Effect.gen(function* () {
            const input = {
              orderId: p.orderId,
              accountId: p.accountId,
              symbol: p.symbol,
              exchange: "NSE",
              side: "BUY",
              qty: p.qty,
              product: "NRML",
              orderType: "MARKET",
              price: null,
              triggerPrice: null,
              clientTag: p.orderId,
              purpose: "ENTRY",
              parentId: null,
              createdAt: Date.now(),
            } satisfies OrderInput
            yield* rt.spawn("order", p.orderId, input, "bench:seed")
            yield* rt.send(p.orderId, { type: "cmd.place" }, "bench:seed")
          }),
        { concurrency: 256, discard: true },
      )
      for (const p of held.values())
        for (;;) {
          const v = yield* rt.view(p.orderId)
          if (Option.isSome(v) && v.value.state === "EXECUTED") break
          if (Option.isSome(v) && v.value.status === "done")
            throw new Error(`seed order ${p.orderId}: ${v.value.state}`)
          yield* Effect.sleep("5 millis")
        }
      yield* Effect.forEach(
        Array.from({ length: shape.trades }, (_, i) => i),
        (i) => {
          const p = positionOf(i)
          return tm.open({
            accountId: p.accountId,
            symbol: p.symbol,
            exchange: "NSE",
            product: "NRML",
            direction: "LONG",
            qty: 10,
            entryPrice: 1_000,
            stopLoss: 900,
            target: 1_100,
            entryOrderId: held.get(`${p.accountId}|${p.symbol}`)!.orderId,
          })
        },
        { concurrency: 1_024, discard: true },
      )
      while (monitor.index.size < shape.trades) yield* Effect.sleep("10 millis")
      yield* rt.awaitIdle
      return { filename, seconds: (performance.now() - t0) / 1_000 }
    }),
  )
}

/**
 * From opening the file to the engine ready: the runtime rehydrated, the exit monitor's index
 * loaded, and the start's reconciliation with the broker done. Also how long one reconciliation
 * takes on its own on that book (part of the start-up).
 */
const startUp = (filename: string, shape: Shape): Promise<{ ms: number; reconcileMs: number }> => {
  const t0 = performance.now()
  return inScaleEngine(
    filename,
    shape.accounts,
    Effect.gen(function* () {
      const monitor = yield* ExitMonitor
      const rt = yield* ActorRuntime
      const ms = performance.now() - t0
      if (monitor.index.size !== shape.trades) throw new Error(`indexed ${monitor.index.size} of ${shape.trades}`)
      if (rt.liveIds().length < shape.trades) throw new Error(`rehydrated ${rt.liveIds().length} of ${shape.trades}`)
      const r0 = performance.now()
      const report = yield* Effect.flatMap(Reconciler, (r) => r.reconcile)
      if (report.openIssues.length > 0) throw new Error(`reconciliation: ${JSON.stringify(report.openIssues[0])}`)
      return { ms, reconcileMs: performance.now() - r0 }
    }),
  )
}

/** Heap in use with the engine running on `filename` (after a full collection). */
const heapWithEngine = (filename: string, accounts: number): Promise<number> =>
  inScaleEngine(
    filename,
    accounts,
    Effect.gen(function* () {
      yield* ExitMonitor
      yield* Effect.sleep("50 millis")
      gc()
      gc()
      return process.memoryUsage().heapUsed
    }),
  )

/**
 * A firing tick to its committed exit order with the file's trades present and 10,000 background
 * ticks a second over their symbols (as `tickToOrderMs`): ms per sample. Each sample opens one
 * fresh trade on a symbol of its own (its position seeded at the broker) and fires its stop.
 */
const tickToOrder = (filename: string, shape: Shape, samples: number) =>
  inScaleEngine(
    filename,
    shape.accounts,
    Effect.gen(function* () {
      const hub = yield* TickHub
      const rt = yield* ActorRuntime
      const _tm = yield* TradeManager
      const _monitor = yield* ExitMonitor
      const _paper = yield* PaperAccounts
      const accounts = accountIds(shape.accounts)
      const load = yield* backgroundTicks(hub, (k) => symbolOf(k % shape.symbols))
      const sub = yield* rt.subscribe
      const ms: Array<number> = []
      for (let s = 0; s < samples; s++) {
        const accountId = accounts[s % accounts.length]!
        ms.push((yield* stopSample(accountId, `FIRE${s}`, sub)).committed)
      }
      yield* Fiber.interrupt(load)
      return { p50: percentile(ms, 50), p99: percentile(ms, 99), samples: ms.length }
    }),
  )

const log = (line: string) => process.stderr.write(`scale: ${line}\n`)

/** One shape measured on the real engine: start-up, heap per trade, tick to order. */
const measureShape = async (shape: Shape, samples: number) => {
  const built = await buildFile(shape)
  log(
    `${shape.trades} trades / ${shape.symbols} symbols / ${shape.accounts} accounts built in ${built.seconds.toFixed(1)} s`,
  )
  await startUp(built.filename, shape)
  const starts: Array<{ ms: number; reconcileMs: number }> = []
  for (let i = 0; i < (shape.trades >= 100_000 ? 3 : 5); i++) starts.push(await startUp(built.filename, shape))
  gc()
  // What the trades add to the engine's heap: the same engine on an empty file, measured in turn.
  const empty = join(benchDir(), "empty.db")
  await heapWithEngine(empty, shape.accounts)
  const added: Array<number> = []
  const engineHeaps: Array<number> = []
  for (let i = 0; i < 3; i++) {
    const base = await heapWithEngine(empty, shape.accounts)
    added.push((await heapWithEngine(built.filename, shape.accounts)) - base)
    engineHeaps.push(base)
  }
  const latency = await tickToOrder(built.filename, shape, samples)
  const row = {
    trades: shape.trades,
    symbols: shape.symbols,
    accounts: shape.accounts,
    startUpMs: Math.round(median(starts.map((s) => s.ms))),
    reconcileMs: Math.round(median(starts.map((s) => s.reconcileMs))),
    heapBytesPerTrade: Math.round(median(added) / shape.trades),
    engineHeapMB: Number((median(engineHeaps) / 2 ** 20).toFixed(1)),
    tickToOrderMsP50: Number(latency.p50.toFixed(2)),
    tickToOrderMsP99: Number(latency.p99.toFixed(2)),
    tickToOrderSamples: latency.samples,
    buildSeconds: Number(built.seconds.toFixed(1)),
  }
  log(JSON.stringify(row))
  return row
}

/** The scaling figures: a row per shape, and stage 1 against symbols. */
export const scaleBench = async () => {
  const loadAtStart = loadavg()[0]!
  const samples = 300
  const rows = []
  for (const trades of [1_000, 10_000, 100_000]) {
    const row = await measureShape({ trades, symbols: trades / 10, accounts: 1 }, samples)
    const ticks = await repeat(3, 1, () => ticksPerSec(trades, trades / 10, 2_000_000))
    rows.push({ ...row, ticksPerSec: Math.round(ticks) })
  }
  const accounts = await measureShape({ trades: 10_000, symbols: 1_000, accounts: 4 }, samples)
  const bySymbols = []
  for (const symbols of [100, 1_000, 10_000]) {
    const ticks = await repeat(3, 1, () => ticksPerSec(10_000, symbols, 2_000_000))
    bySymbols.push({ trades: 10_000, symbols, ticksPerSec: Math.round(ticks) })
  }
  return {
    scale: {
      // The 1-minute load average when the run started and ended (the machine may be shared).
      loadAverage: { start: Number(loadAtStart.toFixed(2)), end: Number(loadavg()[0]!.toFixed(2)) },
      byOpenTrades: rows,
      byAccounts: [rows[1]!, accounts],
      bySymbols,
    },
  }
}

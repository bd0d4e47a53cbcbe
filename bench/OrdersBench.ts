/**
 * Benchmarks of the broker layer (issue 3): orders placed, acknowledged and filled through the
 * watcher against the paper broker, every step committed; and the time from a broker fill to the
 * committed order transition, as percentiles of single fills.
 */
import { join } from "node:path"
import { Effect, type Layer, Queue, type Scope } from "effect"
import { engineLayer } from "../src/main.js"
import { TickHub } from "../src/market/TickHub.js"
import { Instruments } from "../src/orders/Instruments.js"
import { ActorRuntime } from "../src/runtime/ActorRuntime.js"
import { benchDir, percentile, runBench } from "./Measure.js"

const symbol = "NIFTY26MARFUT"
const instruments = Instruments.fromList([{ exchange: "NFO", symbol, tickSize: 0.05, lotSize: 65 }])

const engine = () =>
  engineLayer({
    database: { filename: join(benchDir(), "orders.db") },
    paperAccounts: [{ accountId: "U1", capital: 1e13, instruments }],
    watcher: { pollIntervalMs: 3_600_000, fastPollIntervalMs: 3_600_000, quietStreamMs: 3_600_000 },
    reconcileIntervalMs: 3_600_000,
  })

const input = (id: string, over: Record<string, unknown> = {}) => ({
  orderId: id,
  accountId: "U1",
  symbol,
  exchange: "NFO",
  side: "BUY",
  qty: 65,
  product: "MIS",
  orderType: "MARKET",
  price: null,
  triggerPrice: null,
  clientTag: id,
  purpose: "ENTRY",
  parentId: null,
  createdAt: 0,
  ...over,
})

const run = <A>(e: Effect.Effect<A, unknown, ActorRuntime | TickHub | Scope.Scope>) =>
  runBench(Effect.scoped(e.pipe(Effect.provide(engine() as Layer.Layer<ActorRuntime | TickHub>))))

/** Market orders through the paper broker and the watcher until EXECUTED: orders per second. */
export const paperOrdersPerSec = (orders: number): Promise<number> =>
  run(
    Effect.gen(function* () {
      const rt = yield* ActorRuntime
      const hub = yield* TickHub
      const sub = yield* rt.subscribe
      yield* hub.publish({ symbol, exchange: "NFO", ltp: 22_000, at: 0 })
      const t0 = performance.now()
      yield* Effect.forEach(
        Array.from({ length: orders }, (_, i) => `o${i}`),
        (id) => Effect.zipRight(rt.spawn("order", id, input(id)), rt.send(id, { type: "cmd.place" })),
        { concurrency: 256, discard: true },
      )
      let executed = 0
      while (executed < orders) {
        for (const t of yield* Queue.takeBetween(sub, 1, 10_000)) if (t.to === "EXECUTED") executed++
      }
      return orders / ((performance.now() - t0) / 1000)
    }),
  )

/** Resting limit orders filled one tick at a time: ms from the tick to the committed EXECUTED, per fill. */
export const fillToStateMs = (fills: number): Promise<{ p50: number; p99: number; samples: number }> =>
  run(
    Effect.gen(function* () {
      const rt = yield* ActorRuntime
      const hub = yield* TickHub
      const top = 20_000
      yield* hub.publish({ symbol, exchange: "NFO", ltp: top + 100, at: 0 })
      // A ladder of resting buys, one tick apart: each lower tick crosses exactly one of them.
      yield* Effect.forEach(
        Array.from({ length: fills }, (_, i) => i),
        (i) =>
          Effect.zipRight(
            rt.spawn(
              "order",
              `l${i}`,
              input(`l${i}`, { orderType: "LIMIT", price: Number((top - i * 0.05).toFixed(2)) }),
            ),
            rt.send(`l${i}`, { type: "cmd.place" }),
          ),
        { concurrency: 256, discard: true },
      )
      yield* rt.awaitIdle
      const sub = yield* rt.subscribe
      const samples: Array<number> = []
      for (let i = 0; i < fills; i++) {
        const id = `l${i}`
        const t0 = performance.now()
        yield* hub.publish({ symbol, exchange: "NFO", ltp: Number((top - i * 0.05).toFixed(2)), at: i + 1 })
        for (;;) {
          const t = yield* Queue.take(sub)
          if (t.actorId === id && t.to === "EXECUTED") break
        }
        samples.push(performance.now() - t0)
      }
      return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length }
    }),
  )

/** The broker layer's figures. */
export const ordersBench = async (quick: boolean) => {
  await paperOrdersPerSec(500)
  const perSec = [
    await paperOrdersPerSec(quick ? 2_000 : 5_000),
    await paperOrdersPerSec(quick ? 2_000 : 5_000),
    await paperOrdersPerSec(quick ? 2_000 : 5_000),
  ].sort((a, b) => a - b)[1]!
  const latency = await fillToStateMs(quick ? 1_000 : 10_000)
  return {
    paperOrdersPerSec: Math.round(perSec),
    fillToStateMsP50: Number(latency.p50.toFixed(3)),
    fillToStateMsP99: Number(latency.p99.toFixed(3)),
    fillToStateSamples: latency.samples,
  }
}

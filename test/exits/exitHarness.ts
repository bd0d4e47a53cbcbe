/**
 * Helpers of the exit pipeline's engine tests: ticks with explicit times, waiting (in real time)
 * for a condition, the pipeline settled, trades opened from entries or directly, and rows.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import type { PaperBrokerOptions } from "../../src/broker/PaperBroker.js"
import type { ExitOptions } from "../../src/exits/ExitConfig.js"
import { ExitMonitor } from "../../src/exits/ExitMonitor.js"
import { TickHub } from "../../src/market/TickHub.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { type EntryPlan, type OpenTrade, TradeManager } from "../../src/trades/TradeManager.js"
import { testInstruments, testPaperEngine } from "../fixtures/TestEngine.js"

/** The paper engine with one account U1 holding 10 million, and these exit settings. */
export const exitEngine = (
  options: { dir?: string; exits?: Partial<ExitOptions>; account?: Partial<PaperBrokerOptions> } = {},
) =>
  testPaperEngine({
    ...(options.dir ? { dir: options.dir } : {}),
    accounts: [{ accountId: "U1", instruments: testInstruments, capital: 10_000_000, ...options.account }],
    // These tests open trades with no position behind them at the broker: no net-position cap.
    exits: { timeSweepMs: 0, capByNetPosition: false, ...options.exits },
  })

const exchangeOf: Record<string, string> = {
  NIFTY26MARFUT: "NFO",
  BANKNIFTY26MARFUT: "NFO",
  "RELIANCE-EQ": "NSE",
}

/** Publishes one tick (at the wall clock's now unless `at` is given). */
export const tick = (symbol: string, ltp: number, at?: number) =>
  Effect.flatMap(TickHub, (hub) =>
    hub.publish({ symbol, exchange: exchangeOf[symbol] ?? "NSE", ltp, at: at ?? Date.now() }),
  )

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** Waits in real time until `check` holds; fails with `what` after about five seconds. */
export const until = <E, R>(what: string, check: Effect.Effect<boolean, E, R>, timeoutMs = 5_000) =>
  Effect.gen(function* () {
    for (let waited = 0; waited < timeoutMs; waited += 5) {
      if (yield* check) return
      yield* sleep(5)
    }
    return yield* Effect.die(new Error(`timed out waiting until ${what}`))
  })

/** An actor's state ("" when it does not exist). */
export const stateOf = (id: string) =>
  Effect.flatMap(ActorRuntime, (rt) =>
    Effect.map(rt.view(id), (v) => Option.match(v, { onNone: () => "", onSome: (a) => a.state })),
  )

/** An actor's context. */
export const contextOf = (id: string) =>
  Effect.flatMap(ActorRuntime, (rt) => Effect.map(rt.view(id), (v) => Option.getOrThrow(v).context))

/** Waits until an actor is in `state`. */
export const untilState = (id: string, state: string) =>
  until(
    `${id} is ${state}`,
    Effect.map(stateOf(id), (s) => s === state),
  )

/** Waits until the exit pipeline has nothing queued and the runtime nothing to do, twice over. */
export const settled = Effect.gen(function* () {
  const monitor = yield* ExitMonitor
  const rt = yield* ActorRuntime
  for (let quiet = 0; quiet < 2; ) {
    yield* sleep(20)
    yield* rt.awaitIdle
    quiet = monitor.pending() === 0 ? quiet + 1 : 0
  }
})

/** Rows of a query. */
export const rows = <A extends object>(query: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.orDie(sql.unsafe<A>(query)))

/** Waits until stage 1 indexes the trade. */
export const untilIndexed = (tradeId: string) =>
  until(
    `${tradeId} is indexed`,
    Effect.map(ExitMonitor, (m) => m.index.has(tradeId)),
  )

/** Waits until stage 1 may fire the trade again (its latch released). */
export const untilArmed = (tradeId: string) =>
  until(
    `${tradeId} is armed`,
    Effect.map(ExitMonitor, (m) => m.index.peek(tradeId)?.armed === true),
  )

/** Opens a trade directly (as from an entry filled elsewhere) and waits until stage 1 has it. */
export const openTrade = (over: Partial<OpenTrade> = {}) =>
  Effect.gen(function* () {
    const trades = yield* TradeManager
    const tradeId = yield* trades.open({
      accountId: "U1",
      symbol: "NIFTY26MARFUT",
      exchange: "NFO",
      product: "MIS",
      direction: "LONG",
      qty: 65,
      entryPrice: 22000,
      stopLoss: 21950,
      target: 22100,
      ...over,
    })
    yield* untilIndexed(tradeId)
    return tradeId
  })

/** Places an entry through the engine and waits until its trade is open and indexed. */
export const enterTrade = (plan: Partial<EntryPlan> = {}) =>
  Effect.gen(function* () {
    const trades = yield* TradeManager
    const { tradeId } = yield* trades.enter({
      accountId: "U1",
      symbol: "NIFTY26MARFUT",
      exchange: "NFO",
      product: "NRML",
      side: "BUY",
      qty: 65,
      ...plan,
    })
    yield* untilState(tradeId, "OPEN")
    yield* untilIndexed(tradeId)
    return tradeId
  })

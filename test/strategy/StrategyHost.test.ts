/**
 * The strategy host on the real engine: strategies loaded from files, commands only through the
 * entry path, and a strategy's failure isolated from its exits, other strategies and other accounts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Transition } from "../../src/runtime/ActorRuntime.js"
import type { StrategyCommand, StrategyContext } from "../../src/strategy/Strategy.js"
import { StrategyHost, type StrategySpec } from "../../src/strategy/StrategyHost.js"
import { tick, until } from "../exits/exitHarness.js"
import { testRiskEngine } from "../fixtures/TestEngine.js"
import { netQty, query, riskAccount, riskInstruments } from "../risk/riskHarness.js"

const engine = (strategies: ReadonlyArray<StrategySpec>) =>
  testRiskEngine({
    accounts: [riskAccount("U1"), riskAccount("U2")],
    instruments: riskInstruments,
    enforcer: false,
    strategies: { strategies },
  })

const status = Effect.flatMap(StrategyHost, (h) => h.status)
const nifty: StrategyCommand = {
  executionType: "ENTRY",
  symbol: "NIFTY26MARFUT",
  exchange: "NFO",
  side: "BUY",
  qty: 65,
  product: "MIS",
}

/** A strategy the test drives through its context; it throws on any INFY-EQ tick when `throws`. */
const driven = (name: string, throws: boolean) => {
  const seen: { ctx: StrategyContext | null; events: Array<Transition> } = { ctx: null, events: [] }
  const strategy = {
    name,
    onStart: (ctx: StrategyContext) => {
      seen.ctx = ctx
    },
    onTick: (t: { symbol: string }) => {
      if (throws && t.symbol === "INFY-EQ") throw new Error(`${name} cannot handle INFY`)
    },
    onOrderEvent: (t: Transition) => {
      seen.events.push(t)
    },
  }
  const submit = (c: StrategyCommand) => Effect.promise(() => seen.ctx!.submit(c))
  const ready = until(
    `${name} started`,
    Effect.sync(() => seen.ctx !== null),
  )
  return { strategy, seen, submit, ready }
}

describe("strategy host", () => {
  it.live(
    "the example strategy, loaded from its file, enters on a breakout and exits on a breakdown, through the entry path",
    () =>
      Effect.gen(function* () {
        for (const p of [22_000, 22_001, 22_002, 22_010]) yield* tick("NIFTY26MARFUT", p)
        yield* until(
          "the breakout entry fills",
          Effect.map(netQty(), (q) => q.NIFTY26MARFUT === 65),
        )
        for (const p of [22_011, 22_012, 21_990]) yield* tick("NIFTY26MARFUT", p)
        yield* until(
          "the breakdown exit fills",
          Effect.map(netQty(), (q) => q.NIFTY26MARFUT === 0),
        )
        const rows = yield* query<{ command_id: string; execution_type: string; source: string; status: string }>(
          "SELECT command_id, execution_type, source, status FROM commands ORDER BY created_at",
        )
        expect(rows.map((r) => [r.command_id.split(":")[0], r.execution_type, r.source, r.status])).toEqual([
          ["breakout-example", "ENTRY", "strategy", "ACCEPTED"],
          ["breakout-example", "EXIT", "strategy", "ACCEPTED"],
        ])
        expect(yield* status).toEqual([
          { name: "breakout-example", accountId: "U1", state: "RUNNING", error: null, failures: 0, entriesRefused: 0 },
        ])
      }).pipe(
        Effect.provide(
          engine([
            {
              module: "src/strategy/examples/BreakoutExample.ts",
              accountId: "U1",
              params: { symbol: "NIFTY26MARFUT", exchange: "NFO", qty: 65, lookback: 3 },
            },
          ]).layer,
        ),
      ),
  )

  const a = driven("a", true)
  const b = driven("b", false)
  it.live(
    "a strategy that throws is isolated: its entries stop, its exits and the other account's strategy go on",
    () =>
      Effect.gen(function* () {
        yield* a.ready
        yield* b.ready
        yield* tick("NIFTY26MARFUT", 22_000)
        expect((yield* a.submit(nifty)).status).toBe("ACCEPTED")
        yield* until(
          "a's entry fills",
          Effect.map(netQty("U1"), (q) => q.NIFTY26MARFUT === 65),
        )
        yield* tick("INFY-EQ", 1_500)
        yield* until(
          "a is faulted",
          Effect.map(status, (s) => s[0]?.state === "FAULTED"),
        )
        const refused = yield* a.submit({ ...nifty, symbol: "RELIANCE-EQ", exchange: "NSE", qty: 1 })
        expect(refused.reason).toBe("STRATEGY_FAULTED: a stopped taking entries after: onTick: a cannot handle INFY")
        expect((yield* a.submit({ ...nifty, executionType: "EXIT", side: "SELL" })).status).toBe("ACCEPTED")
        yield* until(
          "a's exit fills",
          Effect.map(netQty("U1"), (q) => q.NIFTY26MARFUT === 0),
        )
        const other = yield* b.submit(nifty)
        expect(other.status).toBe("ACCEPTED")
        yield* until(
          "b's entry fills",
          Effect.map(netQty("U2"), (q) => q.NIFTY26MARFUT === 65),
        )
        yield* until(
          "b saw its order execute",
          Effect.sync(() => b.seen.events.some((t) => t.to === "EXECUTED")),
        )
        expect(new Set(b.seen.events.map((t) => t.actorId))).toEqual(new Set([other.orderId]))
        expect((yield* b.submit({ ...nifty, accountId: "U1" })).reason).toBe(
          "ACCOUNT: strategy b trades only account U2",
        )
        expect((yield* status).map((s) => [s.name, s.state, s.failures > 0, s.entriesRefused])).toEqual([
          ["a", "FAULTED", true, 1],
          ["b", "RUNNING", false, 0],
        ])
      }).pipe(
        Effect.provide(
          engine([
            { strategy: a.strategy, accountId: "U1" },
            { strategy: b.strategy, accountId: "U2" },
          ]).layer,
        ),
      ),
  )

  const c = driven("c", false)
  it.live("a module that fails to load, exports no strategy or is missing is reported, and the others run", () =>
    Effect.gen(function* () {
      yield* c.ready
      const s = yield* status
      expect(s.map((x) => [x.state, x.error?.replace(/\(.*$/, "").slice(0, 40)])).toEqual([
        ["LOAD_FAILED", "load: broken strategy: failed at load"],
        ["LOAD_FAILED", "load: the module exports no strategy "],
        ["LOAD_FAILED", expect.stringMatching(/^load: .*(Cannot find|Failed to load|not found)/i)],
        ["RUNNING", undefined],
      ])
      yield* tick("NIFTY26MARFUT", 22_000)
      expect((yield* c.submit(nifty)).status).toBe("ACCEPTED")
    }).pipe(
      Effect.provide(
        engine([
          { module: "test/strategy/fixtures/BrokenStrategy.ts", accountId: "U1" },
          { module: "test/strategy/fixtures/NotAStrategy.ts", accountId: "U1" },
          { module: "test/strategy/fixtures/Missing.ts", accountId: "U1" },
          { strategy: c.strategy, accountId: "U1" },
        ]).layer,
      ),
    ),
  )

  const d = driven("d", false)
  it.live("a command with a bad field is refused naming the field, and nothing is written", () =>
    Effect.gen(function* () {
      yield* d.ready
      expect((yield* d.submit({ ...nifty, qty: 0 })).reason).toMatch(/^INVALID: [\s\S]*qty/)
      expect((yield* d.submit({ ...nifty, qty: 64 })).reason).toMatch(/^INVALID: qty: /)
      expect((yield* d.submit({ ...nifty, symbol: "NOPE" })).reason).toMatch(/^INVALID: symbol: unknown instrument/)
      expect(yield* query("SELECT command_id FROM commands")).toEqual([])
      expect(yield* query("SELECT order_id FROM orders")).toEqual([])
    }).pipe(Effect.provide(engine([{ strategy: d.strategy, accountId: "U1" }]).layer)),
  )
})

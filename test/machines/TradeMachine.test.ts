import { describe, expect, it } from "vitest"
import type { AnyMachineSnapshot, EventFromLogic } from "xstate"
import { getShortestPaths } from "xstate/graph"
import { type LateFill, TradeMachine, type TradeInput } from "../../machines/TradeMachine.js"
import { TradeTransitions } from "../../machines/TradeTransitions.js"
import { eventOf, pathStates, run } from "../fixtures/machineHarness.js"
import { describeProperties, describeTransitionTable } from "../fixtures/machineSuites.js"

const table = TradeTransitions
const input = table.input as unknown as TradeInput
const t0 = input.openedAt
type TradeEvent = EventFromLogic<typeof TradeMachine>
const ev = (ref: string, at = t0 + 60_000) => eventOf(table, ref, at) as TradeEvent
type Unstamped<E> = E extends unknown ? Omit<E, "at"> : never
const events = (...e: ReadonlyArray<Unstamped<TradeEvent>>): ReadonlyArray<TradeEvent> =>
  e.map((x, i) => ({ ...x, at: t0 + (i + 1) * 1000 }) as TradeEvent)

describeTransitionTable(TradeMachine, table)

describe("trade paths", () => {
  it("OPEN → EXITING → CLOSED with the P&L of the exit fill", () => {
    const [path] = getShortestPaths(TradeMachine, {
      input,
      events: [ev("exit.started"), ev("exit.filled:current")],
      filterEvents: (s, e) => !(s.matches("OPEN") && e.type === "exit.filled"),
      toState: (s) => s.matches("CLOSED"),
    })
    expect(path && pathStates(path)).toEqual(["OPEN", "EXITING", "CLOSED"])
    // SCENARIOS.md: 65 bought at 22000.05, sold at 21949.95.
    expect(path!.state.context).toMatchObject({
      exitPrice: 21949.95,
      exitReason: "STOP_LOSS",
      exitIntentId: "I1",
      exitedQty: 65,
      realizedPnl: -3256.5,
    })
  })

  it("a failed exit returns the trade to OPEN in the next episode, and the next exit closes it", () => {
    const [path] = getShortestPaths(TradeMachine, {
      input,
      events: [ev("exit.started"), ev("exit.failed:current"), ev("exit.filled:current")],
      serializeState: (s) => JSON.stringify([s.value, Math.min(s.context.episode, 2)]),
      filterEvents: (s, e) => !(s.matches("OPEN") && e.type === "exit.filled"),
      toState: (s) => s.matches("CLOSED") && s.context.episode === 1,
    })
    expect(path && pathStates(path)).toEqual(["OPEN", "EXITING", "OPEN", "EXITING", "CLOSED"])
  })

  it("partial fills of a failed exit count in the P&L and the average exit price", () => {
    const r = run(
      TradeMachine,
      input,
      events(
        { type: "exit.started", intentId: "I1", reason: "STOP_LOSS" },
        { type: "exit.failed", intentId: "I1", reason: "cancelled", filledQty: 25, avgPrice: 21950 },
        { type: "exit.started", intentId: "I2", reason: "STOP_LOSS" },
        { type: "exit.filled", intentId: "I2", qty: 40, avgPrice: 21940, reason: "STOP_LOSS" },
      ),
    )
    expect(r.final.value).toBe("CLOSED")
    // (21950 − 22000.05) × 25 + (21940 − 22000.05) × 40 = −1251.25 − 2402 = −3653.25
    expect(r.final.context).toMatchObject({ episode: 1, exitedQty: 65, realizedPnl: -3653.25, exitPrice: 21943.8462 })
  })

  it("a SHORT gains when the exit price is below the entry", () => {
    const r = run(TradeMachine, { ...input, direction: "SHORT" }, [ev("exit.started"), ev("exit.filled:current")])
    expect(r.final.context.realizedPnl).toBe(3256.5)
  })

  it("the trailing stop follows a LONG's new highs and never moves down", () => {
    const r = run(
      TradeMachine,
      input,
      events(
        { type: "tick.price", price: 22030 },
        { type: "tick.price", price: 22010 },
        { type: "tick.price", price: 22045.5 },
      ),
    )
    expect(r.steps.map((s) => s.refused)).toEqual([false, true, false])
    expect(r.final.context).toMatchObject({ bestPrice: 22045.5, trailLevel: 22025.5 })
  })

  it("the trailing stop follows a SHORT's new lows, in percent or ticks", () => {
    const short = { ...input, direction: "SHORT" as const, entryPrice: 20000 }
    const percent = run(
      TradeMachine,
      { ...short, trailing: { distance: 0.5, unit: "percent" } },
      events({ type: "tick.price", price: 19900 }),
    )
    expect(percent.initial.context.trailLevel).toBe(20100)
    expect(percent.final.context.trailLevel).toBe(19999.5)
    const ticks = run(
      TradeMachine,
      { ...short, trailing: { distance: 40, unit: "ticks", tickSize: 0.05 } },
      events({ type: "tick.price", price: 19990 }),
    )
    expect(ticks.initial.context.trailLevel).toBe(20002)
    expect(ticks.final.context.trailLevel).toBe(19992)
  })

  it("a trade without trailing still keeps its best price, and no trailing stop", () => {
    const r = run(TradeMachine, { ...input, trailing: null }, events({ type: "tick.price", price: 22030 }))
    expect(r.final.context).toMatchObject({ bestPrice: 22030, trailLevel: null })
  })
})

describe("late exit fills (a fill of an ended intent's order)", () => {
  const late = (fillId: string, qty: number, price: number, intentId = "I0", orderId = "O9") =>
    ({ type: "exit.lateFill", intentId, orderId, fillId, qty, price, reason: "STOP_LOSS" }) as const

  it("counts once per (order, fill id): exited quantity and P&L at the fill's price", () => {
    const r = run(
      TradeMachine,
      input,
      events(
        { type: "exit.started", intentId: "I0", reason: "STOP_LOSS" },
        { type: "exit.failed", intentId: "I0", reason: "cancelled", filledQty: 0, avgPrice: 0 },
        late("F1", 25, 21950),
        late("F1", 25, 21950),
        // The same fill id on another order is another fill.
        late("F1", 15, 21960, "I0", "O8"),
      ),
    )
    expect(r.steps.map((s) => s.refused)).toEqual([false, false, false, true, false])
    expect(r.final.value).toBe("OPEN")
    // (21950 − 22000.05) × 25 + (21960 − 22000.05) × 15 = −1251.25 − 600.75
    expect(r.final.context).toMatchObject({ episode: 1, exitedQty: 40, realizedPnl: -1852, exitIntentId: null })
    expect(r.final.context.lateFills?.map((f: LateFill) => [f.orderId, f.fillId, f.qty])).toEqual([
      ["O9", "F1", 25],
      ["O8", "F1", 15],
    ])
    expect(r.final.context.excessQty).toBeUndefined()
  })

  it("closes the trade when late fills take the rest, with the ended intent's reason", () => {
    const r = run(
      TradeMachine,
      input,
      events(
        { type: "exit.started", intentId: "I0", reason: "TARGET" },
        { type: "exit.failed", intentId: "I0", reason: "cancelled", filledQty: 25, avgPrice: 22100 },
        { ...late("F1", 40, 22100.05), reason: "TARGET" },
      ),
    )
    expect(r.final.value).toBe("CLOSED")
    expect(r.final.context).toMatchObject({
      exitedQty: 65,
      exitIntentId: "I0",
      exitReason: "TARGET",
      // (22100 − 22000.05) × 25 + (22100.05 − 22000.05) × 40 = 2498.75 + 4000
      realizedPnl: 6498.75,
      closedAt: t0 + 3000,
    })
  })

  it("records what goes beyond the trade's quantity as an anomaly, never in exitedQty or the P&L", () => {
    const r = run(
      TradeMachine,
      input,
      events(
        { type: "exit.started", intentId: "I0", reason: "STOP_LOSS" },
        { type: "exit.failed", intentId: "I0", reason: "cancelled", filledQty: 40, avgPrice: 21950 },
        late("F1", 65, 21940),
      ),
    )
    expect(r.final.value).toBe("CLOSED")
    // 40 at 21950 and 25 of the 65 at 21940; the other 40 are not the trade's.
    expect(r.final.context).toMatchObject({ exitedQty: 65, realizedPnl: -3503.25, excessQty: 40 })
    expect(r.final.context.exitExcess).toEqual([
      { source: "exit.lateFill", intentId: "I0", orderId: "O9", fillId: "F1", qty: 40, price: 21940, at: t0 + 3000 },
    ])
  })

  it("mid-exit through a new episode: the working intent is cancelled, its later fills beyond the trade are excess", () => {
    const r = run(
      TradeMachine,
      input,
      events(
        { type: "exit.started", intentId: "I0", reason: "STOP_LOSS" },
        { type: "exit.failed", intentId: "I0", reason: "cancelled", filledQty: 0, avgPrice: 0 },
        { type: "exit.started", intentId: "I1", reason: "STOP_LOSS" },
        late("F1", 25, 21950),
        // I1 (65, sized before the late fill) filled before its cancel landed.
        { type: "exit.filled", intentId: "I1", qty: 65, avgPrice: 21945, reason: "STOP_LOSS" },
      ),
    )
    const lateStep = r.steps[3]!
    expect(lateStep.after.value).toBe("EXITING")
    expect(lateStep.actions.map((a) => a.params)).toContainEqual({
      kind: "send",
      to: "I1",
      event: { type: "cmd.cancel" },
    })
    expect(r.final.value).toBe("CLOSED")
    // 25 at 21950, 40 of I1's 65 at 21945; 25 excess.
    expect(r.final.context).toMatchObject({ exitedQty: 65, realizedPnl: -3453.25, excessQty: 25, exitIntentId: "I1" })
    expect(r.final.context.exitExcess?.[0]).toMatchObject({ source: "exit.filled", intentId: "I1", qty: 25 })
  })

  it("mid-exit: the cancelled intent's failure with the rest of the trade closes it", () => {
    const r = run(
      TradeMachine,
      input,
      events(
        { type: "exit.started", intentId: "I0", reason: "STOP_LOSS" },
        { type: "exit.failed", intentId: "I0", reason: "cancelled", filledQty: 0, avgPrice: 0 },
        { type: "exit.started", intentId: "I1", reason: "SQUARE_OFF" },
        late("F1", 25, 21950),
        { type: "exit.failed", intentId: "I1", reason: "cancelled", filledQty: 40, avgPrice: 21945 },
      ),
    )
    expect(r.final.value).toBe("CLOSED")
    expect(r.final.context).toMatchObject({ exitedQty: 65, exitIntentId: "I1", exitReason: "SQUARE_OFF" })
  })

  it("the initial context is trade@1's (no late-fill fields), so a trade@1 journal replays to its snapshot", () => {
    const r = run(TradeMachine, input, [])
    expect(Object.keys(r.initial.context)).not.toContain("lateFills")
    expect(Object.keys(r.initial.context)).not.toContain("excessQty")
  })
})

const isRounded = (x: number): boolean => Math.round(x * 100) / 100 === x

for (const direction of ["LONG", "SHORT"] as const) {
  const sign = direction === "LONG" ? 1 : -1
  describeProperties(
    TradeMachine,
    { ...table, machine: `trade (${direction})`, input: { ...(table.input as object), direction } as never },
    {
      invariant: (s: AnyMachineSnapshot) => {
        if (s.context.realizedPnl !== null) expect(isRounded(s.context.realizedPnl)).toBe(true)
        if (s.matches("CLOSED")) expect(s.context.realizedPnl).not.toBeNull()
        // What the exits took never exceeds the trade; the rest is recorded as excess.
        expect(s.context.exitedQty).toBeLessThanOrEqual(s.context.qty)
        expect(s.context.excessQty ?? 0).toBe(
          (s.context.exitExcess ?? []).reduce((n: number, x: { qty: number }) => n + x.qty, 0),
        )
        expect(s.context.exitIntentId !== null).toBe(!s.matches("OPEN"))
      },
      // The trailing stop and the best price only move in the trade's favour; episodes only count up.
      runInvariant: (steps) => {
        for (const s of steps) {
          expect(sign * (s.after.context.trailLevel - s.before.context.trailLevel)).toBeGreaterThanOrEqual(0)
          expect(sign * (s.after.context.bestPrice - s.before.context.bestPrice)).toBeGreaterThanOrEqual(0)
          expect(s.after.context.episode).toBeGreaterThanOrEqual(s.before.context.episode)
        }
      },
    },
  )
}

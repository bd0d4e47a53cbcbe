import { describe, expect, it } from "vitest"
import type { AnyMachineSnapshot, EventFromLogic } from "xstate"
import { getShortestPaths, getSimplePaths } from "xstate/graph"
import {
  type ExitIntentContext,
  type ExitIntentInput,
  ExitIntentMachine,
  allocation,
  membersOf,
  slicesOf,
} from "../../machines/ExitIntentMachine.js"
import { ExitIntentTransitions } from "../../machines/ExitIntentTransitions.js"
import {
  declaredSummary,
  eventOf,
  pathEvents,
  pathStates,
  restore,
  run,
  type Step,
  step,
  statePath,
} from "../fixtures/machineHarness.js"
import { describeProperties, describeTransitionTable } from "../fixtures/machineSuites.js"

const table = ExitIntentTransitions
const input = table.input as unknown as ExitIntentInput
const t1 = 1_772_423_160_000
const ev = (ref: string) => eventOf(table, ref, t1) as EventFromLogic<typeof ExitIntentMachine>
const ctx = (s: AnyMachineSnapshot) => s.context as ExitIntentContext
const declaredBy = (steps: ReadonlyArray<Step>) => steps.flatMap((s) => declaredSummary(s.actions))

describeTransitionTable(ExitIntentMachine, table)

describe("exit intent paths", () => {
  it("PENDING → APPROVED → PLACED → FILLED: both slices executed, then the trade hears of the whole exit", () => {
    const r = run(ExitIntentMachine, input, [
      ev("gate.approved:live"),
      ev("order.accepted:own"),
      ev("order.filled:first"),
      ev("order.filled:rest"),
      ev("order.executed:complete"),
      ev("order.accepted:second"),
      ev("order.filled:second"),
      ev("order.executed:second"),
    ])
    expect(r.steps.map((s) => statePath(s.after.value))).toEqual([
      "APPROVED.live",
      "PLACED",
      "PLACED",
      "PLACED",
      "PLACED",
      "PLACED",
      "PLACED",
      "FILLED",
    ])
    expect(declaredBy(r.steps)).toEqual([
      "spawn order O1",
      "send O1 cmd.place",
      "spawn order O2",
      "send O2 cmd.place",
      "send T1 exit.started",
      "send T1 exit.filled",
    ])
    // (21949.3846 × 65 + 21951 × 65) / 130
    expect(r.final.context).toMatchObject({ filledQty: 130, avgPrice: 21950.1923, brokerOrderId: "B1", orderId: "O1" })
    expect(r.steps.at(-1)!.actions.map((a) => a.params)).toEqual([
      {
        kind: "send",
        to: "T1",
        event: { type: "exit.filled", intentId: "I1", qty: 130, avgPrice: 21950.1923, reason: "STOP_LOSS" },
      },
    ])
    expect(ctx(r.final).slices!.map((s) => [s.orderId, s.filledQty, s.end])).toEqual([
      ["O1", 65, "EXECUTED"],
      ["O2", 65, "EXECUTED"],
    ])
  })

  it("one slice executed is not the intent filled: it waits for the other", () => {
    const r = run(ExitIntentMachine, input, [
      ev("gate.approved:live"),
      ev("order.filled:whole"),
      ev("order.executed:complete"),
    ])
    expect(statePath(r.final.value)).toBe("PLACED")
    expect(r.final.context).toMatchObject({ filledQty: 65, finishedAt: null })
    expect(declaredBy(r.steps.slice(1))).toEqual([])
  })

  it("a fill is applied once per fill id and order: O1's F1 twice is refused, O2's F1 is its own", () => {
    const r = run(ExitIntentMachine, input, [
      ev("gate.approved:live"),
      ev("order.filled:first"),
      ev("order.filled:first"),
      ev("order.filled:second"),
    ])
    expect(r.steps.map((s) => s.refused)).toEqual([false, false, true, false])
    expect(ctx(r.final).slices!.map((s) => [s.orderId, s.filledQty, s.fillIds])).toEqual([
      ["O1", 25, ["F1"]],
      ["O2", 65, ["F1"]],
    ])
    expect(r.final.context.filledQty).toBe(90)
    // A fill past its slice's quantity is refused even where the intent as a whole has room.
    const over = step(ExitIntentMachine, r.final, { ...ev("order.filled:second"), fillId: "F2", qty: 5 })
    expect(over.refused).toBe(true)
  })

  it("a slice failing cancels the other; the intent is FAILED once it has ended, with what did fill", () => {
    const r = run(ExitIntentMachine, input, [
      ev("gate.approved:live"),
      ev("order.accepted:own"),
      ev("order.filled:first"),
      ev("order.failed:second"),
    ])
    expect(statePath(r.final.value)).toBe("PLACED")
    expect(declaredBy([r.steps.at(-1)!])).toEqual(["send O1 cmd.cancel"])
    expect(r.final.context).toMatchObject({
      rejectCode: "ORDER_FAILED",
      error: "RMS: margin exceeds",
      finishedAt: null,
    })

    const cancelled = step(ExitIntentMachine, r.final, ev("order.cancelled:short"))
    expect(statePath(cancelled.after.value)).toBe("FAILED")
    expect(cancelled.actions.map((a) => a.params)).toEqual([
      {
        kind: "send",
        to: "T1",
        event: { type: "exit.failed", intentId: "I1", reason: "RMS: margin exceeds", filledQty: 25, avgPrice: 21950 },
      },
    ])
    expect(cancelled.after.context).toMatchObject({ rejectCode: "ORDER_FAILED", filledQty: 25, finishedAt: t1 })
    expect(slicesOf(ctx(cancelled.after)).map((s) => s.end)).toEqual(["CANCELLED", "FAILED"])
  })

  it("a slice that filled before its cancel took counts: FAILED with both slices' fills", () => {
    const r = run(ExitIntentMachine, input, [
      ev("gate.approved:live"),
      ev("order.failed:own"),
      ev("order.filled:second"),
      ev("order.executed:second"),
    ])
    expect(declaredBy(r.steps)).toEqual([
      "spawn order O1",
      "send O1 cmd.place",
      "spawn order O2",
      "send O2 cmd.place",
      "send T1 exit.started",
      "send O2 cmd.cancel",
      "send T1 exit.failed",
    ])
    expect(statePath(r.final.value)).toBe("FAILED")
    expect(r.final.context).toMatchObject({ filledQty: 65, avgPrice: 21951, rejectCode: "ORDER_FAILED" })
  })

  it("only the first short end cancels; a cancel after the approval goes to the slices still working", () => {
    const cancel = run(ExitIntentMachine, input, [
      ev("gate.approved:live"),
      ev("order.filled:whole"),
      ev("order.executed:complete"),
      ev("cmd.cancel"),
    ])
    expect(declaredBy([cancel.steps.at(-1)!])).toEqual(["send O2 cmd.cancel"])
    const both = run(ExitIntentMachine, input, [
      ev("gate.approved:live"),
      ev("cmd.cancel"),
      ev("order.cancelled:second"),
    ])
    expect(declaredBy(both.steps.slice(1))).toEqual(["send O1 cmd.cancel", "send O2 cmd.cancel", "send O1 cmd.cancel"])
    const again = step(ExitIntentMachine, both.final, { ...ev("order.cancelled:short"), filledQty: 0, avgPrice: 0 })
    expect(statePath(again.after.value)).toBe("FAILED")
    expect(again.after.context).toMatchObject({ rejectCode: "ORDER_CANCELLED", filledQty: 0 })
  })

  it("a late fill of a cancelled slice still counts while the intent waits for another", () => {
    const r = run(ExitIntentMachine, input, [
      ev("gate.approved:live"),
      ev("order.accepted:own"),
      ev("order.cancelled:second"),
      { ...ev("order.filled:second"), qty: 30 },
      ev("order.filled:whole"),
      ev("order.executed:complete"),
    ])
    expect(r.steps.map((s) => s.refused)).toEqual([false, false, false, false, false, false])
    expect(statePath(r.final.value)).toBe("FAILED")
    expect(r.final.context).toMatchObject({ filledQty: 95, rejectCode: "ORDER_CANCELLED" })
    expect(r.steps.at(-1)!.actions.at(-1)!.params).toMatchObject({ event: { type: "exit.failed", filledQty: 95 } })
  })

  it("a dark approval stays APPROVED, records its slices and places nothing", () => {
    const paths = getSimplePaths(ExitIntentMachine, { input, events: [ev("gate.approved:dark")] })
    const dark = paths.find((p) => p.state.matches({ APPROVED: "dark" }))
    expect(dark && pathStates(dark)).toEqual(["PENDING", "APPROVED.dark"])
    expect(dark!.state.hasTag("dark")).toBe(true)
    expect(slicesOf(ctx(dark!.state)).map((s) => s.orderId)).toEqual(["O1", "O2"])
    expect(declaredBy(run(ExitIntentMachine, input, pathEvents(dark!)).steps)).toEqual([])
  })

  it("a rejection, a cancel before approval or a malformed approval ends in REJECTED without a word to anyone", () => {
    const paths = getShortestPaths(ExitIntentMachine, {
      input,
      events: [ev("gate.rejected"), ev("cmd.cancel"), ev("gate.approved:malformed")],
    })
    const rejected = paths.filter((p) => p.state.matches("REJECTED"))
    expect(rejected.map(pathStates)).toEqual([
      ["PENDING", "REJECTED"],
      ["PENDING", "REJECTED"],
      ["PENDING", "REJECTED"],
    ])
    expect(rejected.map((p) => p.state.context.rejectCode).sort()).toEqual(["BAD_APPROVAL", "CANCELLED", "COOLDOWN"])
    for (const p of rejected) expect(declaredBy(run(ExitIntentMachine, input, pathEvents(p)).steps)).toEqual([])
    const bad = rejected.find((p) => p.state.context.rejectCode === "BAD_APPROVAL")!
    expect(bad.state.context.error).toBe("the slices make 65, the intent exits 130")
  })

  it("each spawned order gets the intent's trade facts, the gate's order terms and its slice", () => {
    const r = run(ExitIntentMachine, input, [ev("gate.approved:live")])
    const spawns = r.steps[0]!.actions.filter((a) => (a.params as { kind?: string }).kind === "spawn")
    expect(spawns.map((a) => a.params)).toEqual(
      ["O1", "O2"].map((id) => ({
        kind: "spawn",
        actorType: "order",
        actorId: id,
        input: {
          orderId: id,
          accountId: "U1",
          symbol: "NIFTY26MARFUT",
          exchange: "NFO",
          side: "SELL",
          qty: 65,
          product: "MIS",
          orderType: "LIMIT",
          price: 21950,
          triggerPrice: null,
          clientTag: `W-${id}`,
          purpose: "EXIT",
          parentId: "I1",
          createdAt: t1,
        },
      })),
    )
  })
})

describe("a position's exit (members)", () => {
  // Three trades of one position, oldest first: T1 65, T2 40, T3 25 make the intent's 130.
  const members = [
    { tradeId: "T1", qty: 65 },
    { tradeId: "T2", qty: 40 },
    { tradeId: "T3", qty: 25 },
  ]
  const position = { ...input, members }
  const sends = (s: Step, type: string) =>
    s.actions
      .map((a) => a.params as { kind?: string; to?: string; event?: { type: string } })
      .filter((p) => p.kind === "send" && p.event?.type === type)

  it("places one set of orders for the whole position and tells every member it started, then each its own quantity filled", () => {
    const r = run(ExitIntentMachine, position, [
      ev("gate.approved:live"),
      ev("order.accepted:own"),
      ev("order.filled:whole"),
      ev("order.executed:complete"),
      ev("order.accepted:second"),
      ev("order.filled:second"),
      ev("order.executed:second"),
    ])
    expect(statePath(r.final.value)).toBe("FILLED")
    expect(declaredBy([r.steps[0]!]).filter((d) => d.startsWith("spawn"))).toEqual(["spawn order O1", "spawn order O2"])
    expect(sends(r.steps[0]!, "exit.started").map((p) => p.to)).toEqual(["T1", "T2", "T3"])
    expect(sends(r.steps.at(-1)!, "exit.filled")).toEqual(
      members.map((m) => ({
        kind: "send",
        to: m.tradeId,
        event: {
          type: "exit.filled",
          intentId: "I1",
          qty: m.qty,
          avgPrice: ctx(r.final).avgPrice,
          reason: "STOP_LOSS",
        },
      })),
    )
  })

  it("a failure shares out what filled oldest first: T1 its 25 of 65, T2 and T3 nothing", () => {
    const r = run(ExitIntentMachine, position, [
      ev("gate.approved:live"),
      ev("order.accepted:own"),
      ev("order.filled:first"),
      ev("order.failed:second"),
      ev("order.cancelled:short"),
    ])
    expect(statePath(r.final.value)).toBe("FAILED")
    expect(
      sends(r.steps.at(-1)!, "exit.failed").map((p) => [p.to, (p.event as unknown as { filledQty: number }).filledQty]),
    ).toEqual([
      ["T1", 25],
      ["T2", 0],
      ["T3", 0],
    ])
  })

  it("members that do not make the intent are a malformed approval: REJECTED, nothing placed, nobody told", () => {
    // Members as [trade, qty] pairs.
    const cases: Array<[ReadonlyArray<readonly [string, number]>, string]> = [
      [
        [
          ["T1", 65],
          ["T2", 40],
        ],
        "the members make 105, the intent exits 130",
      ],
      [
        [
          ["T2", 65],
          ["T1", 65],
        ],
        "the members do not start with the trade",
      ],
      [
        [
          ["T1", 65],
          ["T1", 65],
        ],
        "the members name a trade twice",
      ],
      [
        [
          ["T1", 130],
          ["T2", 0],
        ],
        "a member's quantity is not positive",
      ],
    ]
    for (const [bad, error] of cases) {
      const members = bad.map(([tradeId, qty]) => ({ tradeId, qty }))
      const r = run(ExitIntentMachine, { ...input, members }, [ev("gate.approved:live")])
      expect(statePath(r.final.value)).toBe("REJECTED")
      expect(r.final.context).toMatchObject({ rejectCode: "BAD_APPROVAL", error })
      expect(declaredBy(r.steps)).toEqual([])
    }
  })

  it("shares a filled quantity oldest first, never beyond a member's own quantity", () => {
    expect(allocation(members, 0).map((m) => m.qty)).toEqual([0, 0, 0])
    expect(allocation(members, 70).map((m) => m.qty)).toEqual([65, 5, 0])
    expect(allocation(members, 130).map((m) => m.qty)).toEqual([65, 40, 25])
    expect(membersOf(input)).toEqual([{ tradeId: "T1", qty: 130 }])
  })
})

describe("exitIntent@1 snapshots and journals", () => {
  // A PLACED intent as exitIntent@1 stored it: one order for the whole qty, no slices.
  const v1Placed = {
    status: "active",
    value: "PLACED",
    context: {
      ...input,
      orderId: "O1",
      clientTag: "W-O1",
      orderType: "LIMIT",
      price: 21950,
      brokerOrderId: "B1",
      filledQty: 25,
      avgPrice: 21950,
      fillIds: ["F1"],
      rejectCode: null,
      error: null,
      approvedAt: t1 - 2_000,
      placedAt: t1 - 1_000,
      finishedAt: null,
      updatedAt: t1 - 1_000,
    },
  }
  const loaded = () =>
    ExitIntentMachine.resolveState({ value: v1Placed.value, context: v1Placed.context as never }) as AnyMachineSnapshot

  it("loads and goes on as one slice, kept in its own shape, to FILLED", () => {
    let s = loaded()
    expect(slicesOf(ctx(s))).toEqual([
      { orderId: "O1", qty: 130, filledQty: 25, avgPrice: 21950, fillIds: ["F1"], end: null },
    ])
    const dup = step(ExitIntentMachine, s, ev("order.filled:first"))
    expect(dup.refused).toBe(true)
    const fill = step(ExitIntentMachine, s, { ...ev("order.filled:rest"), qty: 105 })
    expect(fill.refused).toBe(false)
    s = fill.after
    const done = step(ExitIntentMachine, s, { ...ev("order.executed:complete"), filledQty: 130, avgPrice: 21949.2 })
    expect(statePath(done.after.value)).toBe("FILLED")
    expect(declaredSummary(done.actions)).toEqual(["send T1 exit.filled"])
    expect(done.after.context).toMatchObject({ filledQty: 130, avgPrice: 21949.2, fillIds: ["F1", "F3"] })
    expect("slices" in done.after.context).toBe(false)
  })

  it("fails on its one order's short end, as it did", () => {
    const s = step(ExitIntentMachine, loaded(), ev("order.cancelled:short"))
    expect(statePath(s.after.value)).toBe("FAILED")
    expect(declaredSummary(s.actions)).toEqual(["send T1 exit.failed"])
    expect(s.after.context).toMatchObject({ rejectCode: "ORDER_CANCELLED", filledQty: 25 })
  })

  it("a @1 journal replays to a snapshot of @1's shape", () => {
    const r = run(ExitIntentMachine, input, [
      ev("gate.approved:v1"),
      ev("order.accepted:own"),
      ev("order.filled:first"),
      { ...ev("order.filled:rest"), qty: 105, price: 21950 },
      { ...ev("order.executed:complete"), filledQty: 130, avgPrice: 21950 },
    ])
    expect(r.steps.map((s) => s.refused)).toEqual([false, false, false, false, false])
    expect(statePath(r.final.value)).toBe("FILLED")
    expect(declaredBy(r.steps)).toEqual([
      "spawn order O1",
      "send O1 cmd.place",
      "send T1 exit.started",
      "send T1 exit.filled",
    ])
    expect(Object.keys(r.final.context).sort()).toEqual(Object.keys(v1Placed.context).sort())
    expect(r.final.context).toMatchObject({
      filledQty: 130,
      avgPrice: 21950,
      fillIds: ["F1", "F3"],
      brokerOrderId: "B1",
    })
    expect(restore(ExitIntentMachine, r.final).context).toEqual(r.final.context)
  })
})

const count = (steps: ReadonlyArray<Step>, prefix: string): number =>
  declaredBy(steps).filter((d) => d.startsWith(prefix)).length

describeProperties(ExitIntentMachine, table, {
  invariant: (s) => {
    const c = ctx(s)
    const slices = slicesOf(c)
    expect(c.filledQty).toBeLessThanOrEqual(c.qty)
    expect(c.filledQty).toBe(slices.reduce((n, x) => n + x.filledQty, 0))
    for (const x of slices) {
      expect(x.filledQty).toBeLessThanOrEqual(x.qty)
      expect(new Set(x.fillIds).size).toBe(x.fillIds.length)
    }
    if (slices.length > 0) expect(slices.reduce((n, x) => n + x.qty, 0)).toBe(c.qty)
    if (s.matches("FILLED")) {
      expect(c.filledQty).toBe(c.qty)
      expect(c.rejectCode).toBeNull()
    }
    if (s.matches("FAILED") && c.slices !== undefined) expect(slices.every((x) => x.end !== null)).toBe(true)
  },
  runInvariant: (steps) => {
    const spawned = count(steps, "spawn order")
    expect([0, 1, 2]).toContain(spawned)
    expect(count(steps, "send T1 exit.started")).toBe(spawned > 0 ? 1 : 0)
    expect(count(steps, "send O1 cmd.place") + count(steps, "send O2 cmd.place")).toBe(spawned)
    expect(count(steps, "send T1 exit.filled") + count(steps, "send T1 exit.failed")).toBeLessThanOrEqual(
      count(steps, "send T1 exit.started"),
    )
  },
})

import { describe, expect, it } from "vitest"
import type { AnyMachineSnapshot, EventFromLogic } from "xstate"
import { getShortestPaths, getSimplePaths } from "xstate/graph"
import { ExitIntentMachine, type ExitIntentInput } from "../../machines/ExitIntentMachine.js"
import { ExitIntentTransitions } from "../../machines/ExitIntentTransitions.js"
import { type Step, declaredSummary, eventOf, pathEvents, pathStates, run } from "../fixtures/machineHarness.js"
import { describeProperties, describeTransitionTable } from "../fixtures/machineSuites.js"

const table = ExitIntentTransitions
const input = table.input as unknown as ExitIntentInput
const ev = (ref: string) => eventOf(table, ref, 1_772_423_160_000) as EventFromLogic<typeof ExitIntentMachine>
const key = (s: AnyMachineSnapshot): string => JSON.stringify([s.value, s.context.fillIds])

describeTransitionTable(ExitIntentMachine, table)

describe("exit intent paths", () => {
  it("PENDING → APPROVED → PLACED → FILLED tells the trade the exit started, then that it filled", () => {
    const [path] = getShortestPaths(ExitIntentMachine, {
      input,
      events: [
        ev("gate.approved:live"),
        ev("order.accepted:own"),
        ev("order.filled:first"),
        ev("order.filled:rest"),
        ev("order.executed:complete"),
      ],
      serializeState: key,
      toState: (s) => s.matches("FILLED") && s.context.fillIds.length === 2,
      filterEvents: (s, e) => !(s.matches({ APPROVED: "live" }) && e.type === "order.filled"),
    })
    expect(path && pathStates(path)).toEqual(["PENDING", "APPROVED.live", "PLACED", "PLACED", "PLACED", "FILLED"])
    const r = run(ExitIntentMachine, input, pathEvents(path!))
    expect(r.steps.flatMap((s) => declaredSummary(s.actions))).toEqual([
      "spawn order O1",
      "send O1 cmd.place",
      "send T1 exit.started",
      "send T1 exit.filled",
    ])
    expect(r.final.context).toMatchObject({ filledQty: 65, avgPrice: 21949.3846, brokerOrderId: "B1" })
  })

  it("a dark approval stays APPROVED and places nothing", () => {
    const paths = getSimplePaths(ExitIntentMachine, { input, events: [ev("gate.approved:dark")] })
    const dark = paths.find((p) => p.state.matches({ APPROVED: "dark" }))
    expect(dark && pathStates(dark)).toEqual(["PENDING", "APPROVED.dark"])
    expect(dark!.state.hasTag("dark")).toBe(true)
    expect(run(ExitIntentMachine, input, pathEvents(dark!)).steps.flatMap((s) => declaredSummary(s.actions))).toEqual(
      [],
    )
  })

  it("an order cancelled after a partial fill leaves the intent FAILED and reports the filled part", () => {
    const [path] = getShortestPaths(ExitIntentMachine, {
      input,
      events: [ev("gate.approved:live"), ev("order.filled:first"), ev("order.cancelled:short")],
      serializeState: key,
      toState: (s) => s.matches("FAILED") && s.context.fillIds.length === 1,
    })
    expect(path && pathStates(path)).toEqual(["PENDING", "APPROVED.live", "PLACED", "FAILED"])
    const r = run(ExitIntentMachine, input, pathEvents(path!))
    expect(r.steps.at(-1)!.actions.map((a) => a.params)).toEqual([
      {
        kind: "send",
        to: "T1",
        event: { type: "exit.failed", intentId: "I1", reason: "cancelled by user", filledQty: 25, avgPrice: 21950 },
      },
    ])
    expect(r.final.context).toMatchObject({ rejectCode: "ORDER_CANCELLED", filledQty: 25 })
  })

  it("a rejection or a cancel before approval ends in REJECTED without a word to the trade", () => {
    const paths = getShortestPaths(ExitIntentMachine, { input, events: [ev("gate.rejected"), ev("cmd.cancel")] })
    const rejected = paths.filter((p) => p.state.matches("REJECTED"))
    expect(rejected.map(pathStates)).toEqual([
      ["PENDING", "REJECTED"],
      ["PENDING", "REJECTED"],
    ])
    expect(rejected.map((p) => p.state.context.rejectCode).sort()).toEqual(["CANCELLED", "COOLDOWN"])
    for (const p of rejected) {
      expect(run(ExitIntentMachine, input, pathEvents(p)).steps.flatMap((s) => declaredSummary(s.actions))).toEqual([])
    }
  })

  it("the spawned order gets the intent's trade facts and the gate's order terms", () => {
    const r = run(ExitIntentMachine, input, [ev("gate.approved:live")])
    expect(r.steps[0]!.actions[0]!.params).toEqual({
      kind: "spawn",
      actorType: "order",
      actorId: "O1",
      input: {
        orderId: "O1",
        accountId: "U1",
        symbol: "NIFTY26MARFUT",
        exchange: "NFO",
        side: "SELL",
        qty: 65,
        product: "MIS",
        orderType: "LIMIT",
        price: 21950,
        triggerPrice: null,
        clientTag: "W-O1",
        purpose: "EXIT",
        parentId: "I1",
        createdAt: 1_772_423_160_000,
      },
    })
  })
})

const count = (steps: ReadonlyArray<Step>, prefix: string): number =>
  steps.flatMap((s) => declaredSummary(s.actions)).filter((d) => d.startsWith(prefix)).length

describeProperties(ExitIntentMachine, table, {
  invariant: (s) => {
    expect(s.context.filledQty).toBeLessThanOrEqual(s.context.qty)
    if (s.matches("FILLED")) expect(s.context.filledQty).toBe(s.context.qty)
  },
  runInvariant: (steps) => {
    expect(count(steps, "spawn order")).toBeLessThanOrEqual(1)
    expect(count(steps, "send T1 exit.started")).toBe(count(steps, "spawn order"))
    expect(count(steps, "send T1 exit.filled") + count(steps, "send T1 exit.failed")).toBeLessThanOrEqual(
      count(steps, "send T1 exit.started"),
    )
  },
})

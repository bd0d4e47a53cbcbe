import { describe, expect, it } from "vitest"
import type { AnyMachineSnapshot, EventFromLogic } from "xstate"
import { getShortestPaths, getSimplePaths } from "xstate/graph"
import { OrderMachine, type OrderInput } from "../../machines/OrderMachine.js"
import { OrderTransitions } from "../../machines/OrderTransitions.js"
import { declaredSummary, eventOf, pathEvents, pathStates, run, statePath } from "../fixtures/machineHarness.js"
import { describeProperties, describeTransitionTable } from "../fixtures/machineSuites.js"

const table = OrderTransitions
const input = table.input as unknown as OrderInput
const ev = (ref: string) => eventOf(table, ref, 1_772_423_160_000) as EventFromLogic<typeof OrderMachine>

/** A state key that keeps the graph finite: counters beyond what a path needs are folded. */
const orderKey = (s: AnyMachineSnapshot): string =>
  JSON.stringify([s.value, s.context.filledQty, Math.min(s.context.lookupAttempts, 6), s.context.cancelAttempts > 0])

describeTransitionTable(OrderMachine, table)

describe("order paths", () => {
  it("CREATED reaches EXECUTED through partial fills, acknowledged or not", () => {
    const paths = getSimplePaths(OrderMachine, {
      input,
      events: [ev("cmd.place"), ev("broker.accepted"), ev("broker.filled:first"), ev("broker.filled:rest")],
      serializeState: orderKey,
      toState: (s) => s.matches("EXECUTED"),
    })
    expect(paths.map(pathStates)).toEqual(
      expect.arrayContaining([
        ["CREATED", "SENT_TO_BROKER.awaitingAck", "SENT_TO_BROKER.working", "PARTIAL", "EXECUTED"],
        ["CREATED", "SENT_TO_BROKER.awaitingAck", "PARTIAL", "EXECUTED"],
      ]),
    )
  })

  it("a send with no answer is looked up, found, and works: never sent twice", () => {
    const [path] = getShortestPaths(OrderMachine, {
      input,
      events: [ev("cmd.place"), ev("broker.sendUnknown"), ev("broker.found")],
      serializeState: orderKey,
      toState: (s) => s.matches({ SENT_TO_BROKER: "working" }),
    })
    expect(path && pathStates(path)).toEqual([
      "CREATED",
      "SENT_TO_BROKER.awaitingAck",
      "SENT_TO_BROKER.unknown",
      "SENT_TO_BROKER.working",
    ])
    const r = run(OrderMachine, input, pathEvents(path!))
    const declared = r.steps.flatMap((s) => declaredSummary(s.actions))
    expect(declared.filter((d) => d === "effect broker.place")).toHaveLength(1)
    expect(declared).toContain("effect broker.lookup")
  })

  it("an acknowledgement timeout leads to a lookup, not a second placement", () => {
    const [path] = getShortestPaths(OrderMachine, {
      input,
      events: [ev("cmd.place"), ev("timer.ackTimeout"), ev("broker.found")],
      serializeState: orderKey,
      toState: (s) => s.matches({ SENT_TO_BROKER: "working" }),
    })
    expect(path && pathStates(path)).toEqual([
      "CREATED",
      "SENT_TO_BROKER.awaitingAck",
      "SENT_TO_BROKER.unknown",
      "SENT_TO_BROKER.working",
    ])
  })

  it("exhausted lookups fail the order after exactly lookupAttemptsMax lookups", () => {
    const [path] = getShortestPaths(OrderMachine, {
      input,
      events: [ev("cmd.place"), ev("broker.sendUnknown"), ev("broker.notFound"), ev("timer.lookupRetry")],
      serializeState: orderKey,
      toState: (s) => s.matches("FAILED"),
    })
    expect(path).toBeDefined()
    const final = path!.state
    expect(final.context.lookupAttempts).toBe(final.context.lookupAttemptsMax)
    const r = run(OrderMachine, input, pathEvents(path!))
    const lookups = r.steps.flatMap((s) => declaredSummary(s.actions)).filter((d) => d === "effect broker.lookup")
    expect(lookups).toHaveLength(final.context.lookupAttemptsMax)
  })

  it("failed lookups (network errors) never fail the order", () => {
    const paths = getShortestPaths(OrderMachine, {
      input,
      events: [ev("cmd.place"), ev("broker.sendUnknown"), ev("broker.lookupFailed"), ev("timer.lookupRetry")],
      serializeState: orderKey,
    })
    expect(paths.length).toBeGreaterThan(2)
    expect(paths.map((p) => statePath(p.state.value))).not.toContain("FAILED")
  })

  it("a fill after a cancel is recorded, and can still complete the order", () => {
    const [path] = getShortestPaths(OrderMachine, {
      input,
      events: [
        ev("cmd.place"),
        ev("broker.accepted"),
        ev("broker.filled:first"),
        ev("broker.cancelled"),
        ev("broker.filled:rest"),
      ],
      serializeState: orderKey,
      toState: (s) => s.matches("EXECUTED") && s.context.fillIds.length === 2,
      filterEvents: (s, e) => !(s.matches("PARTIAL") && e.type === "broker.filled"),
    })
    expect(path && pathStates(path)).toEqual([
      "CREATED",
      "SENT_TO_BROKER.awaitingAck",
      "PARTIAL",
      "CANCELLED",
      "EXECUTED",
    ])
  })

  it("a rejected cancel goes back to working once, with no second cancel and no second announcement", () => {
    const r = run(
      OrderMachine,
      input,
      ["cmd.place", "broker.accepted", "cmd.cancel", "broker.cancelRejected", "cmd.cancel"].map((ref, i) =>
        eventOf(table, ref, 1_772_423_100_000 + (i + 1) * 1000),
      ),
    )
    expect(r.steps.map((s) => statePath(s.after.value))).toEqual([
      "SENT_TO_BROKER.awaitingAck",
      "SENT_TO_BROKER.working",
      "SENT_TO_BROKER.cancelling",
      "SENT_TO_BROKER.working",
      "SENT_TO_BROKER.cancelling",
    ])
    const declared = r.steps.flatMap((s) => s.actions.map((a) => a.params))
    const keys = declared.flatMap((d) => (d !== null && typeof d === "object" && "key" in d ? [d.key] : []))
    expect(keys).toEqual(["W-O1", "W-O1/cancel/1", "W-O1/cancel/2"])
    expect(r.steps.flatMap((s) => declaredSummary(s.actions)).filter((d) => d.endsWith("order.accepted"))).toHaveLength(
      1,
    )
  })
})

describeProperties(OrderMachine, table, {
  terminalChangedBy: ["broker.filled"],
  invariant: (s) => {
    expect(s.context.filledQty).toBeLessThanOrEqual(s.context.qty)
    expect(s.context.fillIds.length).toBe(new Set(s.context.fillIds).size)
    if (s.matches("EXECUTED")) expect(s.context.filledQty).toBe(s.context.qty)
  },
  runInvariant: (steps) => {
    const effects = steps.flatMap((s) => s.actions.flatMap((a) => (isEffect(a.params) ? [a.params] : [])))
    expect(effects.filter((e) => e.effect === "broker.place").length).toBeLessThanOrEqual(1)
    const keys = effects.map((e) => e.key)
    expect(keys.length, keys.join(", ")).toBe(new Set(keys).size)
  },
})

function isEffect(p: unknown): p is { effect: string; key: string } {
  return typeof p === "object" && p !== null && (p as { kind?: unknown }).kind === "effect"
}

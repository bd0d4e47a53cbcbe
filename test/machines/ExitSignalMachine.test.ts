import { describe, expect, it } from "vitest"
import type { EventFromLogic } from "xstate"
import { getShortestPaths } from "xstate/graph"
import { ExitSignalMachine, type ExitSignalInput } from "../../machines/ExitSignalMachine.js"
import { ExitSignalTransitions } from "../../machines/ExitSignalTransitions.js"
import { type Step, declaredSummary, eventOf, pathEvents, pathStates, run } from "../fixtures/machineHarness.js"
import { describeProperties, describeTransitionTable } from "../fixtures/machineSuites.js"

const table = ExitSignalTransitions
const input = table.input as unknown as ExitSignalInput
const at = 1_772_423_160_000
const ev = (ref: string) => eventOf(table, ref, at) as EventFromLogic<typeof ExitSignalMachine>

describeTransitionTable(ExitSignalMachine, table)

describe("exit signal paths", () => {
  it("DETECTED → PUBLISHED.cooling → PUBLISHED.rearmed: one intent, one cooldown", () => {
    const [path] = getShortestPaths(ExitSignalMachine, {
      input,
      events: [ev("signal.publish"), ev("signal.suppress"), ev("timer.cooldown")],
      toState: (s) => s.matches({ PUBLISHED: "rearmed" }),
    })
    expect(path && pathStates(path)).toEqual(["DETECTED", "PUBLISHED.cooling", "PUBLISHED.rearmed"])
    expect(path!.state.hasTag("terminal")).toBe(true)
    const r = run(ExitSignalMachine, input, pathEvents(path!))
    expect(r.steps.flatMap((s) => declaredSummary(s.actions))).toEqual(["spawn exitIntent I1", "timer.arm cooldown"])
  })

  it("the published intent carries the signal's trade facts and the publish event's order terms", () => {
    const r = run(ExitSignalMachine, input, [ev("signal.publish")])
    expect(r.steps[0]!.actions.map((a) => a.params)).toEqual([
      {
        kind: "spawn",
        actorType: "exitIntent",
        actorId: "I1",
        input: {
          intentId: "I1",
          signalId: "S1",
          tradeId: "T1",
          accountId: "U1",
          symbol: "NIFTY26MARFUT",
          exchange: "NFO",
          product: "MIS",
          side: "SELL",
          qty: 65,
          exitReason: "STOP_LOSS",
          episodeId: 0,
          createdAt: at,
        },
      },
      { kind: "timer.arm", name: "cooldown", delayMs: 60_000 },
    ])
    expect(r.final.context).toMatchObject({ publishedAt: at, cooldownUntil: at + 60_000 })
    expect(r.final.hasTag("cooldown")).toBe(true)
  })

  it("a suppressed signal publishes nothing and never will", () => {
    const [path] = getShortestPaths(ExitSignalMachine, {
      input,
      events: [ev("signal.suppress"), ev("signal.publish")],
      toState: (s) => s.matches("SUPPRESSED"),
    })
    expect(path && pathStates(path)).toEqual(["DETECTED", "SUPPRESSED"])
    expect(path!.state.status).toBe("done")
  })
})

const spawns = (steps: ReadonlyArray<Step>): number =>
  steps.flatMap((s) => declaredSummary(s.actions)).filter((d) => d.startsWith("spawn")).length

describeProperties(ExitSignalMachine, table, {
  invariant: (s) => {
    if (s.context.publishedAt !== null)
      expect(s.context.cooldownUntil).toBe(s.context.publishedAt + s.context.cooldownMs)
    expect(s.hasTag("cooldown")).toBe(s.matches({ PUBLISHED: "cooling" }))
  },
  runInvariant: (steps) => expect(spawns(steps)).toBeLessThanOrEqual(1),
})

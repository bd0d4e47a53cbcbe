import { describe, expect, it } from "vitest"
import type { EventFromLogic, SnapshotFrom } from "xstate"
import { getShortestPaths } from "xstate/graph"
import { AccountMachine, type AccountInput } from "../../machines/AccountMachine.js"
import { AccountTransitions } from "../../machines/AccountTransitions.js"
import { eventOf, pathStates, run } from "../fixtures/machineHarness.js"
import { describeProperties, describeTransitionTable } from "../fixtures/machineSuites.js"

const table = AccountTransitions
const input = table.input as unknown as AccountInput
const ev = (ref: string) => eventOf(table, ref, 1_772_423_160_000) as EventFromLogic<typeof AccountMachine>

describeTransitionTable(AccountMachine, table)

describe("account paths", () => {
  it("REDUCING can be halted or resumed; HALTED is left only by a resume", () => {
    const events = [ev("risk.reduce"), ev("risk.halt"), ev("risk.resume")]
    const byValue = (s: { value: unknown }) => JSON.stringify(s.value)
    const from = (refs: ReadonlyArray<string>) => {
      const fromState = run(AccountMachine, input, refs.map(ev)).final as SnapshotFrom<typeof AccountMachine>
      return getShortestPaths(AccountMachine, { input, fromState, events, serializeState: byValue })
        .map((p) => pathStates(p).join(" → "))
        .sort()
    }
    expect(from(["risk.reduce"])).toEqual(["REDUCING", "REDUCING → ACTIVE", "REDUCING → HALTED"])
    expect(from(["risk.halt"])).toEqual(["HALTED", "HALTED → ACTIVE", "HALTED → ACTIVE → REDUCING"])
  })

  it("forced unwind survives halts and resumes until switched off", () => {
    const paths = getShortestPaths(AccountMachine, {
      input,
      events: [ev("unwind.on"), ev("risk.halt"), ev("risk.resume"), ev("unwind.off")],
      serializeState: (s) => JSON.stringify([s.value, s.context.forcedUnwind]),
    })
    const unwinding = paths.filter((p) => p.state.context.forcedUnwind).map((p) => pathStates(p).at(-1))
    expect(unwinding.sort()).toEqual(["ACTIVE", "HALTED"])
    for (const p of paths) expect(p.state.context.unwindReason === null).toBe(!p.state.context.forcedUnwind)
  })

  it("tags REDUCING and HALTED as blocking entries, never ACTIVE", () => {
    const paths = getShortestPaths(AccountMachine, { input, events: [ev("risk.reduce"), ev("risk.halt")] })
    for (const p of paths) expect(p.state.hasTag("blocksEntries")).toBe(!p.state.matches("ACTIVE"))
  })
})

describeProperties(AccountMachine, table, {
  invariant: (s) => {
    expect(s.status).toBe("active")
    expect(s.context.unwindReason !== null).toBe(s.context.forcedUnwind)
    expect(s.context.unwindSince !== null).toBe(s.context.forcedUnwind)
    expect(s.context.reason === null).toBe(s.matches("ACTIVE"))
  },
})

/**
 * An invalid scenario file is refused with a message naming the field: one test per required
 * field, and `warden simulate` exits 2 for it.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { Either } from "effect"
import { decodeScenario } from "../../src/sim/Scenario.js"
import { tempDir } from "../fixtures/TestEngine.js"

const valid = {
  name: "minimal",
  seed: 1,
  start: "2026-03-02T09:15:00+05:30",
  durationMs: 1000,
  instruments: [{ symbol: "NIFTY26MARFUT", exchange: "NFO", startPrice: 22000 }],
  accounts: [{ id: "U1" }],
  ticks: [{ symbol: "NIFTY26MARFUT", kind: "path", points: [[0, 22000]] }],
  steps: [],
}

const refusal = (value: unknown) => Either.match(decodeScenario(value), { onLeft: (e) => e, onRight: () => null })

describe("scenario file", () => {
  it("an account may be at the paper broker (the default) or at a fake Shoonya or Dhan", () => {
    const brokers = ["paper", "shoonya-fake", "dhan-fake"].map((broker) => ({ id: broker, broker }))
    const parsed = Either.getOrThrow(decodeScenario({ ...valid, accounts: [{ id: "U0" }, ...brokers] }))
    expect(parsed.accounts.map((a) => a.broker)).toEqual(["paper", "paper", "shoonya-fake", "dhan-fake"])
  })

  it("a minimal file is valid", () => {
    expect(refusal(valid)).toBeNull()
  })

  for (const field of ["name", "start", "durationMs", "instruments", "accounts", "ticks", "steps"] as const) {
    it(`a file without ${field} is refused naming ${field}`, () => {
      const { [field]: _, ...rest } = valid
      const e = refusal(rest)
      expect(e?.field).toBe(field)
      expect(e?.message).toMatch(new RegExp(`^${field}: `))
    })
  }

  it.each([
    [{ ...valid, durationMs: -5 }, "durationMs"],
    [{ ...valid, start: "yesterday" }, "start"],
    [{ ...valid, accounts: [{}] }, "accounts.0.id"],
    [{ ...valid, accounts: [{ id: "U1" }, { id: "Z1", broker: "zerodha" }] }, "accounts.1.broker"],
    [{ ...valid, ticks: [{ symbol: "NIFTY26MARFUT", kind: "randomWalk", volatilityBps: 1 }] }, "ticks.0.intervalMs"],
    [{ ...valid, steps: [{ atMs: 0 }] }, "steps.0"],
    [{ ...valid, steps: [{ atMs: 0, crash: true, feedDown: { symbol: "NIFTY26MARFUT", forMs: 5 } }] }, "steps.0"],
    [{ ...valid, broker: { rejectRate: 2 } }, "broker.rejectRate"],
    [{ ...valid, expect: { tradesClozed: 1 } }, "expect.tradesClozed"],
    [{ ...valid, ticks: [{ symbol: "UNKNOWN", kind: "path", points: [] }] }, "ticks.0.symbol"],
  ])("a bad value is refused naming the field (%#)", (value, field) => {
    expect(refusal(value)?.field).toBe(field)
  })

  it("warden simulate exits 2 and names the field for an invalid file", () => {
    const file = join(tempDir(), "bad.json")
    const { durationMs: _, ...rest } = valid
    writeFileSync(file, JSON.stringify(rest))
    let status = 0
    let stderr = ""
    try {
      execFileSync("node", ["bin/warden.js", "simulate", file], { encoding: "utf8", stdio: "pipe" })
    } catch (e) {
      const err = e as { status: number; stderr: string }
      status = err.status
      stderr = err.stderr
    }
    expect(status).toBe(2)
    expect(stderr).toContain("durationMs")
  })
})

/** The same scenario and seed give the same journal, run after run; another seed gives another. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { isReplayable, loadLibrary } from "../../src/sim/Library.js"
import { runScenario } from "../../src/sim/Simulation.js"

const library = loadLibrary()
const faulty = library.find((s) => s.file === "duplicate-reordered-updates.json")!.scenario

describe("determinism", () => {
  it("leaves out only the scenarios with a fake broker (real I/O timing), and checks a paper one", () => {
    const left = library.filter((s) => !isReplayable(s.scenario)).map((s) => s.file)
    expect(left.sort()).toEqual(["fake-broker-faults.json", "multi-broker.json"])
    expect(isReplayable(faulty)).toBe(true)
  })

  it.live(
    "two runs of a faulty scenario with one seed have the same journalHash, counts and trades",
    () =>
      Effect.gen(function* () {
        const a = yield* runScenario(faulty, { seed: 11 })
        const b = yield* runScenario(faulty, { seed: 11 })
        expect(a.journalHash).toMatch(/^sha256:[0-9a-f]{64}$/)
        expect(b.journalHash).toBe(a.journalHash)
        expect(b.counts).toEqual(a.counts)
        expect(b.trades).toEqual(a.trades)
      }),
    { timeout: 30_000 },
  )

  it.live(
    "another seed gives another journal",
    () =>
      Effect.gen(function* () {
        const a = yield* runScenario(faulty, { seed: 11 })
        const c = yield* runScenario(faulty, { seed: 12 })
        expect(c.journalHash).not.toBe(a.journalHash)
      }),
    { timeout: 30_000 },
  )
})

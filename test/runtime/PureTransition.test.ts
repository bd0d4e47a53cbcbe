import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type AnyMachineSnapshot, type AnyStateMachine, initialTransition, transition } from "xstate"
import { machines } from "../../machines/Machines.js"
import { pureInitialTransition, pureTransition } from "../../src/runtime/PureTransition.js"
import { transitionTables } from "../fixtures/transitionTables.js"

/** Every event sample of a machine's transition table, as events. */
const samplesOf = (type: keyof typeof machines) => {
  const table = transitionTables[type]
  return Object.entries(table.events).flatMap(([eventType, samples]) =>
    Object.values(samples).map((fields) => ({ type: eventType, ...(fields as object) })),
  )
}

describe("pureTransition", () => {
  for (const type of Object.keys(machines) as Array<keyof typeof machines>) {
    it(`gives the same snapshots and actions as xstate's transition() for random ${type} event sequences`, () => {
      const machine = machines[type] as unknown as AnyStateMachine
      const input = transitionTables[type].input
      const samples = samplesOf(type)
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: samples.length - 1 }), { maxLength: 30 }), (picks) => {
          let [a, aActions] = initialTransition(machine, input as never) as unknown as [
            AnyMachineSnapshot,
            Array<unknown>,
          ]
          let [b, bActions] = pureInitialTransition(machine, input) as unknown as [AnyMachineSnapshot, Array<unknown>]
          expect(b.value).toEqual(a.value)
          expect(bActions.map(strip)).toEqual(aActions.map(strip))
          picks.forEach((pick, i) => {
            const event = { ...samples[pick]!, at: i + 1 }
            ;[a, aActions] = transition(machine, a, event as never) as unknown as [AnyMachineSnapshot, Array<unknown>]
            ;[b, bActions] = pureTransition(machine, b, event) as unknown as [AnyMachineSnapshot, Array<unknown>]
            expect(machine.getPersistedSnapshot(b)).toEqual(machine.getPersistedSnapshot(a))
            expect(bActions.map(strip)).toEqual(aActions.map(strip))
          })
        }),
        { numRuns: 200 },
      )
    })
  }
})

/** An action without its execution info (which names the throw-away actor). */
const strip = (a: unknown) => {
  const { type, params } = a as { type: string; params?: unknown }
  return { type, params }
}

/**
 * The machines' house rules, checked by a program rather than by review: what a machine file may
 * import and call, how events are named, and that every machine has a version and a table.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import type { AnyStateMachine, AnyStateNode } from "xstate"
import { machines } from "../../machines/Machines.js"
import { transitionTables } from "../fixtures/transitionTables.js"

const dir = join(import.meta.dirname, "../../machines")
const files = readdirSync(dir).filter((f) => f.endsWith(".ts"))
const registry = Object.entries(machines) as ReadonlyArray<[string, AnyStateMachine]>
const eventName = /^[a-z]+\.[a-zA-Z]+$/

/** Module specifiers a file imports or re-exports, dynamic imports included, as TypeScript reads them. */
const importsOf = (source: string): ReadonlyArray<string> =>
  ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName)

const nodesOf = (node: AnyStateNode): ReadonlyArray<AnyStateNode> => [
  node,
  ...(Object.values(node.states) as Array<AnyStateNode>).flatMap(nodesOf),
]

describe("machine files", () => {
  for (const file of files) {
    const source = readFileSync(join(dir, file), "utf8")

    it(`${file} imports only xstate, src/domain and sibling machines`, () => {
      // Sibling imports are for the registry and for the input types of spawned machines.
      const bad = importsOf(source).filter(
        (m) => m !== "xstate" && !m.startsWith("../src/domain/") && !/^\.\/[A-Za-z]+\.js$/.test(m),
      )
      expect(bad).toEqual([])
    })

    it(`${file} reads no clock and no randomness`, () => {
      expect(source).not.toMatch(/Date\.now|Math\.random|new Date\(|performance\.now|crypto\./)
    })

    it(`${file} opens with a header comment`, () => {
      expect(source.trimStart().startsWith("/**")).toBe(true)
    })
  }

  it("every machine file has a transitions file beside it", () => {
    const machineFiles = files.filter((f) => f.endsWith("Machine.ts"))
    expect(machineFiles.length).toBe(registry.length)
    const missing = machineFiles
      .map((f) => f.replace(/Machine\.ts$/, "Transitions.ts"))
      .filter((f) => !files.includes(f))
    expect(missing).toEqual([])
  })
})

describe("registered machines", () => {
  for (const [type, machine] of registry) {
    it(`${type} has a version named after its actor type`, () => {
      expect(machine.version).toMatch(new RegExp(`^${type}@\\d+$`))
      expect(machine.id).toBe(type)
    })

    it(`${type} names every event <source>.<what>`, () => {
      const types = machine.root.events.filter((e: string) => !e.startsWith("xstate."))
      expect(types.filter((e: string) => !eventName.test(e))).toEqual([])
    })

    it(`${type} has a transition table covering every event it accepts`, () => {
      const table = transitionTables[type as keyof typeof transitionTables]
      expect(table.machine).toBe(type)
      const accepted = machine.root.events.filter((e: string) => !e.startsWith("xstate."))
      expect(Object.keys(table.events).sort()).toEqual([...new Set(accepted)].sort())
      for (const e of Object.keys(table.events)) expect(e === "xstate.init" || eventName.test(e), e).toBe(true)
    })

    it(`${type} uses named guards only, and no after, invoke or XState-run effects`, () => {
      for (const node of nodesOf(machine.root)) {
        expect(node.invoke, node.id).toEqual([])
        expect(node.after, node.id).toEqual([])
        const transitions = [...node.transitions.values()].flat().concat(node.always ?? [])
        for (const t of transitions) {
          if (t.guard !== undefined) expect(typeof t.guard, `${node.id} ${t.eventType}`).not.toBe("function")
          for (const a of t.actions ?? []) {
            const name =
              typeof a === "string" ? a : typeof a === "object" && a !== null ? (a as { type: string }).type : a.name
            expect(name, `${node.id} ${t.eventType}`).not.toMatch(/^xstate\.(raise|sendTo|spawnChild|emit|cancel)/)
          }
        }
      }
    })
  }
})

describe("snapshots", () => {
  it("no machine uses children or history states, so status, value and context are a whole snapshot", () => {
    for (const [type, machine] of Object.entries(machines)) {
      const json = JSON.stringify((machine as unknown as { toJSON: () => unknown }).toJSON())
      expect(json, `${type} invokes an actor`).not.toMatch(/"invoke":\[\{/)
      expect(json, `${type} has a history state`).not.toMatch(/"type":"history"/)
    }
  })
})

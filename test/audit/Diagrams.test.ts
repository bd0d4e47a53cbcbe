import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { type AnyStateMachine, setup } from "xstate"
import { machines } from "../../machines/Machines.js"
import { mermaidIds, toMermaid } from "../../src/audit/MermaidDiagram.js"
import { diagramPath, renderDiagrams } from "../../src/cli/diagrams.js"
import { transitionTables } from "../fixtures/transitionTables.js"

const dir = join(import.meta.dirname, "../../diagrams")
const rendered = renderDiagrams()

describe("committed diagrams", () => {
  it("exist for exactly the registered machines", () => {
    const files = readdirSync(dir).filter((f) => f.endsWith(".mmd"))
    expect(files.sort()).toEqual(
      Object.keys(machines)
        .map((t) => `${t}.mmd`)
        .sort(),
    )
  })

  for (const [type, text] of Object.entries(rendered)) {
    it(`diagrams/${type}.mmd is what the ${type} machine renders today`, () => {
      const committed = readFileSync(diagramPath(dir, type), "utf8")
      expect(committed, `diagrams/${type}.mmd is stale: run \`npx warden diagrams\``).toBe(text)
    })

    it(`diagrams/${type}.mmd shows every state of the ${type} table`, () => {
      const machine = machines[type as keyof typeof machines] as unknown as AnyStateMachine
      const ids = mermaidIds(machine.root)
      const lines = new Set(text.split("\n").map((l) => l.trim()))
      for (const state of transitionTables[type as keyof typeof transitionTables].states) {
        const id = ids.get(`${machine.id}.${state}`)
        expect(id, state).toBeDefined()
        const declared = [id, `state "${state.split(".").at(-1)}" as ${id}`, `state ${id} {`]
        expect(
          declared.some((d) => lines.has(d!)),
          `${state} as ${id}`,
        ).toBe(true)
      }
    })
  }

  it("renders the same text every time", () => {
    expect(renderDiagrams()).toEqual(rendered)
  })
})

describe("toMermaid", () => {
  const machine = setup({
    types: { events: {} as { type: "go.on" } | { type: "go.back" } | { type: "go.done" } },
    guards: { isReady: () => true },
  }).createMachine({
    id: "demo",
    version: "demo@1",
    initial: "A",
    states: {
      A: {
        tags: ["open"],
        initial: "idle",
        states: {
          idle: { on: { "go.on": [{ guard: "isReady", target: "busy" }, { target: "#demo.B.idle" }] } },
          busy: { always: { guard: "isReady", target: "idle" } },
        },
        on: { "go.back": {} },
      },
      B: {
        initial: "idle",
        states: { idle: { on: { "go.done": { target: "#demo.C" } } } },
      },
      C: { type: "final", tags: ["terminal"] },
    },
  })

  it("draws compound states, initials, finals, guards, fallbacks, eventless and internal moves, and tags", () => {
    expect(toMermaid(machine)).toBe(
      [
        "---",
        "title: demo (demo@1)",
        "---",
        "stateDiagram-v2",
        "  %% Generated from machines/ by `warden diagrams`. Do not edit.",
        "  [*] --> A",
        "  state A {",
        "    [*] --> A__idle",
        '    state "idle" as A__idle',
        "    busy",
        "    A__idle --> busy : go.on [isReady]",
        "    busy --> A__idle : always [isReady]",
        "  }",
        "  state B {",
        "    [*] --> B__idle",
        '    state "idle" as B__idle',
        "  }",
        "  C",
        "  C --> [*]",
        "  note right of A : open",
        "  note right of C : terminal",
        "  A --> A : go.back",
        "  A__idle --> B__idle : go.on [else]",
        "  B__idle --> C : go.done",
        "",
      ].join("\n"),
    )
  })
})

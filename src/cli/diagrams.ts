/**
 * The diagrams of every registered machine: `diagrams/<actorType>.mmd`, generated, never edited.
 * A test fails when a committed diagram differs from what the machines render today.
 */
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { AnyStateMachine } from "xstate"
import { machines } from "../../machines/Machines.js"
import { toMermaid } from "../audit/MermaidDiagram.js"

/** The Mermaid text of every registered machine, by actor type. */
export const renderDiagrams = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(machines).map(([type, machine]) => [type, toMermaid(machine as unknown as AnyStateMachine)]),
  )

/** The file a machine's diagram is written to, under `dir`. */
export const diagramPath = (dir: string, actorType: string): string => join(dir, `${actorType}.mmd`)

/** Writes `<dir>/<actorType>.mmd` for every registered machine; returns the paths written. */
export const writeDiagrams = async (dir: string): Promise<Array<string>> => {
  await mkdir(dir, { recursive: true })
  const written: Array<string> = []
  for (const [type, text] of Object.entries(renderDiagrams())) {
    const path = diagramPath(dir, type)
    await writeFile(path, text, "utf8")
    written.push(path)
  }
  return written
}

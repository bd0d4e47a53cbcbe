/**
 * A machine's statechart as plain JSON: its state tree (kinds, tags, initial children) and every
 * transition as an edge (event, guard, source, target). It is what the audit draws, and what
 * `recordMachineDefinitions` stores per machine version, so that an actor's chart is the one of
 * the version it ran on even after the machine has changed.
 *
 * Edges are keyed by `transitionKey` (source node, event, candidate index), the same key the
 * audit replay reads off XState's microsteps, so a taken transition finds its edge exactly.
 */
import type { AnyStateMachine, AnyStateNode } from "xstate"
import { guardName } from "./MermaidDiagram.js"

/** One state node. */
export interface ChartNode {
  /** XState node id: `order.SENT_TO_BROKER.awaitingAck`. */
  readonly id: string
  readonly key: string
  /** The state key the journal records: `SENT_TO_BROKER.awaitingAck` ("" for the root). */
  readonly path: string
  readonly kind: "atomic" | "compound" | "parallel" | "final" | "history"
  readonly tags: ReadonlyArray<string>
  /** The id of the initial child of a compound state. */
  readonly initial: string | null
  readonly children: ReadonlyArray<ChartNode>
}

/** One transition to one target. */
export interface ChartEdge {
  /** Unique: `transition` plus the target's index. */
  readonly id: string
  /** The transition this edge draws (see `transitionKey`). */
  readonly transition: string
  readonly source: string
  /** The target node id; the source itself for a transition without target. */
  readonly target: string
  /** The event type, or `always` for an eventless transition. */
  readonly event: string
  /** The guard's name, `else` for the unguarded fallback after guarded candidates, or null. */
  readonly guard: string | null
  /** A transition without target: actions only, the state is not left. */
  readonly internal: boolean
}

/** A machine's chart, as stored per version. */
export interface ChartDefinition {
  readonly actorType: string
  readonly machineId: string
  readonly version: string
  readonly root: ChartNode
  readonly edges: ReadonlyArray<ChartEdge>
}

/** The key of a transition: its source node, its event (`always` if none) and its candidate index. */
export const transitionKey = (sourceId: string, event: string, index: number): string => `${sourceId}|${event}|${index}`

/** The chart of a machine, from its definition. */
export const definitionOf = (actorType: string, machine: AnyStateMachine): ChartDefinition => ({
  actorType,
  machineId: machine.id,
  version: String(machine.version ?? "0"),
  root: nodeOf(machine.root),
  edges: allNodes(machine.root).flatMap(edgesOf),
})

/** The node and all its descendants, depth first. */
export const flatten = (node: ChartNode): ReadonlyArray<ChartNode> => [node, ...node.children.flatMap(flatten)]

/** The nodes of a chart by id. */
export const nodesById = (def: ChartDefinition): ReadonlyMap<string, ChartNode> =>
  new Map(flatten(def.root).map((n) => [n.id, n]))

/** The nodes a state key makes active, outermost first: `A.b` → [A, A.b]. */
export const activeNodes = (def: ChartDefinition, stateKey: string): ReadonlyArray<ChartNode> => {
  const byPath = new Map(flatten(def.root).map((n) => [n.path, n]))
  const parts = stateKey.split(/[|]/)[0]!.split(".")
  const out: Array<ChartNode> = []
  for (let i = 1; i <= parts.length; i++) {
    const n = byPath.get(parts.slice(0, i).join("."))
    if (n) out.push(n)
  }
  return out
}

const childrenOf = (node: AnyStateNode): Array<AnyStateNode> => Object.values(node.states) as Array<AnyStateNode>

const allNodes = (node: AnyStateNode): Array<AnyStateNode> => [node, ...childrenOf(node).flatMap(allNodes)]

const nodeOf = (node: AnyStateNode): ChartNode => {
  const children = childrenOf(node)
  const initial = node.initial?.target[0] as AnyStateNode | undefined
  return {
    id: node.id,
    key: node.key,
    path: node.path.join("."),
    kind: node.type,
    tags: [...node.tags].sort(),
    initial: children.length > 0 && initial ? initial.id : null,
    children: children.map(nodeOf),
  }
}

type AnyTransition = {
  readonly target?: ReadonlyArray<AnyStateNode> | undefined
  readonly guard?: unknown
}

const edgesOf = (node: AnyStateNode): Array<ChartEdge> => {
  const groups: Array<[string, ReadonlyArray<AnyTransition>]> = [
    ...[...node.transitions.entries()].map(([e, ts]) => [e, ts] as [string, ReadonlyArray<AnyTransition>]),
    ["always", (node.always ?? []) as ReadonlyArray<AnyTransition>],
  ]
  return groups.flatMap(([event, ts]) =>
    ts.flatMap((t, i) => {
      const transition = transitionKey(node.id, event, i)
      const internal = t.target === undefined || t.target.length === 0
      const targets = internal ? [node] : t.target!
      const named = guardName(t.guard)
      const guard = named ?? (ts.slice(0, i).some((e) => e.guard !== undefined) ? "else" : null)
      return targets.map((target, j) => ({
        id: `${transition}|${j}`,
        transition,
        source: node.id,
        target: target.id,
        event,
        guard,
        internal,
      }))
    }),
  )
}

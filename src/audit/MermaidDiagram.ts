/**
 * Mermaid `stateDiagram-v2` text for a machine, generated from its definition (the state nodes
 * under `machine.root`), never drawn by hand. The output is deterministic: states and transitions
 * come in the order the machine declares them, so a diagram changes only when its machine does.
 *
 * - A compound state is a `state X { … }` block with its own `[*] --> initial`.
 * - A final state gets `X --> [*]`.
 * - A transition is labelled `event [guard]`; the unguarded fallback after a guarded candidate is
 *   `[else]`; an eventless transition is `always [guard]`; an internal one (no target) is a loop.
 * - Tags are notes beside their state.
 * - Mermaid ids are the state keys, or the dotted path with `__` where a key is not unique.
 */
import type { AnyStateMachine, AnyStateNode } from "xstate"

/** The Mermaid diagram of a machine. */
export const toMermaid = (machine: AnyStateMachine): string => {
  const ids = mermaidIds(machine.root)
  const edges = edgesByBlock(machine.root, ids)
  const lines = [
    "---",
    `title: ${machine.id}${machine.version === undefined ? "" : ` (${machine.version})`}`,
    "---",
    "stateDiagram-v2",
    "  %% Generated from machines/ by `warden diagrams`. Do not edit.",
    ...block(machine.root, ids, edges, 1),
  ]
  return `${lines.join("\n")}\n`
}

/** The Mermaid id of every state node, by XState node id. */
export const mermaidIds = (root: AnyStateNode): ReadonlyMap<string, string> => {
  const nodes = descendants(root)
  const keyCount = new Map<string, number>()
  for (const n of nodes) keyCount.set(n.key, (keyCount.get(n.key) ?? 0) + 1)
  return new Map(nodes.map((n) => [n.id, keyCount.get(n.key) === 1 ? n.key : n.path.join("__")]))
}

interface Edge {
  readonly source: string
  readonly target: string
  readonly label: string
}

function descendants(node: AnyStateNode): Array<AnyStateNode> {
  return childrenOf(node).flatMap((c) => [c, ...descendants(c)])
}

function childrenOf(node: AnyStateNode): Array<AnyStateNode> {
  return Object.values(node.states) as Array<AnyStateNode>
}

/** The lines of a compound state's body: initial, states, finals, notes, then its edges. */
function block(
  node: AnyStateNode,
  ids: ReadonlyMap<string, string>,
  edges: ReadonlyMap<string, ReadonlyArray<Edge>>,
  depth: number,
): Array<string> {
  const pad = "  ".repeat(depth)
  const idOf = (n: AnyStateNode) => ids.get(n.id)!
  const lines: Array<string> = []
  const initial = node.initial?.target[0] as AnyStateNode | undefined
  if (initial !== undefined) lines.push(`${pad}[*] --> ${idOf(initial)}`)
  for (const child of childrenOf(node)) {
    const id = idOf(child)
    if (childrenOf(child).length > 0) {
      lines.push(`${pad}state ${id} {`, ...block(child, ids, edges, depth + 1), `${pad}}`)
    } else {
      lines.push(id === child.key ? `${pad}${id}` : `${pad}state "${child.key}" as ${id}`)
    }
  }
  for (const child of childrenOf(node)) {
    if (child.type === "final") lines.push(`${pad}${idOf(child)} --> [*]`)
  }
  for (const child of childrenOf(node)) {
    const tags = [...child.tags].sort()
    if (tags.length > 0) lines.push(`${pad}note right of ${idOf(child)} : ${tags.join(", ")}`)
  }
  for (const e of edges.get(node.id) ?? []) {
    lines.push(`${pad}${e.source} --> ${e.target} : ${e.label}`)
  }
  return lines
}

/**
 * Every transition as an edge, filed under the innermost compound state holding both ends
 * (Mermaid draws an edge inside the block it is written in).
 */
function edgesByBlock(root: AnyStateNode, ids: ReadonlyMap<string, string>): ReadonlyMap<string, ReadonlyArray<Edge>> {
  const byBlock = new Map<string, Array<Edge>>()
  for (const node of [root, ...descendants(root)]) {
    if (node === root) continue
    const candidates: Array<[string, ReadonlyArray<AnyTransition>]> = [
      ...[...node.transitions.entries()].map(
        ([eventType, ts]) => [eventType, ts] as [string, ReadonlyArray<AnyTransition>],
      ),
      ["always", (node.always ?? []) as ReadonlyArray<AnyTransition>],
    ]
    for (const [eventType, transitions] of candidates) {
      transitions.forEach((t, i) => {
        const targets = t.target === undefined || t.target.length === 0 ? [node] : t.target
        const label = `${eventType}${guardLabel(t, transitions.slice(0, i))}`
        for (const target of targets) {
          const owner = commonParent(node, target, root)
          const list = byBlock.get(owner.id) ?? []
          list.push({ source: ids.get(node.id)!, target: ids.get(target.id)!, label })
          byBlock.set(owner.id, list)
        }
      })
    }
  }
  return byBlock
}

type AnyTransition = {
  readonly target?: ReadonlyArray<AnyStateNode> | undefined
  readonly guard?: unknown
}

function guardLabel(t: AnyTransition, earlier: ReadonlyArray<AnyTransition>): string {
  const name = guardName(t.guard)
  if (name !== null) return ` [${name}]`
  return earlier.some((e) => e.guard !== undefined) ? " [else]" : ""
}

/** The name of a transition's guard, or null when it has none. */
export function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null
  if (typeof guard === "string") return guard
  if (typeof guard === "object" && "type" in guard) return String((guard as { type: unknown }).type)
  // An inline function has no name worth showing; machines use named guards only.
  return "guard"
}

/** The innermost compound state containing both nodes (a transition's own block). */
function commonParent(a: AnyStateNode, b: AnyStateNode, root: AnyStateNode): AnyStateNode {
  const ancestorsOf = (n: AnyStateNode): Array<AnyStateNode> =>
    n.parent === undefined ? [] : [n.parent, ...ancestorsOf(n.parent)]
  const ofB = new Set(ancestorsOf(b).map((n) => n.id))
  return ancestorsOf(a).find((n) => ofB.has(n.id)) ?? root
}

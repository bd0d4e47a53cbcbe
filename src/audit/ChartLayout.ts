/**
 * Lays a chart out with elkjs: layered, top to bottom, compound states laid out with their
 * children (`hierarchyHandling: INCLUDE_CHILDREN`) so that edges may cross state borders, with
 * orthogonal edges and their labels placed by ELK. Sizes are estimated for the monospace font the
 * SVG uses, so no text measurement (and no browser) is needed. Output coordinates are absolute.
 */
import elkBundled from "elkjs/lib/elk.bundled.js"
import type { ELK, ElkExtendedEdge, ElkLabel, ElkNode, ElkPoint } from "elkjs/lib/elk-api.js"
import { Effect } from "effect"
import { type ChartDefinition, type ChartEdge, type ChartNode, flatten } from "./ChartDefinition.js"

/** Width of one character of the chart's monospace font, in ems (DejaVu Sans Mono: 0.602). */
export const charWidthEm = 0.62
/** Font size of state names, in px. */
export const stateFontPx = 14
/** Font size of tags and counts, in px. */
export const smallFontPx = 11
/** Font size of edge labels, in px. */
export const labelFontPx = 11
/** Characters reserved after an edge label for its count (` ×12`). */
const countReserveChars = 4
const initialSizePx = 14

// elkjs is CommonJS: its default import is the constructor itself (its typings say otherwise).
const Elk = elkBundled as unknown as new () => ELK

/** A state node placed on the chart. */
export interface PlacedNode {
  readonly node: ChartNode
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/**
 * The transitions between one source and one target, routed as one arrow with one label line per
 * transition (`event [guard]`); `edges` is empty for the arrow from an initial pseudo-state.
 */
export interface PlacedEdge {
  readonly id: string
  readonly edges: ReadonlyArray<ChartEdge>
  readonly points: ReadonlyArray<ElkPoint>
  readonly label: { readonly x: number; readonly y: number } | null
}

/** The initial pseudo-state of a compound state (or of the machine). */
export interface PlacedInitial {
  readonly parentId: string
  readonly cx: number
  readonly cy: number
}

/** A laid-out chart. */
export interface ChartLayout {
  readonly width: number
  readonly height: number
  readonly nodes: ReadonlyArray<PlacedNode>
  readonly edges: ReadonlyArray<PlacedEdge>
  readonly initials: ReadonlyArray<PlacedInitial>
}

const textWidth = (text: string, px: number) => Math.ceil(text.length * px * charWidthEm)

/** The label line of a transition: its event and guard. */
export const labelLine = (e: ChartEdge): string => (e.guard === null ? e.event : `${e.event} [${e.guard}]`)

/** Transitions grouped by (source, target), in definition order: one arrow each. */
export const edgeGroups = (def: ChartDefinition): ReadonlyArray<ReadonlyArray<ChartEdge>> => {
  const groups = new Map<string, Array<ChartEdge>>()
  for (const e of def.edges) {
    const key = `${e.source}>${e.target}`
    const g = groups.get(key)
    if (g) g.push(e)
    else groups.set(key, [e])
  }
  return [...groups.values()]
}

/** Line height of edge labels, in px. */
export const labelLinePx = labelFontPx + 4

const initId = (parentId: string) => `${parentId}#init`

const elkNode = (n: ChartNode): ElkNode => {
  const tagText = n.tags.join(", ")
  const width = Math.max(textWidth(n.key, stateFontPx), textWidth(tagText, smallFontPx)) + 32
  if (n.children.length === 0) return { id: n.id, width: Math.max(width, 90), height: n.tags.length > 0 ? 54 : 40 }
  return {
    id: n.id,
    layoutOptions: { "elk.padding": `[top=${n.tags.length > 0 ? 48 : 34},left=14,bottom=14,right=14]` },
    children: [
      ...(n.initial ? [{ id: initId(n.id), width: initialSizePx, height: initialSizePx }] : []),
      ...n.children.map(elkNode),
    ],
  }
}

const elkLabel = (lines: ReadonlyArray<string>): ElkLabel => ({
  text: lines.join("\n"),
  width:
    Math.max(...lines.map((l) => textWidth(l, labelFontPx))) + textWidth("x".repeat(countReserveChars), labelFontPx),
  height: lines.length * labelLinePx + 2,
})

const initialEdges = (n: ChartNode): Array<ElkExtendedEdge> => [
  ...(n.initial ? [{ id: `${initId(n.id)}>`, sources: [initId(n.id)], targets: [n.initial] }] : []),
  ...n.children.flatMap(initialEdges),
]

/** The ELK graph of a chart. */
export const elkGraph = (def: ChartDefinition): ElkNode => ({
  id: "root",
  layoutOptions: {
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.hierarchyHandling": "INCLUDE_CHILDREN",
    "elk.edgeRouting": "ORTHOGONAL",
    "elk.edgeLabels.placement": "CENTER",
    "elk.spacing.nodeNode": "28",
    "elk.spacing.edgeLabel": "4",
    "elk.layered.spacing.nodeNodeBetweenLayers": "36",
    "elk.layered.spacing.edgeNodeBetweenLayers": "16",
    "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
    "elk.padding": "[top=16,left=16,bottom=16,right=16]",
  },
  // The machine itself is the outermost frame: its own transitions (any state) loop on it.
  children: [elkNode(def.root)],
  edges: [
    ...initialEdges(def.root),
    ...edgeGroups(def).map((g) => ({
      id: g[0]!.id,
      sources: [g[0]!.source],
      targets: [g[0]!.target],
      labels: [elkLabel(g.map(labelLine))],
    })),
  ],
})

/** Absolute offsets of every ELK node (its own top-left corner), by id. */
const offsets = (root: ElkNode): Map<string, { x: number; y: number }> => {
  const out = new Map<string, { x: number; y: number }>([[root.id, { x: 0, y: 0 }]])
  const walk = (n: ElkNode, ox: number, oy: number) => {
    for (const c of n.children ?? []) {
      const x = ox + (c.x ?? 0)
      const y = oy + (c.y ?? 0)
      out.set(c.id, { x, y })
      walk(c, x, y)
    }
  }
  walk(root, 0, 0)
  return out
}

const placeEdge = (
  e: ElkExtendedEdge,
  at: Map<string, { x: number; y: number }>,
  groups: Map<string, ReadonlyArray<ChartEdge>>,
): PlacedEdge => {
  const o = at.get((e as { container?: string }).container ?? "root") ?? { x: 0, y: 0 }
  const shift = (p: ElkPoint) => ({ x: p.x + o.x, y: p.y + o.y })
  const points = (e.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]).map(shift)
  const l = e.labels?.[0]
  const edges = groups.get(e.id) ?? []
  return { id: e.id, edges, points, label: l && edges.length > 0 ? { x: (l.x ?? 0) + o.x, y: (l.y ?? 0) + o.y } : null }
}

/** Lays a chart out. */
export const layoutChart = (def: ChartDefinition): Effect.Effect<ChartLayout> =>
  Effect.promise(() => new Elk().layout(elkGraph(def))).pipe(
    Effect.map((out) => {
      const at = offsets(out)
      const sizes = new Map<string, ElkNode>()
      const collect = (n: ElkNode) => {
        sizes.set(n.id, n)
        for (const c of n.children ?? []) collect(c)
      }
      collect(out)
      const chartNodes = flatten(def.root)
      const groups = new Map(edgeGroups(def).map((g) => [g[0]!.id, g]))
      return {
        width: Math.ceil(out.width ?? 0),
        height: Math.ceil(out.height ?? 0),
        nodes: chartNodes.map((node) => {
          const s = sizes.get(node.id)!
          const p = at.get(node.id)!
          return { node, x: p.x, y: p.y, width: s.width ?? 0, height: s.height ?? 0 }
        }),
        edges: (out.edges ?? []).map((e) => placeEdge(e, at, groups)),
        initials: flatten(def.root)
          .filter((n) => n.initial !== null)
          .map((n) => {
            const p = at.get(initId(n.id))!
            return { parentId: n.id, cx: p.x + initialSizePx / 2, cy: p.y + initialSizePx / 2 }
          }),
      }
    }),
  )

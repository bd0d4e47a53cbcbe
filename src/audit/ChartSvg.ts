/**
 * A laid-out chart as SVG markup, with an actor's path drawn over it. The path is marked by line
 * style as well as colour, in attributes (so it survives without the stylesheet): a taken
 * transition is thick and solid, one not taken thin and dashed; a visited state has a thick
 * border, one never visited a dashed one; the state the actor ended in has a second frame. Counts
 * are written beside labels (`×2`). Elements carry `data-*` attributes (`data-state`,
 * `data-transitions`, `data-taken`, `data-visits`) for the page's step control and for tests.
 */
import type { ChartDefinition } from "./ChartDefinition.js"
import {
  type ChartLayout,
  labelFontPx,
  labelLine,
  labelLinePx,
  type PlacedEdge,
  type PlacedNode,
  smallFontPx,
  stateFontPx,
} from "./ChartLayout.js"
import { esc } from "./Html.js"

/** An actor's path over a chart: entries per state node id, uses per transition key, final nodes. */
export interface PathOverlay {
  readonly visits: Readonly<Record<string, number>>
  readonly taken: Readonly<Record<string, number>>
  /** Node ids active in the actor's latest state. */
  readonly current: ReadonlyArray<string>
}

const n1 = (x: number) => Math.round(x * 10) / 10

const pathData = (e: PlacedEdge): string =>
  e.points.map((p, i) => `${i === 0 ? "M" : "L"}${n1(p.x)},${n1(p.y)}`).join(" ")

const stateSvg = (p: PlacedNode, overlay: PathOverlay | null): string => {
  const { node, x, y, width, height } = p
  const visits = overlay?.visits[node.id] ?? 0
  const isCurrent = overlay?.current.includes(node.id) ?? false
  const compound = node.children.length > 0
  const stroke = overlay === null ? 1.5 : visits > 0 ? 3 : 1
  const dash = overlay !== null && visits === 0 ? ` stroke-dasharray="5 4"` : ""
  const cls = ["state", node.kind, visits > 0 ? "visited" : overlay ? "unvisited" : "", isCurrent ? "current" : ""]
  const label = `${node.path || `machine ${node.key}`}${node.kind === "final" ? " (final)" : ""}${overlay ? (visits > 0 ? `, entered ${visits}×` : ", never entered") : ""}${isCurrent ? ", current state" : ""}`
  const parts = [
    `<g class="${cls.filter(Boolean).join(" ")}" data-node="${esc(node.id)}" data-state="${esc(node.path)}" data-visits="${visits}"${visits > 0 ? ` data-visited="true"` : ""}>`,
    `<title>${esc(label)}</title>`,
    isCurrent
      ? `<rect class="current-frame" x="${n1(x - 5)}" y="${n1(y - 5)}" width="${n1(width + 10)}" height="${n1(height + 10)}" rx="12" fill="none" stroke-width="2"/>`
      : "",
    `<rect class="frame" x="${n1(x)}" y="${n1(y)}" width="${n1(width)}" height="${n1(height)}" rx="8" stroke-width="${stroke}"${dash}/>`,
    node.kind === "final"
      ? `<rect class="final-frame" x="${n1(x + 4)}" y="${n1(y + 4)}" width="${n1(width - 8)}" height="${n1(height - 8)}" rx="5" fill="none" stroke-width="1.5"/>`
      : "",
    compound
      ? `<text class="name" x="${n1(x + 12)}" y="${n1(y + 22)}" font-size="${stateFontPx}">${esc(node.key)}</text>`
      : `<text class="name" x="${n1(x + width / 2)}" y="${n1(y + 25)}" text-anchor="middle" font-size="${stateFontPx}">${esc(node.key)}</text>`,
    node.tags.length > 0
      ? `<text class="tags" x="${n1(compound ? x + 12 : x + width / 2)}" y="${n1(y + (compound ? 38 : 42))}"${compound ? "" : ` text-anchor="middle"`} font-size="${smallFontPx}">${esc(node.tags.join(", "))}</text>`
      : "",
    visits > 0
      ? `<text class="count" x="${n1(x + width - 6)}" y="${n1(y + 13)}" text-anchor="end" font-size="${smallFontPx}">×${visits}</text>`
      : "",
    `</g>`,
  ]
  return parts.join("")
}

const edgeSvg = (e: PlacedEdge, overlay: PathOverlay | null, markers: string): string => {
  if (e.points.length < 2) return ""
  if (e.edges.length === 0)
    return `<path class="initial-arrow" d="${pathData(e)}" fill="none" stroke-width="1.5" marker-end="url(#${markers}-arrow)"/>`
  const counts = e.edges.map((t) => overlay?.taken[t.transition] ?? 0)
  const total = counts.reduce((a, b) => a + b, 0)
  const taken = total > 0
  const stroke = overlay === null ? 1.5 : taken ? 3.5 : 1.2
  const dash = overlay !== null && !taken ? ` stroke-dasharray="6 4"` : ""
  const title = e.edges
    .map((t, i) => `${labelLine(t)}${overlay ? (counts[i]! > 0 ? `, taken ${counts[i]}×` : ", not taken") : ""}`)
    .join("; ")
  const lines = e.label
    ? e.edges.map((t, i) => {
        const c = counts[i]!
        const attrs = `data-transition="${esc(t.transition)}" data-count="${c}"${c > 0 ? ` data-taken="true" class="line taken" font-weight="bold"` : ` class="line"`}`
        return `<tspan x="${n1(e.label!.x)}" dy="${i === 0 ? 0 : labelLinePx}" ${attrs}>${esc(labelLine(t))}${c > 0 ? ` ×${c}` : ""}</tspan>`
      })
    : []
  const label = e.label
    ? `<text class="label" x="${n1(e.label.x)}" y="${n1(e.label.y + labelFontPx)}" font-size="${labelFontPx}">${lines.join("")}</text>`
    : ""
  const transitions = e.edges.map((t) => t.transition).join(" ")
  return [
    `<g class="edge${overlay ? (taken ? " taken" : " untaken") : ""}${e.edges[0]!.internal ? " internal" : ""}" data-edge="${esc(e.id)}" data-transitions="${esc(transitions)}" data-count="${total}"${taken ? ` data-taken="true"` : ""}>`,
    `<title>${esc(title)}</title>`,
    `<path d="${pathData(e)}" fill="none" stroke-width="${stroke}"${dash} marker-end="url(#${markers}-${taken ? "arrow-taken" : "arrow"})"/>`,
    label,
    `</g>`,
  ].join("")
}

const defs = (markers: string) =>
  `<defs>` +
  `<marker id="${markers}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker>` +
  `<marker id="${markers}-arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="14" markerHeight="14" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead taken"/></marker>` +
  `<pattern id="${markers}-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" class="hatch-bg"/><line x1="0" y1="0" x2="0" y2="8" class="hatch-line" stroke-width="3"/></pattern>` +
  `</defs>`

/** The SVG of a chart, with the actor's path when `overlay` is given. `key` makes its ids unique in a page. */
export const chartSvg = (
  def: ChartDefinition,
  layout: ChartLayout,
  overlay: PathOverlay | null,
  key: string,
  description: string,
): string => {
  const markers = `m-${key.replace(/[^A-Za-z0-9_-]/g, "_")}`
  const states = [...layout.nodes].sort((a, b) => depthOf(a) - depthOf(b)).map((p) => stateSvg(p, overlay))
  const initials = layout.initials.map(
    (i) =>
      `<circle class="initial" cx="${n1(i.cx)}" cy="${n1(i.cy)}" r="6"><title>initial state of ${esc(i.parentId)}</title></circle>`,
  )
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" role="img" aria-label="${esc(`${def.machineId} statechart, version ${def.version}. ${description}`)}" data-hatch="url(#${markers}-hatch)" font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace">`,
    defs(markers),
    `<g class="states">${states.join("")}</g>`,
    `<g class="initials">${initials.join("")}</g>`,
    `<g class="edges">${layout.edges.map((e) => edgeSvg(e, overlay, markers)).join("")}</g>`,
    `</svg>`,
  ].join("")
}

const depthOf = (p: PlacedNode) => p.node.path.split(".").length

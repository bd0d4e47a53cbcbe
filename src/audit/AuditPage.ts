/**
 * The audit's HTML documents: the page shell (its views are rendered in the browser by the
 * client bundle), and the self-contained report of one actor and its chain (rendered here, readable
 * without JavaScript; the inline script adds the step controls). Both inline their stylesheet and
 * script, so neither makes a request to anywhere: no fonts, no scripts, no images from outside.
 */
import { fileURLToPath } from "node:url"
import type { Effect } from "effect"
import { clientBundle } from "../http/ClientBundle.js"
import { actorHtml } from "./ActorView.js"
import { auditCss } from "./AuditCss.js"
import type { AuditReport } from "./AuditService.js"
import { esc, scriptJson, timeText } from "./Html.js"

const clientEntry = fileURLToPath(new URL("./client/AuditApp.ts", import.meta.url))

/** The client bundle (esbuild, once per process): the page's views, step controls and live updates. */
export const clientScript: Effect.Effect<string> = clientBundle(clientEntry)

const head = (title: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${esc(title)}</title><style>${auditCss}</style></head>`

/** The page: header, an empty main filled in by the client, and the client. `live`: the websocket path, or "". */
export const pageHtml = (script: string, live: string): string =>
  `${head("Warden audit")}<body data-live="${esc(live)}"><a class="skip" href="#main">Skip to content</a>
<header class="top"><h1>Warden audit</h1><nav aria-label="Views">${live === "" ? "" : '<a href="/">Dashboard</a>'}<a href="#/">Actors</a><a href="#/machines">Machines</a></nav><p id="live" role="status">Live updates: starting…</p></header>
<main id="main" tabindex="-1"><p>Loading…</p><noscript>This page needs JavaScript; the exported reports (<code>warden audit ID --html</code>) do not.</noscript></main>
<script>${script}</script></body></html>`

/** The anchor of an actor's section in a report. */
export const reportAnchor = (id: string) => `actor-${id.replace(/[^A-Za-z0-9_.-]/g, "_")}`

/** The self-contained report of an actor and its causal chain. */
export const reportHtml = (report: AuditReport, script: string): string => {
  const ids = [report.rootId, ...Object.keys(report.actors).filter((id) => id !== report.rootId)]
  const linkTo = (id: string) => (report.actors[id] ? `#${reportAnchor(id)}` : null)
  const toc = ids
    .map((id) => {
      const a = report.actors[id]!.actor
      return `<li><a href="#${reportAnchor(id)}"><code>${esc(id)}</code></a> <span class="meta">${esc(a.actor_type)} · ${esc(a.state)}</span></li>`
    })
    .join("")
  const sections = ids.map(
    (id) => `<div id="${reportAnchor(id)}">${actorHtml(report.actors[id]!, linkTo, false)}</div>`,
  )
  const steps = Object.fromEntries(ids.map((id) => [id, { steps: report.actors[id]!.steps }]))
  return `${head(`Warden audit report: ${report.rootId}`)}<body><a class="skip" href="#main">Skip to content</a>
<header class="top"><h1>Warden audit report</h1><p class="meta">Actor <code>${esc(report.rootId)}</code> and its causal chain; generated ${esc(timeText(report.generatedAt))}.</p></header>
<main id="main"><nav aria-label="Actors in this report"><h2>Actors in this report</h2><ol class="report-toc">${toc}</ol></nav>${sections.join("")}</main>
<script type="application/json" id="audit-report">${scriptJson({ rootId: report.rootId, generatedAt: report.generatedAt, actors: steps })}</script>
<script>${script}</script></body></html>`
}

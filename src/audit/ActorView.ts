/**
 * One actor as HTML: facts, causal chain, chart with its path (and the path as text), the step
 * control and the timeline. Plain strings, rendered by the page in the browser and by the report
 * on the server; `client/StepControl.ts` wires the step control. Readable without colour: every
 * mark on the chart has a text equivalent here.
 */
import type { ActorDetail, TimelineRow } from "./AuditService.js"
import type { ActorRef, ChainLink, ChainOrder, ChainTrade } from "./CausalChain.js"
import { esc, num, timeText } from "./Html.js"

/** How a view links to an actor: an href, or null when the actor is not reachable (outside a report). */
export type LinkTo = (actorId: string) => string | null

const actorLink = (ref: ActorRef, linkTo: LinkTo): string => {
  const href = linkTo(ref.id)
  const name = `<code>${esc(ref.id)}</code>`
  const what = `<span class="meta">${esc(ref.type)} · ${esc(ref.state)}</span>`
  return href === null
    ? `${name} ${what}`
    : `<a href="${esc(href)}" data-actor-link="${esc(ref.id)}">${name}</a> ${what}`
}

const linkList = (links: ReadonlyArray<ChainLink>, linkTo: LinkTo, empty: string): string =>
  links.length === 0
    ? `<p class="none">${esc(empty)}</p>`
    : `<ul class="links">${links
        .map(
          (l) =>
            `<li>${l.actor ? actorLink(l.actor, linkTo) : `<span class="outside">outside: <code>${esc(l.text)}</code></span>`}<br><span class="rel">${esc(l.relations.join("; "))}</span></li>`,
        )
        .join("")}</ul>`

const fillsText = (o: ChainOrder): string =>
  o.fills.length === 0
    ? `<span class="none">no fills</span>`
    : o.fills
        .map(
          (f) =>
            `fill ${num(f.qty)} @ ${num(f.price)} <span class="meta">(step ${f.seq}, ${esc(timeText(f.at))})</span>`,
        )
        .join("; ")

const orderItem = (o: ChainOrder, linkTo: LinkTo): string =>
  `<li>order ${actorLink(o.order, linkTo)} <span class="meta">${esc(o.purpose)} ${esc(o.side)} ${num(o.qty)}</span><ul><li>${fillsText(o)}</li></ul></li>`

const tradeChainHtml = (t: ChainTrade, linkTo: LinkTo): string => {
  const entries = t.entries.map(
    (o) =>
      `<li><span class="step-name">entry</span> command <code>${esc(o.command ?? "unknown")}</code> →<ol class="flow">${orderItem(o, linkTo)}<li>trade ${actorLink(t.trade, linkTo)}</li></ol></li>`,
  )
  const exits = t.exits.map(
    (x) =>
      `<li><span class="step-name">exit (${esc(x.reason)})</span> tick ${x.tick.price === null ? "" : `at ${num(x.tick.price)} `}<span class="meta">(${esc(timeText(x.tick.at))}, via <code>${esc(x.tick.source ?? "?")}</code>)</span> →<ol class="flow"><li>signal ${actorLink(x.signal, linkTo)}</li>${
        x.intent ? `<li>intent ${actorLink(x.intent, linkTo)}</li>` : `<li class="none">no intent</li>`
      }${x.orders.map((o) => orderItem(o, linkTo)).join("")}<li>trade ${actorLink(t.trade, linkTo)}</li></ol></li>`,
  )
  return `<h4>Trade flow</h4><ol class="episodes">${[...entries, ...exits].join("") || `<li class="none">no entry or exit recorded</li>`}</ol>`
}

const chainHtml = (d: ActorDetail, linkTo: LinkTo): string =>
  `<section class="chain" aria-label="Causal chain"><h3>Causal chain</h3><div class="three">` +
  `<div><h4>Caused by</h4>${linkList(d.chain.upstream, linkTo, "nothing recorded upstream")}</div>` +
  `<div><h4>Caused</h4>${linkList(d.chain.downstream, linkTo, "nothing recorded downstream")}</div>` +
  `<div>${d.chain.trade ? tradeChainHtml(d.chain.trade, linkTo) : `<h4>Trade</h4><p class="none">not part of a trade</p>`}</div></div></section>`

const legend = `<ul class="legend" aria-label="How to read the chart">
<li><svg width="44" height="10" aria-hidden="true"><line x1="0" y1="5" x2="44" y2="5" class="lg-taken" stroke-width="3.5"/></svg> thick solid: transition taken (×count)</li>
<li><svg width="44" height="10" aria-hidden="true"><line x1="0" y1="5" x2="44" y2="5" class="lg-untaken" stroke-width="1.2" stroke-dasharray="6 4"/></svg> thin dashed: not taken</li>
<li>thick border: state entered (×count); dashed border: never entered</li>
<li>second frame: the actor's current state; double border: final state; ●: initial state</li>
<li>hatched: the state at the selected step</li></ul>`

const pathText = (d: ActorDetail): string =>
  `<details class="path-text"><summary>The path as text (${d.visited.length} states entered, ${d.taken.length} transitions taken)</summary><div class="two">` +
  `<table><caption>States entered</caption><thead><tr><th scope="col">state</th><th scope="col">entries</th></tr></thead><tbody>${d.visited
    .map((v) => `<tr><td><code>${esc(v.state)}</code></td><td>${v.visits}</td></tr>`)
    .join("")}</tbody></table>` +
  `<table><caption>Transitions taken</caption><thead><tr><th scope="col">from</th><th scope="col">event [guard]</th><th scope="col">to</th><th scope="col">times</th></tr></thead><tbody>${d.taken
    .map(
      (t) =>
        `<tr><td><code>${esc(t.from)}</code></td><td><code>${esc(t.label)}</code></td><td><code>${esc(t.to)}</code></td><td>${t.count}</td></tr>`,
    )
    .join("")}</tbody></table></div></details>`

const chartHtml = (d: ActorDetail): string => {
  const source =
    d.chart.source === "recorded"
      ? `recorded definition of ${d.chart.version}`
      : d.chart.source === "current"
        ? `definition of ${d.chart.version} (this build; not recorded in the database)`
        : `this build's definition (${d.chart.version}): the actor ran on ${d.actor.machine_version}, which is not recorded`
  return `<section class="chart-section" aria-label="Statechart and path"><h3>Statechart and path</h3>
<p class="meta">Chart: ${esc(source)}.${d.chart.note ? ` <strong>Note:</strong> ${esc(d.chart.note)}.` : ""}</p>${legend}
<div class="chart-tools"><button type="button" class="zoom" aria-pressed="false">Zoom to 100%</button></div>
<div class="chart-scroll fit">${d.chart.svg}</div>${pathText(d)}</section>`
}

const stepsHtml = (d: ActorDetail): string =>
  `<section class="steps" aria-label="Step through"><h3>Step through</h3>
<div class="step-control"><button type="button" class="first" aria-label="First step">«</button><button type="button" class="prev" aria-label="Previous step">‹</button>
<input type="range" class="slider" min="0" max="${Math.max(0, d.steps.length - 1)}" value="${Math.max(0, d.steps.length - 1)}" aria-label="Step">
<button type="button" class="next" aria-label="Next step">›</button><button type="button" class="last" aria-label="Last step">»</button></div>
<p class="step-info" aria-live="polite">Step ${d.steps.length} of ${d.steps.length}</p>
<h4>State</h4><p class="step-state"><code>${esc(d.actor.state)}</code></p><h4>Context</h4><pre class="step-context">${esc("(needs JavaScript)")}</pre></section>`

const causeHtml = (r: TimelineRow, d: ActorDetail, linkTo: LinkTo): string => {
  if (r.cause === null) return `<span class="none">—</span>`
  if (r.causeActor !== null) {
    const href = linkTo(r.causeActor)
    const text = `<code>${esc(r.cause)}</code>`
    return href === null ? text : `<a href="${esc(href)}" data-actor-link="${esc(r.causeActor)}">${text}</a>`
  }
  if (r.cause.startsWith("outbox:"))
    return `effect <code>${esc(r.cause)}</code> ${esc(d.effects[r.cause.slice(7)] ?? "")}`
  return `<code>${esc(r.cause)}</code>`
}

const payloadHtml = (p: Record<string, unknown>): string => {
  const keys = Object.keys(p)
  if (keys.length === 0) return `<span class="none">—</span>`
  const brief = keys
    .slice(0, 4)
    .map((k) => `${k}=${typeof p[k] === "object" && p[k] !== null ? "{…}" : String(p[k])}`)
    .join(" ")
  return `<details><summary>${esc(brief.length > 60 ? `${brief.slice(0, 60)}…` : brief)}</summary><pre>${esc(JSON.stringify(p, null, 2))}</pre></details>`
}

/** The timeline rows of an actor, as table rows. */
export const timelineRowsHtml = (d: ActorDetail, linkTo: LinkTo): string =>
  d.timeline.rows
    .map(
      (r) =>
        `<tr data-seq="${r.seq}"${r.refused ? ` class="refused"` : ""}><td>${r.seq}</td><td><time>${esc(timeText(r.at))}</time></td><td><code>${esc(r.event)}</code></td>` +
        `<td><code>${esc(r.from ?? "·")}</code> → <code>${esc(r.to)}</code></td><td>${causeHtml(r, d, linkTo)}</td><td>${payloadHtml(r.payload)}</td>` +
        `<td>${r.refused ? `<strong>REFUSED</strong>: ${esc(r.refused)}` : "accepted"}</td></tr>`,
    )
    .join("")

const timelineHtml = (d: ActorDetail, linkTo: LinkTo, paging: boolean): string => {
  const { offset, total, rows } = d.timeline
  const more = paging && offset + rows.length < total
  return `<section class="timeline" aria-label="Timeline"><h3>Timeline</h3>
<p class="meta">${total} journal rows${rows.length < total ? `, ${offset + 1}–${offset + rows.length} shown` : ""}; ${d.timeline.rows.filter((r) => r.refused).length} refused here.</p>
<div class="table-scroll"><table class="timeline-table"><thead><tr><th scope="col">step</th><th scope="col">time</th><th scope="col">event</th><th scope="col">from → to</th><th scope="col">cause</th><th scope="col">payload</th><th scope="col">outcome</th></tr></thead>
<tbody>${timelineRowsHtml(d, linkTo)}</tbody></table></div>${more ? `<button type="button" class="more" data-offset="${offset + rows.length}">Show the next rows</button>` : ""}</section>`
}

const factsHtml = (d: ActorDetail): string => {
  const a = d.actor
  const facts: Array<[string, string]> = [
    ["type", a.actor_type],
    ["machine version", a.machine_version],
    ["state", a.state],
    ["status", a.status],
    ["symbol", a.symbol ?? "—"],
    ["account", a.account ?? "—"],
    ["created", timeText(a.created_at)],
    ["last step", `${a.seq} at ${timeText(a.updated_at)}`],
  ]
  return `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join("")}</dl>`
}

/** The whole view of one actor. `paging` adds the timeline's "next rows" button (the page). */
export const actorHtml = (d: ActorDetail, linkTo: LinkTo, paging: boolean): string =>
  `<article class="actor" data-actor="${esc(d.actor.actor_id)}" aria-label="Actor ${esc(d.actor.actor_id)}">
<h2>${esc(d.actor.actor_type)} <code>${esc(d.actor.actor_id)}</code></h2>${factsHtml(d)}${chainHtml(d, linkTo)}
<div class="chart-and-steps">${chartHtml(d)}${stepsHtml(d)}</div>${timelineHtml(d, linkTo, paging)}</article>`

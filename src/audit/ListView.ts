/**
 * The actor list and the machine gallery as HTML strings (rendered by the page in the browser):
 * the filter form, the table of actors with links, and the pager.
 */
import type { ActorFilter, ActorPage } from "./AuditStore.js"
import { esc, timeText } from "./Html.js"

/** What the filter form offers. */
export interface Facets {
  readonly types: ReadonlyArray<string>
  readonly states: Readonly<Record<string, ReadonlyArray<string>>>
  readonly symbols: ReadonlyArray<string>
  readonly accounts: ReadonlyArray<string>
}

/** `datetime-local` text of an epoch-ms time, in UTC. */
const localText = (ms: number | undefined) => (ms === undefined ? "" : new Date(ms).toISOString().slice(0, 19))

const datalist = (id: string, values: ReadonlyArray<string>) =>
  `<datalist id="${id}">${values.map((v) => `<option value="${esc(v)}"></option>`).join("")}</datalist>`

const field = (label: string, input: string) => `<label><span>${esc(label)}</span>${input}</label>`

/** The filter form, filled in with the current filter. */
export const filterFormHtml = (f: ActorFilter, facets: Facets): string => {
  const states = f.type ? (facets.states[f.type] ?? []) : [...new Set(Object.values(facets.states).flat())].sort()
  const typeOptions = ["", ...facets.types]
    .map(
      (t) =>
        `<option value="${esc(t)}"${t === (f.type ?? "") ? " selected" : ""}>${t === "" ? "any type" : esc(t)}</option>`,
    )
    .join("")
  return `<form class="filters" role="search" aria-label="Filter actors">
${field("Type", `<select name="type">${typeOptions}</select>`)}
${field("State", `<input name="state" list="dl-states" value="${esc(f.state ?? "")}" placeholder="e.g. FILLED" size="14">`)}
${field("Symbol", `<input name="symbol" list="dl-symbols" value="${esc(f.symbol ?? "")}" size="16">`)}
${field("Account", `<input name="account" list="dl-accounts" value="${esc(f.account ?? "")}" size="10">`)}
${field("Alive from (UTC)", `<input type="datetime-local" step="1" name="from" value="${esc(localText(f.from))}">`)}
${field("to (UTC)", `<input type="datetime-local" step="1" name="to" value="${esc(localText(f.to))}">`)}
<div class="buttons"><button type="submit">Apply</button> <button type="reset" class="clear">Clear</button></div>
${datalist("dl-states", states)}${datalist("dl-symbols", facets.symbols)}${datalist("dl-accounts", facets.accounts)}</form>`
}

/** The table of one page of actors; `href` links an actor id. */
export const actorTableHtml = (page: ActorPage, href: (id: string) => string): string => {
  if (page.rows.length === 0) return `<p class="none" role="status">No actor matches these filters.</p>`
  const rows = page.rows
    .map(
      (r) =>
        `<tr><td><a href="${esc(href(r.actor_id))}" data-actor-link="${esc(r.actor_id)}"><code>${esc(r.actor_id)}</code></a></td><td>${esc(r.actor_type)}</td><td><code>${esc(r.state)}</code>${r.status === "done" ? ' <span class="meta">(final)</span>' : ""}</td>` +
        `<td>${esc(r.symbol ?? "—")}</td><td>${esc(r.account ?? "—")}</td><td><time>${esc(timeText(r.created_at))}</time></td><td><time>${esc(timeText(r.updated_at))}</time></td><td>${r.seq + 1}</td></tr>`,
    )
    .join("")
  return `<div class="table-scroll"><table class="actors"><caption>Actors, newest first</caption><thead><tr><th scope="col">actor</th><th scope="col">type</th><th scope="col">state</th><th scope="col">symbol</th><th scope="col">account</th><th scope="col">created</th><th scope="col">last step</th><th scope="col">rows</th></tr></thead><tbody>${rows}</tbody></table></div>`
}

/** The pager: back to the newest, the previous page, the next (older) page. */
export const pagerHtml = (page: ActorPage, pageNo: number): string =>
  `<nav class="pager" aria-label="Pages"><button type="button" class="newest"${pageNo === 1 ? " disabled" : ""}>Newest</button>
<button type="button" class="newer"${pageNo === 1 ? " disabled" : ""}>← Newer</button><span>page ${pageNo}</span>
<button type="button" class="older"${page.next === null ? " disabled" : ""}>Older →</button></nav>`

/** The machine gallery: every known version, linked. */
export const machineListHtml = (
  list: ReadonlyArray<{ readonly actorType: string; readonly version: string }>,
  href: (type: string, version: string) => string,
): string =>
  `<section aria-label="Machines"><h2>Machines</h2><p class="meta">Every machine version recorded in this database, and the ones this build runs.</p><ul class="machines">${list
    .map(
      (m) =>
        `<li><a href="${esc(href(m.actorType, m.version))}">${esc(m.actorType)} <code>${esc(m.version)}</code></a></li>`,
    )
    .join("")}</ul></section>`

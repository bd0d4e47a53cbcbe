/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The audit page in the browser: hash routes (`#/` the actor list with its filters in the query,
 * `#/actor/<id>`, `#/machines`, `#/machine/<type>/<version>`) over the JSON API beside the page,
 * and live updates from the engine's `/ws` stream when the page says where it is. In an exported
 * report (an `#audit-report` data element), it only wires the step controls of the static views.
 */
import type { PathStep } from "../ActorPath.js"
import type { ActorDetail, DrawnChart } from "../AuditService.js"
import type { ActorFilter, ActorPage } from "../AuditStore.js"
import { actorHtml, timelineRowsHtml } from "../ActorView.js"
import { esc } from "../Html.js"
import { actorTableHtml, type Facets, filterFormHtml, machineListHtml, pagerHtml } from "../ListView.js"
import { connectLive } from "./Live.js"
import { wireSteps, wireZoom } from "./StepControl.js"

const main = () => document.getElementById("main")!
const base = location.pathname.replace(/\/+$/, "")
const actorHref = (id: string) => `#/actor/${encodeURIComponent(id)}`

const getJson = async <A>(path: string): Promise<A | null> => {
  const res = await fetch(`${base}${path}`, { headers: { accept: "application/json" } })
  if (res.status === 404) return null
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
  return (await res.json()) as A
}

let facets: Facets | null = null
/** Cursors of the pages seen, so "Newer" can go back. */
let cursors: Array<string | null> = [null]
let view: { kind: "list" | "actor" | "other"; id?: string; members?: ReadonlySet<string> } = { kind: "other" }

const filterOf = (q: URLSearchParams): ActorFilter => {
  const time = (k: string) => (q.get(k) ? Date.parse(`${q.get(k)}Z`) : undefined)
  const text = (k: string) => q.get(k) || undefined
  return {
    type: text("type"),
    state: text("state"),
    symbol: text("symbol"),
    account: text("account"),
    from: time("from"),
    to: time("to"),
  }
}

const renderList = async (q: URLSearchParams) => {
  facets ??= await getJson<Facets>("/api/facets")
  const cursor = q.get("cursor")
  const pageNo = Number(q.get("page") ?? "1")
  const page = (await getJson<ActorPage>(`/api/actors?${q.toString()}`))!
  view = { kind: "list" }
  main().innerHTML = `<section aria-label="Actors"><h2>Actors</h2>${filterFormHtml(filterOf(q), facets!)}${actorTableHtml(page, actorHref)}${pagerHtml(page, pageNo)}</section>`
  if (pageNo === 1) cursors = [null]
  cursors[pageNo - 1] = cursor
  const form = main().querySelector("form")!
  const go = (params: URLSearchParams) => {
    location.hash = `#/?${params.toString()}`
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault()
    const params = new URLSearchParams()
    for (const [k, v] of new FormData(form)) if (typeof v === "string" && v !== "") params.set(k, v)
    go(params)
  })
  form.querySelector("button.clear")?.addEventListener("click", () => go(new URLSearchParams()))
  const pageTo = (n: number, c: string | null) => {
    const params = new URLSearchParams(q)
    params.delete("cursor")
    params.delete("page")
    if (c !== null) params.set("cursor", c)
    if (n > 1) params.set("page", String(n))
    go(params)
  }
  main()
    .querySelector("button.older")
    ?.addEventListener("click", () => pageTo(pageNo + 1, page.next))
  main()
    .querySelector("button.newer")
    ?.addEventListener("click", () => pageTo(pageNo - 1, cursors[pageNo - 2] ?? null))
  main()
    .querySelector("button.newest")
    ?.addEventListener("click", () => pageTo(1, null))
}

const wireMore = (article: HTMLElement, detail: ActorDetail) => {
  article.querySelector<HTMLButtonElement>("button.more")?.addEventListener("click", async (e) => {
    const button = e.currentTarget as HTMLButtonElement
    const next = await getJson<ActorDetail>(
      `/api/actors/${encodeURIComponent(detail.actor.actor_id)}?offset=${button.dataset.offset}`,
    )
    if (!next) return
    article
      .querySelector("table.timeline-table tbody")!
      .insertAdjacentHTML("beforeend", timelineRowsHtml(next, actorHref))
    const shown = next.timeline.offset + next.timeline.rows.length
    if (shown >= next.timeline.total) button.remove()
    else button.dataset.offset = String(shown)
  })
}

const renderActor = async (id: string, keepStep: boolean) => {
  const article = main().querySelector<HTMLElement>("article.actor")
  const slider = article?.querySelector<HTMLInputElement>("input.slider")
  const wasAtEnd = !slider || slider.value === slider.max
  const detail = await getJson<ActorDetail>(`/api/actors/${encodeURIComponent(id)}`)
  if (!detail) {
    main().innerHTML = `<p role="alert">No actor <code>${esc(id)}</code> in this database. <a href="#/">Back to the list</a></p>`
    return
  }
  view = { kind: "actor", id, members: new Set(detail.chain.members) }
  const report = `${base}/api/actors/${encodeURIComponent(id)}/report.html`
  main().innerHTML = `<nav class="crumbs"><a href="#/">← All actors</a> · <a href="${esc(report)}" download>Download this report (HTML)</a></nav>${actorHtml(detail, actorHref, true)}`
  const fresh = main().querySelector<HTMLElement>("article.actor")!
  const select = wireSteps(fresh, detail.steps)
  if (keepStep && !wasAtEnd && slider) select(detail.steps[Number(slider.value)]?.seq ?? 0)
  wireZoom(fresh)
  wireMore(fresh, detail)
  if (!keepStep) {
    main().focus({ preventScroll: true })
    window.scrollTo(0, 0)
  }
}

const renderMachines = async () => {
  const list = (await getJson<ReadonlyArray<{ actorType: string; version: string }>>("/api/machines")) ?? []
  view = { kind: "other" }
  main().innerHTML = machineListHtml(list, (t, v) => `#/machine/${encodeURIComponent(t)}/${encodeURIComponent(v)}`)
}

const renderMachine = async (type: string, version: string) => {
  const chart = await getJson<DrawnChart>(`/api/machines/${encodeURIComponent(type)}/${encodeURIComponent(version)}`)
  view = { kind: "other" }
  main().innerHTML = chart
    ? `<nav class="crumbs"><a href="#/machines">← All machines</a></nav><section aria-label="Machine ${esc(type)}"><h2>${esc(type)} <code>${esc(chart.version)}</code></h2><p class="meta">Definition: ${esc(chart.source)}. Each arrow lists its transitions as <code>event [guard]</code>; ● marks an initial state, a double border a final state; tags are under the state names.</p><div class="chart-scroll fit">${chart.svg}</div></section>`
    : `<p role="alert">No machine ${esc(type)} ${esc(version)}.</p>`
}

const route = async (refresh = false) => {
  const hash = location.hash.replace(/^#/, "") || "/"
  const [path, query] = hash.split("?") as [string, string | undefined]
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent)
  try {
    if (parts[0] === "actor" && parts[1]) await renderActor(parts[1], refresh)
    else if (parts[0] === "machines") await renderMachines()
    else if (parts[0] === "machine" && parts[1] && parts[2]) await renderMachine(parts[1], parts[2])
    else await renderList(new URLSearchParams(query ?? ""))
  } catch (e) {
    main().innerHTML = `<p role="alert">Could not load this view: ${esc(e instanceof Error ? e.message : String(e))}</p>`
  }
}

/** Re-renders the view a committed transition concerns (debounced). */
let pending: ReturnType<typeof setTimeout> | null = null
const onTransition = (t: { actorId: string }) => {
  const concerns =
    (view.kind === "actor" && (view.id === t.actorId || view.members?.has(t.actorId))) ||
    (view.kind === "list" && !location.hash.includes("cursor="))
  if (!concerns || pending !== null) return
  pending = setTimeout(() => {
    pending = null
    void route(true)
  }, 400)
}

/** What a report embeds for its scripts: each actor's steps. */
interface ReportData {
  readonly actors: Readonly<Record<string, { readonly steps: ReadonlyArray<PathStep> }>>
}

const startReport = (report: ReportData) => {
  for (const article of document.querySelectorAll<HTMLElement>("article.actor")) {
    const detail = report.actors[article.dataset.actor ?? ""]
    if (!detail) continue
    wireSteps(article, detail.steps)
    wireZoom(article)
  }
}

const start = () => {
  const data = document.getElementById("audit-report")
  if (data) return startReport(JSON.parse(data.textContent ?? "{}") as ReportData)
  window.addEventListener("hashchange", () => void route())
  void route()
  connectLive(document.body.dataset.live ?? "", document.getElementById("live")!, onTransition)
}

start()

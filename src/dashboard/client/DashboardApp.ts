/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The operator dashboard in the browser: hash routes (`#/orders`, `#/trades`, `#/risk`,
 * `#/diagnostics`) over the engine's API, re-rendered when a committed transition arrives on the
 * `/ws` stream (debounced), and on a timer on the pages whose figures move with the market (live
 * P&L, the enforcer's last check), reading the brokers' books sparingly. The controls are in `Controls.ts` and `OrderForm.ts`.
 */
import { connectLive } from "../../audit/client/Live.js"
import { esc } from "../../audit/Html.js"
import type { MetaView, ReconciliationView, RiskView, TradesView } from "../DashboardTypes.js"
import { call, cancelOrder, closeTrade, exitAll, forcedUnwind } from "./Controls.js"
import { openOrderForm } from "./OrderForm.js"
import { diagnosticsHtml, orderBookHtml, riskHtml, tradesHtml } from "./Views.js"

/** How often the page with live P&L refreshes (engine data and the tick hub only), in ms. */
const tradesPollMs = 1_500
/** How often the risk page refreshes (it reads the brokers' books: no faster than the enforcer), in ms. */
const riskPollMs = 5_000
/** Least time between two reads of the brokers' positions for the trades page, in ms: a live
 * broker's request budget is for orders first. */
const positionsReadMsMin = 5_000
/** Delay that gathers a burst of transitions into one refresh, in ms. */
const refreshDebounceMs = 500

const main = () => document.getElementById("main")!
let meta: MetaView = { accounts: [], tokenRequired: false, alerts: null }

const get = async <A>(path: string): Promise<A> => {
  const a = await call("GET", path)
  if (!a.ok) throw new Error(`${path}: HTTP ${a.status}`)
  return a.body as A
}

let positions: { at: number; rows: ReadonlyArray<Record<string, unknown>> } = { at: 0, rows: [] }
const brokerPositions = async () => {
  if (Date.now() - positions.at >= positionsReadMsMin)
    positions = { at: Date.now(), rows: await get<ReadonlyArray<Record<string, unknown>>>("/api/v1/positions") }
  return positions.rows
}

const pages: Record<string, { title: string; pollMs: number | null; render: () => Promise<string> }> = {
  orders: {
    title: "Order book",
    pollMs: null,
    render: async () => orderBookHtml(await get("/dashboard/orderbook")),
  },
  trades: {
    title: "Trades & positions",
    pollMs: tradesPollMs,
    render: async () => {
      const [trades, rows] = await Promise.all([get<TradesView>("/dashboard/trades"), brokerPositions()])
      return tradesHtml(trades, rows)
    },
  },
  risk: {
    title: "Risk",
    pollMs: riskPollMs,
    render: async () => riskHtml(await get<RiskView>("/dashboard/risk"), Date.now()),
  },
  diagnostics: {
    title: "Diagnostics",
    pollMs: null,
    render: async () => {
      const [orders, checks, reconciliation, fresh] = await Promise.all([
        get<Parameters<typeof diagnosticsHtml>[0]["orders"]>("/dashboard/diagnostics/orders"),
        get<Parameters<typeof diagnosticsHtml>[0]["checks"]>("/dashboard/diagnostics/intent-verification"),
        get<ReconciliationView>("/dashboard/reconciliation"),
        get<MetaView>("/dashboard/meta"),
      ])
      return diagnosticsHtml({ orders, checks, reconciliation, alerts: fresh.alerts })
    },
  },
}

const pageName = () => {
  const name = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? ""
  return name in pages ? name : "orders"
}

let rendering = false
let again = false

/** Renders the current page; a render asked for meanwhile runs once after it. */
const render = async () => {
  if (rendering) {
    again = true
    return
  }
  rendering = true
  const name = pageName()
  try {
    for (const a of document.querySelectorAll<HTMLAnchorElement>("header.bar nav a")) {
      if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page")
      else a.removeAttribute("aria-current")
    }
    document.title = `${pages[name]!.title} · Warden`
    renderedAt = Date.now()
    const html = await pages[name]!.render()
    // Unchanged markup is not replaced: no flicker, and focus stays where it was.
    if (main().dataset.html !== html || main().dataset.page !== name) {
      main().innerHTML = html
      main().dataset.html = html
      main().dataset.page = name
    }
  } catch (e) {
    main().innerHTML = `<p role="alert" class="error">Could not load this view: ${esc(e instanceof Error ? e.message : String(e))}</p>`
    main().dataset.html = ""
  } finally {
    rendering = false
    if (again) {
      again = false
      void render()
    }
  }
}

let pending: ReturnType<typeof setTimeout> | null = null
let renderedAt = 0
const refreshSoon = () => {
  if (pending !== null) return
  pending = setTimeout(() => {
    pending = null
    void render()
  }, refreshDebounceMs)
}

/** After one of the operator's own actions the brokers' positions are read again at once. */
const afterAction = () => {
  positions = { at: 0, rows: positions.rows }
  refreshSoon()
}

const onAction = (e: Event) => {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]")
  if (!button) return
  const id = button.dataset.id ?? ""
  const action = button.dataset.action
  if (action === "cancel") cancelOrder(id, afterAction)
  else if (action === "close") closeTrade(id, button.dataset.label ?? id, afterAction)
  else if (action === "unwind-on") forcedUnwind(id, true, afterAction)
  else if (action === "unwind-off") forcedUnwind(id, false, afterAction)
}

const start = async () => {
  meta = await get<MetaView>("/dashboard/meta")
  if (location.hash === "") history.replaceState(null, "", "#/orders")
  window.addEventListener("hashchange", () => {
    main().dataset.html = ""
    void render()
  })
  main().addEventListener("click", onAction)
  document.getElementById("new-order")!.addEventListener("click", () => openOrderForm(meta.accounts, afterAction))
  document.getElementById("exit-all")!.addEventListener("click", () => exitAll(afterAction))
  await render()
  connectLive(document.body.dataset.live ?? "", document.getElementById("live")!, refreshSoon)
  setInterval(() => {
    const every = pages[pageName()]!.pollMs
    if (every === null || document.visibilityState !== "visible" || Date.now() - renderedAt < every) return
    void render()
  }, 500)
}

void start()

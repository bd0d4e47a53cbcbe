/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The operator dashboard in the browser: hash routes (`#/orders`, `#/trades`, `#/risk`,
 * `#/diagnostics`) over the engine's API, re-rendered when a committed transition arrives on the
 * `/ws` stream (debounced), and every `livePollMs` on the pages whose figures move with the
 * market (live P&L, the enforcer's last check). The controls are in `Controls.ts` and `OrderForm.ts`.
 */
import { connectLive } from "../../audit/client/Live.js"
import { esc } from "../../audit/Html.js"
import type { MetaView, ReconciliationView, RiskView, TradesView } from "../DashboardTypes.js"
import { call, cancelOrder, closeTrade, exitAll, forcedUnwind } from "./Controls.js"
import { openOrderForm } from "./OrderForm.js"
import { diagnosticsHtml, orderBookHtml, riskHtml, tradesHtml } from "./Views.js"

/** How often the pages with market-moved figures refresh, in ms. */
const livePollMs = 1_500
/** Delay that gathers a burst of transitions into one refresh, in ms. */
const refreshDebounceMs = 250

const main = () => document.getElementById("main")!
let meta: MetaView = { accounts: [], tokenRequired: false, alerts: null }

const get = async <A>(path: string): Promise<A> => {
  const a = await call("GET", path)
  if (!a.ok) throw new Error(`${path}: HTTP ${a.status}`)
  return a.body as A
}

const pages: Record<string, { title: string; live: boolean; render: () => Promise<string> }> = {
  orders: {
    title: "Order book",
    live: false,
    render: async () => orderBookHtml(await get("/dashboard/orderbook")),
  },
  trades: {
    title: "Trades & positions",
    live: true,
    render: async () => {
      const [trades, positions] = await Promise.all([
        get<TradesView>("/dashboard/trades"),
        get<ReadonlyArray<Record<string, unknown>>>("/api/v1/positions"),
      ])
      return tradesHtml(trades, positions)
    },
  },
  risk: {
    title: "Risk",
    live: true,
    render: async () => riskHtml(await get<RiskView>("/dashboard/risk"), Date.now()),
  },
  diagnostics: {
    title: "Diagnostics",
    live: false,
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
const refreshSoon = () => {
  if (pending !== null) return
  pending = setTimeout(() => {
    pending = null
    void render()
  }, refreshDebounceMs)
}

const onAction = (e: Event) => {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]")
  if (!button) return
  const id = button.dataset.id ?? ""
  const action = button.dataset.action
  if (action === "cancel") cancelOrder(id, refreshSoon)
  else if (action === "close") closeTrade(id, button.dataset.label ?? id, refreshSoon)
  else if (action === "unwind-on") forcedUnwind(id, true, refreshSoon)
  else if (action === "unwind-off") forcedUnwind(id, false, refreshSoon)
}

const start = async () => {
  meta = await get<MetaView>("/dashboard/meta")
  if (location.hash === "") history.replaceState(null, "", "#/orders")
  window.addEventListener("hashchange", () => {
    main().dataset.html = ""
    void render()
  })
  main().addEventListener("click", onAction)
  document.getElementById("new-order")!.addEventListener("click", () => openOrderForm(meta.accounts, refreshSoon))
  document.getElementById("exit-all")!.addEventListener("click", () => exitAll(refreshSoon))
  await render()
  connectLive(document.body.dataset.live ?? "", document.getElementById("live")!, refreshSoon)
  setInterval(() => {
    if (pages[pageName()]!.live && document.visibilityState === "visible") void render()
  }, livePollMs)
}

void start()

/**
 * The dashboard's views as HTML strings (browser code, but pure: no DOM here): the order book, trades
 * and positions, risk, and diagnostics. Everything interpolated goes through `esc`. Every order,
 * trade and intent links to its audit view; buttons carry `data-action` for the controls.
 */
import { esc } from "../../audit/Html.js"
import type {
  AccountDayPnl,
  AlertStats,
  ReconciliationIssue,
  ReconciliationView,
  RiskAccount,
  RiskRecord,
  RiskView,
  TradeRow,
  TradesView,
} from "../DashboardTypes.js"

type Row = Record<string, unknown>

/** The audit view of an actor. */
export const auditLink = (id: unknown): string =>
  typeof id === "string" && id !== ""
    ? `<a class="mono" href="/audit/#/actor/${encodeURIComponent(id)}" title="Open in the audit">${esc(id)}</a>`
    : '<span class="none">—</span>'

const inr = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })
const plain = new Intl.NumberFormat("en-IN", { maximumFractionDigits: 4 })

/** A price or quantity; a dash for none. */
export const n = (v: unknown): string => (typeof v === "number" && Number.isFinite(v) ? plain.format(v) : "—")

/** Rupees with their sign, marked gain or loss by text as well as colour. */
export const money = (v: unknown): string => {
  if (typeof v !== "number" || !Number.isFinite(v)) return '<span class="none">—</span>'
  const r = Math.round(v * 100) / 100
  const cls = r > 0 ? "pos" : r < 0 ? "neg" : ""
  const sign = r > 0 ? "+" : r < 0 ? "−" : ""
  return `<span class="${cls}">${sign}₹${inr.format(Math.abs(r))}</span>`
}

/** A time of day (with the date when not today). */
export const when = (ms: unknown): string => {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return '<span class="none">—</span>'
  const d = new Date(ms)
  const today = new Date().toDateString() === d.toDateString()
  const text = today ? d.toLocaleTimeString([], { hour12: false }) : d.toLocaleString([], { hour12: false })
  return `<time datetime="${d.toISOString()}">${esc(text)}</time>`
}

/** A state as a labelled pill. */
export const pill = (state: unknown, label?: string): string => {
  const s = String(state ?? "")
  const top = s.split(/[.|]/)[0] ?? s
  return `<span class="pill ${esc(top)}" title="${esc(s)}">${esc(label ?? s)}</span>`
}

const table = (caption: string, head: ReadonlyArray<string>, rows: ReadonlyArray<string>, empty: string) =>
  rows.length === 0
    ? `<p class="none">${esc(empty)}</p>`
    : `<table aria-label="${esc(caption)}"><thead><tr>${head.map((h) => `<th scope="col"${/^(Qty|Filled|Entry|LTP|Exit|Stop|Target|Trail level|P&L|Realised P&L|Net qty|Buy avg|Sell avg|Realised|Unrealised|Count|Engine|Broker)$/.test(h) ? ' class="num"' : ""}>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`

const td = (html: string, cls = "") => `<td${cls ? ` class="${cls}"` : ""}>${html}</td>`

const statCard = (label: string, value: unknown, cls = "") =>
  `<div class="card stat ${cls}" data-stat="${esc(label)}"><div class="label">${esc(label)}</div><div class="value">${esc(value ?? 0)}</div></div>`

/** The status cards of the order book: created, sent, executed, partial, failed (and the rest). */
export const statusCards = (counts: Readonly<Record<string, number>>): string => {
  const main = ["CREATED", "SENT_TO_BROKER", "EXECUTED", "PARTIAL", "FAILED"]
  const labels: Record<string, string> = { SENT_TO_BROKER: "Sent" }
  const title = (s: string) => labels[s] ?? s.charAt(0) + s.slice(1).toLowerCase()
  const rest = Object.keys(counts).filter((k) => !main.includes(k))
  return `<div class="cards">${[...main, ...rest].map((s) => statCard(title(s), counts[s] ?? 0, s === "FAILED" && (counts[s] ?? 0) > 0 ? "failed" : "")).join("")}</div>`
}

const working = new Set(["CREATED", "SENT_TO_BROKER", "PARTIAL"])

const symbolCell = (symbol: unknown, sub: ReadonlyArray<unknown>) =>
  `<strong>${esc(symbol)}</strong><div class="sub">${sub
    .filter((x) => x !== null && x !== undefined && x !== "")
    .map(esc)
    .join(" · ")}</div>`

const filled = (qty: unknown, avg: unknown) =>
  `${n(qty)}${Number(avg) > 0 ? ` <span class="muted">@ ${n(avg)}</span>` : ""}`

const idWithTime = (link: string, ms: unknown) => `${link}<div class="sub">${when(ms)}</div>`

const engineOrderRow = (o: Row) =>
  `<tr data-order="${esc(o.order_id)}">${td(idWithTime(auditLink(o.order_id), o.created_at))}${td(symbolCell(o.symbol, [o.account_id, o.product, o.order_type, o.price === null ? null : n(o.price), o.purpose]))}${td(pill(o.side))}${td(n(o.qty), "num")}${td(`${pill(o.state, String(o.status))}${o.reason ? `<div class="reason">${esc(o.reason)}</div>` : ""}`)}${td(filled(o.filled_qty, o.avg_price), "num")}${td(auditLink(o.parent_id), "wrap")}${td(working.has(String(o.status)) ? `<button type="button" class="small danger" data-action="cancel" data-id="${esc(o.order_id)}">Cancel</button>` : "")}</tr>`

const brokerOrderRow = (accountId: string, o: Row) =>
  `<tr>${td(idWithTime(`<span class="mono">${esc(o.brokerOrderId)}</span>`, o.placedAt))}${td(auditLink(o.clientTag))}${td(symbolCell(o.symbol, [accountId, o.product, o.orderType]))}${td(pill(o.side))}${td(n(o.qty), "num")}${td(`${pill(o.status)}${o.reason ? `<div class="reason">${esc(o.reason)}</div>` : ""}`)}${td(filled(o.filledQty, o.avgPrice), "num")}</tr>`

/** The order book: status cards, then the engine's orders and the brokers' side by side. */
export const orderBookHtml = (book: {
  counts: Readonly<Record<string, number>>
  system: ReadonlyArray<Row>
  broker: ReadonlyArray<{ accountId: string; orders?: ReadonlyArray<Row>; error?: string }>
}): string => {
  const engine = table(
    "Engine orders",
    ["Order", "Symbol", "Side", "Qty", "Status", "Filled", "Trade / intent", ""],
    book.system.map(engineOrderRow),
    "No orders yet.",
  )
  const brokerRows = book.broker.flatMap((b) => (b.orders ?? []).map((o) => brokerOrderRow(b.accountId, o)))
  const errors = book.broker
    .filter((b) => b.error)
    .map((b) => `<p class="error">${esc(b.accountId)}: the broker did not answer: ${esc(b.error)}</p>`)
  const broker = table(
    "Broker orders",
    ["Broker order", "Engine order", "Symbol", "Side", "Qty", "Status", "Filled"],
    brokerRows,
    "The brokers hold no orders.",
  )
  return `<h2>Order book</h2>${statusCards(book.counts)}<div class="grid2 book"><section class="panel" id="engine-orders"><h3>Engine</h3>${engine}</section><section class="panel" id="broker-orders"><h3>Broker</h3>${errors.join("")}${broker}</section></div>`
}

const trailingText = (t: TradeRow) =>
  t.trailing === null ? '<span class="none">—</span>' : `${n(t.trailing.distance)} ${esc(t.trailing.unit)}`

const openTradeRow = (t: TradeRow) =>
  `<tr data-trade="${esc(t.tradeId)}">${td(idWithTime(auditLink(t.tradeId), t.openedAt))}${td(symbolCell(t.symbol, [t.accountId, t.product]))}${td(pill(t.direction))}${td(n(t.qty), "num")}${td(n(t.entryPrice), "num")}${td(n(t.ltp), "num")}${td(money(t.unrealizedPnl), "num pnl")}${td(n(t.stopLoss), "num")}${td(n(t.target), "num")}${td(trailingText(t))}${td(n(t.trailLevel), "num trail")}${td(pill(t.state))}${td(auditLink(t.entryOrderId), "wrap")}${td(t.state === "OPEN" ? `<button type="button" class="small danger" data-action="close" data-id="${esc(t.tradeId)}" data-label="${esc(`${t.direction} ${t.qty} ${t.symbol}`)}">Close</button>` : "")}</tr>`

const closedTradeRow = (t: TradeRow) =>
  `<tr data-trade="${esc(t.tradeId)}">${td(idWithTime(auditLink(t.tradeId), t.closedAt))}${td(symbolCell(t.symbol, [t.accountId, t.product]))}${td(pill(t.direction))}${td(n(t.qty), "num")}${td(n(t.entryPrice), "num")}${td(n(t.exitPrice), "num")}${td(`<span class="pill">${esc(t.exitReason ?? "—")}</span>`)}${td(money(t.realizedPnl), "num realised")}${td(t.intentIds.map(auditLink).join(" "))}</tr>`

const dayCard = (p: AccountDayPnl) =>
  `<div class="card stat" data-account="${esc(p.accountId)}"><div class="label">${esc(p.accountId)} · day P&amp;L</div><div class="value">${money(p.total)}</div><div class="muted">realised ${money(p.realized)} · open ${money(p.unrealized)} · ${p.openTrades} open, ${p.closedTrades} closed</div></div>`

const positionRows = (positions: ReadonlyArray<Row>) =>
  positions.flatMap((a) =>
    ((a.positions as ReadonlyArray<Row> | undefined) ?? []).map(
      (p) =>
        `<tr>${td(esc(a.accountId))}${td(`<strong>${esc(p.symbol)}</strong>`)}${td(esc(p.product))}${td(n(p.netQty), "num")}${td(n(p.buyAvg), "num")}${td(n(p.sellAvg), "num")}${td(n(p.ltp), "num")}${td(money(p.realizedPnl), "num")}${td(money(p.unrealizedPnl), "num")}</tr>`,
    ),
  )

/** Trades and positions: the day's P&L per account, open trades live, closed trades, broker positions. */
export const tradesHtml = (view: TradesView, positions: ReadonlyArray<Row>): string => {
  const open = table(
    "Open trades",
    [
      "Trade",
      "Symbol",
      "Dir",
      "Qty",
      "Entry",
      "LTP",
      "P&L",
      "Stop",
      "Target",
      "Trailing",
      "Trail level",
      "State",
      "Entry order",
      "",
    ],
    view.open.map(openTradeRow),
    "No open trades.",
  )
  const closed = table(
    "Closed trades",
    ["Trade", "Symbol", "Dir", "Qty", "Entry", "Exit", "Exit reason", "Realised P&L", "Exit intents"],
    view.closed.map(closedTradeRow),
    "No closed trades yet.",
  )
  const pos = table(
    "Broker positions",
    ["Account", "Symbol", "Product", "Net qty", "Buy avg", "Sell avg", "LTP", "Realised", "Unrealised"],
    positionRows(positions),
    "No positions at the brokers.",
  )
  return `<h2>Trades &amp; positions</h2><div class="cards" id="day-pnl">${view.dayPnl.map(dayCard).join("")}</div>
<section class="panel" id="open-trades"><h3>Open trades</h3>${open}</section>
<section class="panel" id="closed-trades"><h3>Closed trades</h3>${closed}</section>
<section class="panel" id="positions"><h3>Broker positions</h3>${pos}</section>`
}

const recordsTable = (caption: string, rows: ReadonlyArray<RiskRecord>, empty: string) =>
  table(
    caption,
    ["Time", "Kind", "Action", "Detail"],
    rows.map(
      (r) =>
        `<tr>${td(when(r.at))}${td(`<span class="pill">${esc(r.kind)}</span>`)}${td(esc(r.action))}${td(esc(r.detail))}</tr>`,
    ),
    empty,
  )

const meter = (used: number, limit: number) => {
  const pct = limit > 0 ? Math.max(0, Math.min(100, (used / limit) * 100)) : used > 0 ? 100 : 0
  return `<div class="meter${pct >= 80 ? " hot" : ""}" role="img" aria-label="${Math.round(pct)}% of the limit"><span style="width:${pct.toFixed(1)}%"></span></div>`
}

const riskAccountHtml = (a: RiskAccount) => {
  const loss = Math.max(0, -a.pnl.total)
  const unwind = a.forcedUnwind
    ? `<span class="pill bad">Forced unwind ON</span> <span class="muted">${esc(a.unwindReason ?? "")}</span> <button type="button" class="small" data-action="unwind-off" data-id="${esc(a.accountId)}">Turn off</button>`
    : `<span class="pill">Forced unwind off</span> <button type="button" class="small danger" data-action="unwind-on" data-id="${esc(a.accountId)}">Turn on…</button>`
  return `<section class="panel risk-account" data-account="${esc(a.accountId)}"><div class="account-head"><h3>${esc(a.accountId)}</h3>${pill(a.state)}${a.reason ? `<span class="reason">${esc(a.reason)}</span>` : ""}<span class="spacer"></span><span class="switch">${unwind}</span></div>
<dl class="kv"><dt>Day P&amp;L</dt><dd>${money(a.pnl.total)} <span class="muted">(realised ${money(a.pnl.realized)}, open ${money(a.pnl.unrealized)}; positions from the ${esc(a.positionsFrom)})</span></dd>
<dt>Loss vs limit</dt><dd>${money(-loss)} of −₹${n(a.maxDailyLoss)} ${meter(loss, a.maxDailyLoss)}</dd>
<dt>Open positions</dt><dd>${a.openPositions} of ${a.maxOpenPositions} ${meter(a.openPositions, a.maxOpenPositions)}</dd>
<dt>Working orders</dt><dd>${a.workingOrders}</dd></dl>
<div class="grid2"><div><h3>Enforcer interventions</h3>${recordsTable("Interventions", a.interventions, "None.")}</div><div><h3>Risk refusals</h3>${recordsTable("Refusals", a.blocks, "None.")}</div></div></section>`
}

/** Risk: the enforcer's last check, then each account. */
export const riskHtml = (view: RiskView, now: number): string => {
  const e = view.enforcer
  const ago = e.lastCheckAt === null ? "not yet" : `${Math.max(0, Math.round((now - e.lastCheckAt) / 1000))} s ago`
  return `<h2>Risk</h2><div class="cards" id="enforcer">${statCard("Enforcer last check", ago)}${statCard("Cycles", e.cycles)}${statCard("Check failures", e.failures, e.failures > 0 ? "failed" : "")}${statCard("Interval", `${e.intervalMs / 1000} s`)}</div>
${e.lastError ? `<p class="error">Last enforcer error: ${esc(e.lastError)}</p>` : ""}${view.accounts.map(riskAccountHtml).join("")}`
}

const issueRow = (i: ReconciliationIssue) =>
  `<tr>${td(when(i.lastSeenAt))}${td(esc(i.accountId))}${td(`<span class="pill warn">${esc(i.kind)}</span>`)}${td(`<span class="mono">${esc(i.subject)}</span>`)}${td(esc(i.detail))}${td(n(i.engineValue), "num")}${td(n(i.brokerValue), "num")}${td(i.resolvedAt === null ? '<span class="pill bad">open</span>' : when(i.resolvedAt))}</tr>`

const alertsHtml = (a: AlertStats | null) =>
  a === null || a.channels.length === 0
    ? '<p class="none">No alert channels configured (<code>alerts.channels</code>).</p>'
    : `<p class="muted">Channels: ${a.channels.map(esc).join(", ")}</p><div class="cards">${statCard("Sent", a.sent)}${statCard("Queued", a.queued)}${statCard("Retried", a.retried)}${statCard("Failed", a.failed, a.failed > 0 ? "failed" : "")}${statCard("Dropped", a.dropped, a.dropped > 0 ? "failed" : "")}</div>`

/** Diagnostics: counts by status, failed and pending orders, the checks, reconciliation, alerts. */
export const diagnosticsHtml = (d: {
  orders: { counts: Readonly<Record<string, number>>; failed: ReadonlyArray<Row>; pending: ReadonlyArray<Row> }
  checks: { ok: boolean; checks: ReadonlyArray<Row> }
  reconciliation: ReconciliationView
  alerts: AlertStats | null
}): string => {
  const failed = table(
    "Failed orders",
    ["Time", "Order", "Account", "Symbol", "Side", "Qty", "Reason"],
    d.orders.failed.map(
      (o) =>
        `<tr>${td(when(o.updated_at))}${td(auditLink(o.order_id))}${td(esc(o.account_id))}${td(esc(o.symbol))}${td(pill(o.side))}${td(n(o.qty), "num")}${td(`<span class="reason">${esc(o.reason)}</span>`)}</tr>`,
    ),
    "No failed orders.",
  )
  const pending = table(
    "Pending orders",
    ["Since", "Order", "Account", "Symbol", "Side", "Qty", "Filled", "State"],
    d.orders.pending.map(
      (o) =>
        `<tr>${td(when(o.updated_at))}${td(auditLink(o.order_id))}${td(esc(o.account_id))}${td(esc(o.symbol))}${td(pill(o.side))}${td(n(o.qty), "num")}${td(n(o.filled_qty), "num")}${td(pill(o.state))}</tr>`,
    ),
    "No pending orders.",
  )
  const checks = table(
    "Intent-verification checks",
    ["Check", "Result", "Count", "What it checks", "Sample"],
    d.checks.checks.map(
      (c) =>
        `<tr data-check="${esc(c.name)}">${td(`<code>${esc(c.name)}</code>`)}${td(c.ok ? '<span class="pill ok">pass</span>' : '<span class="pill bad">FAIL</span>')}${td(n(c.count), "num")}${td(esc(c.description))}${td(((c.sample as ReadonlyArray<string>) ?? []).map(auditLink).join(" "))}</tr>`,
    ),
    "No checks.",
  )
  const recon = table(
    "Reconciliation differences",
    ["Last seen", "Account", "Kind", "Subject", "Detail", "Engine", "Broker", "Resolved"],
    [...d.reconciliation.open, ...d.reconciliation.resolved].map(issueRow),
    "The books agree with the brokers'.",
  )
  const external = table(
    "External orders",
    ["Seen", "Account", "Broker id", "Symbol", "Side", "Qty", "Status"],
    d.reconciliation.external.map(
      (o) =>
        `<tr>${td(when(o.first_seen_at))}${td(esc(o.account_id))}${td(`<span class="mono">${esc(o.broker_order_id)}</span>`)}${td(esc(o.symbol))}${td(pill(o.side))}${td(n(o.qty), "num")}${td(pill(o.status))}</tr>`,
    ),
    "No orders placed outside the engine.",
  )
  return `<h2>Diagnostics</h2>${statusCards(d.orders.counts)}
<section class="panel" id="checks"><h3>Intent verification ${d.checks.ok ? '<span class="pill ok">all pass</span>' : '<span class="pill bad">failing</span>'}</h3>${checks}</section>
<section class="panel" id="failed-orders"><h3>Failed orders</h3>${failed}</section><section class="panel" id="pending-orders"><h3>Pending orders</h3>${pending}</section>
<section class="panel" id="reconciliation"><h3>Reconciliation differences</h3>${recon}<h3 style="margin-top:0.75rem">Orders placed outside the engine</h3>${external}</section>
<section class="panel" id="alerts"><h3>Alerts</h3>${alertsHtml(d.alerts)}</section>`
}

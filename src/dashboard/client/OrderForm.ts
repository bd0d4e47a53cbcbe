/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The manual order form (browser code): symbol search over the instrument master, side, quantity
 * in lots, product, order type, price and trigger, stop, target and trailing. "Review" shows the
 * order to confirm; "Place order" submits it as `POST /api/v1/orders` (source `dashboard`), the
 * entry path every source takes, and shows the outcome: accepted with its order and trade, or
 * refused with the field or the risk manager's reason.
 */
import { esc } from "../../audit/Html.js"
import type { InstrumentHit } from "../DashboardTypes.js"
import { call, confirmThen, refusalText, searchInstruments } from "./Controls.js"
import { auditLink, n } from "./Views.js"

const formHtml = (accounts: ReadonlyArray<string>) => `<form class="fields" id="order-form" novalidate>
<label>Account<select name="accountId">${accounts.map((a) => `<option>${esc(a)}</option>`).join("")}</select></label>
<label>Symbol<input name="symbol" list="symbol-list" autocomplete="off" placeholder="Search the instrument master" required><datalist id="symbol-list"></datalist><span class="hint" id="instrument-info">Type to search.</span></label>
<div class="field">Side<div class="seg"><label><input type="radio" name="side" value="BUY" checked>Buy</label><label class="sell"><input type="radio" name="side" value="SELL">Sell</label></div></div>
<label>Lots<input name="lots" type="number" min="1" step="1" value="1" required><span class="hint" id="qty-info"></span></label>
<label>Product<select name="product"><option>MIS</option><option>NRML</option><option>CNC</option></select></label>
<label>Order type<select name="orderType"><option>MARKET</option><option>LIMIT</option><option>SL</option><option>SL-M</option></select></label>
<label data-for="price">Price<input name="price" type="number" step="any" min="0"></label>
<label data-for="trigger">Trigger price<input name="triggerPrice" type="number" step="any" min="0"></label>
<label>Stop loss <span class="hint">price, optional</span><input name="stopLoss" type="number" step="any" min="0"></label>
<label>Target <span class="hint">price, optional</span><input name="target" type="number" step="any" min="0"></label>
<label>Trailing stop <span class="hint">distance, optional</span><input name="trailing" type="number" step="any" min="0"></label>
<label>Trailing unit<select name="trailingUnit"><option value="price">price</option><option value="percent">percent</option><option value="ticks">ticks</option></select></label>
<p class="error wide" id="form-error" role="alert"></p></form>`

type Draft = Record<string, unknown> & { readonly qty: number; readonly symbol: string }

const numberOf = (f: FormData, name: string): number | null => {
  const v = String(f.get(name) ?? "").trim()
  return v === "" ? null : Number(v)
}

/** The order the form describes, or the field at fault. */
const draftOf = (form: HTMLFormElement, instrument: InstrumentHit | null): Draft | string => {
  const f = new FormData(form)
  if (!instrument) return "symbol: choose an instrument from the search"
  const lots = Number(f.get("lots"))
  if (!Number.isInteger(lots) || lots < 1) return "lots: a whole number of lots, at least 1"
  const orderType = String(f.get("orderType"))
  const price = numberOf(f, "price")
  const triggerPrice = numberOf(f, "triggerPrice")
  if ((orderType === "LIMIT" || orderType === "SL") && price === null) return `price: required for a ${orderType} order`
  if ((orderType === "SL" || orderType === "SL-M") && triggerPrice === null)
    return `triggerPrice: required for a ${orderType} order`
  const trailing = numberOf(f, "trailing")
  for (const [k, v] of [
    ["price", price],
    ["triggerPrice", triggerPrice],
    ["stopLoss", numberOf(f, "stopLoss")],
    ["target", numberOf(f, "target")],
    ["trailing", trailing],
  ] as const)
    if (v !== null && !(v > 0)) return `${k}: a positive number`
  return {
    accountId: String(f.get("accountId")),
    symbol: instrument.symbol,
    exchange: instrument.exchange,
    side: String(f.get("side")),
    qty: lots * instrument.lotSize,
    product: String(f.get("product")),
    orderType,
    price: orderType === "LIMIT" || orderType === "SL" ? price : null,
    triggerPrice: orderType === "SL" || orderType === "SL-M" ? triggerPrice : null,
    stopLoss: numberOf(f, "stopLoss"),
    target: numberOf(f, "target"),
    trailing: trailing === null ? null : { distance: trailing, unit: String(f.get("trailingUnit")) },
    source: "dashboard",
  }
}

const summaryHtml = (d: Draft, lotSize: number) => {
  const t = d.trailing as { distance: number; unit: string } | null
  const rows: ReadonlyArray<[string, string]> = [
    ["Account", esc(d.accountId)],
    [
      "Order",
      `<strong>${esc(d.side)} ${n(d.qty)} ${esc(d.symbol)}</strong> (${n(d.qty / lotSize)} lot${d.qty / lotSize === 1 ? "" : "s"}) ${esc(d.product)}`,
    ],
    [
      "Type",
      `${esc(d.orderType)}${d.price !== null ? ` @ ${n(d.price)}` : ""}${d.triggerPrice !== null ? `, trigger ${n(d.triggerPrice)}` : ""}`,
    ],
    ["Stop / target", `${n(d.stopLoss)} / ${n(d.target)}`],
    ["Trailing", t ? `${n(t.distance)} ${esc(t.unit)}` : "—"],
  ]
  return `<dl class="summary">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl><p class="hint">The order takes the entry path: the instrument master, the risk manager, then the broker.</p>`
}

const outcomeOf = async (d: Draft): Promise<readonly [boolean, string, string]> => {
  const a = await call("POST", "/api/v1/orders", d)
  if (!a.ok) return [false, "Order refused", `<p>${esc(refusalText(a))}</p>`]
  const b = a.body ?? {}
  if (b.status === "REFUSED")
    return [false, "Order refused by risk", `<p>${esc(b.reason)}</p><p>Order ${auditLink(b.orderId)} is FAILED.</p>`]
  return [
    true,
    "Order accepted",
    `<p>Order ${auditLink(b.orderId)} sent to the broker${b.tradeId ? `; its trade ${auditLink(b.tradeId)} opens when it fills` : ""}.</p>`,
  ]
}

/** Wires the symbol search and the fields that depend on the order type. */
const wireForm = (form: HTMLFormElement, chosen: { value: InstrumentHit | null }) => {
  const symbol = form.querySelector<HTMLInputElement>("input[name=symbol]")!
  const list = form.querySelector<HTMLDataListElement>("#symbol-list")!
  const info = form.querySelector<HTMLElement>("#instrument-info")!
  const qtyInfo = form.querySelector<HTMLElement>("#qty-info")!
  let hits: ReadonlyArray<InstrumentHit> = []
  const showQty = () => {
    const lots = Number(form.querySelector<HTMLInputElement>("input[name=lots]")!.value)
    qtyInfo.textContent = chosen.value && lots > 0 ? `= ${lots * chosen.value.lotSize} units` : ""
  }
  const pick = () => {
    chosen.value = hits.find((h) => h.symbol.toUpperCase() === symbol.value.trim().toUpperCase()) ?? null
    info.textContent = chosen.value
      ? `${chosen.value.exchange} · lot ${chosen.value.lotSize} · tick ${chosen.value.tickSize}${chosen.value.ltp === null ? "" : ` · LTP ${n(chosen.value.ltp)}`}`
      : hits.length > 0
        ? `${hits.length} match${hits.length === 1 ? "" : "es"}: pick one`
        : "No instrument matches."
    showQty()
  }
  const search = async () => {
    hits = await searchInstruments(symbol.value)
    list.innerHTML = hits
      .map((h) => `<option value="${esc(h.symbol)}">${esc(h.exchange)} · lot ${h.lotSize}</option>`)
      .join("")
    pick()
  }
  symbol.addEventListener("input", () => void search())
  form.querySelector("input[name=lots]")!.addEventListener("input", showQty)
  const type = form.querySelector<HTMLSelectElement>("select[name=orderType]")!
  const showPrices = () => {
    form.querySelector<HTMLElement>('[data-for="price"]')!.hidden = !(type.value === "LIMIT" || type.value === "SL")
    form.querySelector<HTMLElement>('[data-for="trigger"]')!.hidden = !(type.value === "SL" || type.value === "SL-M")
  }
  type.addEventListener("change", showPrices)
  showPrices()
  void search()
}

/** Opens the order form. */
export const openOrderForm = (accounts: ReadonlyArray<string>, onDone: () => void) => {
  const chosen: { value: InstrumentHit | null } = { value: null }
  const dialog = confirmThen({
    title: "New order",
    summaryHtml: formHtml(accounts),
    confirmLabel: "Review order",
    onDone,
    run: async () => [false, "", ""],
  })
  const form = dialog.querySelector<HTMLFormElement>("#order-form")!
  wireForm(form, chosen)
  form.querySelector<HTMLInputElement>("input[name=symbol]")!.focus()
  // "Review order" checks the form and asks for confirmation of exactly this order.
  const review = dialog.querySelector<HTMLButtonElement>("[data-confirm]")!
  const fresh = review.cloneNode(true) as HTMLButtonElement
  review.replaceWith(fresh)
  const submit = () => {
    const d = draftOf(form, chosen.value)
    if (typeof d === "string") {
      form.querySelector("#form-error")!.textContent = d
      return
    }
    const lotSize = chosen.value!.lotSize
    dialog.close()
    confirmThen({
      title: "Confirm order",
      summaryHtml: summaryHtml(d, lotSize),
      confirmLabel: "Place order",
      danger: d.side === "SELL",
      onDone,
      run: () => outcomeOf(d),
    })
  }
  fresh.addEventListener("click", submit)
  form.addEventListener("submit", (e) => {
    e.preventDefault()
    submit()
  })
}

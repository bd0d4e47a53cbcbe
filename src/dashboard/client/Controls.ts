/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard's manual controls (browser code). Each one goes through the engine's API, the
 * same path as every other source: an order is `POST /api/v1/orders`, a close is
 * `POST /api/v1/trades/:id/close`, exit all is `POST /api/v1/exits`, forced unwind is
 * `POST`/`DELETE /api/v1/users/:id/forced_unwind`, a cancel is `POST /api/v1/orders/:id/cancel`.
 * Each asks for confirmation in a dialog, then shows the outcome there (a refusal with its reason)
 * and in a toast.
 */
import { esc } from "../../audit/Html.js"
import type { InstrumentHit } from "../DashboardTypes.js"
import { auditLink, n } from "./Views.js"

/** Notices shown at once; older ones go first. */
const toastsMax = 3

/** An API answer: its status and its JSON body (null when it had none). */
export interface Answer {
  readonly ok: boolean
  readonly status: number
  readonly body: Record<string, unknown> | null
}

/** Calls the engine's API as the signed-in browser (cookie, and the header that proves it is this page). */
export const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      accept: "application/json",
      "x-warden-csrf": "1",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (res.status === 401) location.href = `/login?next=${encodeURIComponent(location.pathname + location.hash)}`
  const text = await res.text()
  let json: Record<string, unknown> | null = null
  try {
    json = text === "" ? null : (JSON.parse(text) as Record<string, unknown>)
  } catch {
    json = { message: text }
  }
  return { ok: res.ok, status: res.status, body: json }
}

/** A short notice in the corner. */
export const toast = (title: string, detail: string, ok: boolean) => {
  const box = document.getElementById("toasts")!
  const el = document.createElement("div")
  el.className = `toast ${ok ? "ok" : "bad"}`
  el.setAttribute("role", ok ? "status" : "alert")
  el.innerHTML = `<strong>${esc(title)}</strong>${esc(detail)}`
  box.append(el)
  while (box.children.length > toastsMax) box.firstElementChild!.remove()
  setTimeout(() => el.remove(), 8_000)
}

/** Why a request was refused, in words: the API's code, field and message. */
export const refusalText = (a: Answer): string => {
  const b = a.body ?? {}
  const field = typeof b.field === "string" ? ` (${b.field})` : ""
  return `${String(b.code ?? `HTTP ${a.status}`)}${field}: ${String(b.message ?? "refused")}`
}

/** A modal dialog with a head, a body and buttons, removed when closed. */
const openDialog = (title: string, bodyHtml: string, buttonsHtml: string, id: string): HTMLDialogElement => {
  document.getElementById(id)?.remove()
  const dialog = document.createElement("dialog")
  dialog.id = id
  dialog.setAttribute("aria-labelledby", `${id}-title`)
  dialog.innerHTML = `<div class="head" id="${id}-title">${esc(title)}</div><div class="body">${bodyHtml}</div><div class="foot">${buttonsHtml}</div>`
  document.body.append(dialog)
  dialog.addEventListener("close", () => dialog.remove())
  dialog.showModal()
  return dialog
}

/** Shows an outcome in a dialog (replacing its body and buttons) and as a toast. */
const showOutcome = (dialog: HTMLDialogElement, ok: boolean, title: string, html: string, onDone: () => void) => {
  dialog.querySelector(".body")!.innerHTML =
    `<div class="outcome ${ok ? "ok" : "bad"}" role="${ok ? "status" : "alert"}"><p class="${ok ? "pos" : "error"}"><strong>${esc(title)}</strong></p>${html}</div>`
  dialog.querySelector(".foot")!.innerHTML = '<button type="button" class="primary" data-close>Close</button>'
  dialog.querySelector<HTMLButtonElement>("[data-close]")!.addEventListener("click", () => dialog.close())
  dialog.querySelector<HTMLButtonElement>("[data-close]")!.focus()
  const text = new DOMParser().parseFromString(html.replace(/<\/(p|li)>/g, "$& "), "text/html").body.textContent
  toast(title, (text ?? "").trim(), ok)
  onDone()
}

/**
 * Asks for confirmation of an action, runs it, and shows its outcome: `run` answers with
 * `[ok, title, detailHtml]`.
 */
export const confirmThen = (options: {
  readonly title: string
  readonly summaryHtml: string
  readonly confirmLabel: string
  readonly danger?: boolean
  readonly run: (dialog: HTMLDialogElement) => Promise<readonly [boolean, string, string]>
  readonly onDone: () => void
}) => {
  const dialog = openDialog(
    options.title,
    options.summaryHtml,
    `<button type="button" data-cancel>Cancel</button><button type="button" class="${options.danger ? "danger" : "primary"}" data-confirm>${esc(options.confirmLabel)}</button>`,
    "confirm-dialog",
  )
  dialog.querySelector("[data-cancel]")!.addEventListener("click", () => dialog.close())
  const confirm = dialog.querySelector<HTMLButtonElement>("[data-confirm]")!
  confirm.addEventListener("click", async () => {
    confirm.disabled = true
    confirm.textContent = "Working…"
    try {
      const [ok, title, html] = await options.run(dialog)
      showOutcome(dialog, ok, title, html, options.onDone)
    } catch (e) {
      showOutcome(dialog, false, "The request failed", esc(e instanceof Error ? e.message : String(e)), options.onDone)
    }
  })
  confirm.focus()
  return dialog
}

const refused = (a: Answer, what: string) => [false, `${what} refused`, `<p>${esc(refusalText(a))}</p>`] as const

/** Cancel a working order. */
export const cancelOrder = (orderId: string, onDone: () => void) =>
  confirmThen({
    title: "Cancel order",
    summaryHtml: `<p>Cancel the working order ${auditLink(orderId)} at the broker?</p>`,
    confirmLabel: "Cancel order",
    danger: true,
    onDone,
    run: async () => {
      const a = await call("POST", `/api/v1/orders/${encodeURIComponent(orderId)}/cancel`)
      return a.ok
        ? [true, "Cancel sent", `<p>Order ${auditLink(orderId)} is now ${esc(a.body?.state)}.</p>`]
        : refused(a, "Cancel")
    },
  })

/** Close one open trade through its exit intent. */
export const closeTrade = (tradeId: string, label: string, onDone: () => void) =>
  confirmThen({
    title: "Close trade",
    summaryHtml: `<p>Close <strong>${esc(label)}</strong> (${auditLink(tradeId)}) at market? Its exit goes through the exit pipeline: a signal, an intent, the gates, an exit order.</p>`,
    confirmLabel: "Close trade",
    danger: true,
    onDone,
    run: async () => {
      const a = await call("POST", `/api/v1/trades/${encodeURIComponent(tradeId)}/close`, { source: "dashboard" })
      if (!a.ok) return refused(a, "Close")
      const b = a.body ?? {}
      return [
        true,
        "Exit placed",
        `<p>Trade ${auditLink(tradeId)}: intent ${auditLink(b.intentId)}${b.orderId ? `, exit order ${auditLink(b.orderId)}` : " (recorded in dark mode, not executed)"}.</p>`,
      ]
    },
  })

/** Turn an account's forced unwind on (with a reason) or off. */
export const forcedUnwind = (accountId: string, on: boolean, onDone: () => void) =>
  confirmThen({
    title: on ? "Turn forced unwind on" : "Turn forced unwind off",
    summaryHtml: on
      ? `<p>While forced unwind is on, the enforcer exits <strong>every position of ${esc(accountId)}</strong> and the risk manager refuses every entry.</p><label class="field">Reason<input name="reason" value="operator: forced unwind" maxlength="120"></label>`
      : `<p>Turn forced unwind off for <strong>${esc(accountId)}</strong>? Entries are judged by the usual limits again.</p>`,
    confirmLabel: on ? "Turn on" : "Turn off",
    danger: on,
    onDone,
    run: async (dialog) => {
      const path = `/api/v1/users/${encodeURIComponent(accountId)}/forced_unwind`
      const reason = dialog.querySelector<HTMLInputElement>("input[name=reason]")?.value || "forced unwind"
      const a = on ? await call("POST", path, { reason }) : await call("DELETE", path)
      if (!a.ok) return refused(a, "Forced unwind")
      const state = a.body?.forcedUnwind === true
      return [
        true,
        `Forced unwind ${state ? "ON" : "off"} for ${accountId}`,
        `<p>Account state ${esc(a.body?.state)}.</p>`,
      ]
    },
  })

const placedList = (placed: ReadonlyArray<Record<string, unknown>>) =>
  placed.length === 0
    ? "<p>Nothing placed.</p>"
    : `<ul>${placed.map((p) => `<li>${esc(p.accountId)}: ${esc(p.side)} ${n(p.qty)} ${esc(p.symbol)} ${esc(p.product)} via ${esc(p.via)} → ${auditLink(p.orderId)}${p.intentId ? ` (intent ${auditLink(p.intentId)})` : ""}</li>`).join("")}</ul>`

const skippedList = (skipped: ReadonlyArray<Record<string, unknown>>) =>
  skipped.length === 0
    ? ""
    : `<p class="muted">Skipped:</p><ul>${skipped.map((s) => `<li>${esc(s.accountId)} ${esc(s.symbol ?? "*")} ${esc(s.product ?? "")}: ${esc(s.reason)}</li>`).join("")}</ul>`

/** Exit all (the broker-truth exit): scope and product, never CNC. */
export const exitAll = (onDone: () => void) => {
  const form = `<form class="fields" id="exit-form" onsubmit="return false">
<div class="field wide">Scope<div class="seg"><label><input type="radio" name="scope" value="ALL" checked>Every position</label><label><input type="radio" name="scope" value="SYMBOLS">Only these symbols</label></div></div>
<label class="wide">Symbols <span class="hint">comma-separated, for "only these symbols"</span><input name="symbols" placeholder="NIFTY26DECFUT, RELIANCE-EQ"></label>
<label>Product<select name="product"><option value="ALL">MIS and NRML</option><option value="MIS">MIS</option><option value="NRML">NRML</option></select></label>
<label>Reason<input name="reason" value="MANUAL" maxlength="64" required></label>
<p class="hint wide">Quantities and sides come from the brokers' net positions. Delivery (CNC) holdings are never sold.</p></form>`
  return confirmThen({
    title: "Exit all positions",
    summaryHtml: form,
    confirmLabel: "Exit now",
    danger: true,
    onDone,
    run: async (dialog) => {
      const f = new FormData(dialog.querySelector<HTMLFormElement>("#exit-form")!)
      const scope = String(f.get("scope"))
      const symbols = String(f.get("symbols") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
      if (scope === "SYMBOLS" && symbols.length === 0)
        return [false, "Exit not sent", "<p>symbols: name at least one symbol.</p>"]
      const a = await call("POST", "/api/v1/exits", {
        scope,
        symbols,
        product_type: String(f.get("product")),
        reason: String(f.get("reason") || "MANUAL"),
        source: "dashboard",
      })
      if (!a.ok) return refused(a, "Exit")
      const placed = (a.body?.placed as ReadonlyArray<Record<string, unknown>>) ?? []
      const skipped = (a.body?.skipped as ReadonlyArray<Record<string, unknown>>) ?? []
      return [
        true,
        `Exit all: ${placed.length} exit${placed.length === 1 ? "" : "s"} placed`,
        placedList(placed) + skippedList(skipped),
      ]
    },
  })
}

/** The instruments matching a query, from the instrument master. */
export const searchInstruments = async (q: string): Promise<ReadonlyArray<InstrumentHit>> => {
  const a = await call("GET", `/dashboard/instruments?q=${encodeURIComponent(q)}`)
  return a.ok && Array.isArray(a.body) ? (a.body as ReadonlyArray<InstrumentHit>) : []
}

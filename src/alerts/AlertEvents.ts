/**
 * What the operator is alerted to, pure: committed transitions (fills, rejections, risk halts,
 * forced unwinds) and rows the engine records outside the actors (enforcer interventions,
 * reconciliation differences) become `AlertEvent`s, each with an id that names its source once
 * (`<actorId>#<seq>` for a transition), so a channel can deliver it at most once.
 */
import type { Transition } from "../runtime/ActorRuntime.js"
import type { InterventionRow as RecordedIntervention } from "../risk/RiskManager.js"

/** The kinds of alert, as the configuration names them. */
export const alertKinds = [
  "fill",
  "rejection",
  "risk_halt",
  "forced_unwind",
  "enforcer_intervention",
  "reconciliation",
] as const

/** One kind of alert. */
export type AlertKind = (typeof alertKinds)[number]

/** One alert: what happened, once, after its commit. */
export interface AlertEvent {
  /** Unique per event: channels deduplicate on it (the webhook's `Idempotency-Key`). */
  readonly id: string
  readonly kind: AlertKind
  /** Epoch ms the engine committed it. */
  readonly at: number
  readonly accountId: string | null
  /** The actor it is about, when it is about one. */
  readonly actorId: string | null
  /** One line for people (Telegram's text, a log line). */
  readonly text: string
  /** The facts, for programs. */
  readonly data: Readonly<Record<string, unknown>>
}

type Context = Readonly<Record<string, unknown>>

const str = (v: unknown): string | null => (typeof v === "string" ? v : null)
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null)

const parsed = (t: Transition): Record<string, unknown> => {
  try {
    const e = JSON.parse(t.event) as unknown
    return typeof e === "object" && e !== null ? (e as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/** Whether a transition may make an alert: callers read the actor's context only for these. */
export const mayAlert = (t: Transition): boolean =>
  t.refused === null &&
  ((t.actorType === "order" && (t.eventType === "broker.filled" || (t.to === "FAILED" && t.from !== "FAILED"))) ||
    (t.actorType === "exitIntent" && t.eventType === "gate.rejected") ||
    (t.actorType === "account" &&
      (t.eventType === "risk.halt" || t.eventType === "unwind.on" || t.eventType === "unwind.off")))

const orderText = (c: Context) => `${str(c.side) ?? "?"} ${num(c.qty) ?? "?"} ${str(c.symbol) ?? "?"}`

/** The alert a committed transition makes, given its actor's context; null for most. */
export const alertOfTransition = (t: Transition, c: Context): AlertEvent | null => {
  if (!mayAlert(t)) return null
  const e = parsed(t)
  const base = { id: `${t.actorId}#${t.seq}`, at: t.at, actorId: t.actorId }
  const accountId = str(c.accountId)
  if (t.actorType === "order" && t.eventType === "broker.filled") {
    const data = {
      orderId: t.actorId,
      symbol: c.symbol,
      side: c.side,
      purpose: c.purpose,
      fillQty: num(e.qty),
      fillPrice: num(e.price),
      filledQty: num(c.filledQty),
      qty: num(c.qty),
      avgPrice: num(c.avgPrice),
      state: t.to,
    }
    const done = t.to === "EXECUTED" ? "executed" : `filled ${num(c.filledQty)}/${num(c.qty)}`
    const text = `Fill: ${orderText(c)} ${num(e.qty)} @ ${num(e.price)} (${done}) [${accountId}] ${t.actorId}`
    return { ...base, kind: "fill", accountId, text, data }
  }
  if (t.actorType === "order") {
    const reason = str(e.reason) ?? str(c.reason) ?? "no reason given"
    const by = t.eventType === "risk.denied" ? "risk" : t.eventType === "broker.rejected" ? "broker" : "engine"
    const data = { orderId: t.actorId, symbol: c.symbol, side: c.side, qty: num(c.qty), purpose: c.purpose, by, reason }
    const text = `Rejected by ${by}: ${orderText(c)} [${accountId}] ${t.actorId}: ${reason}`
    return { ...base, kind: "rejection", accountId, text, data }
  }
  if (t.actorType === "exitIntent") {
    const reason = str(e.reason) ?? "no reason given"
    const data = { intentId: t.actorId, tradeId: c.tradeId, symbol: c.symbol, code: str(e.code), reason, by: "gates" }
    const text = `Exit rejected by the gates: ${str(c.symbol)} trade ${str(c.tradeId)} [${accountId}]: ${str(e.code)}: ${reason}`
    return { ...base, kind: "rejection", accountId, text, data }
  }
  const account = t.actorId
  if (t.eventType === "risk.halt") {
    const reason = str(e.reason) ?? "no reason given"
    return {
      ...base,
      kind: "risk_halt",
      accountId: account,
      text: `Risk halt: ${account} HALTED (entries refused): ${reason}`,
      data: { from: t.from, to: t.to, reason },
    }
  }
  const on = t.eventType === "unwind.on"
  const reason = on ? (str(e.reason) ?? "forced unwind") : null
  return {
    ...base,
    kind: "forced_unwind",
    accountId: account,
    text: on
      ? `Forced unwind ON for ${account}: every position is exited, entries refused (${reason})`
      : `Forced unwind OFF for ${account}`,
    data: { on, reason },
  }
}

/** An enforcer intervention row (`risk_interventions`), with its id. */
export interface InterventionRow extends RecordedIntervention {
  readonly intervention_id: number
}

/** The alert of an enforcer intervention. */
export const alertOfIntervention = (r: InterventionRow): AlertEvent => ({
  id: `intervention:${r.intervention_id}`,
  kind: "enforcer_intervention",
  at: r.at,
  accountId: r.account_id,
  actorId: null,
  text: `Enforcer ${r.kind}: ${r.action} ${r.account_id}: ${r.detail}`,
  data: { kind: r.kind, action: r.action, detail: r.detail, orders: r.orders },
})

/** An open reconciliation difference (`reconciliation_issues`). */
export interface IssueRow {
  readonly id: number
  readonly account_id: string
  readonly kind: string
  readonly subject: string
  readonly detail: string
  readonly engine_value: number | null
  readonly broker_value: number | null
  readonly last_seen_at: number
}

/** The alert of a reconciliation difference, newly open since `openedAt` (its episode). */
export const alertOfIssue = (r: IssueRow, openedAt: number): AlertEvent => ({
  id: `reconciliation:${r.id}:${openedAt}`,
  kind: "reconciliation",
  at: r.last_seen_at,
  accountId: r.account_id,
  actorId: null,
  text: `Reconciliation difference ${r.account_id} ${r.kind} ${r.subject}: ${r.detail}`,
  data: {
    kind: r.kind,
    subject: r.subject,
    detail: r.detail,
    engineValue: r.engine_value,
    brokerValue: r.broker_value,
  },
})

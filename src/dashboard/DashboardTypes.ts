/**
 * The shapes of the operator dashboard's views, as the engine's `/dashboard/*` routes answer them
 * and the browser client renders them. Types only: the client imports them without any server code.
 */

/** A trade as the dashboard shows it: its levels, and its P&L at the last price when open. */
export interface TradeRow {
  readonly tradeId: string
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: string
  readonly direction: "LONG" | "SHORT"
  readonly qty: number
  readonly entryPrice: number
  readonly stopLoss: number | null
  readonly target: number | null
  /** `{ distance, unit }` of the trailing stop, or null. */
  readonly trailing: { readonly distance: number; readonly unit: string } | null
  /** The trailing stop's current level, or null without trailing. */
  readonly trailLevel: number | null
  readonly status: string
  readonly state: string
  readonly exitReason: string | null
  readonly exitPrice: number | null
  readonly realizedPnl: number | null
  readonly openedAt: number
  readonly closedAt: number | null
  /** The tick hub's last price of the symbol (open trades). */
  readonly ltp: number | null
  /** P&L of the open quantity at `ltp` (open trades). */
  readonly unrealizedPnl: number | null
  /** The order that opened it, when the entry path placed one. */
  readonly entryOrderId: string | null
  /** Its exit intents, newest first. */
  readonly intentIds: ReadonlyArray<string>
}

/** One account's P&L of the day, from the engine's trades. */
export interface AccountDayPnl {
  readonly accountId: string
  readonly realized: number
  readonly unrealized: number
  readonly total: number
  readonly openTrades: number
  readonly closedTrades: number
}

/** `GET /dashboard/trades`. */
export interface TradesView {
  readonly open: ReadonlyArray<TradeRow>
  readonly closed: ReadonlyArray<TradeRow>
  readonly dayPnl: ReadonlyArray<AccountDayPnl>
}

/** An enforcer intervention or a risk block, as recorded. */
export interface RiskRecord {
  readonly kind: string
  readonly action: string
  readonly detail: string
  readonly at: number
}

/** One account's risk picture. */
export interface RiskAccount {
  readonly accountId: string
  readonly state: string
  readonly reason: string | null
  readonly forcedUnwind: boolean
  readonly unwindReason: string | null
  readonly maxDailyLoss: number
  readonly maxOpenPositions: number
  readonly pnl: { readonly realized: number; readonly unrealized: number; readonly total: number }
  readonly positionsFrom: "broker" | "engine"
  readonly openPositions: number
  readonly workingOrders: number
  readonly interventions: ReadonlyArray<RiskRecord>
  readonly blocks: ReadonlyArray<RiskRecord>
}

/** `GET /dashboard/risk`. */
export interface RiskView {
  readonly enforcer: {
    readonly lastCheckAt: number | null
    readonly cycles: number
    readonly failures: number
    readonly lastError: string | null
    readonly intervalMs: number
  }
  readonly accounts: ReadonlyArray<RiskAccount>
}

/** A difference between the engine's books and a broker's. */
export interface ReconciliationIssue {
  readonly accountId: string
  readonly kind: string
  readonly subject: string
  readonly detail: string
  readonly engineValue: number | null
  readonly brokerValue: number | null
  readonly firstSeenAt: number
  readonly lastSeenAt: number
  readonly resolvedAt: number | null
}

/** `GET /dashboard/reconciliation`. */
export interface ReconciliationView {
  readonly open: ReadonlyArray<ReconciliationIssue>
  readonly resolved: ReadonlyArray<ReconciliationIssue>
  readonly external: ReadonlyArray<Record<string, unknown>>
}

/** An instrument the order form offers. */
export interface InstrumentHit {
  readonly symbol: string
  readonly exchange: string
  readonly lotSize: number
  readonly tickSize: number
  readonly marketOrders: boolean
  readonly ltp: number | null
}

/** How the alert channels are doing. */
export interface AlertStats {
  readonly channels: ReadonlyArray<string>
  readonly queued: number
  readonly sent: number
  readonly retried: number
  readonly failed: number
  readonly dropped: number
  readonly duplicates: number
}

/** `GET /dashboard/meta`: what the page needs once. */
export interface MetaView {
  readonly accounts: ReadonlyArray<string>
  readonly tokenRequired: boolean
  readonly alerts: AlertStats | null
}

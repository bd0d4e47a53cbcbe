/** Trading vocabulary shared by machines, the broker port and the API. */

/** Order side. */
export type Side = "BUY" | "SELL"
/** Position direction of a trade. */
export type Direction = "LONG" | "SHORT"
/** Broker product: intraday (MIS), carry-forward derivatives (NRML), delivery equity (CNC). */
export type Product = "MIS" | "NRML" | "CNC"
/** Order type as the exchanges know them. */
export type OrderType = "MARKET" | "LIMIT" | "SL" | "SL-M"
/** Whether an order opens or closes exposure. */
export type OrderPurpose = "ENTRY" | "EXIT"
/** Why a trade is exited (SCENARIOS.md report `exitReason`). */
export type ExitReason =
  | "STOP_LOSS"
  | "TARGET"
  | "TRAILING_STOP"
  | "SQUARE_OFF"
  | "EXPIRY"
  | "DAILY_LOSS"
  | "POSITION_CAP"
  | "FORCED_UNWIND"
  | "WEBHOOK"
  | "MANUAL"
  | (string & {})

/**
 * An order's terms, as the engine and every broker understand them. `price` is for LIMIT and SL,
 * `triggerPrice` for SL and SL-M. The client tag (Shoonya `remarks`, Dhan `correlationId`) is the
 * engine's idempotency key: it is echoed in the broker's books and updates.
 */
export interface OrderTerms {
  readonly accountId: string
  /** The broker's trading symbol (`NIFTY26MARFUT`, `RELIANCE-EQ`). */
  readonly symbol: string
  /** Exchange code: NSE, NFO, BSE, BFO, MCX, CDS. */
  readonly exchange: string
  readonly side: Side
  /** Units, not lots. */
  readonly qty: number
  readonly product: Product
  readonly orderType: OrderType
  readonly price: number | null
  readonly triggerPrice: number | null
  readonly clientTag: string
}

/** The side that closes a position of the given direction. */
export const exitSideOf = (d: Direction): Side => (d === "LONG" ? "SELL" : "BUY")
/** The direction an entry of the given side opens. */
export const directionOf = (s: Side): Direction => (s === "BUY" ? "LONG" : "SHORT")

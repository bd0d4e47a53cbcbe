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

/** The side that closes a position of the given direction. */
export const exitSideOf = (d: Direction): Side => (d === "LONG" ? "SELL" : "BUY")
/** The direction an entry of the given side opens. */
export const directionOf = (s: Side): Direction => (s === "BUY" ? "LONG" : "SHORT")

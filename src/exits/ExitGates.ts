/**
 * The operational gates of stage 2 (execution qualification), pure: given the facts about a
 * pending exit intent, approve it with the orders to send (shaped by the instrument's rules: an
 * exit at or above the freeze quantity is split into slices, each a lot multiple below the freeze)
 * or reject it with a reason code. The facts are gathered by `ExitQualification` after the
 * intent's row is committed.
 */
import { Either } from "effect"
import type { OrderType, Side } from "../domain/Trading.js"
import type { Instrument } from "../orders/Instruments.js"
import { shapeOrder } from "../orders/OrderShaping.js"

/** Why a gate rejected an exit intent. */
export type RejectCode =
  | "TRADE_NOT_OPEN"
  | "LIVE_INTENT"
  | "ACCOUNT_HALTED"
  | "QTY_INVALID"
  | "NO_PRICE"
  | "PRICE_INSANE"
  | "NOT_IN_POSITION"

/** What the gates look at. */
export interface GateFacts {
  /** The trade's state (`OPEN`, `EXITING`, `CLOSED`), null when there is no such trade. */
  readonly tradeState: string | null
  /** What the trade still holds: its qty less what earlier exits filled. */
  readonly openQty: number
  readonly intentQty: number
  readonly side: Side
  /**
   * What the broker's net position leaves for an exit on this side: the net quantity this side
   * reduces, less the exit orders already working on it (the engine's own trades' figure when the
   * broker's book cannot be read); null when exits are not capped by the net position.
   */
  readonly positionRoom: number | null
  /** Other exit intents of the trade that are PENDING, APPROVED.live or PLACED. */
  readonly otherLiveIntents: number
  /** Why exits are halted on the account, or null. */
  readonly exitsHalted: string | null
  readonly instrument: Instrument
  /** The price that met the exit condition, when there was one. */
  readonly detectedPrice: number | null
  /** The last traded price, when one is known. */
  readonly ltp: number | null
  readonly priceBandPct: number
  readonly limitBand: number
}

/** The gates' answer. */
export type GateDecision =
  | {
      readonly approved: true
      readonly orderType: OrderType
      readonly price: number | null
      /** The quantity of each order, in placing order; they sum to the intent's quantity. */
      readonly slices: ReadonlyArray<number>
    }
  | { readonly approved: false; readonly code: RejectCode; readonly reason: string }

const reject = (code: RejectCode, reason: string): GateDecision => ({ approved: false, code, reason })

const positive = (x: number | null): x is number => x !== null && Number.isFinite(x) && x > 0

/** Approves the intent with its orders' type, price and quantities, or names the first gate it fails. */
export const decide = (f: GateFacts): GateDecision => {
  if (f.tradeState !== "OPEN") return reject("TRADE_NOT_OPEN", `the trade is ${f.tradeState ?? "unknown"}`)
  if (f.otherLiveIntents > 0) return reject("LIVE_INTENT", "another exit intent of this trade is live")
  if (f.exitsHalted !== null) return reject("ACCOUNT_HALTED", `exits are halted on the account: ${f.exitsHalted}`)
  if (!Number.isInteger(f.intentQty) || f.intentQty <= 0 || f.intentQty > f.openQty)
    return reject("QTY_INVALID", `quantity ${f.intentQty} is not within the ${f.openQty} the trade holds`)
  // Broker truth: an exit only reduces the position; it never takes it through zero.
  if (f.positionRoom !== null && f.intentQty > f.positionRoom)
    return reject(
      "NOT_IN_POSITION",
      `the broker's position leaves ${Math.max(0, f.positionRoom)} to ${f.side === "SELL" ? "sell" : "buy"} back; exiting ${f.intentQty} would take it through zero`,
    )
  return priceGate(f) ?? shapeGate(f)
}

/** The detected price must be a price, and near the last one. */
const priceGate = (f: GateFacts): GateDecision | null => {
  if (f.detectedPrice !== null && !positive(f.detectedPrice))
    return reject("PRICE_INSANE", `detected price ${f.detectedPrice} is not a price`)
  if (positive(f.detectedPrice) && positive(f.ltp)) {
    const gapPct = (Math.abs(f.detectedPrice - f.ltp) / f.ltp) * 100
    if (gapPct > f.priceBandPct)
      return reject("PRICE_INSANE", `detected price ${f.detectedPrice} is ${gapPct.toFixed(2)}% off the last ${f.ltp}`)
  }
  return null
}

/**
 * The exit orders, shaped: MARKET, or limit-as-market where market orders are refused; one order,
 * or one per slice when the quantity is at or above the freeze quantity.
 */
const shapeGate = (f: GateFacts): GateDecision => {
  const ltp = positive(f.ltp) ? f.ltp : positive(f.detectedPrice) ? f.detectedPrice : null
  const shaped = shapeOrder(
    { side: f.side, qty: f.intentQty, orderType: "MARKET", price: null, triggerPrice: null },
    f.instrument,
    { ltp, band: f.limitBand },
  )
  if (Either.isLeft(shaped)) {
    const e = shaped.left
    return reject(e.field === "ltp" ? "NO_PRICE" : "QTY_INVALID", e.message)
  }
  // Every slice is priced alike (one price for the whole exit); only the quantities differ.
  const [first] = shaped.right
  return {
    approved: true,
    orderType: first!.orderType,
    price: first!.price,
    slices: shaped.right.map((o) => o.qty),
  }
}

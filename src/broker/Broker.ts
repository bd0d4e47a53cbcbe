/**
 * The broker port: one broker account connection, as the engine sees it whatever the broker.
 * Adapters (paper, Shoonya, Dhan) translate their wire vocabularies into these shapes: statuses
 * are normalised, quantities are in units (never lots), prices in rupees.
 */
import { Data, Effect, Option, type Stream } from "effect"
import type { OrderTerms, OrderType, Product, Side } from "../domain/Trading.js"

/**
 * A broker order's normalised status. `PENDING` is transit or validation (Dhan `TRANSIT`,
 * Shoonya `PENDING`); `TRIGGER_PENDING` a resting stop; `OPEN` a working order with nothing
 * filled; the rest as named. Shoonya has no partial status (it reports `OPEN` with fills).
 */
export type BrokerOrderStatus =
  | "PENDING"
  | "OPEN"
  | "TRIGGER_PENDING"
  | "PARTIALLY_FILLED"
  | "FILLED"
  | "CANCELLED"
  | "REJECTED"
  | "EXPIRED"

/** Statuses after which an order never changes again (except a late fill after a cancel, at a real broker). */
export const terminalStatuses: ReadonlySet<BrokerOrderStatus> = new Set(["FILLED", "CANCELLED", "REJECTED", "EXPIRED"])

/** True while an order can still fill, be modified or be cancelled. */
export const isWorking = (status: BrokerOrderStatus): boolean => !terminalStatuses.has(status)

/** Why a broker call failed. */
export type BrokerErrorReason =
  | "Unavailable"
  | "RateLimited"
  | "Timeout"
  | "Rejected"
  | "Invalid"
  | "SessionExpired"
  | "NotFound"

/**
 * A broker call that failed. `Timeout` means the outcome is unknown (the request may have taken
 * effect: find the order again by its client tag, never resend blindly). `Rejected` carries the
 * broker's own text. `Invalid` is a request or answer that does not fit the port; `field` names
 * the offending field.
 */
export class BrokerError extends Data.TaggedError("BrokerError")<{
  readonly reason: BrokerErrorReason
  readonly message: string
  readonly field?: string
}> {
  /** True only when the request surely did not take effect, so sending it again is safe. */
  get retryable(): boolean {
    return this.reason === "Unavailable" || this.reason === "RateLimited"
  }
}

/** A new order as the engine asks for it (see `OrderTerms`). */
export type PlaceRequest = OrderTerms

/** The fields of a working order that a modify may change. `qty` is the new total (filled + pending). */
export interface ModifyRequest {
  readonly qty?: number
  readonly price?: number | null
  readonly triggerPrice?: number | null
  readonly orderType?: OrderType
}

/** One order as the broker's order book shows it. */
export interface BrokerOrder {
  readonly brokerOrderId: string
  readonly clientTag: string
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly side: Side
  readonly qty: number
  readonly product: Product
  readonly orderType: OrderType
  readonly price: number | null
  readonly triggerPrice: number | null
  readonly status: BrokerOrderStatus
  readonly filledQty: number
  /** Average fill price; 0 before any fill. */
  readonly avgPrice: number
  /** The broker's text for a reject, cancel or expiry. */
  readonly reason: string | null
  /** Epoch ms. */
  readonly placedAt: number
  readonly updatedAt: number
}

/** One fill as the trade book shows it. */
export interface BrokerTrade {
  /** Unique per fill at this broker; the engine applies a fill once per id. */
  readonly fillId: string
  readonly brokerOrderId: string
  readonly clientTag: string
  readonly symbol: string
  readonly exchange: string
  readonly side: Side
  readonly product: Product
  readonly qty: number
  readonly price: number
  readonly at: number
}

/** One line of the position book: the day's net position per (symbol, exchange, product). */
export interface BrokerPosition {
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  /** Positive long, negative short. */
  readonly netQty: number
  readonly buyQty: number
  readonly sellQty: number
  readonly buyAvg: number
  readonly sellAvg: number
  readonly realizedPnl: number
  readonly unrealizedPnl: number
  readonly ltp: number
}

/** One delivery holding (CNC). Exits never sell these. */
export interface BrokerHolding {
  readonly symbol: string
  readonly exchange: string
  readonly qty: number
  readonly avgPrice: number
}

/** The account's money: `total` = `available` + `usedMargin`. */
export interface BrokerFunds {
  readonly available: number
  /** Margin blocked by open orders and open positions. */
  readonly usedMargin: number
  readonly total: number
}

/** A fill carried by an order update. */
export interface UpdateFill {
  readonly fillId: string
  readonly qty: number
  readonly price: number
}

/**
 * A push from the broker about one order. Updates may arrive twice, out of order, or not at all
 * (a dropped socket): `filledQty` is cumulative, fills are identified by `fillId`, and the order
 * book stays the truth to poll.
 */
export interface OrderUpdate {
  readonly brokerOrderId: string
  readonly clientTag: string
  readonly status: BrokerOrderStatus
  /** The order's total quantity. */
  readonly qty: number
  /** Cumulative filled quantity. */
  readonly filledQty: number
  readonly avgPrice: number
  /** The fill this update reports, when it reports one. */
  readonly fill?: UpdateFill
  readonly reason: string | null
  readonly at: number
}

/** One broker account connection. Every call may fail with a `BrokerError`. */
export interface Broker {
  readonly accountId: string
  /** Places an order; a `Timeout` means it may be at the broker anyway (see `orderByTag`). */
  readonly place: (request: PlaceRequest) => Effect.Effect<{ readonly brokerOrderId: string }, BrokerError>
  /** Changes a working order. */
  readonly modify: (brokerOrderId: string, change: ModifyRequest) => Effect.Effect<void, BrokerError>
  /** Cancels a working order; refused (`Rejected`) once it is filled, cancelled or rejected. */
  readonly cancel: (brokerOrderId: string) => Effect.Effect<void, BrokerError>
  /** Every order of the day, oldest first. */
  readonly orderBook: Effect.Effect<ReadonlyArray<BrokerOrder>, BrokerError>
  /** One order's current state; `NotFound` when the broker has no such order. */
  readonly order: (brokerOrderId: string) => Effect.Effect<BrokerOrder, BrokerError>
  /** The (oldest) order carrying this client tag: how a send with no answer is resolved. */
  readonly orderByTag: (clientTag: string) => Effect.Effect<Option.Option<BrokerOrder>, BrokerError>
  /** Every fill of the day, oldest first. */
  readonly tradeBook: Effect.Effect<ReadonlyArray<BrokerTrade>, BrokerError>
  readonly positions: Effect.Effect<ReadonlyArray<BrokerPosition>, BrokerError>
  /**
   * One position row, when the broker can read it alone (the paper broker); without it, callers
   * read `positions` (see `positionOf`).
   */
  readonly position?: (
    symbol: string,
    exchange: string,
    product: Product,
  ) => Effect.Effect<Option.Option<BrokerPosition>, BrokerError>
  readonly holdings: Effect.Effect<ReadonlyArray<BrokerHolding>, BrokerError>
  readonly funds: Effect.Effect<BrokerFunds, BrokerError>
  /** Order updates pushed by the broker from the moment the stream is run; never ends by itself. */
  readonly updates: Stream.Stream<OrderUpdate>
}

/** One position row of an account: read alone where the broker can, else from the whole book. */
export const positionOf = (
  broker: Broker,
  symbol: string,
  exchange: string,
  product: Product,
): Effect.Effect<Option.Option<BrokerPosition>, BrokerError> =>
  broker.position
    ? broker.position(symbol, exchange, product)
    : Effect.map(broker.positions, (ps) =>
        // By symbol and product, as the books are read everywhere else (exchange names differ per broker).
        Option.fromNullable(ps.find((p) => p.symbol === symbol && p.product === product)),
      )

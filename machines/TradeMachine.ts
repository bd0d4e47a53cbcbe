/**
 * Trade: a position opened by an entry, from its opening to its close with the realised P&L.
 *
 * OPEN → EXITING → CLOSED, and EXITING → OPEN again when the exit fails (the next exit episode).
 * The trade is the single writer of its own close: it closes only on `exit.filled`, which only a
 * FILLED ExitIntent sends. It keeps the high-water (LONG) or low-water (SHORT) price and ratchets
 * the trailing stop from it; exit conditions themselves are judged by exit qualification, outside.
 *
 * Invariants:
 * - CLOSED only after `exit.filled` from a FILLED exit intent for this trade.
 * - realizedPnl equals the sum over exit fills of (exit price − entry price) × qty for a LONG
 *   (the mirror for a SHORT), rounded to 2 decimals, partial fills of failed exits included.
 * - The trailing stop only moves in the trade's favour: up for a LONG, down for a SHORT.
 * - episode counts failed exits: each exit failure opens the next episode.
 */
import { assign, setup } from "xstate"
import { declare, declared } from "../src/domain/Declared.js"
import type { Direction, ExitReason, Product } from "../src/domain/Trading.js"

/** Bumped whenever a change to this machine makes old snapshots need a migration. */
export const tradeMachineVersion = "trade@1"

/** How far the trailing stop follows the best price; `ticks` needs the instrument's tick size. */
export type Trailing =
  | { readonly distance: number; readonly unit: "price" | "percent" }
  | { readonly distance: number; readonly unit: "ticks"; readonly tickSize: number }

/** What the Trade is created from (when its entry order executes). */
export interface TradeInput {
  readonly tradeId: string
  /** The broker account (user_broker). */
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly direction: Direction
  readonly qty: number
  readonly entryPrice: number
  readonly stopLoss: number | null
  readonly target: number | null
  readonly trailing: Trailing | null
  readonly entryOrderId: string | null
  /** Epoch ms of the entry fill. */
  readonly openedAt: number
}

export interface TradeContext extends TradeInput {
  /** The current trailing stop, or null without trailing. */
  readonly trailLevel: number | null
  /** Best price seen since the entry: highest for a LONG, lowest for a SHORT. */
  readonly bestPrice: number
  /** The exit episode: 0 at first, one more after each failed exit. */
  readonly episode: number
  /** The exit intent in flight (EXITING), or the one that closed the trade. */
  readonly exitIntentId: string | null
  readonly exitReason: ExitReason | null
  /** Average price of every exit fill so far. */
  readonly exitPrice: number | null
  /** Quantity exited so far (partial fills of failed exits, then the closing exit). */
  readonly exitedQty: number
  readonly realizedPnl: number | null
  readonly closedAt: number | null
  readonly updatedAt: number
}

type At = { readonly at: number }
/** Events the Trade accepts. */
export type TradeEvent =
  | ({ type: "tick.price"; price: number } & At)
  | ({ type: "exit.started"; intentId: string; reason: ExitReason } & At)
  | ({ type: "exit.filled"; intentId: string; qty: number; avgPrice: number; reason: ExitReason } & At)
  | ({ type: "exit.failed"; intentId: string; reason: string | null; filledQty: number; avgPrice: number } & At)

type ExitFill = { readonly qty: number; readonly avgPrice: number; readonly at: number }

export const TradeMachine = setup({
  types: {
    context: {} as TradeContext,
    events: {} as TradeEvent,
    input: {} as TradeInput,
  },
  guards: {
    isNewBestPrice: ({ context }, p: { price: number }) =>
      context.direction === "LONG" ? p.price > context.bestPrice : p.price < context.bestPrice,
    isCurrentExit: ({ context }, p: { intentId: string }) => p.intentId === context.exitIntentId,
    hasExitFills: (_, p: { filledQty: number }) => p.filledQty > 0,
  },
  actions: {
    cancelIntent: declared,
    recordBestPrice: assign(({ context }, p: { price: number; at: number }) => ({
      bestPrice: p.price,
      trailLevel: ratchet(context, p.price),
      updatedAt: p.at,
    })),
    recordExitStart: assign((_, p: { intentId: string; reason: ExitReason; at: number }) => ({
      exitIntentId: p.intentId,
      exitReason: p.reason,
      updatedAt: p.at,
    })),
    recordExitFill: assign(({ context }, p: ExitFill) => withExitFill(context, p)),
    recordClose: assign((_, p: { intentId: string; reason: ExitReason; at: number }) => ({
      exitIntentId: p.intentId,
      exitReason: p.reason,
      closedAt: p.at,
      updatedAt: p.at,
    })),
    nextEpisode: assign(({ context }, p: At) => ({
      episode: context.episode + 1,
      exitIntentId: null,
      exitReason: null,
      updatedAt: p.at,
    })),
  },
}).createMachine({
  id: "trade",
  version: tradeMachineVersion,
  initial: "OPEN",
  context: ({ input }) => ({
    ...input,
    trailLevel: input.trailing === null ? null : trailFrom(input.direction, input.trailing, input.entryPrice),
    bestPrice: input.entryPrice,
    episode: 0,
    exitIntentId: null,
    exitReason: null,
    exitPrice: null,
    exitedQty: 0,
    realizedPnl: null,
    closedAt: null,
    updatedAt: input.openedAt,
  }),
  states: {
    OPEN: {
      tags: ["open"],
      on: {
        "tick.price": {
          guard: { type: "isNewBestPrice", params: priceOf },
          actions: { type: "recordBestPrice", params: priceAt },
        },
        "exit.started": { target: "EXITING", actions: { type: "recordExitStart", params: startOf } },
        // Broker truth: a FILLED intent whose start this trade refused (it was EXITING for another
        // intent that has since failed). The position is gone; keeping the trade OPEN would lie.
        "exit.filled": {
          target: "CLOSED",
          actions: [
            { type: "recordExitFill", params: filledExitOf },
            { type: "recordClose", params: closeOf },
          ],
        },
        // A partial fill of an intent that failed after this trade had left EXITING for it.
        "exit.failed": {
          guard: { type: "hasExitFills", params: failedOf },
          actions: { type: "recordExitFill", params: failedFillOf },
        },
      },
    },
    EXITING: {
      tags: ["open", "inFlight"],
      on: {
        // The best price still moves while the exit is in flight; a failed exit resumes from it.
        "tick.price": {
          guard: { type: "isNewBestPrice", params: priceOf },
          actions: { type: "recordBestPrice", params: priceAt },
        },
        "exit.filled": [
          {
            guard: { type: "isCurrentExit", params: intentOf },
            target: "CLOSED",
            actions: [
              { type: "recordExitFill", params: filledExitOf },
              { type: "recordClose", params: closeOf },
            ],
          },
          // Another intent closed the position first: cancel the current one, so that its order
          // cannot exit a position that is already gone (and open the opposite one).
          {
            target: "CLOSED",
            actions: [
              { type: "cancelIntent", params: ({ context }) => cancelOf(context.exitIntentId) },
              { type: "recordExitFill", params: filledExitOf },
              { type: "recordClose", params: closeOf },
            ],
          },
        ],
        "exit.failed": [
          {
            guard: { type: "isCurrentExit", params: intentOf },
            target: "OPEN",
            actions: [
              { type: "recordExitFill", params: failedFillOf },
              { type: "nextEpisode", params: ({ event }) => ({ at: event.at }) },
            ],
          },
          {
            guard: { type: "hasExitFills", params: failedOf },
            actions: { type: "recordExitFill", params: failedFillOf },
          },
        ],
      },
    },
    CLOSED: {
      type: "final",
      tags: ["terminal"],
    },
  },
})

function round2(x: number): number {
  return Math.round(x * 100) / 100
}

function roundPrice(x: number): number {
  return Math.round(x * 10_000) / 10_000
}

/** The trailing stop for a best price of `price`. */
function trailFrom(direction: Direction, t: Trailing, price: number): number {
  const distance = trailDistance(t, price)
  return roundPrice(direction === "LONG" ? price - distance : price + distance)
}

function trailDistance(t: Trailing, price: number): number {
  switch (t.unit) {
    case "price":
      return t.distance
    case "percent":
      return (price * t.distance) / 100
    case "ticks":
      return t.distance * t.tickSize
  }
}

/** The trailing stop after a new best price: never looser than before. */
function ratchet(c: TradeContext, price: number): number | null {
  if (c.trailing === null) return null
  const next = trailFrom(c.direction, c.trailing, price)
  if (c.trailLevel === null) return next
  return c.direction === "LONG" ? Math.max(c.trailLevel, next) : Math.min(c.trailLevel, next)
}

/** The context after `qty` more was exited at `avgPrice`; a zero quantity changes nothing. */
function withExitFill(c: TradeContext, p: ExitFill): Partial<TradeContext> {
  if (p.qty <= 0) return { updatedAt: p.at }
  const sign = c.direction === "LONG" ? 1 : -1
  const exitedQty = c.exitedQty + p.qty
  return {
    exitedQty,
    exitPrice: roundPrice(((c.exitPrice ?? 0) * c.exitedQty + p.avgPrice * p.qty) / exitedQty),
    realizedPnl: round2((c.realizedPnl ?? 0) + (p.avgPrice - c.entryPrice) * p.qty * sign),
    updatedAt: p.at,
  }
}

function priceOf({ event }: { event: TradeEvent }): { price: number } {
  return { price: (event as { price: number }).price }
}

function priceAt({ event }: { event: TradeEvent }): { price: number; at: number } {
  return { ...priceOf({ event }), at: event.at }
}

function intentOf({ event }: { event: TradeEvent }): { intentId: string } {
  return { intentId: (event as { intentId: string }).intentId }
}

function startOf({ event }: { event: TradeEvent }): { intentId: string; reason: ExitReason; at: number } {
  const e = event as Extract<TradeEvent, { type: "exit.started" }>
  return { intentId: e.intentId, reason: e.reason, at: e.at }
}

function closeOf({ event }: { event: TradeEvent }): { intentId: string; reason: ExitReason; at: number } {
  const e = event as Extract<TradeEvent, { type: "exit.filled" }>
  return { intentId: e.intentId, reason: e.reason, at: e.at }
}

function filledExitOf({ event }: { event: TradeEvent }): ExitFill {
  const e = event as Extract<TradeEvent, { type: "exit.filled" }>
  return { qty: e.qty, avgPrice: e.avgPrice, at: e.at }
}

function failedOf({ event }: { event: TradeEvent }): { filledQty: number } {
  return { filledQty: (event as Extract<TradeEvent, { type: "exit.failed" }>).filledQty }
}

function failedFillOf({ event }: { event: TradeEvent }): ExitFill {
  const e = event as Extract<TradeEvent, { type: "exit.failed" }>
  return { qty: e.filledQty, avgPrice: e.avgPrice, at: e.at }
}

function cancelOf(intentId: string | null) {
  return intentId === null ? null : declare.send(intentId, { type: "cmd.cancel" })
}

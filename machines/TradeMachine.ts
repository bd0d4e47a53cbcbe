/**
 * Trade: a position opened by an entry, from its opening to its close with the realised P&L.
 *
 * OPEN → EXITING → CLOSED, and EXITING → OPEN again when the exit fails (the next exit episode).
 * The trade is the single writer of its own close: it closes on `exit.filled`, which only a
 * FILLED ExitIntent sends, or when its exits have taken its whole quantity (a failed intent's
 * fills, then a fill that reached one of its orders after it had ended: `exit.lateFill`, sent by
 * the trade manager). It keeps the high-water (LONG) or low-water (SHORT) price and ratchets
 * the trailing stop from it; exit conditions themselves are judged by exit qualification, outside.
 *
 * Invariants:
 * - CLOSED after `exit.filled` from a FILLED exit intent for this trade, or once exitedQty = qty.
 * - realizedPnl equals the sum over exit fills of (exit price − entry price) × qty for a LONG
 *   (the mirror for a SHORT), rounded to 2 decimals, partial fills of failed exits and late fills
 *   included.
 * - exitedQty never exceeds qty: an exit fill beyond what the trade holds is recorded as an
 *   anomaly (`excessQty`, `exitExcess`), never counted in exitedQty or the P&L.
 * - A late fill counts once per (orderId, fillId); a second report of it is refused.
 * - A late fill while another intent is working cancels that intent: it was sized on what the
 *   trade held before the fill, and its orders would now exit more than the trade holds (the next
 *   episode is sized afresh and capped by the broker's net position).
 * - The trailing stop only moves in the trade's favour: up for a LONG, down for a SHORT.
 * - episode counts failed exits: each exit failure opens the next episode.
 *
 * trade@2 adds `lateFills`, `excessQty` and `exitExcess`, absent until first needed, so that a
 * trade@1 snapshot loads as it is and a trade@1 journal replays to the snapshot it stored.
 */
import { assign, setup } from "xstate"
import { declare, declared } from "../src/domain/Declared.js"
import type { Direction, ExitReason, Product } from "../src/domain/Trading.js"

/** Bumped whenever a change to this machine makes old snapshots need a migration. */
export const tradeMachineVersion = "trade@2"

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
  /** trade@2: fills that reached an exit order after its intent had ended; absent until the first. */
  readonly lateFills?: ReadonlyArray<LateFill>
  /** trade@2: exit quantity beyond the trade's qty (an anomaly: counted nowhere else); absent while 0. */
  readonly excessQty?: number
  /** trade@2: each exit fill that went beyond the trade's qty, by how much; absent until the first. */
  readonly exitExcess?: ReadonlyArray<ExitExcess>
}

/** A fill of an exit order that reached the trade after the order's intent had ended. */
export interface LateFill {
  readonly intentId: string
  readonly orderId: string
  readonly fillId: string
  readonly qty: number
  readonly price: number
  readonly at: number
}

/** An exit fill beyond what the trade held: `qty` is the excess only, at the fill's price. */
export interface ExitExcess {
  readonly source: "exit.filled" | "exit.failed" | "exit.lateFill"
  readonly intentId: string
  /** The order and fill of a late fill; null for an intent's totals. */
  readonly orderId: string | null
  readonly fillId: string | null
  readonly qty: number
  readonly price: number
  readonly at: number
}

type At = { readonly at: number }
/** Events the Trade accepts. */
export type TradeEvent =
  | ({ type: "tick.price"; price: number } & At)
  | ({ type: "exit.started"; intentId: string; reason: ExitReason } & At)
  | ({ type: "exit.filled"; intentId: string; qty: number; avgPrice: number; reason: ExitReason } & At)
  | ({ type: "exit.failed"; intentId: string; reason: string | null; filledQty: number; avgPrice: number } & At)
  /** A fill of an ended intent's order (the trade manager's, from the intent's refusal of it). */
  | ({
      type: "exit.lateFill"
      intentId: string
      orderId: string
      fillId: string
      qty: number
      price: number
      reason: ExitReason
    } & At)

type ExitFill = {
  readonly source: ExitExcess["source"]
  readonly intentId: string
  readonly orderId: string | null
  readonly fillId: string | null
  readonly qty: number
  readonly avgPrice: number
  readonly at: number
}
type LateFillEvent = Extract<TradeEvent, { type: "exit.lateFill" }>

/**
 * Exits of an intent other than the current one: it failed after the trade had left EXITING for
 * it, or one of its orders filled after it had ended. What they filled is the trade's no more;
 * all of it closes the trade. While another intent is current (EXITING), a late fill cancels that
 * one, and so does closing: it was sized on what the trade held before.
 */
const otherIntentExits = (cancelCurrent: boolean) => {
  const cancel = cancelCurrent
    ? ([
        {
          type: "cancelIntent",
          params: ({ context }: { context: TradeContext }) => cancelOf(context.exitIntentId),
        },
      ] as const)
    : ([] as const)
  return {
    failed: [
      {
        guard: { type: "completesTrade", params: failedOf },
        target: "CLOSED",
        actions: [
          ...cancel,
          { type: "recordExitFill", params: failedFillOf },
          { type: "recordClose", params: failedCloseOf },
        ],
      },
      {
        guard: { type: "hasExitFills", params: failedOf },
        actions: { type: "recordExitFill", params: failedFillOf },
      },
    ],
    lateFill: [
      {
        guard: { type: "completesTradeLate", params: lateFillOf },
        target: "CLOSED",
        actions: [
          ...cancel,
          { type: "recordLateFill", params: lateFillOf },
          { type: "recordClose", params: lateCloseOf },
        ],
      },
      {
        guard: { type: "isNewLateFill", params: lateFillOf },
        actions: [...cancel, { type: "recordLateFill", params: lateFillOf }],
      },
    ],
  } as const
}

const endedIntentFills = otherIntentExits(false)
const cancellingCurrent = otherIntentExits(true)

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
    // A failed intent's fills that take the rest of what the trade holds.
    completesTrade: ({ context }, p: { filledQty: number }) =>
      p.filledQty > 0 && context.exitedQty + p.filledQty >= context.qty,
    completesTradeAsCurrent: ({ context }, p: { intentId: string; filledQty: number }) =>
      p.intentId === context.exitIntentId && p.filledQty > 0 && context.exitedQty + p.filledQty >= context.qty,
    isNewLateFill: ({ context }, p: LateFillEvent) => isNewLateFill(context, p),
    completesTradeLate: ({ context }, p: LateFillEvent) =>
      isNewLateFill(context, p) && context.exitedQty + p.qty >= context.qty,
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
    recordLateFill: assign(({ context }, p: LateFillEvent) => ({
      ...withExitFill(context, lateExitFill(p)),
      lateFills: [
        ...(context.lateFills ?? []),
        { intentId: p.intentId, orderId: p.orderId, fillId: p.fillId, qty: p.qty, price: p.price, at: p.at },
      ],
    })),
    recordClose: assign((_, p: { intentId: string; reason: ExitReason | null; at: number }) => ({
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
        "exit.failed": [...endedIntentFills.failed],
        // A fill of an ended intent's order: that much less is the trade's; all of it closes it.
        "exit.lateFill": [...endedIntentFills.lateFill],
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
          // The current exit failed, but with what the trade's earlier exits took, nothing is left.
          {
            guard: { type: "completesTradeAsCurrent", params: failedExitOf },
            target: "CLOSED",
            actions: [
              { type: "recordExitFill", params: failedFillOf },
              { type: "recordClose", params: failedCloseOf },
            ],
          },
          {
            guard: { type: "isCurrentExit", params: intentOf },
            target: "OPEN",
            actions: [
              { type: "recordExitFill", params: failedFillOf },
              { type: "nextEpisode", params: ({ event }) => ({ at: event.at }) },
            ],
          },
          ...cancellingCurrent.failed,
        ],
        // A fill of an ended intent's order. The current intent was sized on what the trade held
        // before it, so its orders would now exit too much: it is cancelled (an order already
        // working is not re-sized). It ends FAILED with what it filled, and the next episode exits
        // the rest, sized afresh and capped by the broker's net position.
        "exit.lateFill": [...cancellingCurrent.lateFill],
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

/**
 * The context after `qty` more was exited at `avgPrice`; a zero quantity changes nothing. What goes
 * beyond the trade's qty is not counted: it is recorded as an excess (an anomaly for the auditor).
 */
function withExitFill(c: TradeContext, p: ExitFill): Partial<TradeContext> {
  if (p.qty <= 0) return { updatedAt: p.at }
  const applied = Math.min(p.qty, Math.max(0, c.qty - c.exitedQty))
  const excess = p.qty - applied
  const sign = c.direction === "LONG" ? 1 : -1
  const exitedQty = c.exitedQty + applied
  const counted: Partial<TradeContext> =
    applied === 0
      ? {}
      : {
          exitedQty,
          exitPrice: roundPrice(((c.exitPrice ?? 0) * c.exitedQty + p.avgPrice * applied) / exitedQty),
          realizedPnl: round2((c.realizedPnl ?? 0) + (p.avgPrice - c.entryPrice) * applied * sign),
        }
  const anomaly: Partial<TradeContext> =
    excess === 0
      ? {}
      : {
          excessQty: (c.excessQty ?? 0) + excess,
          exitExcess: [
            ...(c.exitExcess ?? []),
            {
              source: p.source,
              intentId: p.intentId,
              orderId: p.orderId,
              fillId: p.fillId,
              qty: excess,
              price: p.avgPrice,
              at: p.at,
            },
          ],
        }
  return { ...counted, ...anomaly, updatedAt: p.at }
}

function isNewLateFill(c: TradeContext, p: { orderId: string; fillId: string; qty: number }): boolean {
  return p.qty > 0 && !(c.lateFills ?? []).some((f) => f.orderId === p.orderId && f.fillId === p.fillId)
}

function lateExitFill(p: LateFillEvent): ExitFill {
  return {
    source: "exit.lateFill",
    intentId: p.intentId,
    orderId: p.orderId,
    fillId: p.fillId,
    qty: p.qty,
    avgPrice: p.price,
    at: p.at,
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
  const ids = { intentId: e.intentId, orderId: null, fillId: null }
  return { source: "exit.filled", ...ids, qty: e.qty, avgPrice: e.avgPrice, at: e.at }
}

function failedOf({ event }: { event: TradeEvent }): { filledQty: number } {
  return { filledQty: (event as Extract<TradeEvent, { type: "exit.failed" }>).filledQty }
}

function failedExitOf({ event }: { event: TradeEvent }): { intentId: string; filledQty: number } {
  const e = event as Extract<TradeEvent, { type: "exit.failed" }>
  return { intentId: e.intentId, filledQty: e.filledQty }
}

function failedFillOf({ event }: { event: TradeEvent }): ExitFill {
  const e = event as Extract<TradeEvent, { type: "exit.failed" }>
  const ids = { intentId: e.intentId, orderId: null, fillId: null }
  return { source: "exit.failed", ...ids, qty: e.filledQty, avgPrice: e.avgPrice, at: e.at }
}

/** A close by a failed intent's fills: its reason when it was the current exit (the event has none). */
function failedCloseOf({ context, event }: { context: TradeContext; event: TradeEvent }) {
  const e = event as Extract<TradeEvent, { type: "exit.failed" }>
  const reason = e.intentId === context.exitIntentId ? context.exitReason : null
  return { intentId: e.intentId, reason, at: e.at }
}

function lateFillOf({ event }: { event: TradeEvent }): LateFillEvent {
  return event as LateFillEvent
}

/** A close by a late fill: the ended intent's, with its reason. */
function lateCloseOf({ event }: { event: TradeEvent }) {
  const e = event as LateFillEvent
  return { intentId: e.intentId, reason: e.reason, at: e.at }
}

function cancelOf(intentId: string | null) {
  return intentId === null ? null : declare.send(intentId, { type: "cmd.cancel" })
}

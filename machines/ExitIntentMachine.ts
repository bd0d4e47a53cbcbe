/**
 * ExitIntent: one decision to exit a trade on one account, for one reason, in one exit episode,
 * and the outcome of acting on it.
 *
 * PENDING → APPROVED / REJECTED; APPROVED → PLACED → FILLED / FAILED. The operational gates are
 * engine code; they answer with `gate.approved` or `gate.rejected`. An approval either executes
 * (APPROVED.live: an Order actor is spawned and told to place, the trade is told the exit started)
 * or is dark (APPROVED.dark: written, never executed, the rollout's dark mode).
 *
 * Invariants:
 * - At most one Order per intent: the spawn is declared once, on the approval, and the intent
 *   listens only to that order (`orderId`).
 * - filledQty never exceeds qty; a fill is applied once per fillId.
 * - The trade hears `exit.started` only for an executed approval, then exactly one of
 *   `exit.filled` (FILLED) or `exit.failed` (FAILED). A rejection tells the trade nothing: it never
 *   left OPEN.
 * - FILLED, FAILED and REJECTED are final; APPROVED.dark never changes again.
 * - A cancel after the approval is the order's to make: `cmd.cancel` is forwarded to it, and the
 *   intent ends when the order reports how it ended.
 * - Every accepted step changes the snapshot (at least `updatedAt`): XState returns the very same
 *   snapshot for a step that changes nothing, and the runtime takes that for a refusal.
 */
import { assign, setup } from "xstate"
import { type Declared, declare, declared } from "../src/domain/Declared.js"
import type { ExitReason, OrderType, Product, Side } from "../src/domain/Trading.js"
import type { OrderInput } from "./OrderMachine.js"

/** Bumped whenever a change to this machine makes old snapshots need a migration. */
export const exitIntentMachineVersion = "exitIntent@1"

/** What the ExitIntent is created from (by its ExitSignal). */
export interface ExitIntentInput {
  readonly intentId: string
  readonly signalId: string
  readonly tradeId: string
  /** The broker account (user_broker). */
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  /** The side of the exit order (SELL closes a LONG). */
  readonly side: Side
  readonly qty: number
  readonly exitReason: ExitReason
  readonly episodeId: number
  /** Epoch ms of creation. */
  readonly createdAt: number
}

export interface ExitIntentContext extends ExitIntentInput {
  readonly orderId: string | null
  readonly clientTag: string | null
  readonly orderType: OrderType | null
  readonly price: number | null
  readonly brokerOrderId: string | null
  readonly filledQty: number
  readonly avgPrice: number
  readonly fillIds: ReadonlyArray<string>
  /** A gate's rejection code, `CANCELLED`, `ORDER_FAILED` or `ORDER_CANCELLED`. */
  readonly rejectCode: string | null
  readonly error: string | null
  readonly approvedAt: number | null
  readonly placedAt: number | null
  readonly finishedAt: number | null
  readonly updatedAt: number
}

type At = { readonly at: number }
/** Events the ExitIntent accepts. */
export type ExitIntentEvent =
  | ({
      type: "gate.approved"
      orderId: string
      clientTag: string
      execute: boolean
      orderType: OrderType
      price: number | null
    } & At)
  | ({ type: "gate.rejected"; code: string; reason: string } & At)
  | ({ type: "cmd.cancel" } & At)
  | ({ type: "order.accepted"; orderId: string; brokerOrderId: string | null } & At)
  | ({ type: "order.filled"; orderId: string; fillId: string; qty: number; price: number } & At)
  | ({ type: "order.executed"; orderId: string; filledQty: number; avgPrice: number } & At)
  | ({ type: "order.failed"; orderId: string; reason: string | null; filledQty: number; avgPrice: number } & At)
  | ({ type: "order.cancelled"; orderId: string; reason: string | null; filledQty: number; avgPrice: number } & At)

type Approval = Extract<ExitIntentEvent, { type: "gate.approved" }>
type Fill = { readonly orderId: string; readonly fillId: string; readonly qty: number; readonly price: number }
type Failure = { readonly code: string; readonly reason: string; readonly at: number }
type Outcome = Failure & { readonly filledQty: number; readonly avgPrice: number }

/**
 * What the order's end or a cancel does while the intent follows its order (APPROVED.live and
 * PLACED alike): a failed or cancelled order short of the quantity fails the intent; a cancel is
 * passed to the order.
 */
const orderEndings = {
  "order.failed": {
    guard: { type: "isShortOutcome", params: orderTotalsOf },
    target: "#exitIntent.FAILED",
    actions: { type: "recordOrderOutcome", params: outcomeOf("ORDER_FAILED") },
  },
  "order.cancelled": {
    guard: { type: "isShortOutcome", params: orderTotalsOf },
    target: "#exitIntent.FAILED",
    actions: { type: "recordOrderOutcome", params: outcomeOf("ORDER_CANCELLED") },
  },
  "cmd.cancel": {
    actions: [
      { type: "sendOrder", params: cancelToOrder },
      { type: "touch", params: ({ event }: { event: { at: number } }) => ({ at: event.at }) },
    ],
  },
} as const

export const ExitIntentMachine = setup({
  types: {
    context: {} as ExitIntentContext,
    events: {} as ExitIntentEvent,
    input: {} as ExitIntentInput,
  },
  guards: {
    executes: (_, p: { execute: boolean }) => p.execute,
    isOwnOrder: ({ context }, p: { orderId: string }) => p.orderId === context.orderId,
    isNewFill: ({ context }, p: Fill) =>
      p.orderId === context.orderId &&
      p.qty > 0 &&
      !context.fillIds.includes(p.fillId) &&
      context.filledQty + p.qty <= context.qty,
    isCompleteExecution: ({ context }, p: { orderId: string; filledQty: number }) =>
      p.orderId === context.orderId && p.filledQty === context.qty,
    // An order that ended short of the intent's qty; one that filled everything reports
    // `order.executed` instead, whatever happened after.
    isShortOutcome: ({ context }, p: { orderId: string; filledQty: number }) =>
      p.orderId === context.orderId && p.filledQty < context.qty,
  },
  actions: {
    spawnOrder: declared,
    sendOrder: declared,
    notifyTrade: declared,
    recordApproval: assign((_, p: Approval) => ({
      orderId: p.orderId,
      clientTag: p.clientTag,
      orderType: p.orderType,
      price: p.price,
      approvedAt: p.at,
      updatedAt: p.at,
    })),
    recordFailure: assign((_, p: Failure) => ({
      rejectCode: p.code,
      error: p.reason,
      finishedAt: p.at,
      updatedAt: p.at,
    })),
    // The order's own totals are the truth; they equal the sum of the fills it reported.
    recordOrderOutcome: assign((_, p: Outcome) => ({
      rejectCode: p.code,
      error: p.reason,
      filledQty: p.filledQty,
      avgPrice: p.avgPrice,
      finishedAt: p.at,
      updatedAt: p.at,
    })),
    // Nothing to record but the time: an accepted step must change the snapshot, or the runtime
    // (and XState) cannot tell it from a refusal and its declarations would be lost.
    touch: assign((_, p: At) => ({ updatedAt: p.at })),
    recordPlaced: assign(({ context }, p: { brokerOrderId: string | null; at: number }) => ({
      brokerOrderId: p.brokerOrderId ?? context.brokerOrderId,
      placedAt: context.placedAt ?? p.at,
      updatedAt: p.at,
    })),
    recordFill: assign(({ context }, p: Fill & { at: number }) => ({
      filledQty: context.filledQty + p.qty,
      avgPrice: roundPrice((context.avgPrice * context.filledQty + p.price * p.qty) / (context.filledQty + p.qty)),
      fillIds: [...context.fillIds, p.fillId],
      placedAt: context.placedAt ?? p.at,
      updatedAt: p.at,
    })),
    recordExecution: assign((_, p: { filledQty: number; avgPrice: number; at: number }) => ({
      filledQty: p.filledQty,
      avgPrice: p.avgPrice,
      finishedAt: p.at,
      updatedAt: p.at,
    })),
  },
}).createMachine({
  id: "exitIntent",
  version: exitIntentMachineVersion,
  initial: "PENDING",
  context: ({ input }) => ({
    ...input,
    orderId: null,
    clientTag: null,
    orderType: null,
    price: null,
    brokerOrderId: null,
    filledQty: 0,
    avgPrice: 0,
    fillIds: [],
    rejectCode: null,
    error: null,
    approvedAt: null,
    placedAt: null,
    finishedAt: null,
    updatedAt: input.createdAt,
  }),
  states: {
    PENDING: {
      tags: ["open"],
      on: {
        "gate.approved": [
          {
            guard: { type: "executes", params: approvalOf },
            target: "APPROVED.live",
            actions: [
              { type: "recordApproval", params: approvalOf },
              // Spawn first: the order must exist before it is told to place.
              { type: "spawnOrder", params: ({ context, event }) => orderSpawnOf(context, approvalOf({ event })) },
              {
                type: "sendOrder",
                params: ({ event }) => declare.send(approvalOf({ event }).orderId, { type: "cmd.place" }),
              },
              {
                type: "notifyTrade",
                params: ({ context }) =>
                  declare.send(context.tradeId, {
                    type: "exit.started",
                    intentId: context.intentId,
                    reason: context.exitReason,
                  }),
              },
            ],
          },
          { target: "APPROVED.dark", actions: { type: "recordApproval", params: approvalOf } },
        ],
        "gate.rejected": {
          target: "REJECTED",
          actions: {
            type: "recordFailure",
            params: ({ event }) => {
              const e = event as Extract<ExitIntentEvent, { type: "gate.rejected" }>
              return { code: e.code, reason: e.reason, at: e.at }
            },
          },
        },
        "cmd.cancel": {
          target: "REJECTED",
          actions: {
            type: "recordFailure",
            params: ({ event }) => ({ code: "CANCELLED", reason: "cancelled before approval", at: event.at }),
          },
        },
      },
    },
    APPROVED: {
      initial: "live",
      states: {
        live: {
          tags: ["open", "inFlight"],
          on: {
            "order.accepted": {
              guard: { type: "isOwnOrder", params: orderIdOf },
              target: "#exitIntent.PLACED",
              actions: { type: "recordPlaced", params: ackOf },
            },
            // The fill overtook the acknowledgement: the order is at the broker all the same.
            "order.filled": {
              guard: { type: "isNewFill", params: fillOf },
              target: "#exitIntent.PLACED",
              actions: { type: "recordFill", params: fillAt },
            },
            // The order may not have reached the broker yet; it remembers a cancel until it has.
            ...orderEndings,
          },
        },
        // Dark mode: the decision is recorded and nothing is executed. Nothing happens to it again.
        dark: {
          tags: ["dark", "terminal"],
        },
      },
    },
    PLACED: {
      tags: ["open", "inFlight"],
      on: {
        "order.filled": {
          guard: { type: "isNewFill", params: fillOf },
          actions: { type: "recordFill", params: fillAt },
        },
        "order.executed": {
          guard: { type: "isCompleteExecution", params: orderTotalsOf },
          target: "FILLED",
          actions: { type: "recordExecution", params: executionAt },
        },
        ...orderEndings,
      },
    },
    FILLED: {
      type: "final",
      tags: ["terminal"],
      entry: {
        type: "notifyTrade",
        params: ({ context }) =>
          declare.send(context.tradeId, {
            type: "exit.filled",
            intentId: context.intentId,
            qty: context.filledQty,
            avgPrice: context.avgPrice,
            reason: context.exitReason,
          }),
      },
    },
    // A partial fill before the failure is reported to the trade: that part of the position is gone.
    FAILED: {
      type: "final",
      tags: ["terminal"],
      entry: {
        type: "notifyTrade",
        params: ({ context }) =>
          declare.send(context.tradeId, {
            type: "exit.failed",
            intentId: context.intentId,
            reason: context.error,
            filledQty: context.filledQty,
            avgPrice: context.avgPrice,
          }),
      },
    },
    REJECTED: {
      type: "final",
      tags: ["terminal"],
    },
  },
})

function roundPrice(x: number): number {
  return Math.round(x * 10_000) / 10_000
}

function approvalOf({ event }: { event: ExitIntentEvent }): Approval {
  return event as Approval
}

function orderIdOf({ event }: { event: ExitIntentEvent }): { orderId: string } {
  return { orderId: (event as { orderId: string }).orderId }
}

function ackOf({ event }: { event: ExitIntentEvent }): { brokerOrderId: string | null; at: number } {
  return { brokerOrderId: (event as { brokerOrderId?: string | null }).brokerOrderId ?? null, at: event.at }
}

function fillOf({ event }: { event: ExitIntentEvent }): Fill {
  const e = event as Extract<ExitIntentEvent, { type: "order.filled" }>
  return { orderId: e.orderId, fillId: e.fillId, qty: e.qty, price: e.price }
}

function fillAt({ event }: { event: ExitIntentEvent }): Fill & { at: number } {
  return { ...fillOf({ event }), at: event.at }
}

function orderTotalsOf({ event }: { event: ExitIntentEvent }): { orderId: string; filledQty: number } {
  const e = event as { orderId: string; filledQty: number }
  return { orderId: e.orderId, filledQty: e.filledQty }
}

function executionAt({ event }: { event: ExitIntentEvent }): { filledQty: number; avgPrice: number; at: number } {
  const e = event as Extract<ExitIntentEvent, { type: "order.executed" }>
  return { filledQty: e.filledQty, avgPrice: e.avgPrice, at: e.at }
}

function outcomeOf(code: string) {
  return ({ event }: { event: ExitIntentEvent }): Outcome => {
    const e = event as Extract<ExitIntentEvent, { type: "order.failed" | "order.cancelled" }>
    return { code, reason: e.reason ?? e.type, filledQty: e.filledQty, avgPrice: e.avgPrice, at: e.at }
  }
}

function cancelToOrder({ context }: { context: ExitIntentContext }): Declared | null {
  return context.orderId === null ? null : declare.send(context.orderId, { type: "cmd.cancel" })
}

/** The Order this intent's approval creates. */
function orderSpawnOf(c: ExitIntentContext, a: Approval): Declared {
  const input = {
    orderId: a.orderId,
    accountId: c.accountId,
    symbol: c.symbol,
    exchange: c.exchange,
    side: c.side,
    qty: c.qty,
    product: c.product,
    orderType: a.orderType,
    price: a.price,
    triggerPrice: null,
    clientTag: a.clientTag,
    purpose: "EXIT",
    parentId: c.intentId,
    createdAt: a.at,
  } satisfies OrderInput
  return declare.spawn("order", a.orderId, input)
}

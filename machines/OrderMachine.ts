/**
 * Order: one broker order attempt, from creation to its final fill state.
 *
 * CREATED → SENT_TO_BROKER → EXECUTED / FAILED / PARTIAL, plus what real brokers do: a working
 * order is cancelled or expires, a fill arrives after the cancel, a send gets no answer.
 *
 * Invariants:
 * - filledQty never exceeds qty; a fill is applied once per fillId (duplicates are refused).
 * - A send with no answer is never re-sent: the order goes to SENT_TO_BROKER.unknown and is looked
 *   up at the broker by its client tag; only a definite "not found" after `lookupAttemptsMax`
 *   lookups fails it.
 * - A network failure of a lookup is not a "not found": it retries and never fails the order.
 * - Every broker call is a declared effect keyed by the client tag, so the runtime can find it
 *   again after a crash.
 * - A cancel asked for before the broker order id is known is remembered and sent once it is;
 *   each cancel goes out once, under its own key (`cancelsSent` catches up with `cancelAttempts`).
 */
import { assign, setup } from "xstate"
import { type Declared, declare, declared } from "../src/domain/Declared.js"
import type { Json } from "../src/domain/Json.js"
import type { OrderPurpose, OrderTerms } from "../src/domain/Trading.js"

/** Bumped whenever a change to this machine makes old snapshots need a migration. */
export const orderMachineVersion = "order@1"

/** What the Order is created from. */
export interface OrderInput extends OrderTerms {
  readonly orderId: string
  readonly purpose: OrderPurpose
  /** The trade, exit intent or command this order serves. */
  readonly parentId: string | null
  /** Epoch ms of creation. */
  readonly createdAt: number
  readonly ackTimeoutMs?: number
  readonly lookupRetryMs?: number
  readonly lookupAttemptsMax?: number
}

export interface OrderContext extends OrderInput {
  readonly ackTimeoutMs: number
  readonly lookupRetryMs: number
  readonly lookupAttemptsMax: number
  readonly brokerOrderId: string | null
  readonly filledQty: number
  readonly avgPrice: number
  readonly fillIds: ReadonlyArray<string>
  readonly reason: string | null
  /** Lookups sent (each has its own idempotency key). */
  readonly lookupAttempts: number
  /** Definite "not found" answers; network failures do not count. */
  readonly notFoundCount: number
  readonly cancelAttempts: number
  /** Cancel requests already sent to the broker; fewer than `cancelAttempts` means one is pending. */
  readonly cancelsSent: number
  readonly updatedAt: number
}

type At = { readonly at: number }
/** Events the Order accepts. */
export type OrderEvent =
  | ({ type: "cmd.place" } & At)
  | ({ type: "cmd.cancel" } & At)
  | ({ type: "risk.denied"; reason: string } & At)
  | ({ type: "broker.accepted"; brokerOrderId: string } & At)
  | ({ type: "broker.rejected"; reason: string } & At)
  | ({ type: "broker.sendUnknown"; reason: string } & At)
  | ({ type: "broker.found"; brokerOrderId: string } & At)
  | ({ type: "broker.notFound" } & At)
  | ({ type: "broker.lookupFailed"; reason: string } & At)
  | ({ type: "broker.filled"; fillId: string; qty: number; price: number } & At)
  | ({ type: "broker.cancelled"; reason?: string } & At)
  | ({ type: "broker.expired" } & At)
  | ({ type: "broker.cancelRejected"; reason: string } & At)
  | ({ type: "timer.ackTimeout" } & At)
  | ({ type: "timer.lookupRetry" } & At)

type Fill = { readonly fillId: string; readonly qty: number; readonly price: number }

/**
 * A fill: EXECUTED when it completes the order, else `partial`. A duplicate fill id or an overfill
 * enables neither, so it is refused (and journaled as such).
 */
const fillTransitions = <T extends "PARTIAL" | "CANCELLED" | "EXPIRED">(partial: T) =>
  [
    {
      guard: { type: "completesOrder", params: fillOf },
      target: "EXECUTED",
      actions: [
        { type: "recordFill", params: fillAt },
        { type: "notifyParent", params: fillNotice },
      ],
    },
    {
      guard: { type: "isNewFill", params: fillOf },
      target: partial,
      actions: [
        { type: "recordFill", params: fillAt },
        { type: "notifyParent", params: fillNotice },
      ],
    },
  ] as const

export const OrderMachine = setup({
  types: {
    context: {} as OrderContext,
    events: {} as OrderEvent,
    input: {} as OrderInput,
  },
  guards: {
    isNewFill: ({ context }, p: Fill) => isNewFillFor(context, p),
    completesOrder: ({ context }, p: Fill) => isNewFillFor(context, p) && context.filledQty + p.qty === context.qty,
    hasLookupsLeft: ({ context }) => context.notFoundCount + 1 < context.lookupAttemptsMax,
    // A cancel asked for before the broker order id was known, and not sent yet. (Was
    // `cancelAttempts > 0`, which re-entered `cancelling` after a `broker.cancelRejected` and
    // declared the same cancel key twice.)
    hasPendingCancel: ({ context }) => context.cancelAttempts > context.cancelsSent,
    lacksBrokerOrderId: ({ context }) => context.brokerOrderId === null,
  },
  actions: {
    placeOrder: declared,
    lookupOrder: declared,
    cancelOrder: declared,
    armTimer: declared,
    cancelTimer: declared,
    recordAck: assign((_, p: { brokerOrderId: string; at: number }) => ({
      brokerOrderId: p.brokerOrderId,
      updatedAt: p.at,
    })),
    recordReason: assign((_, p: { reason: string; at: number }) => ({ reason: p.reason, updatedAt: p.at })),
    recordFill: assign(({ context }, p: Fill & { at: number }) => ({
      filledQty: context.filledQty + p.qty,
      avgPrice: roundPrice((context.avgPrice * context.filledQty + p.price * p.qty) / (context.filledQty + p.qty)),
      fillIds: [...context.fillIds, p.fillId],
      updatedAt: p.at,
    })),
    notifyParent: declared,
    countLookup: assign(({ context }) => ({ lookupAttempts: context.lookupAttempts + 1 })),
    countNotFound: assign(({ context }) => ({ notFoundCount: context.notFoundCount + 1 })),
    countCancel: assign(({ context }) => ({ cancelAttempts: context.cancelAttempts + 1 })),
    countCancelSent: assign(({ context }) => ({ cancelsSent: context.cancelAttempts })),
  },
}).createMachine({
  id: "order",
  version: orderMachineVersion,
  initial: "CREATED",
  context: ({ input }) => ({
    ...input,
    ackTimeoutMs: input.ackTimeoutMs ?? 10_000,
    lookupRetryMs: input.lookupRetryMs ?? 2_000,
    lookupAttemptsMax: input.lookupAttemptsMax ?? 5,
    brokerOrderId: null,
    filledQty: 0,
    avgPrice: 0,
    fillIds: [],
    reason: null,
    lookupAttempts: 0,
    notFoundCount: 0,
    cancelAttempts: 0,
    cancelsSent: 0,
    updatedAt: input.createdAt,
  }),
  states: {
    CREATED: {
      tags: ["open"],
      on: {
        "cmd.place": { target: "SENT_TO_BROKER" },
        "risk.denied": { target: "FAILED", actions: { type: "recordReason", params: reasonOf } },
        "cmd.cancel": {
          target: "CANCELLED",
          actions: { type: "recordReason", params: ({ event }) => ({ reason: "cancelled before send", at: event.at }) },
        },
      },
    },
    SENT_TO_BROKER: {
      tags: ["open", "inFlight"],
      initial: "awaitingAck",
      on: {
        "broker.filled": fillTransitions("PARTIAL"),
        // The exchange can reject after the broker acknowledged (RMS, price band, freeze).
        "broker.rejected": { target: "FAILED", actions: { type: "recordReason", params: reasonOf } },
        "broker.cancelled": { target: "CANCELLED", actions: { type: "recordReason", params: cancelReasonOf } },
        "broker.expired": {
          target: "EXPIRED",
          actions: { type: "recordReason", params: ({ event }) => ({ reason: "expired", at: event.at }) },
        },
      },
      states: {
        awaitingAck: {
          entry: [
            { type: "placeOrder", params: ({ context }) => placeOf(context) },
            { type: "armTimer", params: ({ context }) => declare.armTimer("ackTimeout", context.ackTimeoutMs) },
          ],
          exit: { type: "cancelTimer", params: declare.cancelTimer("ackTimeout") },
          on: {
            "broker.accepted": { target: "working", actions: { type: "recordAck", params: ackOf } },
            "broker.sendUnknown": { target: "unknown", actions: { type: "recordReason", params: reasonOf } },
            // No answer in time: the order may or may not be at the broker. Look it up, never resend.
            "timer.ackTimeout": {
              target: "unknown",
              actions: {
                type: "recordReason",
                params: ({ event }) => ({ reason: "no acknowledgement in time", at: event.at }),
              },
            },
            // Cancel before the ack: remembered, sent as soon as the broker order id is known.
            "cmd.cancel": { actions: "countCancel" },
          },
        },
        unknown: {
          tags: ["unresolved"],
          entry: [{ type: "countLookup" }, { type: "lookupOrder", params: ({ context }) => lookupOf(context) }],
          on: {
            "broker.found": { target: "working", actions: { type: "recordAck", params: ackOf } },
            "broker.notFound": [
              { guard: "hasLookupsLeft", target: "lookupWait", actions: "countNotFound" },
              {
                target: "#order.FAILED",
                actions: {
                  type: "recordReason",
                  params: ({ event }) => ({ reason: "not found at the broker after lookups", at: event.at }),
                },
              },
            ],
            // A network error is not an answer: the order is not declared lost.
            "broker.lookupFailed": { target: "lookupWait", actions: { type: "recordReason", params: reasonOf } },
            // A late acknowledgement settles the question as well as a lookup would.
            "broker.accepted": { target: "working", actions: { type: "recordAck", params: ackOf } },
            // Remembered like a cancel before the ack: sent once the order is found.
            "cmd.cancel": { actions: "countCancel" },
          },
        },
        lookupWait: {
          tags: ["unresolved"],
          entry: { type: "armTimer", params: ({ context }) => declare.armTimer("lookupRetry", context.lookupRetryMs) },
          exit: { type: "cancelTimer", params: declare.cancelTimer("lookupRetry") },
          on: {
            "timer.lookupRetry": { target: "unknown" },
            "broker.accepted": { target: "working", actions: { type: "recordAck", params: ackOf } },
            "cmd.cancel": { actions: "countCancel" },
          },
        },
        working: {
          // Announced once: back from a rejected cancel (a cancel was sent) the parent already knows.
          entry: {
            type: "notifyParent",
            params: ({ context }) =>
              context.cancelsSent > 0
                ? null
                : notice(context, { type: "order.accepted", brokerOrderId: context.brokerOrderId }),
          },
          always: { guard: "hasPendingCancel", target: "cancelling" },
          on: {
            "cmd.cancel": { target: "cancelling", actions: "countCancel" },
          },
        },
        cancelling: {
          entry: [{ type: "countCancelSent" }, { type: "cancelOrder", params: ({ context }) => cancelOf(context) }],
          on: {
            // Too late: the broker filled it first. The fill update will follow.
            "broker.cancelRejected": { target: "working", actions: { type: "recordReason", params: reasonOf } },
          },
        },
      },
    },
    PARTIAL: {
      tags: ["open", "inFlight"],
      // A cancel asked for before the ack, when a fill arrived first: send it now.
      always: {
        guard: "hasPendingCancel",
        actions: ["countCancelSent", { type: "cancelOrder", params: ({ context }) => cancelOf(context) }],
      },
      on: {
        "broker.filled": fillTransitions("PARTIAL"),
        "broker.cancelled": { target: "CANCELLED", actions: { type: "recordReason", params: cancelReasonOf } },
        "broker.expired": {
          target: "EXPIRED",
          actions: { type: "recordReason", params: ({ event }) => ({ reason: "expired", at: event.at }) },
        },
        "broker.rejected": { target: "FAILED", actions: { type: "recordReason", params: reasonOf } },
        "cmd.cancel": {
          target: "PARTIAL",
          actions: [
            "countCancel",
            "countCancelSent",
            { type: "cancelOrder", params: ({ context }) => cancelOf(context) },
          ],
        },
        "broker.cancelRejected": { target: "PARTIAL", actions: { type: "recordReason", params: reasonOf } },
        // The fill overtook the acknowledgement: keep the broker order id, a cancel needs it.
        "broker.accepted": { guard: "lacksBrokerOrderId", actions: { type: "recordAck", params: ackOf } },
      },
    },
    EXECUTED: {
      type: "final",
      tags: ["terminal"],
      entry: {
        type: "notifyParent",
        params: ({ context }) =>
          notice(context, { type: "order.executed", filledQty: context.filledQty, avgPrice: context.avgPrice }),
      },
    },
    FAILED: {
      type: "final",
      tags: ["terminal"],
      entry: {
        type: "notifyParent",
        params: ({ context }) =>
          notice(context, {
            type: "order.failed",
            reason: context.reason,
            filledQty: context.filledQty,
            avgPrice: context.avgPrice,
          }),
      },
    },
    // Not final: a fill can still arrive after a cancel or an expiry, and must be recorded.
    CANCELLED: {
      tags: ["terminal"],
      entry: { type: "notifyParent", params: ({ context }) => endNotice(context) },
      on: {
        "broker.filled": fillTransitions("CANCELLED"),
      },
    },
    EXPIRED: {
      tags: ["terminal"],
      entry: { type: "notifyParent", params: ({ context }) => endNotice(context) },
      on: {
        "broker.filled": fillTransitions("EXPIRED"),
      },
    },
  },
})

function isNewFillFor(context: OrderContext, p: Fill): boolean {
  return p.qty > 0 && !context.fillIds.includes(p.fillId) && context.filledQty + p.qty <= context.qty
}

function roundPrice(x: number): number {
  return Math.round(x * 10_000) / 10_000
}

function fillOf({ event }: { event: OrderEvent }): Fill {
  const e = event as Extract<OrderEvent, { type: "broker.filled" }>
  return { fillId: e.fillId, qty: e.qty, price: e.price }
}

function fillAt({ event }: { event: OrderEvent }): Fill & { at: number } {
  return { ...fillOf({ event }), at: event.at }
}

function reasonOf({ event }: { event: OrderEvent }): { reason: string; at: number } {
  return { reason: (event as { reason?: string }).reason ?? event.type, at: event.at }
}

function cancelReasonOf({ event }: { event: OrderEvent }): { reason: string; at: number } {
  return { reason: (event as { reason?: string }).reason ?? "cancelled", at: event.at }
}

function ackOf({ event }: { event: OrderEvent }): { brokerOrderId: string; at: number } {
  return { brokerOrderId: (event as { brokerOrderId: string }).brokerOrderId, at: event.at }
}

/** A message to the order's parent (trade, exit intent), or nothing when it has none. */
function notice(c: OrderContext, event: { type: string } & { [k: string]: Json }): Declared | null {
  return c.parentId === null ? null : declare.send(c.parentId, { ...event, orderId: c.orderId })
}

function fillNotice({ context, event }: { context: OrderContext; event: OrderEvent }): Declared | null {
  const f = fillOf({ event })
  return notice(context, { type: "order.filled", fillId: f.fillId, qty: f.qty, price: f.price })
}

function endNotice(c: OrderContext): Declared | null {
  return notice(c, { type: "order.cancelled", reason: c.reason, filledQty: c.filledQty, avgPrice: c.avgPrice })
}

function placeOf(c: OrderContext): Declared {
  return declare.effect("broker.place", c.clientTag, {
    orderId: c.orderId,
    accountId: c.accountId,
    symbol: c.symbol,
    exchange: c.exchange,
    side: c.side,
    qty: c.qty,
    product: c.product,
    orderType: c.orderType,
    price: c.price,
    triggerPrice: c.triggerPrice,
    clientTag: c.clientTag,
  })
}

function lookupOf(c: OrderContext): Declared {
  return declare.effect("broker.lookup", `${c.clientTag}/lookup/${c.lookupAttempts}`, {
    orderId: c.orderId,
    accountId: c.accountId,
    clientTag: c.clientTag,
  })
}

function cancelOf(c: OrderContext): Declared {
  return declare.effect("broker.cancel", `${c.clientTag}/cancel/${c.cancelAttempts}`, {
    orderId: c.orderId,
    accountId: c.accountId,
    brokerOrderId: c.brokerOrderId,
    clientTag: c.clientTag,
  })
}

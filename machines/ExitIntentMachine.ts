/**
 * ExitIntent: one decision to exit a trade on one account, for one reason, in one exit episode,
 * and the outcome of acting on it. A position's exit (an exit request over a broker position that
 * several of the engine's trades make up) is one intent over all of them, its `members`, oldest
 * first: one order per position instead of one per trade. It is keyed by its first trade.
 *
 * PENDING → APPROVED / REJECTED; APPROVED → PLACED → FILLED / FAILED. The operational gates are
 * engine code; they answer with `gate.approved` or `gate.rejected`. An approval either executes
 * (APPROVED.live: one Order actor per slice is spawned and told to place, the trade is told the
 * exit started) or is dark (APPROVED.dark: written, never executed, the rollout's dark mode).
 *
 * Slices: an exit at or above the instrument's freeze quantity cannot go out as one order, so the
 * gates split it (order shaping: each slice a lot multiple strictly below the freeze) and the
 * approval names one order per slice. The intent follows every slice: its fills (per order, each
 * fill id once), and how it ended (EXECUTED, FAILED or CANCELLED). PLACED once any slice is at the
 * broker; FILLED when every slice is EXECUTED; FAILED once any slice ended short and every slice
 * has ended. When a slice ends short while others still work, the intent cancels those others (once,
 * on the first short end) and waits, in the state it is in, for all of them to end: a partial exit
 * is reported to the trade as the failure's `filledQty`, the trade keeps the unfilled remainder
 * OPEN and the next episode exits it with fresh quantities from the broker's position. A slice
 * cancelled in time reports its fills; one that filled first reports `order.executed` and counts.
 *
 * Invariants:
 * - One Order per slice, all spawned on the approval and nowhere else; the intent listens only to
 *   its slices' orders. The slices' quantities sum to the intent's qty (a malformed approval is
 *   REJECTED, never executed).
 * - Per slice, filledQty never exceeds the slice's qty and a fill is applied once per (order,
 *   fillId); so the intent's filledQty (the sum) never exceeds qty.
 * - FILLED only when every slice is EXECUTED, so filledQty = qty; FAILED only once every slice
 *   has ended, so nothing the intent placed is still working when the trade hears of it.
 * - The trade hears `exit.started` only for an executed approval, then exactly one of
 *   `exit.filled` (FILLED) or `exit.failed` (FAILED), with the totals over all slices. A rejection
 *   tells the trade nothing: it never left OPEN. A position's exit tells each member the same,
 *   with its own share: on FILLED its whole quantity, on FAILED what filled shared out oldest
 *   first (FIFO), all at the intent's average price. Members that do not sum to qty, or do not
 *   start with `tradeId`, make the approval malformed (REJECTED, never executed).
 * - FILLED, FAILED and REJECTED are final; APPROVED.dark never changes again.
 * - A cancel after the approval is the orders' to make: `cmd.cancel` is forwarded to every slice
 *   still working, and the intent ends when they report how they ended.
 * - Every accepted step changes the snapshot (at least `updatedAt`): XState returns the very same
 *   snapshot for a step that changes nothing, and the runtime takes that for a refusal.
 *
 * Snapshots of exitIntent@1 (one order: `orderId`, its fills in `fillIds`, no `slices`) load and
 * go on as an intent of one slice, written in their own shape; a @1 journal (`gate.approved` with
 * `orderId`) replays to the same snapshot it stored.
 */
import { assign, setup } from "xstate"
import { type Declared, type DeclaredSend, declare, declared } from "../src/domain/Declared.js"
import type { ExitReason, OrderType, Product, Side } from "../src/domain/Trading.js"
import type { OrderInput } from "./OrderMachine.js"

/** Bumped whenever a change to this machine makes old snapshots need a migration. */
export const exitIntentMachineVersion = "exitIntent@2"

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
  /**
   * A position's exit: the trades of one position this intent exits together with one order (or one
   * per slice), oldest first, each with the quantity it exits. The first is `tradeId`, whose signal
   * and episode key the intent; the quantities sum to `qty`. Absent: the intent exits `tradeId` alone.
   */
  readonly members?: ReadonlyArray<ExitMember>
}

/** A trade a position's exit closes, and the quantity it closes of it. */
export type ExitMember = { readonly tradeId: string; readonly qty: number }

/** One order of an approval: its id, its broker tag and its quantity. */
export interface SliceOrder {
  readonly orderId: string
  readonly clientTag: string
  readonly qty: number
}

/** How a slice's order ended. */
export type SliceEnd = "EXECUTED" | "FAILED" | "CANCELLED"

/** One slice as the intent follows it. */
export interface ExitSlice {
  readonly orderId: string
  readonly qty: number
  readonly filledQty: number
  readonly avgPrice: number
  /** The order's fill ids applied so far (ids are the order's: two orders may both have an `F1`). */
  readonly fillIds: ReadonlyArray<string>
  /** Null while the order works. */
  readonly end: SliceEnd | null
}

export interface ExitIntentContext extends ExitIntentInput {
  /** The first slice's order (exitIntent@1: the only one); null before the approval. */
  readonly orderId: string | null
  /** The first slice's client tag. */
  readonly clientTag: string | null
  readonly orderType: OrderType | null
  readonly price: number | null
  /** The first slice's broker order id, once acknowledged. */
  readonly brokerOrderId: string | null
  /** The slices, from the approval on. Absent before it, and in exitIntent@1 snapshots (one order). */
  readonly slices?: ReadonlyArray<ExitSlice>
  /** Over all slices. */
  readonly filledQty: number
  /** Over all slices, weighted by their filled quantities. */
  readonly avgPrice: number
  /** exitIntent@1's fill ids of its one order; empty since @2, where each slice keeps its own. */
  readonly fillIds: ReadonlyArray<string>
  /**
   * A gate's rejection code, `CANCELLED`, `BAD_APPROVAL`, or how the first slice to end short
   * ended: `ORDER_FAILED` or `ORDER_CANCELLED`.
   */
  readonly rejectCode: string | null
  readonly error: string | null
  readonly approvedAt: number | null
  readonly placedAt: number | null
  readonly finishedAt: number | null
  readonly updatedAt: number
}

type At = { readonly at: number }
type ApprovalTerms = { execute: boolean; orderType: OrderType; price: number | null }
/** Events the ExitIntent accepts. */
export type ExitIntentEvent =
  | ({ type: "gate.approved"; slices: ReadonlyArray<SliceOrder> } & ApprovalTerms & At)
  /** exitIntent@1's approval of one order for the whole qty (still in older journals). */
  | ({ type: "gate.approved"; orderId: string; clientTag: string } & ApprovalTerms & At)
  | ({ type: "gate.rejected"; code: string; reason: string } & At)
  | ({ type: "cmd.cancel" } & At)
  | ({ type: "order.accepted"; orderId: string; brokerOrderId: string | null } & At)
  | ({ type: "order.filled"; orderId: string; fillId: string; qty: number; price: number } & At)
  | ({ type: "order.executed"; orderId: string; filledQty: number; avgPrice: number } & At)
  | ({ type: "order.failed"; orderId: string; reason: string | null; filledQty: number; avgPrice: number } & At)
  | ({ type: "order.cancelled"; orderId: string; reason: string | null; filledQty: number; avgPrice: number } & At)

/** An approval with its slices, whichever version wrote it; `legacy` for exitIntent@1's. */
type Approval = ApprovalTerms & {
  readonly slices: ReadonlyArray<SliceOrder>
  readonly legacy: boolean
  readonly at: number
}
type Fill = { readonly orderId: string; readonly fillId: string; readonly qty: number; readonly price: number }
type Failure = { readonly code: string; readonly reason: string; readonly at: number }
/** An order's report of how it ended, with its own totals. */
type Ending = {
  readonly orderId: string
  readonly end: SliceEnd
  readonly filledQty: number
  readonly avgPrice: number
}
type Outcome = Ending & { readonly code: string | null; readonly reason: string | null; readonly at: number }

/** The intent's slices: its own, or exitIntent@1's one order as a single slice. */
export function slicesOf(c: ExitIntentContext): ReadonlyArray<ExitSlice> {
  if (c.slices !== undefined) return c.slices
  if (c.orderId === null) return []
  return [
    { orderId: c.orderId, qty: c.qty, filledQty: c.filledQty, avgPrice: c.avgPrice, fillIds: c.fillIds, end: null },
  ]
}

/** The trades the intent exits, oldest first: its members, or its one trade for the whole qty. */
export function membersOf(c: Pick<ExitIntentInput, "tradeId" | "qty" | "members">): ReadonlyArray<ExitMember> {
  return c.members ?? [{ tradeId: c.tradeId, qty: c.qty }]
}

/**
 * A filled quantity shared out over the members, oldest first (FIFO): each member's share never
 * exceeds its own quantity, and the shares sum to `filledQty` (at most the intent's qty).
 */
export function allocation(members: ReadonlyArray<ExitMember>, filledQty: number): ReadonlyArray<ExitMember> {
  let left = filledQty
  return members.map((m) => {
    const qty = Math.min(m.qty, Math.max(0, left))
    left -= qty
    return { tradeId: m.tradeId, qty }
  })
}

/**
 * The slices after a fill, or null when it is not a new fill of one of them that fits. A cancelled
 * or expired order can still fill late, and that fill counts; a FAILED order never fills again.
 */
function withFill(c: ExitIntentContext, f: Fill): ReadonlyArray<ExitSlice> | null {
  const slices = slicesOf(c)
  const i = slices.findIndex((s) => s.orderId === f.orderId)
  const s = slices[i]
  if (s === undefined || s.end === "FAILED" || !(f.qty > 0) || s.fillIds.includes(f.fillId)) return null
  if (s.filledQty + f.qty > s.qty) return null
  const filledQty = s.filledQty + f.qty
  const avgPrice = roundPrice((s.avgPrice * s.filledQty + f.price * f.qty) / filledQty)
  return replaced(slices, i, { ...s, filledQty, avgPrice, fillIds: [...s.fillIds, f.fillId] })
}

/**
 * The slices after an order's report of its end, or null when it is not news: an execution must
 * cover the slice (and may follow a short end: a late fill completed a cancelled order); a short end
 * must be short, of a slice still working.
 */
function withEnding(c: ExitIntentContext, e: Ending): ReadonlyArray<ExitSlice> | null {
  const slices = slicesOf(c)
  const i = slices.findIndex((s) => s.orderId === e.orderId)
  const s = slices[i]
  if (s === undefined) return null
  const news =
    e.end === "EXECUTED" ? s.end !== "EXECUTED" && e.filledQty === s.qty : s.end === null && e.filledQty < s.qty
  if (!news) return null
  // The order's own totals are the truth; they equal the sum of the fills it reported.
  return replaced(slices, i, { ...s, filledQty: e.filledQty, avgPrice: e.avgPrice, end: e.end })
}

function replaced(slices: ReadonlyArray<ExitSlice>, i: number, s: ExitSlice): ReadonlyArray<ExitSlice> {
  return slices.map((x, j) => (j === i ? s : x))
}

/** The context fields that hold the slices and their totals, in the shape the intent was written in. */
function sliceFields(c: ExitIntentContext, slices: ReadonlyArray<ExitSlice>): Partial<ExitIntentContext> {
  const only = slices.length === 1 ? slices[0]! : null
  let filledQty = only?.filledQty ?? 0
  let avgPrice = only?.avgPrice ?? 0
  if (only === null) {
    let value = 0
    for (const s of slices) {
      filledQty += s.filledQty
      value += s.avgPrice * s.filledQty
    }
    avgPrice = filledQty === 0 ? 0 : roundPrice(value / filledQty)
  }
  // exitIntent@1: one order, its fills at the top level.
  if (c.slices === undefined) return { fillIds: only?.fillIds ?? c.fillIds, filledQty, avgPrice }
  return { slices, filledQty, avgPrice }
}

/** Why an approval cannot be executed as it stands, or null: its slices must make up the qty. */
function malformation(c: ExitIntentContext, a: Approval): string | null {
  if (a.slices.length === 0) return "the approval names no order"
  if (new Set(a.slices.map((s) => s.orderId)).size !== a.slices.length) return "the approval names an order twice"
  if (a.slices.some((s) => !Number.isInteger(s.qty) || s.qty <= 0)) return "a slice's quantity is not positive"
  const total = a.slices.reduce((n, s) => n + s.qty, 0)
  if (total !== c.qty) return `the slices make ${total}, the intent exits ${c.qty}`
  return membersMalformation(c)
}

/** Why a position's members do not make the intent, or null. */
function membersMalformation(c: ExitIntentContext): string | null {
  if (c.members === undefined) return null
  if (c.members.length === 0 || c.members[0]!.tradeId !== c.tradeId) return "the members do not start with the trade"
  if (new Set(c.members.map((m) => m.tradeId)).size !== c.members.length) return "the members name a trade twice"
  if (c.members.some((m) => !Number.isInteger(m.qty) || m.qty <= 0)) return "a member's quantity is not positive"
  const total = c.members.reduce((n, m) => n + m.qty, 0)
  return total === c.qty ? null : `the members make ${total}, the intent exits ${c.qty}`
}

const intentSetup = setup({
  types: {
    context: {} as ExitIntentContext,
    events: {} as ExitIntentEvent,
    input: {} as ExitIntentInput,
  },
  guards: {
    executes: (_, p: Approval) => p.execute,
    isMalformedApproval: ({ context }, p: Approval) => malformation(context, p) !== null,
    // One of its slices, still working (an order announces itself before it can end).
    isOwnOrder: ({ context }, p: { orderId: string }) =>
      slicesOf(context).some((s) => s.orderId === p.orderId && s.end === null),
    isNewFill: ({ context }, p: Fill) => withFill(context, p) !== null,
    // The last slice executed, and every other slice too.
    isCompleteExecution: ({ context }, p: Ending) =>
      withEnding(context, p)?.every((s) => s.end === "EXECUTED") ?? false,
    // The last slice ended, and not every slice executed.
    isLastEnd: ({ context }, p: Ending) => withEnding(context, p)?.every((s) => s.end !== null) ?? false,
    // A slice ended while others still work.
    isSliceEnd: ({ context }, p: Ending) => withEnding(context, p) !== null,
  },
  actions: {
    spawnOrder: declared,
    sendOrder: declared,
    notifyTrade: declared,
    recordApproval: assign((_, p: Approval) => ({
      orderId: p.slices[0]!.orderId,
      clientTag: p.slices[0]!.clientTag,
      orderType: p.orderType,
      price: p.price,
      ...(p.legacy
        ? {}
        : {
            slices: p.slices.map((s) => ({
              orderId: s.orderId,
              qty: s.qty,
              filledQty: 0,
              avgPrice: 0,
              fillIds: [],
              end: null,
            })),
          }),
      approvedAt: p.at,
      updatedAt: p.at,
    })),
    recordFailure: assign((_, p: Failure) => ({
      rejectCode: p.code,
      error: p.reason,
      finishedAt: p.at,
      updatedAt: p.at,
    })),
    // The first short end names the intent's failure; the others are in their slices.
    recordSliceEnd: assign(({ context }, p: Outcome) => ({
      ...sliceFields(context, withEnding(context, p)!),
      ...(p.code !== null && context.rejectCode === null ? { rejectCode: p.code, error: p.reason } : {}),
      updatedAt: p.at,
    })),
    // A FILLED intent carries no failure, whatever a slice went through on the way.
    recordFinish: assign((_, p: { filled: boolean; at: number }) => ({
      ...(p.filled ? { rejectCode: null, error: null } : {}),
      finishedAt: p.at,
      updatedAt: p.at,
    })),
    // Nothing to record but the time: an accepted step must change the snapshot, or the runtime
    // (and XState) cannot tell it from a refusal and its declarations would be lost.
    touch: assign((_, p: At) => ({ updatedAt: p.at })),
    recordPlaced: assign(({ context }, p: { orderId: string; brokerOrderId: string | null; at: number }) => ({
      brokerOrderId: p.orderId === context.orderId ? (p.brokerOrderId ?? context.brokerOrderId) : context.brokerOrderId,
      placedAt: context.placedAt ?? p.at,
      updatedAt: p.at,
    })),
    recordFill: assign(({ context }, p: Fill & At) => ({
      ...sliceFields(context, withFill(context, p)!),
      placedAt: context.placedAt ?? p.at,
      updatedAt: p.at,
    })),
  },
})

/** Tells each trade of `shares` (the members, or their shares of a fill) the event made for it. */
const tellMembers = (
  shares: (c: ExitIntentContext) => ReadonlyArray<ExitMember>,
  eventOf: (c: ExitIntentContext, m: ExitMember) => DeclaredSend["event"],
) =>
  intentSetup.enqueueActions(({ context, enqueue }) => {
    for (const m of shares(context))
      enqueue({ type: "notifyTrade", params: declare.send(m.tradeId, eventOf(context, m)) })
  })

/**
 * A slice that ended short, or fully (APPROVED.live and PLACED alike): the last end decides the
 * intent, an earlier one is recorded; the first short end cancels the slices still working.
 */
const endings = (end: "FAILED" | "CANCELLED", code: string) =>
  [
    {
      guard: { type: "isLastEnd", params: endingOf(end) },
      target: "#exitIntent.FAILED",
      actions: [
        { type: "recordSliceEnd", params: outcomeOf(end, code) },
        { type: "recordFinish", params: finishAt(false) },
      ],
    },
    {
      guard: { type: "isSliceEnd", params: endingOf(end) },
      actions: [
        // Before the record: the first short end is the one that finds no rejectCode yet.
        intentSetup.enqueueActions(({ context, event, enqueue }) => {
          if (context.rejectCode !== null) return
          const ending = (event as { orderId: string }).orderId
          for (const s of slicesOf(context))
            if (s.end === null && s.orderId !== ending)
              enqueue({ type: "sendOrder", params: declare.send(s.orderId, { type: "cmd.cancel" }) })
        }),
        { type: "recordSliceEnd", params: outcomeOf(end, code) },
      ],
    },
  ] as const

/**
 * What the slices' ends and a cancel do while the intent follows its orders. A slice may be told
 * to cancel twice (by a cancel, then by the first short end); the Order absorbs it: a cancel while
 * one is pending or in flight is remembered once or refused, and one that reaches the broker for
 * an order already cancelled comes back as a cancel rejection, which changes nothing.
 */
const orderEndings = {
  "order.failed": endings("FAILED", "ORDER_FAILED"),
  "order.cancelled": endings("CANCELLED", "ORDER_CANCELLED"),
  "cmd.cancel": {
    actions: [
      intentSetup.enqueueActions(({ context, enqueue }) => {
        for (const s of slicesOf(context))
          if (s.end === null) enqueue({ type: "sendOrder", params: declare.send(s.orderId, { type: "cmd.cancel" }) })
      }),
      { type: "touch", params: ({ event }: { event: { at: number } }) => ({ at: event.at }) },
    ],
  },
} as const

export const ExitIntentMachine = intentSetup.createMachine({
  id: "exitIntent",
  version: exitIntentMachineVersion,
  initial: "PENDING",
  // Unchanged since exitIntent@1 (no `slices` until the approval), so that a @1 journal replays to
  // the snapshot it stored.
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
            guard: { type: "isMalformedApproval", params: approvalOf },
            target: "REJECTED",
            actions: {
              type: "recordFailure",
              params: ({ context, event }) => ({
                code: "BAD_APPROVAL",
                reason: malformation(context, approvalOf({ context, event })) ?? "malformed approval",
                at: event.at,
              }),
            },
          },
          {
            guard: { type: "executes", params: approvalOf },
            target: "APPROVED.live",
            actions: [
              { type: "recordApproval", params: approvalOf },
              // Each order is spawned before it is told to place, all in this one commit.
              intentSetup.enqueueActions(({ context, event, enqueue }) => {
                const a = approvalOf({ context, event })
                for (const s of a.slices) {
                  enqueue({ type: "spawnOrder", params: orderSpawnOf(context, a, s) })
                  enqueue({ type: "sendOrder", params: declare.send(s.orderId, { type: "cmd.place" }) })
                }
              }),
              tellMembers(membersOf, (c) => ({ type: "exit.started", intentId: c.intentId, reason: c.exitReason })),
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
            // The orders may not have reached the broker yet; each remembers a cancel until it has.
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
        // Another slice reached the broker.
        "order.accepted": {
          guard: { type: "isOwnOrder", params: orderIdOf },
          actions: { type: "recordPlaced", params: ackOf },
        },
        "order.filled": {
          guard: { type: "isNewFill", params: fillOf },
          actions: { type: "recordFill", params: fillAt },
        },
        "order.executed": [
          {
            guard: { type: "isCompleteExecution", params: endingOf("EXECUTED") },
            target: "FILLED",
            actions: [
              { type: "recordSliceEnd", params: outcomeOf("EXECUTED", null) },
              { type: "recordFinish", params: finishAt(true) },
            ],
          },
          {
            guard: { type: "isLastEnd", params: endingOf("EXECUTED") },
            target: "FAILED",
            actions: [
              { type: "recordSliceEnd", params: outcomeOf("EXECUTED", null) },
              { type: "recordFinish", params: finishAt(false) },
            ],
          },
          {
            guard: { type: "isSliceEnd", params: endingOf("EXECUTED") },
            actions: { type: "recordSliceEnd", params: outcomeOf("EXECUTED", null) },
          },
        ],
        ...orderEndings,
      },
    },
    FILLED: {
      type: "final",
      tags: ["terminal"],
      // Each member closes its own quantity at the intent's average price.
      entry: tellMembers(membersOf, (c, m) => ({
        type: "exit.filled",
        intentId: c.intentId,
        qty: m.qty,
        avgPrice: c.avgPrice,
        reason: c.exitReason,
      })),
    },
    // What the slices filled before the failure is reported to the trade: that part of the
    // position is gone, the rest stays the trade's.
    FAILED: {
      type: "final",
      tags: ["terminal"],
      // A position's exit shares what filled out over its members, oldest first.
      entry: tellMembers(
        (c) => allocation(membersOf(c), c.filledQty),
        (c, m) => ({
          type: "exit.failed",
          intentId: c.intentId,
          reason: c.error,
          filledQty: m.qty,
          avgPrice: m.qty > 0 ? c.avgPrice : 0,
        }),
      ),
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

function approvalOf({ context, event }: { context: ExitIntentContext; event: ExitIntentEvent }): Approval {
  const e = event as Extract<ExitIntentEvent, { type: "gate.approved" }>
  const terms = { execute: e.execute, orderType: e.orderType, price: e.price, at: e.at }
  if ("slices" in e) return { ...terms, slices: e.slices, legacy: false }
  return { ...terms, slices: [{ orderId: e.orderId, clientTag: e.clientTag, qty: context.qty }], legacy: true }
}

function orderIdOf({ event }: { event: ExitIntentEvent }): { orderId: string } {
  return { orderId: (event as { orderId: string }).orderId }
}

function ackOf({ event }: { event: ExitIntentEvent }): { orderId: string; brokerOrderId: string | null; at: number } {
  const e = event as { orderId: string; brokerOrderId?: string | null }
  return { orderId: e.orderId, brokerOrderId: e.brokerOrderId ?? null, at: event.at }
}

function fillOf({ event }: { event: ExitIntentEvent }): Fill {
  const e = event as Extract<ExitIntentEvent, { type: "order.filled" }>
  return { orderId: e.orderId, fillId: e.fillId, qty: e.qty, price: e.price }
}

function fillAt({ event }: { event: ExitIntentEvent }): Fill & At {
  return { ...fillOf({ event }), at: event.at }
}

function endingOf(end: SliceEnd) {
  return ({ event }: { event: ExitIntentEvent }): Ending => {
    const e = event as { orderId: string; filledQty: number; avgPrice: number }
    return { orderId: e.orderId, end, filledQty: e.filledQty, avgPrice: e.avgPrice }
  }
}

function outcomeOf(end: SliceEnd, code: string | null) {
  return ({ event }: { event: ExitIntentEvent }): Outcome => {
    const e = event as { reason?: string | null; at: number }
    return { ...endingOf(end)({ event }), code, reason: code === null ? null : (e.reason ?? event.type), at: e.at }
  }
}

function finishAt(filled: boolean) {
  return ({ event }: { event: ExitIntentEvent }): { filled: boolean; at: number } => ({ filled, at: event.at })
}

/** The Order a slice of this intent's approval creates. */
function orderSpawnOf(c: ExitIntentContext, a: Approval, s: SliceOrder): Declared {
  const input = {
    orderId: s.orderId,
    accountId: c.accountId,
    symbol: c.symbol,
    exchange: c.exchange,
    side: c.side,
    qty: s.qty,
    product: c.product,
    orderType: a.orderType,
    price: a.price,
    triggerPrice: null,
    clientTag: s.clientTag,
    purpose: "EXIT",
    parentId: c.intentId,
    createdAt: a.at,
  } satisfies OrderInput
  return declare.spawn("order", s.orderId, input)
}

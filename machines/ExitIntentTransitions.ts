/**
 * The ExitIntent's legal moves, as data (see `src/domain/TransitionTable.ts`). The intent exits 65
 * of trade `T1`; its order, once approved, is `O1`. Samples from another order (`O9`) show that the
 * intent listens only to its own. Fill samples: `first` 25, `rest` 40, `whole` 65.
 */
import type { TransitionRow, TransitionTable } from "../src/domain/TransitionTable.js"
import { exitIntentMachineVersion } from "./ExitIntentMachine.js"

const exitFailed = ["send T1 exit.failed"]
const cancelOrder = ["send O1 cmd.cancel"]

/** The moves of an approved, executing intent before its order is done. */
function executing(from: string, filledAlready: boolean): Array<TransitionRow> {
  const fills: Array<TransitionRow> = filledAlready
    ? [{ from, event: "order.filled", sample: "rest", to: "PLACED", guard: "isNewFill" }]
    : [
        { from, event: "order.filled", sample: "first", to: "PLACED", guard: "isNewFill" },
        { from, event: "order.filled", sample: "rest", to: "PLACED", guard: "isNewFill" },
        { from, event: "order.filled", sample: "whole", to: "PLACED", guard: "isNewFill" },
      ]
  return [
    ...fills,
    { from, event: "order.failed", sample: "own", to: "FAILED", guard: "isShortOutcome", declares: exitFailed },
    {
      from,
      event: "order.cancelled",
      sample: "short",
      to: "FAILED",
      guard: "isShortOutcome",
      declares: exitFailed,
      note: "the order's filled part (its own totals) goes to the trade with the failure",
    },
    { from, event: "cmd.cancel", to: "PLACED", declares: cancelOrder, note: "the cancel is the order's to make" },
  ]
}

/** The ExitIntent's transition table. */
export const ExitIntentTransitions: TransitionTable = {
  machine: "exitIntent",
  version: exitIntentMachineVersion,
  input: {
    intentId: "I1",
    signalId: "S1",
    tradeId: "T1",
    accountId: "U1",
    symbol: "NIFTY26MARFUT",
    exchange: "NFO",
    product: "MIS",
    side: "SELL",
    qty: 65,
    exitReason: "STOP_LOSS",
    episodeId: 0,
    createdAt: 1_772_423_100_000,
  },
  states: ["PENDING", "APPROVED.live", "APPROVED.dark", "PLACED", "FILLED", "FAILED", "REJECTED"],
  events: {
    "gate.approved": {
      live: { orderId: "O1", clientTag: "W-O1", execute: true, orderType: "LIMIT", price: 21950 },
      dark: { orderId: "O1", clientTag: "W-O1", execute: false, orderType: "LIMIT", price: 21950 },
    },
    "gate.rejected": { default: { code: "COOLDOWN", reason: "cooldown active" } },
    "cmd.cancel": { default: {} },
    "order.accepted": {
      own: { orderId: "O1", brokerOrderId: "B1" },
      foreign: { orderId: "O9", brokerOrderId: "B9" },
    },
    "order.filled": {
      first: { orderId: "O1", fillId: "F1", qty: 25, price: 21950 },
      rest: { orderId: "O1", fillId: "F3", qty: 40, price: 21949 },
      whole: { orderId: "O1", fillId: "F4", qty: 65, price: 21950 },
      foreign: { orderId: "O9", fillId: "F9", qty: 25, price: 21950 },
    },
    "order.executed": {
      complete: { orderId: "O1", filledQty: 65, avgPrice: 21949.3846 },
      foreign: { orderId: "O9", filledQty: 65, avgPrice: 21950 },
    },
    "order.failed": {
      own: { orderId: "O1", reason: "RMS: margin exceeds", filledQty: 0, avgPrice: 0 },
      foreign: { orderId: "O9", reason: "RMS: margin exceeds", filledQty: 0, avgPrice: 0 },
    },
    "order.cancelled": {
      short: { orderId: "O1", reason: "cancelled by user", filledQty: 25, avgPrice: 21950 },
      complete: { orderId: "O1", reason: "cancelled by user", filledQty: 65, avgPrice: 21950 },
      foreign: { orderId: "O9", reason: "cancelled by user", filledQty: 0, avgPrice: 0 },
    },
  },
  reach: {
    PENDING: [],
    "APPROVED.live": ["gate.approved:live"],
    "APPROVED.dark": ["gate.approved:dark"],
    PLACED: ["gate.approved:live", "order.accepted:own"],
    "PLACED#partlyFilled": ["gate.approved:live", "order.accepted:own", "order.filled:first"],
    FILLED: ["gate.approved:live", "order.accepted:own", "order.filled:whole", "order.executed:complete"],
    FAILED: ["gate.approved:live", "order.failed:own"],
    REJECTED: ["gate.rejected"],
  },
  rows: [
    {
      from: "PENDING",
      event: "gate.approved",
      sample: "live",
      to: "APPROVED.live",
      guard: "executes",
      declares: ["spawn order O1", "send O1 cmd.place", "send T1 exit.started"],
      note: "the order is spawned before it is told to place, in the same commit",
    },
    {
      from: "PENDING",
      event: "gate.approved",
      sample: "dark",
      to: "APPROVED.dark",
      guard: "!executes",
      note: "dark mode: written, never executed",
    },
    { from: "PENDING", event: "gate.rejected", to: "REJECTED", note: "the trade never left OPEN: nothing to tell it" },
    { from: "PENDING", event: "cmd.cancel", to: "REJECTED", note: "rejected with code CANCELLED" },

    { from: "APPROVED.live", event: "order.accepted", sample: "own", to: "PLACED", guard: "isOwnOrder" },
    ...executing("APPROVED.live", false).map((r) =>
      r.event === "cmd.cancel"
        ? { ...r, to: "APPROVED.live", note: "forwarded: the order remembers a cancel until the broker knows it" }
        : r.event === "order.filled"
          ? { ...r, note: "the fill overtook the ack: the order is at the broker all the same" }
          : r,
    ),

    {
      from: "PLACED",
      event: "order.executed",
      sample: "complete",
      to: "FILLED",
      guard: "isCompleteExecution",
      declares: ["send T1 exit.filled"],
    },
    ...executing("PLACED", false),

    {
      from: "PLACED#partlyFilled",
      event: "order.executed",
      sample: "complete",
      to: "FILLED",
      guard: "isCompleteExecution",
      declares: ["send T1 exit.filled"],
    },
    ...executing("PLACED#partlyFilled", true),
  ],
}

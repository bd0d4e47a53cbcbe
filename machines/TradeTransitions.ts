/**
 * The Trade's legal moves, as data (see `src/domain/TransitionTable.ts`): a LONG of 65 at 22000.05
 * with a 20-point trailing stop. `I1` is the exit intent the trade is told about; `I2` another
 * intent for the same trade whose start the trade refused (it was already EXITING).
 */
import type { TransitionTable } from "../src/domain/TransitionTable.js"
import { tradeMachineVersion } from "./TradeMachine.js"

/** The Trade's transition table. */
export const TradeTransitions: TransitionTable = {
  machine: "trade",
  version: tradeMachineVersion,
  input: {
    tradeId: "T1",
    accountId: "U1",
    symbol: "NIFTY26MARFUT",
    exchange: "NFO",
    product: "MIS",
    direction: "LONG",
    qty: 65,
    entryPrice: 22000.05,
    stopLoss: 21950,
    target: 22100,
    trailing: { distance: 20, unit: "price" },
    entryOrderId: "O0",
    openedAt: 1_772_423_100_000,
  },
  states: ["OPEN", "EXITING", "CLOSED"],
  events: {
    "tick.price": { higher: { price: 22030 }, lower: { price: 21990 } },
    "exit.started": { default: { intentId: "I1", reason: "STOP_LOSS" } },
    "exit.filled": {
      current: { intentId: "I1", qty: 65, avgPrice: 21949.95, reason: "STOP_LOSS" },
      other: { intentId: "I2", qty: 65, avgPrice: 21949.95, reason: "SQUARE_OFF" },
    },
    "exit.failed": {
      current: { intentId: "I1", reason: "RMS: margin exceeds", filledQty: 0, avgPrice: 0 },
      currentPartial: { intentId: "I1", reason: "cancelled by user", filledQty: 25, avgPrice: 21950 },
      other: { intentId: "I2", reason: "RMS: margin exceeds", filledQty: 0, avgPrice: 0 },
      otherPartial: { intentId: "I2", reason: "cancelled by user", filledQty: 25, avgPrice: 21950 },
    },
  },
  reach: {
    OPEN: [],
    EXITING: ["exit.started"],
    CLOSED: ["exit.started", "exit.filled:current"],
  },
  rows: [
    {
      from: "OPEN",
      event: "tick.price",
      sample: "higher",
      to: "OPEN",
      guard: "isNewBestPrice",
      note: "the trailing stop ratchets up",
    },
    { from: "OPEN", event: "exit.started", to: "EXITING" },
    {
      from: "OPEN",
      event: "exit.filled",
      to: "CLOSED",
      note: "broker truth: a FILLED intent whose start this trade refused; the position is gone",
    },
    {
      from: "OPEN",
      event: "exit.failed",
      sample: "currentPartial",
      to: "OPEN",
      guard: "hasExitFills",
      note: "a failed exit's partial fill is still an exit: qty and P&L are recorded",
    },
    { from: "OPEN", event: "exit.failed", sample: "otherPartial", to: "OPEN", guard: "hasExitFills" },

    {
      from: "EXITING",
      event: "tick.price",
      sample: "higher",
      to: "EXITING",
      guard: "isNewBestPrice",
      note: "a failed exit resumes from the best price seen meanwhile",
    },
    { from: "EXITING", event: "exit.filled", sample: "current", to: "CLOSED", guard: "isCurrentExit" },
    {
      from: "EXITING",
      event: "exit.filled",
      sample: "other",
      to: "CLOSED",
      guard: "!isCurrentExit",
      declares: ["send I1 cmd.cancel"],
      note: "another intent closed the position first: the current one is cancelled so it cannot over-sell",
    },
    {
      from: "EXITING",
      event: "exit.failed",
      sample: "current",
      to: "OPEN",
      guard: "isCurrentExit",
      note: "the next exit episode",
    },
    { from: "EXITING", event: "exit.failed", sample: "currentPartial", to: "OPEN", guard: "isCurrentExit" },
    { from: "EXITING", event: "exit.failed", sample: "otherPartial", to: "EXITING", guard: "hasExitFills" },
  ],
}

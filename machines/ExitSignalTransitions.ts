/**
 * The ExitSignal's legal moves, as data (see `src/domain/TransitionTable.ts`): a stop-loss episode
 * of trade `T1` with a one-minute cooldown, published as intent `I1`.
 */
import type { TransitionTable } from "../src/domain/TransitionTable.js"
import { exitSignalMachineVersion } from "./ExitSignalMachine.js"

/** The ExitSignal's transition table. */
export const ExitSignalTransitions: TransitionTable = {
  machine: "exitSignal",
  version: exitSignalMachineVersion,
  input: {
    signalId: "S1",
    tradeId: "T1",
    accountId: "U1",
    symbol: "NIFTY26MARFUT",
    exitReason: "STOP_LOSS",
    episodeId: 0,
    detectedPrice: 21949.95,
    detectedAt: 1_772_423_100_000,
    cooldownMs: 60_000,
  },
  states: ["DETECTED", "PUBLISHED.cooling", "PUBLISHED.rearmed", "SUPPRESSED"],
  events: {
    "signal.publish": { default: { intentId: "I1", side: "SELL", qty: 65, exchange: "NFO", product: "MIS" } },
    "signal.suppress": { default: { reason: "cooldown active" } },
    "timer.cooldown": { default: {} },
  },
  reach: {
    DETECTED: [],
    "PUBLISHED.cooling": ["signal.publish"],
    "PUBLISHED.rearmed": ["signal.publish", "timer.cooldown"],
    SUPPRESSED: ["signal.suppress"],
  },
  rows: [
    {
      from: "DETECTED",
      event: "signal.publish",
      to: "PUBLISHED.cooling",
      declares: ["spawn exitIntent I1", "timer.arm cooldown"],
      note: "the intent is created in the same commit; the cooldown is a durable timer",
    },
    { from: "DETECTED", event: "signal.suppress", to: "SUPPRESSED", note: "not eligible after all: no intent" },
    { from: "PUBLISHED.cooling", event: "timer.cooldown", to: "PUBLISHED.rearmed" },
  ],
}

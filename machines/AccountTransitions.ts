/**
 * The Account's legal moves, as data (see `src/domain/TransitionTable.ts`). `#unwinding` situations
 * have forced unwind switched on.
 */
import type { TransitionTable } from "../src/domain/TransitionTable.js"
import { accountMachineVersion } from "./AccountMachine.js"

/** The Account's transition table. */
export const AccountTransitions: TransitionTable = {
  machine: "account",
  version: accountMachineVersion,
  input: { accountId: "U1", createdAt: 1_772_423_100_000 },
  states: ["ACTIVE", "REDUCING", "HALTED"],
  events: {
    "risk.reduce": { default: { reason: "position cap of 10 exceeded" } },
    "risk.halt": { default: { reason: "daily loss limit reached" } },
    "risk.resume": { default: {} },
    "unwind.on": { default: { reason: "operator request" } },
    "unwind.off": { default: {} },
  },
  reach: {
    ACTIVE: [],
    "ACTIVE#unwinding": ["unwind.on"],
    REDUCING: ["risk.reduce"],
    HALTED: ["risk.halt"],
    "HALTED#unwinding": ["risk.halt", "unwind.on"],
  },
  rows: [
    { from: "ACTIVE", event: "risk.reduce", to: "REDUCING" },
    { from: "ACTIVE", event: "risk.halt", to: "HALTED" },
    { from: "ACTIVE", event: "unwind.on", to: "ACTIVE", guard: "isNotUnwinding" },

    { from: "ACTIVE#unwinding", event: "risk.reduce", to: "REDUCING" },
    { from: "ACTIVE#unwinding", event: "risk.halt", to: "HALTED" },
    { from: "ACTIVE#unwinding", event: "unwind.off", to: "ACTIVE", guard: "isUnwinding" },

    { from: "REDUCING", event: "risk.halt", to: "HALTED" },
    { from: "REDUCING", event: "risk.resume", to: "ACTIVE" },
    { from: "REDUCING", event: "unwind.on", to: "REDUCING", guard: "isNotUnwinding" },

    { from: "HALTED", event: "risk.resume", to: "ACTIVE" },
    { from: "HALTED", event: "unwind.on", to: "HALTED", guard: "isNotUnwinding" },

    {
      from: "HALTED#unwinding",
      event: "risk.resume",
      to: "ACTIVE",
      note: "resuming trading does not lift forced unwind: only unwind.off does",
    },
    { from: "HALTED#unwinding", event: "unwind.off", to: "HALTED", guard: "isUnwinding" },
  ],
}

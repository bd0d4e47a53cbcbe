/**
 * Account: the risk standing of one broker account (user_broker), as the risk manager decides it.
 *
 * ACTIVE / REDUCING / HALTED. REDUCING takes no new entries while exposure is brought down (a
 * position cap broken); HALTED takes no new entries at all (the daily loss limit hit, an operator's
 * stop). A halt is accepted from any state; a resume brings the account back to ACTIVE. Forced
 * unwind is a flag beside the state: while it is on, the continuous enforcer exits every position
 * of the account, bypassing entry filters, whatever the state. It is persisted with the snapshot,
 * so it survives restarts.
 *
 * Invariants:
 * - Exits are never blocked by the account state: only entries are (tag `blocksEntries`).
 * - `unwindReason` and `unwindSince` are set exactly while `forcedUnwind` is on.
 * - No state is final: an account lives as long as the engine serves it.
 */
import { assign, setup } from "xstate"

/** Bumped whenever a change to this machine makes old snapshots need a migration. */
export const accountMachineVersion = "account@1"

/** What the Account is created from. */
export interface AccountInput {
  readonly accountId: string
  /** Epoch ms of creation. */
  readonly createdAt: number
}

export interface AccountContext extends AccountInput {
  /** Why the account is REDUCING or HALTED; null while ACTIVE. */
  readonly reason: string | null
  readonly forcedUnwind: boolean
  readonly unwindReason: string | null
  readonly unwindSince: number | null
  readonly updatedAt: number
}

type At = { readonly at: number }
/** Events the Account accepts. */
export type AccountEvent =
  | ({ type: "risk.reduce"; reason: string } & At)
  | ({ type: "risk.halt"; reason: string } & At)
  | ({ type: "risk.resume" } & At)
  | ({ type: "unwind.on"; reason: string } & At)
  | ({ type: "unwind.off" } & At)

export const AccountMachine = setup({
  types: {
    context: {} as AccountContext,
    events: {} as AccountEvent,
    input: {} as AccountInput,
  },
  guards: {
    isUnwinding: ({ context }) => context.forcedUnwind,
    isNotUnwinding: ({ context }) => !context.forcedUnwind,
  },
  actions: {
    recordReason: assign((_, p: { reason: string | null; at: number }) => ({ reason: p.reason, updatedAt: p.at })),
    startUnwind: assign((_, p: { reason: string; at: number }) => ({
      forcedUnwind: true,
      unwindReason: p.reason,
      unwindSince: p.at,
      updatedAt: p.at,
    })),
    stopUnwind: assign((_, p: At) => ({ forcedUnwind: false, unwindReason: null, unwindSince: null, updatedAt: p.at })),
  },
}).createMachine({
  id: "account",
  version: accountMachineVersion,
  initial: "ACTIVE",
  context: ({ input }) => ({
    ...input,
    reason: null,
    forcedUnwind: false,
    unwindReason: null,
    unwindSince: null,
    updatedAt: input.createdAt,
  }),
  // Forced unwind is independent of the risk state: switched in any state, it changes no state.
  on: {
    "unwind.on": {
      guard: "isNotUnwinding",
      actions: { type: "startUnwind", params: ({ event }) => ({ reason: reasonOf(event), at: event.at }) },
    },
    "unwind.off": { guard: "isUnwinding", actions: { type: "stopUnwind", params: ({ event }) => ({ at: event.at }) } },
  },
  states: {
    ACTIVE: {
      on: {
        "risk.reduce": { target: "REDUCING", actions: { type: "recordReason", params: reasonAt } },
        "risk.halt": { target: "HALTED", actions: { type: "recordReason", params: reasonAt } },
      },
    },
    REDUCING: {
      tags: ["blocksEntries"],
      on: {
        "risk.halt": { target: "HALTED", actions: { type: "recordReason", params: reasonAt } },
        "risk.resume": {
          target: "ACTIVE",
          actions: { type: "recordReason", params: ({ event }) => ({ reason: null, at: event.at }) },
        },
      },
    },
    // A halt outranks a reduction: `risk.reduce` is refused here, only a resume lifts it.
    HALTED: {
      tags: ["blocksEntries"],
      on: {
        "risk.resume": {
          target: "ACTIVE",
          actions: { type: "recordReason", params: ({ event }) => ({ reason: null, at: event.at }) },
        },
      },
    },
  },
})

function reasonOf(event: AccountEvent): string {
  return (event as { reason?: string }).reason ?? event.type
}

function reasonAt({ event }: { event: AccountEvent }): { reason: string; at: number } {
  return { reason: reasonOf(event), at: event.at }
}

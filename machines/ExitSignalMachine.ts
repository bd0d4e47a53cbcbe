/**
 * ExitSignal: one exit episode of a trade, from the moment an exit condition is detected until its
 * cooldown has passed.
 *
 * DETECTED → PUBLISHED (or SUPPRESSED). Publishing creates the ExitIntent, in the same commit, and
 * starts the cooldown: PUBLISHED.cooling until the durable `cooldown` timer fires, then
 * PUBLISHED.rearmed, after which the engine may open the trade's next episode. The timer is a row
 * in the database, so the cooldown holds across restarts.
 *
 * Invariants:
 * - At most one ExitIntent per signal: the spawn is declared once, on `signal.publish`.
 * - A signal is unique on (trade, reason, episode) by its id, chosen by the engine.
 * - SUPPRESSED and PUBLISHED.rearmed never change again.
 */
import { assign, setup } from "xstate"
import { type Declared, declare, declared } from "../src/domain/Declared.js"
import type { ExitReason, Product, Side } from "../src/domain/Trading.js"
import type { ExitIntentInput, ExitMember } from "./ExitIntentMachine.js"

/** Bumped whenever a change to this machine makes old snapshots need a migration. */
export const exitSignalMachineVersion = "exitSignal@1"

/** What the ExitSignal is created from (by exit qualification, stage 1). */
export interface ExitSignalInput {
  readonly signalId: string
  readonly tradeId: string
  /** The broker account (user_broker). */
  readonly accountId: string
  readonly symbol: string
  readonly exitReason: ExitReason
  readonly episodeId: number
  /** The price that met the exit condition. */
  readonly detectedPrice: number
  /** Epoch ms of detection. */
  readonly detectedAt: number
  /** How long after publishing no new episode may start for this trade and reason. */
  readonly cooldownMs: number
  /**
   * A position's exit (an exit request over several trades of one position): the trades its intent
   * exits together, this signal's trade first, each with its quantity (see `ExitIntentInput`).
   */
  readonly members?: ReadonlyArray<ExitMember>
}

export interface ExitSignalContext extends ExitSignalInput {
  readonly intentId: string | null
  readonly publishedAt: number | null
  /** Epoch ms until which no new episode may start: `publishedAt + cooldownMs`. */
  readonly cooldownUntil: number | null
  readonly suppressedReason: string | null
  readonly rearmedAt: number | null
  readonly updatedAt: number
}

type At = { readonly at: number }
/** Events the ExitSignal accepts. */
export type ExitSignalEvent =
  | ({ type: "signal.publish"; intentId: string; side: Side; qty: number; exchange: string; product: Product } & At)
  | ({ type: "signal.suppress"; reason: string } & At)
  | ({ type: "timer.cooldown" } & At)

type Publish = Extract<ExitSignalEvent, { type: "signal.publish" }>

export const ExitSignalMachine = setup({
  types: {
    context: {} as ExitSignalContext,
    events: {} as ExitSignalEvent,
    input: {} as ExitSignalInput,
  },
  actions: {
    spawnIntent: declared,
    armTimer: declared,
    recordPublish: assign(({ context }, p: { intentId: string; at: number }) => ({
      intentId: p.intentId,
      publishedAt: p.at,
      cooldownUntil: p.at + context.cooldownMs,
      updatedAt: p.at,
    })),
    recordSuppress: assign((_, p: { reason: string; at: number }) => ({ suppressedReason: p.reason, updatedAt: p.at })),
    recordRearm: assign((_, p: { at: number }) => ({ rearmedAt: p.at, updatedAt: p.at })),
  },
}).createMachine({
  id: "exitSignal",
  version: exitSignalMachineVersion,
  initial: "DETECTED",
  context: ({ input }) => ({
    ...input,
    intentId: null,
    publishedAt: null,
    cooldownUntil: null,
    suppressedReason: null,
    rearmedAt: null,
    updatedAt: input.detectedAt,
  }),
  states: {
    DETECTED: {
      tags: ["open"],
      on: {
        "signal.publish": {
          target: "PUBLISHED",
          actions: [
            { type: "recordPublish", params: ({ event }) => ({ intentId: publishOf(event).intentId, at: event.at }) },
            { type: "spawnIntent", params: ({ context, event }) => intentSpawnOf(context, publishOf(event)) },
          ],
        },
        // Not eligible after all (a cooldown still active, the trade already closed): no intent.
        "signal.suppress": {
          target: "SUPPRESSED",
          actions: {
            type: "recordSuppress",
            params: ({ event }) => ({ reason: (event as { reason: string }).reason, at: event.at }),
          },
        },
      },
    },
    PUBLISHED: {
      initial: "cooling",
      states: {
        cooling: {
          tags: ["cooldown"],
          entry: { type: "armTimer", params: ({ context }) => declare.armTimer("cooldown", context.cooldownMs) },
          on: {
            "timer.cooldown": {
              target: "rearmed",
              actions: { type: "recordRearm", params: ({ event }) => ({ at: event.at }) },
            },
          },
        },
        rearmed: {
          type: "final",
          tags: ["terminal"],
        },
      },
    },
    SUPPRESSED: {
      type: "final",
      tags: ["terminal"],
    },
  },
})

function publishOf(event: ExitSignalEvent): Publish {
  return event as Publish
}

/** The ExitIntent this signal publishes. */
function intentSpawnOf(c: ExitSignalContext, p: Publish): Declared {
  const input = {
    intentId: p.intentId,
    signalId: c.signalId,
    tradeId: c.tradeId,
    accountId: c.accountId,
    symbol: c.symbol,
    exchange: p.exchange,
    product: p.product,
    side: p.side,
    qty: p.qty,
    exitReason: c.exitReason,
    episodeId: c.episodeId,
    createdAt: p.at,
    ...(c.members ? { members: c.members } : {}),
  } satisfies ExitIntentInput
  return declare.spawn("exitIntent", p.intentId, input)
}

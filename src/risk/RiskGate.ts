/**
 * The decision the entry path asks for before an order is sent: the risk manager's checks and the
 * execution guard's (issue 5 implements them). It only decides; it never builds or places an order.
 */
import { Context, Effect, Layer } from "effect"
import type { UniversalOrderCommand } from "../domain/Commands.js"

/** Allow, or deny with a reason that is recorded on the order. */
export type RiskDecision = { readonly allow: true } | { readonly allow: false; readonly reason: string }

/** Decides whether a validated command may be sent. */
export class RiskGate extends Context.Tag("warden/RiskGate")<
  RiskGate,
  { readonly check: (command: UniversalOrderCommand) => Effect.Effect<RiskDecision> }
>() {
  /** A gate that allows everything (before a risk manager is configured). */
  static readonly allowAll = Layer.succeed(RiskGate, { check: () => Effect.succeed({ allow: true } as const) })
}

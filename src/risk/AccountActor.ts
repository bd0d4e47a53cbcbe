/**
 * The Account actor as the risk manager reads and drives it: its standing from a view, and an
 * actor made on demand (its id is the account id) before an event is sent to it.
 */
import { Clock, Effect, Option } from "effect"
import type { OutcomeEvent } from "../runtime/EffectHandlers.js"
import { type ActorView, ActorRuntime, type StepOutcome } from "../runtime/ActorRuntime.js"
import { activeStanding, type Standing, type TradingState } from "./RiskFacts.js"

/** An account's standing from its actor's view (ACTIVE, no unwind, when it has no actor yet). */
export const standingOf = (view: Option.Option<ActorView>): Standing => {
  if (Option.isNone(view) || view.value.type !== "account") return activeStanding
  const c = view.value.context as {
    reason?: string | null
    forcedUnwind?: boolean
    unwindReason?: string | null
  }
  return {
    state: view.value.state as TradingState,
    reason: c.reason ?? null,
    forcedUnwind: c.forcedUnwind === true,
    unwindReason: c.unwindReason ?? null,
  }
}

/** An account's standing, read from the runtime. */
export const readStanding = (accountId: string) =>
  Effect.flatMap(ActorRuntime, (rt) => Effect.map(rt.view(accountId), standingOf))

/** Makes the account's actor if it has none yet. */
export const ensureAccount = (accountId: string, cause: string) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    if (Option.isSome(yield* rt.view(accountId))) return
    yield* rt.spawn("account", accountId, { accountId, createdAt: yield* Clock.currentTimeMillis }, cause)
  })

/** Sends an event (stamped with the Clock's time) to the account's actor, making it first if needed. */
export const sendToAccount = (
  accountId: string,
  event: { readonly type: string; readonly reason?: string },
  cause: string,
): Effect.Effect<StepOutcome, never, ActorRuntime> =>
  Effect.gen(function* () {
    yield* ensureAccount(accountId, cause)
    const at = yield* Clock.currentTimeMillis
    const rt = yield* ActorRuntime
    const stamped: OutcomeEvent = { ...event, at }
    return yield* rt.send(accountId, stamped, cause)
  })

/**
 * Forced unwind per account, for callers other than HTTP (simulation steps, the CLI, tests): the
 * flag lives in the Account actor (`unwind.on` / `unwind.off`), committed to the database before
 * anything acts on it, so it survives restarts. While it is on the continuous enforcer exits every
 * position of the account at once (bypassing the entry filters) and the risk manager refuses
 * every entry; turning it on wakes the enforcer at once.
 */
import { Data, Effect } from "effect"
import { Brokers } from "../broker/Brokers.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { sendToAccount, standingOf } from "./AccountActor.js"

/** An account the engine has no broker connection for. */
export class UnknownAccount extends Data.TaggedError("UnknownAccount")<{ readonly accountId: string }> {}

/** An account's forced-unwind flag. */
export interface UnwindState {
  readonly accountId: string
  readonly on: boolean
  readonly reason: string | null
  /** Epoch ms it was turned on; null while off. */
  readonly since: number | null
}

/** Sets and reads the forced-unwind flag of an account. */
export class ForcedUnwind extends Effect.Service<ForcedUnwind>()("warden/ForcedUnwind", {
  effect: Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const brokers = yield* Brokers

    const known = (accountId: string) =>
      brokers.all.has(accountId) ? Effect.void : Effect.fail(new UnknownAccount({ accountId }))

    const get = (accountId: string): Effect.Effect<UnwindState, UnknownAccount> =>
      Effect.gen(function* () {
        yield* known(accountId)
        const view = yield* rt.view(accountId)
        const standing = standingOf(view)
        const since = view._tag === "Some" ? (view.value.context.unwindSince as number | null | undefined) : null
        return { accountId, on: standing.forcedUnwind, reason: standing.unwindReason, since: since ?? null }
      })

    const set = (
      accountId: string,
      on: boolean,
      reason = "forced unwind",
      cause = "service:forced_unwind",
    ): Effect.Effect<UnwindState, UnknownAccount> =>
      Effect.gen(function* () {
        const current = yield* get(accountId)
        if (current.on === on) return current
        const event = on ? { type: "unwind.on", reason } : { type: "unwind.off" }
        yield* sendToAccount(accountId, event, cause).pipe(Effect.provideService(ActorRuntime, rt))
        yield* Effect.logInfo(`forced unwind ${on ? "on" : "off"} for ${accountId}${on ? ` (${reason})` : ""}`)
        return yield* get(accountId)
      })

    return {
      /** Turns the flag on (with a reason) or off; nothing changes when it already is. */
      set,
      /** The flag as the database holds it. */
      get,
    }
  }),
}) {}

/**
 * The handlers of declared effects (`broker.place`, `broker.lookup` …). The runtime runs a
 * handler after the step that declared it committed, retries it on a bounded, jittered schedule
 * while its failure is transient, and sends its outcome back to the actor as an event, in the
 * same commit that marks the outbox row done.
 */
import { Context, Data, type Effect, Layer, type Option } from "effect"
import type { Json } from "../domain/Json.js"

/** What a handler knows of the effect it runs. */
export interface EffectContext {
  /** The idempotency key declared by the machine (a broker order's client tag). */
  readonly key: string
  readonly actorId: string
  readonly outboxId: number
}

/** An event sent back to the actor that declared the effect. */
export type OutcomeEvent = { readonly type: string } & { readonly [k: string]: Json }

/**
 * An effect's failure. `retryable` failures (the request surely did not take effect: connection
 * refused, rate limited) are retried; the others (rejected, timed out with the outcome unknown)
 * go straight to `onFailure`.
 */
export class EffectFailure extends Data.TaggedError("EffectFailure")<{
  readonly reason: "Unavailable" | "RateLimited" | "Timeout" | "Rejected" | "Invalid"
  readonly message: string
  readonly retryable: boolean
}> {}

/** How one declared effect is carried out. */
export interface EffectHandler {
  /** Runs the effect; its outcome event, or null when the actor needs none. */
  readonly run: (payload: Json, ctx: EffectContext) => Effect.Effect<OutcomeEvent | null, EffectFailure>
  /**
   * After a restart, for an effect that may already have run: looks it up by its key. `Some`
   * holds the outcome if it ran (it is not run again); `None` means it never did.
   * Without `recover`, `run` itself must be idempotent by key.
   */
  readonly recover?: (
    payload: Json,
    ctx: EffectContext,
  ) => Effect.Effect<Option.Option<OutcomeEvent | null>, EffectFailure>
  /** The event for a failure that retries did not cure, or null. */
  readonly onFailure: (failure: EffectFailure, payload: Json, ctx: EffectContext) => OutcomeEvent | null
  /**
   * The lane an effect runs in (the broker account of an order call). Each lane has its own limit
   * of effects in flight, so effects stuck in one (a broker down, a session waiting for a new
   * token) never hold up another account's exits. Without it, the shared lane.
   */
  readonly lane?: (payload: Json) => string
}

/** The effect handlers the engine has, by effect name. */
export class EffectHandlers extends Context.Tag("warden/EffectHandlers")<
  EffectHandlers,
  Readonly<Record<string, EffectHandler>>
>() {
  /** A layer with these handlers. */
  static readonly layer = (handlers: Readonly<Record<string, EffectHandler>>) => Layer.succeed(EffectHandlers, handlers)
}

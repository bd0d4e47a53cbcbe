/**
 * The Order machine's declared effects, carried out on the account's broker: `broker.place`,
 * `broker.lookup` and `broker.cancel`. A broker error becomes the event the machine expects:
 * a reject is final, a timeout is "unknown" (looked up by tag, never re-sent), and only errors
 * that surely did not reach the broker (unavailable, rate limited) are retried by the runtime.
 */
import { Effect, Layer, Option } from "effect"
import type { BrokerError, PlaceRequest } from "../broker/Broker.js"
import { Brokers } from "../broker/Brokers.js"
import type { Json } from "../domain/Json.js"
import { EffectFailure, type EffectHandler, EffectHandlers, type OutcomeEvent } from "../runtime/EffectHandlers.js"

/** The payload of `broker.place` (see `placeOf` in machines/OrderMachine.ts). */
type PlacePayload = PlaceRequest & { readonly orderId: string }
type LookupPayload = { readonly accountId: string; readonly clientTag: string }
type CancelPayload = { readonly accountId: string; readonly brokerOrderId: string | null; readonly clientTag: string }

/** A broker error as the runtime's effect failure: retryable only when it surely did not take effect. */
export const toFailure = (e: BrokerError): EffectFailure =>
  new EffectFailure({
    reason: e.reason === "SessionExpired" || e.reason === "NotFound" ? "Unavailable" : e.reason,
    message: e.field ? `${e.message} (field ${e.field})` : e.message,
    // An expired session refused the call: it surely did not take effect and may be sent again
    // once the session is renewed.
    retryable: e.retryable || e.reason === "SessionExpired",
  })

const placeHandler = (brokers: Brokers["Type"]): EffectHandler => ({
  run: (payload) => {
    const p = payload as unknown as PlacePayload
    return brokers.forAccount(p.accountId).pipe(
      Effect.flatMap((broker) =>
        broker.place({
          clientTag: p.clientTag,
          accountId: p.accountId,
          symbol: p.symbol,
          exchange: p.exchange,
          side: p.side,
          qty: p.qty,
          product: p.product,
          orderType: p.orderType,
          price: p.price,
          triggerPrice: p.triggerPrice,
        }),
      ),
      Effect.map((r): OutcomeEvent => ({ type: "broker.accepted", brokerOrderId: r.brokerOrderId })),
      Effect.catchIf(
        (e) => e.reason === "Rejected" || e.reason === "Invalid",
        (e) =>
          Effect.succeed<OutcomeEvent>({
            type: "broker.rejected",
            reason: e.field ? `${e.message} (field ${e.field})` : e.message,
          }),
      ),
      Effect.mapError(toFailure),
    )
  },
  // After a restart the placement may have reached the broker: find it by its tag first.
  recover: (payload) => {
    const p = payload as unknown as PlacePayload
    return findByTag(brokers, p.accountId, p.clientTag).pipe(
      Effect.map(Option.map((id): OutcomeEvent | null => ({ type: "broker.accepted", brokerOrderId: id }))),
    )
  },
  onFailure: (f) => ({ type: "broker.sendUnknown", reason: `${f.reason}: ${f.message}` }),
})

const findByTag = (brokers: Brokers["Type"], accountId: string, clientTag: string) =>
  brokers.forAccount(accountId).pipe(
    Effect.flatMap((b) => b.orderByTag(clientTag)),
    Effect.map(Option.map((o) => o.brokerOrderId)),
    Effect.mapError(toFailure),
  )

const lookupHandler = (brokers: Brokers["Type"]): EffectHandler => ({
  run: (payload) => {
    const p = payload as unknown as LookupPayload
    return findByTag(brokers, p.accountId, p.clientTag).pipe(
      Effect.map(
        Option.match({
          onNone: (): OutcomeEvent => ({ type: "broker.notFound" }),
          onSome: (id): OutcomeEvent => ({ type: "broker.found", brokerOrderId: id }),
        }),
      ),
    )
  },
  // A network failure is not an answer: the order is not declared lost.
  onFailure: (f) => ({ type: "broker.lookupFailed", reason: `${f.reason}: ${f.message}` }),
})

const cancelHandler = (brokers: Brokers["Type"]): EffectHandler => ({
  run: (payload) => {
    const p = payload as unknown as CancelPayload
    if (p.brokerOrderId === null) {
      return Effect.succeed<OutcomeEvent>({ type: "broker.cancelRejected", reason: "no broker order id yet" })
    }
    const id = p.brokerOrderId
    return brokers.forAccount(p.accountId).pipe(
      Effect.flatMap((b) => b.cancel(id)),
      // Accepted: the cancellation itself arrives as an order update.
      Effect.as<OutcomeEvent | null>(null),
      Effect.catchIf(
        (e) => e.reason === "Rejected" || e.reason === "Invalid" || e.reason === "NotFound",
        (e) => Effect.succeed<OutcomeEvent>({ type: "broker.cancelRejected", reason: e.message }),
      ),
      Effect.mapError(toFailure),
    )
  },
  onFailure: (f) => ({ type: "broker.cancelRejected", reason: `${f.reason}: ${f.message}` }),
})

/** The order effect handlers over the engine's broker connections. */
export const orderEffectHandlers = (brokers: Brokers["Type"]): Readonly<Record<string, EffectHandler>> => ({
  "broker.place": { ...placeHandler(brokers), lane: accountLane },
  "broker.lookup": { ...lookupHandler(brokers), lane: accountLane },
  "broker.cancel": { ...cancelHandler(brokers), lane: accountLane },
})

/** Order calls run in their account's lane: one account's stuck broker never holds up another's. */
const accountLane = (payload: Json): string => `account:${(payload as { accountId?: string }).accountId ?? ""}`

/** `EffectHandlers` for orders, built from `Brokers`. */
export const orderEffectsLayer = Layer.effect(EffectHandlers, Effect.map(Brokers, orderEffectHandlers))

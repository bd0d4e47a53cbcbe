/**
 * Shoonya's order updates from the Noren websocket: on open a login (`{"t":"a", uid, actid,
 * source:"API", accesstoken}`), on its `ak` "OK" (either case) the order subscription
 * (`{"t":"o", actid}`, acked `ok`), then `om` messages read into `OrderUpdate`s on the hub. The
 * heartbeat is the text frame `{"t":"h"}` plus a ws ping. A refused login closes the socket (the
 * server may not) and it is tried again after the reconnect backoff, with the current login.
 */
import { Clock, Effect, PubSub, type Scope } from "effect"
import type { OrderUpdate } from "./Broker.js"
import { type AdapterTuning, isRow, type Redactor } from "./BrokerHttp.js"
import * as BrokerSocket from "./BrokerSocket.js"
import { updateOf } from "./ShoonyaWire.js"

/** What the socket needs of its connection. */
export interface ShoonyaSocketContext {
  readonly accountId: string
  readonly wsUrl: string
  readonly tuning: AdapterTuning
  /** The login now (it may be renewed between reconnects). */
  readonly login: () => { readonly uid: string; readonly actid: string; readonly accessToken: string }
  readonly redact: Redactor
  readonly hub: PubSub.PubSub<OrderUpdate>
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const handlerOf = (ctx: ShoonyaSocketContext): BrokerSocket.SocketHandler => ({
  onOpen: (send) => {
    const { uid, actid, accessToken } = ctx.login()
    return Effect.as(send(JSON.stringify({ t: "a", uid, actid, source: "API", accesstoken: accessToken })), undefined)
  },
  onText: (text, send) =>
    Effect.gen(function* () {
      const message = parse(text)
      if (!isRow(message)) {
        yield* Effect.logWarning(`shoonya ${ctx.accountId}: unreadable socket frame ignored`)
        return undefined
      }
      switch (message.t) {
        case "ak":
        case "ck": {
          if (String(message.s).toUpperCase() === "OK") {
            yield* send(JSON.stringify({ t: "o", actid: ctx.login().actid }))
            return undefined
          }
          const why = ctx.redact(String(message.emsg ?? message.s ?? ""))
          yield* Effect.logError(`shoonya ${ctx.accountId}: socket login refused (${why}); is the session expired?`)
          return "close"
        }
        case "ok":
          return "ready"
        case "om":
          yield* Effect.matchEffect(updateOf(message, yield* Clock.currentTimeMillis), {
            onFailure: (e) => Effect.logWarning(`shoonya ${ctx.accountId}: om message ignored: ${e.message}`),
            onSuccess: (u) => PubSub.publish(ctx.hub, u),
          })
          return undefined
        default:
          return undefined
      }
    }),
})

/** Runs the order-update socket for the life of the scope. */
export const run = (ctx: ShoonyaSocketContext): Effect.Effect<void, never, Scope.Scope> =>
  BrokerSocket.run(
    {
      name: `shoonya ${ctx.accountId} order updates`,
      url: ctx.wsUrl,
      heartbeatMs: ctx.tuning.heartbeatMs,
      heartbeatText: JSON.stringify({ t: "h" }),
      silenceMs: ctx.tuning.silenceMs,
      reconnectDelayMs: ctx.tuning.reconnectDelayMs,
      reconnectDelayMsMax: ctx.tuning.reconnectDelayMsMax,
    },
    handlerOf(ctx),
  )

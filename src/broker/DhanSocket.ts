/**
 * Dhan's order updates from the order-update websocket: on open the login message
 * (`{"LoginReq":{"MsgCode":42,"ClientId","Token"},"UserType":"SELF"}`), then `order_alert`
 * messages whose `Data` keys arrive in PascalCase (the docs) or camelCase (the live feed), read
 * into `OrderUpdate`s on the hub. Dhan documents no client heartbeat: the ws ping keeps the
 * socket honest, and a socket with no frame and no pong for `silenceMs` is reconnected.
 */
import { Clock, Effect, PubSub, type Scope } from "effect"
import type { OrderUpdate } from "./Broker.js"
import { type AdapterTuning, isRow, type Redactor } from "./BrokerHttp.js"
import * as BrokerSocket from "./BrokerSocket.js"
import { alertOf, errorOf, updateOf } from "./DhanWire.js"

/** What the socket needs of its connection. */
export interface DhanSocketContext {
  readonly accountId: string
  readonly wsUrl: string
  readonly tuning: AdapterTuning
  /** The login now (it may be renewed between reconnects). */
  readonly login: () => { readonly clientId: string; readonly accessToken: string }
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

const handlerOf = (ctx: DhanSocketContext): BrokerSocket.SocketHandler => ({
  onOpen: (send) => {
    const { clientId, accessToken } = ctx.login()
    const login = { LoginReq: { MsgCode: 42, ClientId: clientId, Token: accessToken }, UserType: "SELF" }
    return Effect.as(send(JSON.stringify(login)), undefined)
  },
  onText: (text) =>
    Effect.gen(function* () {
      const message = parse(text)
      if (!isRow(message)) {
        yield* Effect.logWarning(`dhan ${ctx.accountId}: unreadable socket frame ignored`)
        return undefined
      }
      const refused = errorOf(message)
      if (refused !== null) {
        const why = ctx.redact(`${refused.code} ${refused.text}`)
        yield* Effect.logError(`dhan ${ctx.accountId}: order-update socket refused (${why}); is the token expired?`)
        return "close"
      }
      const data = alertOf(message)
      if (data === null) return "ready"
      yield* Effect.matchEffect(updateOf(data, yield* Clock.currentTimeMillis), {
        onFailure: (e) => Effect.logWarning(`dhan ${ctx.accountId}: order update ignored: ${e.message}`),
        onSuccess: (u) => PubSub.publish(ctx.hub, u),
      })
      return "ready"
    }),
})

/** Runs the order-update socket for the life of the scope. */
export const run = (ctx: DhanSocketContext): Effect.Effect<void, never, Scope.Scope> =>
  BrokerSocket.run(
    {
      name: `dhan ${ctx.accountId} order updates`,
      url: ctx.wsUrl,
      heartbeatMs: ctx.tuning.heartbeatMs,
      silenceMs: ctx.tuning.silenceMs,
      reconnectDelayMs: ctx.tuning.reconnectDelayMs,
      reconnectDelayMsMax: ctx.tuning.reconnectDelayMsMax,
    },
    handlerOf(ctx),
  )

/**
 * A broker websocket that stays up: connects, lets the adapter log in and subscribe, sends
 * heartbeats (a ws ping, plus the broker's own heartbeat frame if it has one), and reconnects
 * when the socket closes, errors, or stays connected but silent for `silenceMs` (no frame, no
 * pong). Reconnects wait `reconnectDelayMs`, doubling up to `reconnectDelayMsMax` while sessions
 * keep failing before they are ready. Runs as a fiber of the caller's scope; closing the scope
 * closes the socket.
 */
import { Duration, Effect, Option, Queue, type Scope } from "effect"
import { WebSocket } from "ws"

/** Sends one text frame if the socket is open. */
export type Send = (text: string) => Effect.Effect<void>

/** What a session step tells the socket: it is logged in and subscribed, or it must reconnect. */
export type SessionSignal = "ready" | "close" | undefined

/** The adapter's side of the conversation. */
export interface SocketHandler {
  /** The socket opened: log in (and subscribe, if the broker needs no ack first). */
  readonly onOpen: (send: Send) => Effect.Effect<SessionSignal>
  /** One text frame from the broker. */
  readonly onText: (text: string, send: Send) => Effect.Effect<SessionSignal>
}

/** Where and how the socket runs. */
export interface SocketOptions {
  /** For log lines (`shoonya U1 order updates`). */
  readonly name: string
  readonly url: string
  readonly heartbeatMs: number
  /** A text frame sent with every heartbeat (Shoonya `{"t":"h"}`). */
  readonly heartbeatText?: string
  /** A socket with no frame and no pong for this long is closed and opened again. */
  readonly silenceMs: number
  readonly reconnectDelayMs: number
  readonly reconnectDelayMsMax: number
}

type SocketEvent =
  | { readonly _tag: "open" }
  | { readonly _tag: "text"; readonly text: string }
  | { readonly _tag: "alive" }
  | { readonly _tag: "closed"; readonly why: string }

const connect = (url: string, events: Queue.Queue<SocketEvent>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const offer = (e: SocketEvent) => Queue.unsafeOffer(events, e)
      let ws: WebSocket
      try {
        ws = new WebSocket(url)
      } catch (e) {
        offer({ _tag: "closed", why: `cannot open ${String(e)}` })
        return null
      }
      ws.on("open", () => offer({ _tag: "open" }))
      ws.on("message", (data, isBinary) => offer(isBinary ? { _tag: "alive" } : { _tag: "text", text: String(data) }))
      ws.on("pong", () => offer({ _tag: "alive" }))
      ws.on("ping", () => offer({ _tag: "alive" }))
      ws.on("close", (code) => offer({ _tag: "closed", why: `closed (code ${code})` }))
      ws.on("error", (e) => offer({ _tag: "closed", why: `error: ${e.message}` }))
      return ws
    }),
    (ws) =>
      Effect.sync(() => {
        if (ws === null) return
        ws.removeAllListeners()
        ws.on("error", () => {})
        ws.terminate()
      }),
  )

const heartbeat = (ws: WebSocket | null, options: SocketOptions) =>
  Effect.forever(
    Effect.zipRight(
      Effect.sleep(Duration.millis(options.heartbeatMs)),
      Effect.sync(() => {
        if (ws === null || ws.readyState !== WebSocket.OPEN) return
        ws.ping()
        if (options.heartbeatText !== undefined) ws.send(options.heartbeatText)
      }),
    ),
  )

/** One connection, until it closes or falls silent; true when it got ready. */
const session = (options: SocketOptions, handler: SocketHandler): Effect.Effect<boolean> =>
  Effect.scoped(
    Effect.gen(function* () {
      const events = yield* Queue.unbounded<SocketEvent>()
      const ws = yield* connect(options.url, events)
      const send: Send = (text) =>
        Effect.sync(() => {
          if (ws !== null && ws.readyState === WebSocket.OPEN) ws.send(text)
        })
      let ready = false
      for (;;) {
        const next = yield* Effect.timeoutOption(Queue.take(events), Duration.millis(options.silenceMs))
        if (Option.isNone(next)) {
          yield* Effect.logWarning(`${options.name}: socket silent for ${options.silenceMs} ms; reconnecting`)
          return ready
        }
        const event = next.value
        if (event._tag === "closed") {
          yield* Effect.logInfo(`${options.name}: socket ${event.why}`)
          return ready
        }
        if (event._tag === "alive") continue
        const signal =
          event._tag === "open"
            ? yield* Effect.zipLeft(handler.onOpen(send), Effect.forkScoped(heartbeat(ws, options)))
            : yield* handler.onText(event.text, send)
        if (signal === "close") return ready
        if (signal === "ready") ready = true
      }
    }),
  )

/** Keeps the socket up for the life of the scope. */
export const run = (options: SocketOptions, handler: SocketHandler): Effect.Effect<void, never, Scope.Scope> =>
  Effect.asVoid(
    Effect.forkScoped(
      Effect.gen(function* () {
        let delayMs = options.reconnectDelayMs
        for (;;) {
          const ready = yield* session(options, handler)
          if (ready) delayMs = options.reconnectDelayMs
          yield* Effect.sleep(Duration.millis(delayMs))
          if (!ready) delayMs = Math.min(delayMs * 2, options.reconnectDelayMsMax)
        }
      }),
    ),
  )

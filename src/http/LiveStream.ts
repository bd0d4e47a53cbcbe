/**
 * The live stream: a websocket at `/ws` that sends each committed transition as one JSON message,
 * after its commit, never before. `?type=order` or `?id=ord_…` (repeatable) narrow it; with a token
 * configured the upgrade needs it (bearer header, cookie or `?token=`). A slow
 * client is dropped rather than allowed to hold the engine back.
 */
import type { Server } from "node:http"
import { Effect, Queue } from "effect"
import { WebSocketServer } from "ws"
import { ActorRuntime, type Transition } from "../runtime/ActorRuntime.js"
import { sameToken, tokenOf } from "./Token.js"

/** Bytes a client may have unsent before it is dropped. */
const clientBufferedBytesMax = 8 * 1024 * 1024

/** Attaches the `/ws` stream to a node HTTP server for the life of the scope. */
export const attachLiveStream = (server: Server, token: string | null = null) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const sub = yield* rt.subscribe
    // This server's upgrades are ours: the HTTP layer's own upgrade listener would answer the same
    // socket and corrupt the stream, so it is removed and `/ws` is routed here alone.
    server.removeAllListeners("upgrade")
    const wss = new WebSocketServer({ noServer: true })
    server.on("upgrade", (request, socket, head) => {
      if (new URL(request.url ?? "/", "http://localhost").pathname !== "/ws") {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n")
        return
      }
      const given = tokenOf(request.headers, request.url ?? "/")
      if (token !== null && (given === null || !sameToken(given, token))) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n")
        return
      }
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request))
    })
    const filters = new WeakMap<object, (t: Transition) => boolean>()
    wss.on("connection", (socket, request) => {
      const url = new URL(request.url ?? "/ws", "http://localhost")
      const types = new Set(url.searchParams.getAll("type"))
      const ids = new Set(url.searchParams.getAll("id"))
      filters.set(socket, (t) => (types.size === 0 || types.has(t.actorType)) && (ids.size === 0 || ids.has(t.actorId)))
    })
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resume(Effect.void))
      }),
    )
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.flatMap(Queue.takeBetween(sub, 1, 1_000), (batch) =>
          Effect.sync(() => {
            for (const client of wss.clients) {
              if (client.readyState !== client.OPEN) continue
              if (client.bufferedAmount > clientBufferedBytesMax) {
                client.terminate()
                continue
              }
              const keep = filters.get(client) ?? (() => true)
              for (const t of batch) if (keep(t)) client.send(JSON.stringify(t))
            }
          }),
        ),
      ),
    )
  })

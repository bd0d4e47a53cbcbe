/**
 * A local HTTP receiver for alerts: it records every request (path, headers, JSON body) and
 * answers each with the status `answer` gives (200 by default), so a test can fail first attempts.
 */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

/** One request the receiver got, with the status it answered. */
export interface Received {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Record<string, unknown>
  readonly status: number
}

/** A receiver listening on loopback. */
export interface Receiver {
  readonly url: string
  readonly received: Array<Received>
  readonly close: () => Promise<void>
}

/** Starts a receiver; `answer` picks each request's status (it sees the request and how many came before). */
export const startReceiver = async (
  answer: (path: string, body: Record<string, unknown>, index: number) => number = () => 200,
): Promise<Receiver> => {
  const received: Array<Received> = []
  const server = createServer((req, res) => {
    let text = ""
    req.on("data", (d) => {
      text += d
    })
    req.on("end", () => {
      let body: Record<string, unknown> = {}
      try {
        body = JSON.parse(text) as Record<string, unknown>
      } catch {
        body = { raw: text }
      }
      const status = answer(req.url ?? "/", body, received.length)
      received.push({ path: req.url ?? "/", headers: req.headers, body, status })
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify({ ok: status < 300 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

import type { AddressInfo } from "node:net"
import { describe, expect, it } from "vitest"
import { holdingServer } from "../../src/http/HttpServer.js"

describe("the engine's HTTP server before its app is attached", () => {
  it("holds a request that arrives between listening and serving, and answers it once the handler is attached", async () => {
    const server = holdingServer()
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const { port } = server.address() as AddressInfo
      // Sent while the server listens with no handler of the app's yet.
      const early = fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3_000) }).then(
        async (r) => [r.status, await r.text()],
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      server.on("request", (req, res) => res.end(`served ${req.url}`))
      expect(await early).toEqual([200, "served /healthz"])
      // Later requests go straight to the handler, once each.
      const later = await fetch(`http://127.0.0.1:${port}/later`)
      expect(await later.text()).toBe("served /later")
      expect(server.listenerCount("request")).toBe(1)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

/**
 * The audit page mounted beside a running engine, as the engine's HTTP server mounts it: `/audit`
 * on the engine's database and a `/ws` stream of committed transitions (one JSON `Transition`
 * per message). An open trade's view updates by itself when the trade closes. Skipped, saying
 * why, only when /usr/bin/chromium is absent.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import * as HttpRouter from "@effect/platform/HttpRouter"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option, Queue } from "effect"
import { describe, expect, it } from "vitest"
import { WebSocketServer } from "ws"
import { auditRouter } from "../../src/audit/AuditRoutes.js"
import { AuditService } from "../../src/audit/AuditService.js"
import { recordMachineDefinitions } from "../../src/audit/MachineDefinitions.js"
import { TickHub } from "../../src/market/TickHub.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { TradeManager } from "../../src/trades/TradeManager.js"
import { artifactsDir, chromiumMissing, launchChromium } from "../fixtures/browser.js"
import { testPaperEngine } from "../fixtures/TestEngine.js"

if (chromiumMissing) console.warn(`skipping the live audit browser test: ${chromiumMissing}`)

const tick = (ltp: number) =>
  Effect.flatMap(TickHub, (hub) => hub.publish({ symbol: "NIFTY26MARFUT", exchange: "NFO", ltp, at: Date.now() }))

/**
 * The audit routes and a `/ws` stream of the runtime's transitions on one node server; its URL.
 * The routes run through `makeHandler` on a plain server: the platform's own server layer also
 * handles websocket upgrades (with the router), and would answer `/ws` itself.
 */
const serveBesideEngine = Effect.gen(function* () {
  const rt = yield* ActorRuntime
  const transitions = yield* rt.subscribe
  const audit = yield* Layer.build(AuditService.Default)
  const app = HttpRouter.empty.pipe(HttpRouter.mount("/audit", auditRouter({ liveSocketPath: "/ws" })))
  const handler = yield* Effect.provide(NodeHttpServer.makeHandler(app), audit)
  const server = createServer(handler)
  const wss = new WebSocketServer({ server, path: "/ws" })
  yield* Effect.acquireRelease(
    Effect.async<void>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.void))
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.close(() => resume(Effect.void))
        // Chromium keeps its connections alive; they would hold the close forever.
        server.closeAllConnections()
      }),
  )
  yield* Effect.forkScoped(
    Effect.forever(
      Effect.flatMap(Queue.take(transitions), (t) =>
        Effect.sync(() => {
          for (const c of wss.clients) c.send(JSON.stringify(t))
        }),
      ),
    ),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`
})

describe.skipIf(chromiumMissing !== null)(
  `the audit page beside a running engine${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ""}`,
  () => {
    it("updates an open trade's view from the /ws stream when the trade closes", async () => {
      const engine = testPaperEngine()
      const browser = await launchChromium({ width: 1366, height: 768 })
      try {
        const program = Effect.gen(function* () {
          yield* recordMachineDefinitions
          const url = yield* serveBesideEngine
          yield* tick(22_000)
          const tm = yield* TradeManager
          const { tradeId } = yield* tm.enter({
            accountId: "U1",
            symbol: "NIFTY26MARFUT",
            exchange: "NFO",
            product: "MIS",
            side: "BUY",
            qty: 65,
            target: 22_100,
          })
          const rt = yield* ActorRuntime
          while (Option.getOrUndefined(yield* rt.view(tradeId))?.state !== "OPEN") yield* Effect.sleep("5 millis")
          const page = yield* Effect.promise(() => browser.context.newPage())
          yield* Effect.promise(() => page.goto(`${url}#/actor/${tradeId}`))
          const article = page.locator(`article.actor[data-actor="${tradeId}"]`)
          yield* Effect.promise(() => article.waitFor())
          expect(yield* Effect.promise(() => article.locator(".step-state").textContent())).toBe("OPEN")
          yield* Effect.promise(() => expect.poll(() => page.locator("#live").textContent()).toContain("connected"))
          yield* tick(22_150)
          yield* Effect.promise(() =>
            expect
              .poll(() => page.locator(`article.actor .step-state`).textContent(), { timeout: 15_000 })
              .toBe("CLOSED"),
          )
          const events = yield* Effect.promise(() =>
            page.locator("table.timeline-table td:nth-child(3)").allTextContents(),
          )
          expect(events).toEqual(expect.arrayContaining(["exit.started", "exit.filled"]))
          expect(yield* Effect.promise(() => page.locator("#live").textContent())).toMatch(/connected, \d+ transitions/)
          yield* Effect.promise(() => page.screenshot({ path: join(artifactsDir(), "audit-live.png"), fullPage: true }))
        })
        await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(engine.layer))))
      } finally {
        await browser.close()
      }
    })
  },
)

/**
 * The audit routes mounted on an HttpApi server as the engine's HTTP layer builds one
 * (`HttpApiBuilder.Router`), exercised through a web handler: the page, the JSON API, the report
 * download, and the errors.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServer from "@effect/platform/HttpServer"
import { Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditApiRoutesLayer } from "../../src/audit/AuditRoutes.js"
import { auditOfCopy } from "../../src/audit/AuditServer.js"
import type { ActorDetail } from "../../src/audit/AuditService.js"
import type { ActorPage } from "../../src/audit/AuditStore.js"
import { type AuditFixture, buildAuditDatabase } from "./auditFixture.js"

class EmptyApi extends HttpApi.make("engine") {}

describe("the audit routes on an HttpApi server", () => {
  let f: AuditFixture
  let web: ReturnType<typeof HttpApiBuilder.toWebHandler>
  const get = (path: string) => web.handler(new Request(`http://engine${path}`))

  beforeAll(async () => {
    f = await buildAuditDatabase()
    const routes = auditApiRoutesLayer().pipe(Layer.provide(auditOfCopy(f.dbFile)))
    web = HttpApiBuilder.toWebHandler(Layer.mergeAll(HttpApiBuilder.api(EmptyApi), routes, HttpServer.layerContext))
  })

  afterAll(async () => {
    await web?.dispose()
  })

  it("serves the page at /audit, with its script inline and the live stream at /ws", async () => {
    for (const path of ["/audit", "/audit/"]) {
      const res = await get(path)
      expect([path, res.status, res.headers.get("content-type")]).toEqual([path, 200, "text/html"])
      const html = await res.text()
      expect(html).toContain(`data-live="/ws"`)
      expect(html).toMatch(/<script>.+<\/script><\/body><\/html>$/s)
    }
  })

  it("answers the list, an actor, the facets and the machines as JSON", async () => {
    const page = (await (await get("/audit/api/actors?type=trade&limit=1")).json()) as ActorPage
    expect(page.rows).toHaveLength(1)
    expect(page.next).not.toBeNull()
    const next = (await (
      await get(`/audit/api/actors?type=trade&limit=1&cursor=${encodeURIComponent(page.next!)}`)
    ).json()) as ActorPage
    expect([...page.rows, ...next.rows].map((r) => r.actor_id).sort()).toEqual([f.tradeId, f.openTradeId].sort())
    const detail = (await (await get(`/audit/api/actors/${f.intentId}`)).json()) as ActorDetail
    expect([detail.actor.actor_id, detail.actor.state, detail.timeline.total]).toEqual([f.intentId, "FILLED", 5])
    const facets = (await (await get("/audit/api/facets")).json()) as { symbols: Array<string>; types: Array<string> }
    expect(facets.symbols).toEqual(["NIFTY26MARFUT"])
    expect(facets.types).toEqual(["order", "exitIntent", "exitSignal", "trade", "account"])
    const chart = (await (await get("/audit/api/machines/order/order@1")).json()) as { svg: string; source: string }
    expect([chart.source, chart.svg.startsWith("<svg")]).toEqual(["recorded", true])
  })

  it("downloads an actor's report and answers 404 for what does not exist", async () => {
    const report = await get(`/audit/api/actors/${f.exitOrderId}/report.html`)
    expect(report.status).toBe(200)
    expect(report.headers.get("content-disposition")).toContain("attachment")
    expect(await report.text()).toContain(`data-actor="${f.tradeId}"`)
    expect((await get("/audit/api/actors/nope")).status).toBe(404)
    expect((await get("/audit/api/actors/nope/report.html")).status).toBe(404)
    expect((await get("/audit/api/machines/order/order@9")).status).toBe(404)
  })

  it("reads time filters as UTC", async () => {
    const all = (await (await get("/audit/api/actors?from=2000-01-01T00:00:00")).json()) as ActorPage
    expect(all.rows).toHaveLength(7)
    const none = (await (await get("/audit/api/actors?to=2000-01-01T00:00:00")).json()) as ActorPage
    expect(none.rows).toHaveLength(0)
  })
})

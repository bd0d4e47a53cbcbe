/**
 * The audit page end to end in Debian's Chromium: the standalone server on a database made by the
 * real engine, an exit intent's path on its chart and its timeline, the step control, the link to
 * its trade; then an exported report opened from a `file://` URL with the network blocked.
 * Screenshots go to test-artifacts/. Skipped, saying why, only when /usr/bin/chromium is absent.
 */
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Exit, Scope } from "effect"
import type { BrowserContext, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAuditServer } from "../../src/audit/AuditServer.js"
import { auditCommand } from "../../src/cli/AuditCommand.js"
import { artifactsDir, chromiumMissing, launchChromium } from "../fixtures/browser.js"
import { type AuditFixture, buildAuditDatabase } from "./auditFixture.js"

if (chromiumMissing) console.warn(`skipping the audit browser tests: ${chromiumMissing}`)

/** Requests that left the page's own origin (or file://): there must be none. */
const watchRequests = (page: Page, allowed: (url: string) => boolean): Array<string> => {
  const outside: Array<string> = []
  page.on("request", (r) => {
    if (!allowed(r.url())) outside.push(r.url())
  })
  return outside
}

describe.skipIf(chromiumMissing !== null)(
  `the audit page in Chromium${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ""}`,
  () => {
    let f: AuditFixture
    let url: string
    let browser: { context: BrowserContext; close: () => Promise<void> }
    const scope = Effect.runSync(Scope.make())

    beforeAll(async () => {
      f = await buildAuditDatabase()
      url = await Effect.runPromise(Scope.extend(startAuditServer({ db: f.dbFile, port: 0 }), scope))
      browser = await launchChromium({ width: 1440, height: 900 })
    })

    afterAll(async () => {
      await browser?.close()
      await Effect.runPromise(Scope.close(scope, Exit.void))
    })

    it("shows an exit intent's path and timeline, steps through it, and follows the link to its trade", async () => {
      const page = await browser.context.newPage()
      const origin = new URL(url).origin
      const outside = watchRequests(page, (u) => u.startsWith(origin))
      const shots = artifactsDir()
      await page.goto(url)
      await page.locator("table.actors tbody tr").first().waitFor()
      expect(await page.locator("table.actors tbody tr").count()).toBe(7)
      await expect.poll(() => page.locator("#live").textContent()).toContain("off")

      await page.selectOption("form.filters select[name=type]", "exitIntent")
      await page.click("form.filters button[type=submit]")
      await page.waitForFunction(() => document.querySelectorAll("table.actors tbody tr").length === 1)
      await page.screenshot({ path: join(shots, "audit-list.png") })

      await page.click(`a[data-actor-link="${f.intentId}"]`)
      const article = page.locator(`article.actor[data-actor="${f.intentId}"]`)
      await article.waitFor()
      const chart = article.locator("svg.chart")
      expect(await chart.locator(`g.edge[data-taken="true"]`).count()).toBe(4)
      const entered = await chart
        .locator(`g.state[data-visited="true"]`)
        .evaluateAll((gs) => gs.map((g) => g.getAttribute("data-state")))
      expect(entered).toEqual(expect.arrayContaining(["PENDING", "APPROVED.live", "PLACED", "FILLED"]))
      expect(await chart.locator(`g.state[data-state="REJECTED"]`).getAttribute("data-visits")).toBe("0")
      const events = await article.locator("table.timeline-table tbody tr td:nth-child(3)").allTextContents()
      expect(events).toEqual(["xstate.init", "gate.approved", "order.accepted", "order.filled", "order.executed"])
      await page.screenshot({ path: join(shots, "audit-intent.png"), fullPage: true })

      // Step 2: just approved. The state, its mark on the chart and the transition taken follow the slider.
      await article.locator("input.slider").focus()
      await page.keyboard.press("Home")
      await page.keyboard.press("ArrowRight")
      await expect.poll(() => article.locator(".step-state").textContent()).toBe("APPROVED.live")
      expect(await chart.locator("g.state.at-step").getAttribute("data-state")).toBe("APPROVED.live")
      expect(await chart.locator("g.edge.step-edge").getAttribute("data-transitions")).toContain("gate.approved")
      expect(await article.locator(`tr[aria-current="step"]`).getAttribute("data-seq")).toBe("1")
      expect(await article.locator(".step-context").textContent()).toContain(`"orderId": "${f.exitOrderId}"`)
      await chart.scrollIntoViewIfNeeded()
      await page.screenshot({ path: join(shots, "audit-intent-step2.png") })

      await article.locator(`section.chain a[data-actor-link="${f.tradeId}"]`).first().click()
      const trade = page.locator(`article.actor[data-actor="${f.tradeId}"]`)
      await trade.waitFor()
      expect(page.url()).toContain(`#/actor/${f.tradeId}`)
      const tradeEvents = await trade.locator("table.timeline-table tbody tr td:nth-child(3)").allTextContents()
      expect(tradeEvents).toEqual(expect.arrayContaining(["xstate.init", "exit.started", "exit.filled"]))
      expect(await trade.locator(".step-state").textContent()).toBe("CLOSED")
      await page.screenshot({ path: join(shots, "audit-trade.png"), fullPage: true })
      expect(outside).toEqual([])
    })

    it("opens an exported report from a file:// URL with the network blocked", async () => {
      const file = join(artifactsDir(), "audit-report.html")
      await Effect.runPromise(auditCommand({ db: f.dbFile, html: file }, [f.intentId]))
      const page = await browser.context.newPage()
      const blocked: Array<string> = []
      await page.route("**/*", (route) => {
        const u = route.request().url()
        if (u.startsWith("file:")) return route.continue()
        blocked.push(u)
        return route.abort()
      })
      const outside = watchRequests(page, (u) => u.startsWith("file:") || u.startsWith("data:"))
      await page.goto(pathToFileURL(file).href)
      expect(await page.locator("article.actor").count()).toBe(5)
      const intent = page.locator(`article.actor[data-actor="${f.intentId}"]`)
      expect(await intent.locator(`svg.chart g.edge[data-taken="true"]`).count()).toBe(4)
      expect(await intent.locator("table.timeline-table tbody tr").count()).toBe(5)
      await intent.locator("button.first").click()
      await expect.poll(() => intent.locator(".step-state").textContent()).toBe("PENDING")
      await page.click(`article.actor[data-actor="${f.intentId}"] section.chain a[data-actor-link="${f.tradeId}"]`)
      expect(page.url()).toContain("#actor-")
      await page.screenshot({ path: join(artifactsDir(), "audit-report.png") })
      expect(blocked).toEqual([])
      expect(outside).toEqual([])
    })
  },
)

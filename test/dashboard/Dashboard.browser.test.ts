/**
 * The operator dashboard in a real browser (Debian's Chromium through playwright-core) against the
 * real engine process and its paper broker: sign in, place an order and watch it fill, close the
 * trade and see its realised P&L, exit all, and toggle forced unwind and see an entry refused.
 * Skipped, saying why, only when /usr/bin/chromium is absent.
 */
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, describe, expect, it } from "vitest"
import { artifactsDir, chromiumMissing, launchChromium } from "../fixtures/browser.js"
import { type Engine, startEngine } from "../fixtures/EngineProcess.js"

if (chromiumMissing) console.warn(`skipping the dashboard browser test: ${chromiumMissing}`)

/** Polling bound for what the page shows after a request (the machine may be busy). */
const slow = { timeout: 15_000 }

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifactsDir(), name), fullPage: true })

/** The outcome shown in the open dialog, once there is one; then the dialog is closed. */
const outcome = async (page: Page): Promise<string> => {
  const box = page.locator("dialog[open] .outcome")
  await box.waitFor({ timeout: 15_000 })
  const text = (await box.textContent()) ?? ""
  await page.locator("dialog[open] [data-close]").click()
  await page.locator("dialog[open]").waitFor({ state: "detached" })
  return text
}

/** Fills the order form for one lot of NIFTY26DECFUT, reviews it and places it; the outcome. */
const placeOrder = async (page: Page, side: "BUY" | "SELL" = "BUY") => {
  await page.locator("#new-order").click()
  const form = page.locator("dialog[open] #order-form")
  await form.locator("input[name=symbol]").fill("NIFTY26DEC")
  await expect.poll(() => form.locator("#instrument-info").textContent(), slow).toContain("pick one")
  await form.locator("input[name=symbol]").fill("NIFTY26DECFUT")
  await expect.poll(() => form.locator("#instrument-info").textContent(), slow).toContain("lot 65")
  await form.locator(`input[name=side][value=${side}]`).check({ force: true })
  await form.locator("input[name=lots]").fill("1")
  await expect.poll(() => form.locator("#qty-info").textContent(), slow).toBe("= 65 units")
  await page.locator("dialog[open] [data-confirm]").click()
  const confirm = page.locator("dialog[open]")
  await expect.poll(() => confirm.locator(".head").textContent(), slow).toBe("Confirm order")
  expect(await confirm.locator(".summary").textContent()).toContain(`${side} 65 NIFTY26DECFUT`)
  await confirm.locator("[data-confirm]").click()
  return outcome(page)
}

describe.skipIf(chromiumMissing !== null)(
  `the operator dashboard in Chromium${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ""}`,
  { timeout: 180_000 },
  () => {
    const engines: Array<Engine> = []
    afterAll(() => {
      for (const e of engines) if (e.process.exitCode === null) e.process.kill("SIGKILL")
    })

    it("signs in, places an order that fills, closes its trade with realised P&L, exits all, and refuses entries under forced unwind", async () => {
      const e = await startEngine({ config: { risk: { maxDailyLoss: 1e12 } } })
      engines.push(e)
      const browser = await launchChromium({ width: 1440, height: 900 })
      try {
        const page = await browser.context.newPage()
        const errors: Array<string> = []
        page.on("pageerror", (err) => errors.push(err.message))

        // Nothing but the sign-in form without the token.
        await page.goto(`${e.base}/`)
        await page.locator("form[action='/login']").waitFor()
        expect(await page.locator("header.bar").count()).toBe(0)
        await shot(page, "dashboard-signin.png")
        await page.locator("input[name=token]").fill("wrong-token-123")
        await page.locator("button[type=submit]").click()
        await expect.poll(() => page.locator("[role=alert]").textContent(), slow).toContain("not the engine's token")
        await page.locator("input[name=token]").fill(e.token)
        await page.locator("button[type=submit]").click()
        await page.locator("header.bar").waitFor()
        await expect.poll(() => page.locator("#live").textContent(), slow).toContain("connected")

        // An order through the form fills against the paper broker; the order book shows it live.
        const placed = await placeOrder(page)
        expect(placed).toContain("Order accepted")
        const orderId = /ord_[A-Za-z0-9_]+/.exec(placed)![0]
        const tradeId = /trd_[A-Za-z0-9_]+/.exec(placed)![0]
        await page.goto(`${e.base}/#/orders`)
        const row = page.locator(`#engine-orders tr[data-order="${orderId}"]`)
        await expect.poll(() => row.locator(".pill").nth(1).textContent(), { timeout: 15_000 }).toBe("EXECUTED")
        expect(await page.locator(`#broker-orders a[href$="${orderId}"]`).count()).toBe(1)
        expect(await page.locator('[data-stat="Executed"] .value').textContent()).toBe("1")
        expect(await row.locator(`a[href="/audit/#/actor/${orderId}"]`).count()).toBe(1)
        await shot(page, "dashboard-orders.png")

        // The trade is open with its live P&L; "close" exits it, and it shows closed with its realised P&L.
        await page.locator("header.bar nav a[href='#/trades']").click()
        const open = page.locator(`#open-trades tr[data-trade="${tradeId}"]`)
        await open.waitFor({ timeout: 15_000 })
        expect(await open.locator("td.pnl").textContent()).toMatch(/₹/)
        await open.locator("button[data-action=close]").click()
        await page.locator("dialog[open] [data-confirm]").click()
        expect(await outcome(page)).toContain("Exit placed")
        const closed = page.locator(`#closed-trades tr[data-trade="${tradeId}"]`)
        await closed.waitFor({ timeout: 15_000 })
        expect(await closed.textContent()).toContain("MANUAL")
        expect(await closed.locator("td.realised").textContent()).toMatch(/₹\d/)
        await shot(page, "dashboard-trades.png")

        // Exit all: a second trade is exited through the broker-truth exit.
        const second = await placeOrder(page, "SELL")
        const secondTrade = /trd_[A-Za-z0-9_]+/.exec(second)![0]
        await page.locator(`#open-trades tr[data-trade="${secondTrade}"]`).waitFor({ timeout: 15_000 })
        await page.locator("#exit-all").click()
        await page.locator("dialog[open] select[name=product]").selectOption("MIS")
        await page.locator("dialog[open] [data-confirm]").click()
        const exited = await outcome(page)
        expect(exited).toContain("1 exit placed")
        expect(exited).toContain("NIFTY26DECFUT")
        await page.locator(`#closed-trades tr[data-trade="${secondTrade}"]`).waitFor({ timeout: 15_000 })

        // Forced unwind on: an entry is refused by risk, with its reason; then off again.
        await page.locator("header.bar nav a[href='#/risk']").click()
        const account = page.locator('.risk-account[data-account="PAPER1"]')
        await account.locator("button[data-action=unwind-on]").click()
        await page.locator("dialog[open] [data-confirm]").click()
        expect(await outcome(page)).toContain("Forced unwind ON for PAPER1")
        await expect.poll(() => account.locator(".switch").textContent(), slow).toContain("Forced unwind ON")
        const refused = await placeOrder(page)
        expect(refused).toContain("Order refused by risk")
        expect(refused).toContain("FORCED_UNWIND")
        await expect.poll(() => account.textContent(), slow).toContain("FORCED_UNWIND")
        await shot(page, "dashboard-risk.png")
        await account.locator("button[data-action=unwind-off]").click()
        await page.locator("dialog[open] [data-confirm]").click()
        expect(await outcome(page)).toContain("Forced unwind off for PAPER1")

        // Diagnostics: counts, the failed order with its reason, the checks.
        await page.locator("header.bar nav a[href='#/diagnostics']").click()
        await page.locator("#checks table").waitFor()
        expect(await page.locator("#failed-orders").textContent()).toContain("FORCED_UNWIND")
        expect(await page.locator('#checks tr[data-check="overfilledOrders"]').textContent()).toContain("pass")
        await shot(page, "dashboard-diagnostics.png")
        expect(errors).toEqual([])
      } finally {
        await browser.close()
      }
      e.process.kill("SIGTERM")
      expect(await e.exited).toBe(0)
    })
  },
)

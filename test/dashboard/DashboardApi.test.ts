/**
 * The dashboard's side of the engine process over HTTP: the sign-in (form, cookie, sign-out), the
 * pages hidden without it, the cookie's requests needing the page's header, the read views, and
 * closing one trade through the exit pipeline.
 */
import { afterAll, describe, expect, it } from "vitest"
import { type Engine, eventually, order, startEngine } from "../fixtures/EngineProcess.js"

const stateOf = async (e: Engine, id: string): Promise<string | undefined> => {
  const r = await e.fetch(`/api/v1/actors/${id}`)
  return r.ok ? ((await r.json()) as { state: string }).state : undefined
}

describe("the dashboard over HTTP", { timeout: 120_000 }, () => {
  const engines: Array<Engine> = []
  afterAll(() => {
    for (const e of engines) if (e.process.exitCode === null) e.process.kill("SIGKILL")
  })

  it("shows nothing but the sign-in form without the token, signs in with it, and signs out", async () => {
    const e = await startEngine({ config: { risk: { maxDailyLoss: 1e12 } } })
    engines.push(e)
    const page = await e.fetch("/", { auth: false, headers: { accept: "text/html" } })
    expect(page.status).toBe(401)
    const form = await page.text()
    expect(form).toContain('action="/login"')
    expect(form).not.toContain("New order")
    expect((await e.fetch("/", { auth: false })).status).toBe(401)
    expect((await e.fetch("/dashboard/trades", { auth: false })).status).toBe(401)
    const post = (body: string) =>
      e.fetch("/login", {
        method: "POST",
        auth: false,
        redirect: "manual",
        body,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      })
    const wrong = await post("token=nope&next=%2F")
    expect(wrong.status).toBe(401)
    expect(await wrong.text()).toContain("not the engine&#39;s token")
    expect(wrong.headers.get("set-cookie")).toBeNull()
    const right = await post(`token=${e.token}&next=%2F%23%2Ftrades`)
    expect(right.status).toBe(303)
    expect(right.headers.get("location")).toBe("/#/trades")
    const cookie = right.headers.get("set-cookie")!
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const jar = cookie.split(";")[0]!
    // Only paths on this server are followed after a sign-in.
    expect((await post(`token=${e.token}&next=https%3A%2F%2Fevil.example`)).headers.get("location")).toBe("/")
    expect((await post(`token=${e.token}&next=%2F%2Fevil.example`)).headers.get("location")).toBe("/")
    const signedIn = await e.fetch("/", { auth: false, headers: { cookie: jar } })
    expect(signedIn.status).toBe(200)
    expect(await signedIn.text()).toContain('id="new-order"')
    expect((await e.fetch("/audit/", { auth: false, headers: { cookie: jar } })).status).toBe(200)
    const out = await e.fetch("/logout", { method: "POST", auth: false, redirect: "manual", headers: { cookie: jar } })
    expect(out.status).toBe(303)
    expect(out.headers.get("set-cookie")).toMatch(/warden_token=;.*Max-Age=0/)
    e.process.kill("SIGTERM")
    expect(await e.exited).toBe(0)
  })

  it("takes the cookie on the API, but a state change signed in by the cookie alone needs the page's header", async () => {
    const e = await startEngine({ config: { risk: { maxDailyLoss: 1e12 } } })
    engines.push(e)
    const cookie = `warden_token=${e.token}`
    const plain = { auth: false, headers: { cookie } } as const
    expect((await e.fetch("/dashboard/meta", plain)).status).toBe(200)
    const forged = await e.fetch("/api/v1/orders", { method: "POST", body: order(), ...plain })
    expect(forged.status).toBe(403)
    expect(await forged.json()).toMatchObject({ code: "FORBIDDEN", field: "x-warden-csrf" })
    const fromPage = await e.fetch("/api/v1/orders", {
      method: "POST",
      body: order({ source: "dashboard" }),
      auth: false,
      headers: { cookie, "x-warden-csrf": "1", "content-type": "application/json" },
    })
    expect(fromPage.status).toBe(202)
    expect(await fromPage.json()).toMatchObject({ status: "ACCEPTED" })
    e.process.kill("SIGTERM")
    expect(await e.exited).toBe(0)
  })

  it("serves trades with live P&L and levels, risk per account, reconciliation and instrument search, and closes one trade through its exit intent", async () => {
    const e = await startEngine({ config: { risk: { maxDailyLoss: 1e12 } } })
    engines.push(e)
    const hits = (await (await e.fetch("/dashboard/instruments?q=nifty")).json()) as Array<{
      symbol: string
      lotSize: number
    }>
    expect(hits.map((h) => h.symbol)).toEqual(["NIFTY26DECFUT", "BANKNIFTY26DECFUT"])
    expect(hits[0]!.lotSize).toBe(65)
    expect(await (await e.fetch("/dashboard/instruments?q=zzz")).json()).toEqual([])
    const placed = (await (
      await e.fetch("/api/v1/orders", {
        method: "POST",
        body: order({ stopLoss: 20_000, target: 40_000, trailing: { distance: 1, unit: "percent" } }),
      })
    ).json()) as { orderId: string; tradeId: string }
    await eventually(async () => ((await stateOf(e, placed.tradeId)) === "OPEN" ? true : undefined), "trade open")
    const trades = (await (await e.fetch("/dashboard/trades")).json()) as {
      open: Array<Record<string, unknown>>
      dayPnl: Array<{ accountId: string; openTrades: number }>
    }
    expect(trades.open[0]).toMatchObject({
      tradeId: placed.tradeId,
      stopLoss: 20_000,
      target: 40_000,
      trailing: { distance: 1, unit: "percent" },
      entryOrderId: placed.orderId,
    })
    expect(typeof trades.open[0]!.trailLevel).toBe("number")
    expect(typeof trades.open[0]!.unrealizedPnl).toBe("number")
    expect(trades.dayPnl).toContainEqual(expect.objectContaining({ accountId: "PAPER1", openTrades: 1 }))
    const risk = (await (await e.fetch("/dashboard/risk")).json()) as {
      enforcer: { intervalMs: number }
      accounts: Array<Record<string, unknown>>
    }
    expect(risk.accounts[0]).toMatchObject({
      accountId: "PAPER1",
      state: "ACTIVE",
      forcedUnwind: false,
      openPositions: 1,
    })
    expect(risk.enforcer.intervalMs).toBeGreaterThan(0)
    expect(await (await e.fetch("/dashboard/reconciliation")).json()).toMatchObject({ open: [] })

    expect((await e.fetch("/api/v1/trades/trd_nope/close", { method: "POST", body: "{}" })).status).toBe(404)
    const closed = await e.fetch(`/api/v1/trades/${placed.tradeId}/close`, {
      method: "POST",
      body: JSON.stringify({ source: "dashboard" }),
    })
    expect(closed.status).toBe(202)
    const result = (await closed.json()) as { intentId: string; orderId: string }
    expect(result.intentId).toMatch(/^exi_/)
    await eventually(async () => ((await stateOf(e, placed.tradeId)) === "CLOSED" ? true : undefined), "trade closed")
    const again = await e.fetch(`/api/v1/trades/${placed.tradeId}/close`, { method: "POST", body: "{}" })
    expect(again.status).toBe(422)
    expect(await again.json()).toMatchObject({ code: "TRADE_NOT_OPEN", field: "id" })
    const after = (await (await e.fetch("/dashboard/trades")).json()) as { closed: Array<Record<string, unknown>> }
    expect(after.closed[0]).toMatchObject({
      tradeId: placed.tradeId,
      exitReason: "MANUAL",
      intentIds: [result.intentId],
    })
    expect(typeof after.closed[0]!.realizedPnl).toBe("number")
    const spaced = await e.fetch(`/api/v1/trades/${placed.tradeId}/close`, {
      method: "POST",
      body: JSON.stringify({ reason: "by hand" }),
    })
    expect(spaced.status).toBe(400)
    expect(JSON.stringify(await spaced.json())).toContain("exit reason code")
    const bad = await e.fetch(`/api/v1/trades/${placed.tradeId}/close`, {
      method: "POST",
      body: JSON.stringify({ reason: "" }),
    })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain("reason")
    e.process.kill("SIGTERM")
    expect(await e.exited).toBe(0)
  })
})

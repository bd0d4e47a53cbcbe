import { join } from "node:path"
import Sqlite from "better-sqlite3"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import { type Engine, eventually, order, startEngine } from "../fixtures/EngineProcess.js"

/** An account with room for the load test's 40 lots: capital and every limit raised (the simulated market moves meanwhile). */
const rich = {
  accounts: [{ id: "PAPER1", capital: 1_000_000_000 }],
  risk: { maxNotionalPerPosition: 1e12, maxQtyPerPosition: 1e9, maxDailyLoss: 1e12 },
}

const stateOf = async (e: Engine, id: string): Promise<string | undefined> => {
  const r = await e.fetch(`/api/v1/actors/${id}`)
  return r.ok ? ((await r.json()) as { state: string }).state : undefined
}

const counts = (db: string) => {
  const d = new Sqlite(db, { readonly: true })
  try {
    return d
      .prepare(
        "SELECT (SELECT COUNT(*) FROM orders) AS orders, (SELECT COUNT(*) FROM journal) AS journal, (SELECT COUNT(*) FROM commands) AS commands",
      )
      .get() as { orders: number; journal: number; commands: number }
  } finally {
    d.close()
  }
}

describe("the engine process over HTTP", { timeout: 180_000 }, () => {
  const engines: Array<Engine> = []
  afterAll(() => {
    for (const e of engines) if (e.process.exitCode === null) e.process.kill("SIGKILL")
  })

  it("serves health, readiness, metrics and the OpenAPI document, and refuses a request without the token", async () => {
    const e = await startEngine()
    engines.push(e)
    expect(await (await e.fetch("/healthz", { auth: false })).json()).toEqual({ status: "ok" })
    const ready = await e.fetch("/readyz", { auth: false })
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      migrated: true,
      rehydrated: true,
      brokers: [{ account: "PAPER1", ok: true }],
    })
    const metrics = await (await e.fetch("/metrics", { auth: false })).text()
    expect(metrics).toContain("# TYPE")
    const openapi = (await (await e.fetch("/api/openapi.json", { auth: false })).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(["/api/v1/orders", "/api/v1/exits", "/api/v1/users/{id}/forced_unwind"]),
    )
    const denied = await e.fetch("/api/v1/trades", { auth: false })
    expect(denied.status).toBe(401)
    expect(await denied.json()).toMatchObject({ code: "UNAUTHORIZED" })
    expect((await e.fetch("/audit/", { auth: false })).status).toBe(401)
    const login = await e.fetch(`/login?token=${e.token}`, { auth: false, redirect: "manual" })
    expect(login.status).toBe(303)
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!
    expect(cookie).toBe(`warden_token=${e.token}`)
    const page = await e.fetch("/audit/", { auth: false, headers: { cookie } })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain("<html")
    e.process.kill("SIGTERM")
    expect(await e.exited).toBe(0)
  })

  it("takes an order, streams its transitions over /ws after commit, answers a replayed command id with the first outcome, and stops on SIGTERM with nothing lost", async () => {
    const e = await startEngine()
    engines.push(e)
    const refused = new WebSocket(`ws://127.0.0.1:${e.port}/ws?type=order`)
    await new Promise((r) => refused.once("error", r))
    const ws = new WebSocket(`ws://127.0.0.1:${e.port}/ws?type=order&token=${e.token}`)
    const streamed: Array<{ actorId: string; seq: number; to: string }> = []
    ws.on("message", (m) => streamed.push(JSON.parse(String(m))))
    await new Promise((r) => ws.once("open", r))
    const first = await e.fetch("/api/v1/orders", { method: "POST", body: order({ commandId: "cmd-1" }) })
    expect(first.status).toBe(202)
    const outcome = (await first.json()) as { orderId: string; status: string; duplicate: boolean }
    expect(outcome).toMatchObject({ status: "ACCEPTED", duplicate: false })
    await eventually(
      async () => ((await stateOf(e, outcome.orderId)) === "EXECUTED" ? true : undefined),
      "order executed",
    )
    const again = (await (
      await e.fetch("/api/v1/orders", { method: "POST", body: order({ commandId: "cmd-1" }) })
    ).json()) as { orderId: string; duplicate: boolean }
    expect(again).toMatchObject({ orderId: outcome.orderId, duplicate: true })
    await eventually(
      async () => (streamed.some((t) => t.actorId === outcome.orderId && t.to === "EXECUTED") ? true : undefined),
      "EXECUTED streamed",
    )
    ws.close()
    e.process.kill("SIGTERM")
    expect(await e.exited).toBe(0)
    const d = new Sqlite(e.db, { readonly: true })
    const journal = d.prepare("SELECT seq, to_state FROM journal WHERE actor_id = ?").all(outcome.orderId) as Array<{
      seq: number
      to_state: string
    }>
    d.close()
    for (const t of streamed.filter((s) => s.actorId === outcome.orderId))
      expect(journal).toContainEqual({ seq: t.seq, to_state: t.to })
    const restarted = await startEngine({ dir: e.dir })
    engines.push(restarted)
    expect(await stateOf(restarted, outcome.orderId)).toBe("EXECUTED")
    restarted.process.kill("SIGTERM")
    expect(await restarted.exited).toBe(0)
  })

  it("refuses bad input with a 4xx naming the field and writes nothing: malformed JSON, wrong types, unknown symbols, off-lot quantities, wrong secrets, huge bodies, and thousands of generated payloads", async () => {
    const e = await startEngine()
    engines.push(e)
    const before = counts(e.db)
    const wrongType = await e.fetch("/api/v1/orders", { method: "POST", body: order({ qty: "abc" }) })
    expect(wrongType.status).toBe(400)
    expect(JSON.stringify(await wrongType.json())).toContain("qty")
    const unknown = await e.fetch("/api/v1/orders", { method: "POST", body: order({ symbol: "NOPE" }) })
    expect(unknown.status).toBe(422)
    expect(await unknown.json()).toMatchObject({ field: "symbol" })
    const offLot = await e.fetch("/api/v1/orders", { method: "POST", body: order({ qty: 64 }) })
    expect(await offLot.json()).toMatchObject({ field: "qty" })
    const malformed = await e.fetch("/api/v1/orders", { method: "POST", body: "{not json" })
    expect(malformed.status).toBe(400)
    const huge = await e.fetch("/api/v1/orders", { method: "POST", body: order({ pad: "x".repeat(2_000_000) }) })
    expect(huge.status).toBeGreaterThanOrEqual(400)
    expect(huge.status).toBeLessThan(500)
    const badSecret = await e.fetch("/webhook/tradingview", {
      method: "POST",
      body: "BUY NIFTY26DECFUT 65 MIS secret=wrong",
      auth: false,
      headers: { "content-type": "text/plain" },
    })
    expect(badSecret.status).toBe(401)
    const anything = fc.oneof(
      fc.json(),
      fc.string(),
      fc.object().map((o) => JSON.stringify(o)),
      fc
        .record({
          accountId: fc.string(),
          symbol: fc.string(),
          exchange: fc.string(),
          side: fc.string(),
          qty: fc.oneof(fc.integer(), fc.double(), fc.string()),
          product: fc.string(),
        })
        .map((o) => JSON.stringify(o)),
    )
    const samples = fc.sample(anything, 2_000)
    const statuses = new Map<number, number>()
    let next = 0
    const worker = async () => {
      for (let i = next++; i < samples.length; i = next++) {
        const path = i % 2 === 0 ? "/api/v1/orders" : "/webhook/tradingview"
        const r = await e.fetch(path, { method: "POST", body: samples[i]!, auth: path !== "/webhook/tradingview" })
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        await r.arrayBuffer()
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    expect(
      [...statuses.keys()].filter((s) => s >= 500),
      JSON.stringify([...statuses]),
    ).toEqual([])
    expect(counts(e.db)).toEqual(before)
    e.process.kill("SIGTERM")
    expect(await e.exited).toBe(0)
  })

  it("killed with SIGKILL under load, restarts with every committed step and no order sent twice", async () => {
    const e = await startEngine({ config: rich })
    engines.push(e)
    const sent = Array.from({ length: 40 }, (_, i) =>
      e.fetch("/api/v1/orders", { method: "POST", body: order({ commandId: `load-${i}` }) }).then(
        (r) => r.status,
        () => 0,
      ),
    )
    // Kill it mid-load: once some commands are in, before all are.
    await eventually(async () => (counts(e.db).commands >= 5 ? true : undefined), "commands arriving")
    e.process.kill("SIGKILL")
    await Promise.all(sent)
    expect(await e.exited).toBe(null)
    const restarted = await startEngine({
      dir: e.dir,
      config: rich,
    })
    engines.push(restarted)
    // Every command accepted before the kill is answered again, once, with its order.
    for (let i = 0; i < 40; i++) {
      const r = (await (
        await restarted.fetch("/api/v1/orders", { method: "POST", body: order({ commandId: `load-${i}` }) })
      ).json()) as { orderId: string }
      await eventually(
        async () => ((await stateOf(restarted, r.orderId)) === "EXECUTED" ? true : undefined),
        `load-${i} executed`,
      )
    }
    restarted.process.kill("SIGTERM")
    expect(await restarted.exited).toBe(0)
    const d = new Sqlite(join(e.dir, "warden.db"), { readonly: true })
    expect(d.prepare("SELECT COUNT(*) AS n FROM paper_orders").get()).toEqual({ n: 40 })
    expect(d.prepare("SELECT COUNT(*) AS n FROM orders WHERE status = 'EXECUTED'").get()).toEqual({ n: 40 })
    d.close()
  })
})

/**
 * Alerts and the lifecycle log of the real engine process (`warden run`): a JSON webhook and a
 * Telegram channel, both on a local receiver; the webhook's first attempt fails and is retried.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { type Engine, eventually, order, startEngine } from "../fixtures/EngineProcess.js"
import { type Receiver, startReceiver } from "./alertReceiver.js"

describe("alerts and the lifecycle log of the engine process", { timeout: 120_000 }, () => {
  const engines: Array<Engine> = []
  const receivers: Array<Receiver> = []
  afterAll(async () => {
    for (const e of engines) if (e.process.exitCode === null) e.process.kill("SIGKILL")
    for (const r of receivers) await r.close()
  })

  it("sends fills, forced unwinds, enforcer interventions and rejections after commit, retrying a failed first attempt without a duplicate, and logs one JSON line per lifecycle event", async () => {
    let hookCalls = 0
    const receiver = await startReceiver((path) => (path === "/hook" && hookCalls++ === 0 ? 500 : 200))
    receivers.push(receiver)
    const e = await startEngine({
      config: {
        risk: { maxDailyLoss: 1e12 },
        alerts: {
          channels: [
            { type: "webhook", url: `${receiver.url}/hook`, headers: { "x-api-key": "k1" } },
            { type: "telegram", chatId: 42, botToken: "123:abc", baseUrl: receiver.url },
          ],
          retryBaseMs: 50,
          pollMs: 100,
        },
        lifecycleLog: "logs/lifecycle.jsonl",
      },
    })
    engines.push(e)
    const placed = (await (await e.fetch("/api/v1/orders", { method: "POST", body: order() })).json()) as {
      orderId: string
      tradeId: string
    }
    const hook = () => receiver.received.filter((r) => r.path === "/hook")
    const delivered = (kind: string) => hook().filter((r) => r.status === 200 && r.body.kind === kind)
    const fill = await eventually(async () => delivered("fill")[0], "fill alert delivered", 400)
    expect(fill.body).toMatchObject({ accountId: "PAPER1", actorId: placed.orderId, data: { symbol: "NIFTY26DECFUT" } })
    expect(fill.headers["x-api-key"]).toBe("k1")
    expect(fill.headers["idempotency-key"]).toBe(fill.body.id)
    // The first attempt failed (500) and the same alert came again.
    expect(hook()[0]).toMatchObject({ status: 500 })
    expect(hook()[1]!.body.id).toBe(hook()[0]!.body.id)
    const tg = await eventually(
      async () =>
        receiver.received.find((r) => r.path === "/bot123:abc/sendMessage" && String(r.body.text).includes("Fill")),
      "telegram message",
      400,
    )
    expect(tg.body).toMatchObject({ chat_id: 42 })

    const on = await e.fetch("/api/v1/users/PAPER1/forced_unwind", {
      method: "POST",
      body: JSON.stringify({ reason: "test" }),
    })
    expect(on.status).toBe(200)
    await eventually(async () => delivered("forced_unwind")[0], "forced unwind alert", 400)
    const intervention = await eventually(
      async () => delivered("enforcer_intervention")[0],
      "enforcer intervention alert",
      400,
    )
    expect(intervention.body).toMatchObject({ accountId: "PAPER1", data: { kind: "FORCED_UNWIND", action: "exit" } })
    const refused = (await (await e.fetch("/api/v1/orders", { method: "POST", body: order() })).json()) as {
      status: string
      reason: string
    }
    expect(refused.status).toBe("REFUSED")
    const rejection = await eventually(async () => delivered("rejection")[0], "rejection alert", 400)
    expect(rejection.body).toMatchObject({ data: { by: "risk" } })
    expect(String(rejection.body.text)).toContain("FORCED_UNWIND")

    // Each alert id was accepted once, and nothing was sent again after it was accepted.
    const accepted = hook()
      .filter((r) => r.status === 200)
      .map((r) => String(r.body.id))
    expect(new Set(accepted).size).toBe(accepted.length)
    const meta = (await (await e.fetch("/dashboard/meta")).json()) as { alerts: { sent: number; retried: number } }
    expect(meta.alerts.retried).toBeGreaterThanOrEqual(1)

    const log = join(e.dir, "logs/lifecycle.jsonl")
    const lines = await eventually(async () => {
      const parsed = readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string; actorId: string })
      return parsed.some((l) => l.event === "trade_closed") && parsed.some((l) => l.event === "order_failed")
        ? parsed
        : undefined
    }, "lifecycle lines")
    const events = lines.map((l) => l.event)
    expect(events).toEqual(
      expect.arrayContaining(["order_sent", "order_executed", "intent_created", "trade_closed", "order_failed"]),
    )
    expect(lines.find((l) => l.event === "trade_closed")).toMatchObject({
      actorId: placed.tradeId,
      exitReason: "FORCED_UNWIND",
    })
    e.process.kill("SIGTERM")
    expect(await e.exited).toBe(0)
  })
})

import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { AlertsConfigSchema, type ResolvedChannel, resolveChannels } from "../../src/alerts/AlertConfig.js"
import { requestOf } from "../../src/alerts/AlertChannels.js"
import { type AlertEvent, alertOfIntervention, alertOfTransition, mayAlert } from "../../src/alerts/AlertEvents.js"
import { make, retryDelayMs } from "../../src/alerts/Alerts.js"
import { lifecycleEventOf, lifecycleLine } from "../../src/alerts/LifecycleLog.js"
import type { Transition } from "../../src/runtime/ActorRuntime.js"
import { testPaperEngine } from "../fixtures/TestEngine.js"
import { type Receiver, startReceiver } from "./alertReceiver.js"

const transition = (over: Partial<Transition>): Transition => ({
  journalId: 1,
  actorId: "ord_1",
  actorType: "order",
  seq: 3,
  eventType: "broker.filled",
  event: JSON.stringify({ type: "broker.filled", fillId: "F1", qty: 65, price: 26150, at: 1 }),
  from: "SENT_TO_BROKER.working",
  to: "EXECUTED",
  at: 1_000,
  cause: null,
  refused: null,
  committedAt: 0,
  ...over,
})

const orderContext = {
  accountId: "PAPER1",
  symbol: "NIFTY26DECFUT",
  side: "BUY",
  qty: 65,
  filledQty: 65,
  avgPrice: 26150,
}

const event = (id: string): AlertEvent => ({
  id,
  kind: "fill",
  at: 1,
  accountId: "PAPER1",
  actorId: null,
  text: `test ${id}`,
  data: {},
})

const config = (over: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(AlertsConfigSchema)({ retryBaseMs: 10, retryDelayMsMax: 50, timeoutMs: 2_000, ...over })

const webhook = (url: string): ResolvedChannel => ({ name: "webhook test", type: "webhook", url, headers: {} })

describe("alert events", () => {
  it("a fill, a rejection by risk, a halt and a forced unwind each make one alert named after their journal row", () => {
    const fill = alertOfTransition(transition({}), orderContext)
    expect(fill).toMatchObject({ id: "ord_1#3", kind: "fill", accountId: "PAPER1" })
    expect(fill!.text).toContain("BUY 65 NIFTY26DECFUT")
    const denied = alertOfTransition(
      transition({
        eventType: "risk.denied",
        event: JSON.stringify({ type: "risk.denied", reason: "FORCED_UNWIND: on" }),
        from: "CREATED",
        to: "FAILED",
      }),
      orderContext,
    )
    expect(denied).toMatchObject({ kind: "rejection", data: { by: "risk", reason: "FORCED_UNWIND: on" } })
    const halt = alertOfTransition(
      transition({
        actorId: "PAPER1",
        actorType: "account",
        eventType: "risk.halt",
        event: JSON.stringify({ type: "risk.halt", reason: "DAILY_LOSS" }),
        from: "ACTIVE",
        to: "HALTED",
      }),
      {},
    )
    expect(halt).toMatchObject({ kind: "risk_halt", accountId: "PAPER1" })
    const unwind = alertOfTransition(
      transition({ actorId: "PAPER1", actorType: "account", eventType: "unwind.on", from: "ACTIVE", to: "ACTIVE" }),
      {},
    )
    expect(unwind).toMatchObject({ kind: "forced_unwind", data: { on: true } })
  })

  it("refused transitions, ticks and acknowledgements make no alert", () => {
    expect(mayAlert(transition({ refused: "duplicate fill" }))).toBe(false)
    expect(mayAlert(transition({ actorType: "trade", eventType: "tick.price", to: "OPEN" }))).toBe(false)
    expect(mayAlert(transition({ eventType: "broker.accepted", to: "SENT_TO_BROKER.working" }))).toBe(false)
  })

  it("an enforcer intervention is an alert named after its row", () => {
    const a = alertOfIntervention({
      intervention_id: 7,
      account_id: "PAPER1",
      kind: "FORCED_UNWIND",
      action: "exit",
      detail: "placed SELL 65",
      orders: 1,
      at: 5,
    })
    expect(a).toMatchObject({ id: "intervention:7", kind: "enforcer_intervention", accountId: "PAPER1" })
  })

  it("a webhook gets the alert as JSON with its id as the idempotency key; Telegram gets chat_id and text", () => {
    const e = event("ord_1#3")
    const hook = requestOf(webhook("http://x"), e)
    expect(hook.headers["idempotency-key"]).toBe("ord_1#3")
    expect(JSON.parse(hook.body)).toMatchObject({ id: "ord_1#3", kind: "fill", source: "warden" })
    const [tg] = resolveChannels(config({ channels: [{ type: "telegram", chatId: 42, baseUrl: "http://tg/" }] }), {
      WARDEN_TELEGRAM_TOKEN: "1:abc",
    })
    expect(tg!.url).toBe("http://tg/bot1:abc/sendMessage")
    expect(tg!.name).not.toContain("abc")
    expect(JSON.parse(requestOf(tg!, e).body)).toEqual({
      chat_id: 42,
      text: "Warden: test ord_1#3",
      disable_web_page_preview: true,
    })
  })

  it("retry delays grow, stay under the bound, and follow the receiver's retry_after", () => {
    const c = config({ retryBaseMs: 100, retryDelayMsMax: 1_000 })
    expect(retryDelayMs(c, 0, 1, null)).toBe(100)
    expect(retryDelayMs(c, 2, 1, null)).toBe(400)
    expect(retryDelayMs(c, 10, 1, null)).toBe(1_000)
    expect(retryDelayMs(c, 0, 0, 700)).toBe(700)
  })
})

describe("the lifecycle log's events", () => {
  it("names intent created, order sent, executed, failed and trade closed, and nothing else", () => {
    const cases: ReadonlyArray<[Partial<Transition>, string | null]> = [
      [{ actorType: "exitIntent", from: null, to: "PENDING" }, "intent_created"],
      [{ from: "CREATED", to: "SENT_TO_BROKER.awaitingAck", eventType: "cmd.place" }, "order_sent"],
      [{ from: "SENT_TO_BROKER.working", to: "EXECUTED" }, "order_executed"],
      [{ from: "CREATED", to: "FAILED", eventType: "risk.denied" }, "order_failed"],
      [{ actorType: "trade", from: "EXITING", to: "CLOSED", eventType: "exit.filled" }, "trade_closed"],
      [{ from: "SENT_TO_BROKER.awaitingAck", to: "SENT_TO_BROKER.working", eventType: "broker.accepted" }, null],
      [{ actorType: "trade", from: "OPEN", to: "OPEN", eventType: "tick.price" }, null],
      [{ from: "CREATED", to: "FAILED", refused: "no" }, null],
    ]
    for (const [over, name] of cases) expect(lifecycleEventOf(transition(over))).toBe(name)
    const line = JSON.parse(lifecycleLine("order_executed", transition({}), { ...orderContext, secret: "x" }))
    expect(line).toMatchObject({ event: "order_executed", actorId: "ord_1", symbol: "NIFTY26DECFUT", avgPrice: 26150 })
    expect(line.secret).toBeUndefined()
  })
})

describe("the alerts service", { timeout: 30_000 }, () => {
  let receiver: Receiver | null = null
  afterEach(async () => {
    await receiver?.close()
    receiver = null
  })

  const run = <A>(program: Effect.Effect<A, never, never>) => Effect.runPromise(program)
  const withAlerts = <A>(
    c: ReturnType<typeof config>,
    channels: ReadonlyArray<ResolvedChannel>,
    body: (alerts: Effect.Effect.Success<ReturnType<typeof make>>) => Effect.Effect<A>,
  ) =>
    run(
      Effect.scoped(Effect.flatMap(make(c, channels), body)).pipe(
        Effect.provide(testPaperEngine().layer),
      ) as Effect.Effect<A>,
    )

  const until = (check: () => boolean) =>
    Effect.gen(function* () {
      for (let i = 0; i < 400 && !check(); i++) yield* Effect.sleep("10 millis")
      expect(check()).toBe(true)
    })

  it("retries a failed first attempt with backoff, delivers once, and never sends an id twice", async () => {
    receiver = await startReceiver((_path, _body, index) => (index === 0 ? 500 : 200))
    const r = receiver
    const stats = await withAlerts(config(), [webhook(`${r.url}/hook`)], (alerts) =>
      Effect.gen(function* () {
        expect(yield* alerts.offer(event("a#1"))).toBe(true)
        expect(yield* alerts.offer(event("a#1"))).toBe(false)
        yield* alerts.offer(event("a#2"))
        yield* until(() => r.received.filter((x) => x.status === 200).length === 2)
        yield* Effect.sleep("100 millis")
        return yield* alerts.stats
      }),
    )
    expect(r.received.map((x) => [x.body.id, x.status])).toEqual([
      ["a#1", 500],
      ["a#1", 200],
      ["a#2", 200],
    ])
    expect(stats).toMatchObject({ sent: 2, retried: 1, failed: 0, duplicates: 1, dropped: 0 })
  })

  it("alerts a reconciliation difference opened after the start, once, and not one already open at the start", async () => {
    receiver = await startReceiver()
    const r = receiver
    const insert = (subject: string) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.orDie(sql`INSERT INTO reconciliation_issues (account_id, kind, subject, detail, engine_value, broker_value, first_seen_at, last_seen_at)
          VALUES ('PAPER1', 'position', ${subject}, 'engine 65, broker 0', 65, 0, 1, 1)`),
      )
    const engine = testPaperEngine()
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* insert("OLD|NFO|MIS")
          const alerts = yield* make(config({ pollMs: 20 }), [webhook(`${r.url}/hook`)])
          yield* insert("NIFTY26DECFUT|NFO|MIS")
          yield* until(() => r.received.length === 1)
          yield* Effect.sleep("150 millis")
          expect(yield* alerts.stats).toMatchObject({ sent: 1 })
        }),
      ).pipe(Effect.provide(engine.layer)),
    )
    expect(r.received).toHaveLength(1)
    expect(r.received[0]!.body).toMatchObject({
      kind: "reconciliation",
      accountId: "PAPER1",
      data: { subject: "NIFTY26DECFUT|NFO|MIS", engineValue: 65, brokerValue: 0 },
    })
  })

  it("gives up on a definitive refusal (4xx) without retrying", async () => {
    receiver = await startReceiver(() => 400)
    const r = receiver
    const stats = await withAlerts(config(), [webhook(`${r.url}/hook`)], (alerts) =>
      Effect.gen(function* () {
        yield* alerts.offer(event("b#1"))
        yield* until(() => r.received.length === 1)
        yield* Effect.sleep("100 millis")
        return yield* alerts.stats
      }),
    )
    expect(r.received).toHaveLength(1)
    expect(stats).toMatchObject({ sent: 0, retried: 0, failed: 1 })
  })

  it("drops and counts alerts beyond a full queue instead of waiting, while the receiver hangs", async () => {
    let release: () => void = () => {}
    const hung = new Promise<void>((resolve) => {
      release = resolve
    })
    const { createServer } = await import("node:http")
    const server = createServer((_req, res) => {
      void hung.then(() => res.end("{}"))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as { port: number }).port
    try {
      const stats = await withAlerts(config({ queueMax: 2 }), [webhook(`http://127.0.0.1:${port}/`)], (alerts) =>
        Effect.gen(function* () {
          for (let i = 0; i < 10; i++) yield* alerts.offer(event(`c#${i}`))
          return yield* alerts.stats
        }),
      )
      // One is being delivered (hanging), two wait, the rest are dropped: the offers never waited.
      expect(stats.dropped).toBeGreaterThanOrEqual(7)
      expect(stats.dropped + stats.queued).toBeLessThanOrEqual(10)
    } finally {
      release()
      server.closeAllConnections()
      server.close()
    }
  })
})

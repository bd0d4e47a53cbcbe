import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Brokers } from "../../src/broker/Brokers.js"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { TickHub } from "../../src/market/TickHub.js"
import { Reconciler } from "../../src/orders/Reconciler.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { orderInput, testPaperEngine } from "../fixtures/TestEngine.js"

/** The engine with the watcher's polling out of the way, so what reconciliation does is visible. */
const engine = () =>
  testPaperEngine({ watcher: { pollIntervalMs: 3_600_000, fastPollIntervalMs: 3_600_000, quietStreamMs: 3_600_000 } })
const tick = (ltp: number) =>
  Effect.flatMap(TickHub, (hub) => hub.publish({ symbol: "NIFTY26MARFUT", exchange: "NFO", ltp, at: Date.now() }))
const sql = <A extends object>(q: (s: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>) =>
  Effect.orDie(Effect.flatMap(SqlClient.SqlClient, q))

describe("reconciliation", () => {
  it.live("adopts an order placed outside the engine and shows it, without a position difference", () =>
    Effect.gen(function* () {
      yield* tick(22000)
      const broker = yield* Effect.flatMap(Brokers, (b) => b.forAccount("U1"))
      yield* broker.place({
        clientTag: "manual-1",
        accountId: "U1",
        symbol: "NIFTY26MARFUT",
        exchange: "NFO",
        side: "BUY",
        qty: 65,
        product: "MIS",
        orderType: "MARKET",
        price: null,
        triggerPrice: null,
      })
      const report = yield* Effect.flatMap(Reconciler, (r) => r.reconcile)
      expect(report.externalOrders).toBe(1)
      expect(report.openIssues).toEqual([])
      const rows = yield* sql(
        (s) =>
          s<{
            client_tag: string
            status: string
            filled_qty: number
          }>`SELECT client_tag, status, filled_qty FROM external_orders`,
      )
      expect(rows).toEqual([{ client_tag: "manual-1", status: "FILLED", filled_qty: 65 }])
    }).pipe(Effect.provide(engine().layer)),
  )

  it.live("applies a fill the update stream missed", () =>
    Effect.gen(function* () {
      const rt = yield* ActorRuntime
      const paper = yield* PaperAccounts
      yield* tick(22000)
      yield* paper.accounts.get("U1")!.setConnected(false)
      yield* rt.spawn("order", "o1", orderInput("o1"))
      yield* rt.send("o1", { type: "cmd.place" })
      yield* rt.awaitIdle
      expect(Option.getOrThrow(yield* rt.view("o1")).state).toBe("SENT_TO_BROKER.working")
      const report = yield* Effect.flatMap(Reconciler, (r) => r.reconcile)
      expect(report.openIssues).toEqual([])
      expect(Option.getOrThrow(yield* rt.view("o1")).state).toBe("EXECUTED")
      const causes = yield* sql(
        (s) => s<{ cause: string }>`SELECT cause FROM journal WHERE event_type = 'broker.filled'`,
      )
      expect(causes.map((c) => c.cause.split(":")[1])).toEqual(["reconcile"])
    }).pipe(Effect.provide(engine().layer)),
  )

  it.live("records a difference nothing explains, and resolves it when it goes away", () =>
    Effect.gen(function* () {
      const rt = yield* ActorRuntime
      yield* tick(22000)
      yield* rt.spawn("order", "o1", orderInput("o1"))
      yield* rt.send("o1", { type: "cmd.place" })
      yield* rt.awaitIdle
      // The engine's books lose a fill the broker has: a difference nothing explains.
      const s = yield* SqlClient.SqlClient
      yield* s`UPDATE orders SET filled_qty = 0 WHERE order_id = 'o1'`.pipe(Effect.orDie)
      const first = yield* Effect.flatMap(Reconciler, (r) => r.reconcile)
      expect(first.openIssues).toEqual([
        {
          accountId: "U1",
          kind: "position",
          subject: "NIFTY26MARFUT|MIS",
          detail: "net quantity: engine 0, broker 65",
        },
      ])
      yield* s`UPDATE orders SET filled_qty = 65 WHERE order_id = 'o1'`.pipe(Effect.orDie)
      const second = yield* Effect.flatMap(Reconciler, (r) => r.reconcile)
      expect(second.openIssues).toEqual([])
      const rows = yield* sql(
        (q) =>
          q<{
            kind: string
            resolved: number
          }>`SELECT kind, resolved_at IS NOT NULL AS resolved FROM reconciliation_issues`,
      )
      expect(rows).toEqual([{ kind: "position", resolved: 1 }])
    }).pipe(Effect.provide(engine().layer)),
  )
})

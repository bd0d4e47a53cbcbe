/**
 * A database for the audit tests, made by driving the real engine (paper broker, exit pipeline,
 * trade manager): a trade entered and closed at its target (entry command → order → fill → trade;
 * tick → signal → intent → order → fill → trade), a second trade left open, a refused event, and
 * the machine definitions recorded as the engine records them at start.
 */
import { Effect, Option } from "effect"
import { recordMachineDefinitions } from "../../src/audit/MachineDefinitions.js"
import { TickHub } from "../../src/market/TickHub.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { TradeManager } from "../../src/trades/TradeManager.js"
import { testPaperEngine } from "../fixtures/TestEngine.js"

/** The ids of what the fixture made. */
export interface AuditFixture {
  readonly dbFile: string
  readonly tradeId: string
  readonly entryOrderId: string
  readonly signalId: string
  readonly intentId: string
  readonly exitOrderId: string
  readonly openTradeId: string
}

const symbol = "NIFTY26MARFUT"
const tick = (ltp: number) =>
  Effect.flatMap(TickHub, (hub) => hub.publish({ symbol, exchange: "NFO", ltp, at: Date.now() }))

const until = (id: string, ok: (state: string) => boolean) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    for (let i = 0; i < 1_000; i++) {
      const v = yield* rt.view(id)
      if (Option.isSome(v) && ok(v.value.state)) return v.value
      yield* Effect.sleep("5 millis")
    }
    throw new Error(`${id} never reached the expected state`)
  })

const enter = (target: number) =>
  Effect.flatMap(TradeManager, (tm) =>
    tm.enter({
      accountId: "U1",
      symbol,
      exchange: "NFO",
      product: "MIS",
      side: "BUY",
      qty: 65,
      target,
      stopLoss: 21_800,
    }),
  )

/** Builds the database and closes the engine; the file stays for the tests to audit. */
export const buildAuditDatabase = (): Promise<AuditFixture> => {
  const engine = testPaperEngine()
  const program = Effect.gen(function* () {
    const rt = yield* ActorRuntime
    yield* recordMachineDefinitions
    yield* tick(22_000)
    const first = yield* enter(22_100)
    yield* until(first.tradeId, (s) => s === "OPEN")
    yield* tick(22_050)
    yield* tick(22_120)
    const closed = yield* until(first.tradeId, (s) => s === "CLOSED")
    const intentId = String(closed.context.exitIntentId)
    const intent = yield* until(intentId, (s) => s === "FILLED")
    const exitOrderId = String(intent.context.orderId)
    // An auditor must see refusals too: a cancel sent to an order that already executed.
    yield* rt.send(exitOrderId, { type: "cmd.cancel" }, "api:test-cancel")
    const second = yield* enter(23_000)
    yield* until(second.tradeId, (s) => s === "OPEN")
    yield* rt.awaitIdle
    return {
      dbFile: engine.dbFile,
      tradeId: first.tradeId,
      entryOrderId: first.orderId,
      signalId: String(intent.context.signalId),
      intentId,
      exitOrderId,
      openTradeId: second.tradeId,
    }
  })
  return Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(engine.layer))))
}

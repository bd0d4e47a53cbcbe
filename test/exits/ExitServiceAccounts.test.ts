import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import { ExitService } from "../../src/exits/ExitService.js"
import { TickHub } from "../../src/market/TickHub.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"
import { testInstruments, testPaperEngine } from "../fixtures/TestEngine.js"

const accounts = [
  { accountId: "U1", capital: 1e9, instruments: testInstruments },
  { accountId: "U2", capital: 1e9, instruments: testInstruments },
]

describe("requestExit with an account", () => {
  it.live("exits only that account's positions; the other account's same position is untouched", () =>
    Effect.gen(function* () {
      const hub = yield* TickHub
      const paper = yield* PaperAccounts
      const net = (id: string) =>
        Effect.map(paper.accounts.get(id)!.positions, (ps) => ps.find((p) => p.symbol === "NIFTY26MARFUT")?.netQty ?? 0)
      yield* hub.publish({ symbol: "NIFTY26MARFUT", exchange: "NFO", ltp: 22_000, at: Date.now() })
      for (const id of ["U1", "U2"]) {
        yield* paper.accounts.get(id)!.place({
          clientTag: `seed-${id}`,
          accountId: id,
          symbol: "NIFTY26MARFUT",
          exchange: "NFO",
          side: "BUY",
          qty: 65,
          product: "MIS",
          orderType: "MARKET",
          price: null,
          triggerPrice: null,
        })
      }
      for (let i = 0; i < 200 && ((yield* net("U1")) !== 65 || (yield* net("U2")) !== 65); i++)
        yield* Effect.sleep("10 millis")
      expect([yield* net("U1"), yield* net("U2")]).toEqual([65, 65])
      const result = yield* Effect.flatMap(ExitService, (s) =>
        s.requestExit({ scope: "ALL", product: "ALL", reason: "FORCED_UNWIND", source: "test", accountId: "U1" }),
      )
      expect(result.placed.map((p) => p.accountId)).toEqual(["U1"])
      yield* Effect.flatMap(ActorRuntime, (rt) => rt.awaitIdle)
      for (let i = 0; i < 200 && (yield* net("U1")) !== 0; i++) yield* Effect.sleep("10 millis")
      expect([yield* net("U1"), yield* net("U2")]).toEqual([0, 65])
    }).pipe(Effect.provide(testPaperEngine({ accounts }).layer)),
  )
})

/**
 * `warden run`: the engine on its SQLite file with the paper broker and a simulated market. It
 * runs until SIGINT or SIGTERM: then intake stops, the committer finishes its group, effects in
 * flight are interrupted (their outbox rows stay pending and are looked up by key at the next
 * start) and the process exits 0.
 */
import { Clock, Effect, Layer, Queue } from "effect"
import { engineLayer } from "../main.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { Ids } from "../runtime/Ids.js"
import { runRandomWalk } from "../sim/RandomWalkFeed.js"
import { instrumentsOf, type RunConfig, runConfig } from "./RunConfig.js"

/** Logs every committed transition, one line each. */
const logTransitions = Effect.gen(function* () {
  const rt = yield* ActorRuntime
  const sub = yield* rt.subscribe
  for (;;) {
    const t = yield* Queue.take(sub)
    const line = `${t.actorType} ${t.actorId}: ${t.from ?? "·"} → ${t.to} on ${t.eventType}`
    yield* (t.refused ? Effect.logWarning(`${line} REFUSED: ${t.refused}`) : Effect.logInfo(line)).pipe(
      Effect.annotateLogs({ actorId: t.actorId, seq: t.seq, cause: t.cause ?? "" }),
    )
  }
})

/**
 * A demo strategy, so a newcomer sees orders flow: one MIS market order of a lot every
 * `demoEntryEverySec`, alternating buy and sell, straight to an Order actor.
 */
const demoEntries = (config: RunConfig) =>
  Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const ids = yield* Ids
    const first = config.market[0]!
    for (let n = 0; ; n++) {
      yield* Effect.sleep(`${config.demoEntryEverySec} seconds`)
      const orderId = yield* ids.next("ord")
      const input = {
        orderId,
        accountId: config.paperAccount.id,
        symbol: first.symbol,
        exchange: first.exchange,
        side: n % 2 === 0 ? "BUY" : "SELL",
        qty: first.lotSize,
        product: "MIS",
        orderType: "MARKET",
        price: null,
        triggerPrice: null,
        clientTag: orderId,
        purpose: "ENTRY",
        parentId: null,
        createdAt: yield* Clock.currentTimeMillis,
      }
      yield* rt.spawn("order", orderId, input, "demo")
      yield* rt.send(orderId, { type: "cmd.place" }, "demo")
    }
  })

/** Starts the engine and runs until a signal. */
export const runCommand = (values: Record<string, string | boolean | undefined>) =>
  Effect.gen(function* () {
    const config = runConfig(values)
    const layer = engineLayer({
      database: { filename: config.db },
      paperAccounts: [
        {
          accountId: config.paperAccount.id,
          capital: config.paperAccount.capital,
          instruments: instrumentsOf(config.market),
        },
      ],
    })
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        yield* Effect.logInfo(
          `warden running on ${config.db}: ${rt.liveIds().length} live actors restored in ${Math.round(rt.rehydrateMs)} ms; ` +
            `paper account ${config.paperAccount.id}; simulated market ${config.market.map((m) => m.symbol).join(", ")}. Ctrl-C stops.`,
        )
        yield* Effect.addFinalizer(() =>
          Effect.logInfo(`warden stopped: ${rt.liveIds().length} live actors, every step committed`),
        )
        yield* Effect.forkScoped(logTransitions)
        yield* Effect.forkScoped(runRandomWalk(config.market))
        if (config.demoEntryEverySec > 0) yield* Effect.forkScoped(demoEntries(config))
        return yield* Effect.never
      }).pipe(Effect.provide(Layer.orDie(layer))),
    )
  })

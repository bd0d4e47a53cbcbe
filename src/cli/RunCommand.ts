/**
 * `warden run`: the engine, configured by `warden.config.json` (or `--config FILE`) and the
 * environment, with every field defaulted: with nothing configured it runs on `data/warden.db`
 * with a paper account, a simulated market and the HTTP API on loopback. It runs until SIGINT or
 * SIGTERM: then intake stops, the committer finishes its group, effects in flight are interrupted
 * (their outbox rows stay pending and are looked up by key at the next start), sockets close, and
 * the process exits 0.
 */
import { Clock, Effect, Layer, Queue } from "effect"
import { accessTokenOf, ConfigError, loadConfig, type WardenConfig } from "../config/WardenConfig.js"
import { bindHost } from "../http/HttpServer.js"
import { serverLayer } from "../main.js"
import { TickHub } from "../market/TickHub.js"
import { OrderEntry } from "../orders/OrderEntry.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { runRandomWalk } from "../sim/RandomWalkFeed.js"
import { CliExit } from "./Launch.js"

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
 * A demo strategy, so a newcomer sees the whole flow: every `demo.entryEverySec` one MIS market
 * entry of a lot, alternating buy and sell, through the same entry path as every other source
 * (risk, order, fill), with a stop and a target 0.3% away: its trade stays open long enough to
 * watch its P&L move (tens of seconds on the simulated feed), then exits and closes.
 */
const demoEntries = (config: WardenConfig) =>
  Effect.gen(function* () {
    const entry = yield* OrderEntry
    const hub = yield* TickHub
    const first = config.market.instruments[0]!
    const account = config.accounts[0]!.id
    const tick = first.tickSize
    const onTick = (x: number) => Number((Math.round(x / tick) * tick).toFixed(4))
    for (let n = 0; ; n++) {
      yield* Effect.sleep(`${config.demo.entryEverySec} seconds`)
      const ltp = hub.last(first.symbol)?.ltp
      if (ltp === undefined) continue
      const long = n % 2 === 0
      const commandId = `demo-${yield* Clock.currentTimeMillis}-${n}`
      yield* entry
        .submit({
          commandId,
          executionType: "ENTRY",
          source: "strategy",
          accountId: account,
          symbol: first.symbol,
          exchange: first.exchange,
          side: long ? "BUY" : "SELL",
          qty: first.lotSize,
          product: "MIS",
          orderType: "MARKET",
          price: null,
          triggerPrice: null,
          stopLoss: onTick(ltp * (long ? 0.997 : 1.003)),
          target: onTick(ltp * (long ? 1.003 : 0.997)),
          trailing: null,
        })
        .pipe(
          Effect.catchAll((refused) => Effect.logWarning(`demo entry refused: ${refused.field}: ${refused.message}`)),
        )
    }
  })

/** Starts the engine and runs until a signal. */
export const runCommand = (values: Record<string, string | boolean | undefined>) =>
  Effect.gen(function* () {
    const config = yield* Effect.try({
      try: () => {
        const c = loadConfig(typeof values.config === "string" ? values.config : undefined)
        for (const a of c.accounts) if (a.broker !== "paper") accessTokenOf(a)
        return c
      },
      catch: (e) => new CliExit(2, e instanceof ConfigError ? `warden: bad configuration: ${e.message}` : String(e)),
    })
    const port = typeof values.port === "string" ? Number(values.port) : config.http.port
    const resolved: WardenConfig = {
      ...config,
      db: typeof values.db === "string" ? values.db : config.db,
      http: { ...config.http, port },
    }
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const rt = yield* ActorRuntime
        const host = bindHost({ ...resolved.http, webhook: { secret: "", accountId: "" } })
        yield* Effect.logInfo(
          `warden running on ${resolved.db}: ${rt.liveIds().length} live actors restored in ${Math.round(rt.rehydrateMs)} ms; ` +
            `accounts ${resolved.accounts.map((a) => `${a.id} (${a.broker})`).join(", ")}; ` +
            `dashboard http://${host}:${resolved.http.port}/ (audit /audit, API /api/v1, OpenAPI /api/openapi.json, live stream /ws)` +
            (resolved.http.token === null ? "; no token configured: listening on loopback only" : "") +
            ". Ctrl-C stops.",
        )
        yield* Effect.addFinalizer(() =>
          Effect.logInfo(`warden stopped: ${rt.liveIds().length} live actors, every step committed`),
        )
        yield* Effect.forkScoped(logTransitions)
        if (resolved.market.simulated) yield* Effect.forkScoped(runRandomWalk(resolved.market.instruments))
        if (resolved.demo.entryEverySec > 0) yield* Effect.forkScoped(demoEntries(resolved))
        return yield* Effect.never
      }).pipe(Effect.provide(Layer.orDie(serverLayer(resolved)))),
    )
  })

/**
 * The composition root: the engine's layers, wired once. The CLI (`src/cli/main.ts`) launches from
 * here; tests build the same layers through `test/fixtures/TestEngine.ts`.
 *
 *   database ─┬─ paper brokers (Brokers) ── order effect handlers ─┐
 *             ├─ actor store ──────────────────────────────────────┴─ actor runtime ── order watcher
 *             └─ (read models, paper books, migrations)
 */
import { Context, Effect, Layer, type Scope } from "effect"
import * as Alerts from "./alerts/Alerts.js"
import * as LifecycleLog from "./alerts/LifecycleLog.js"
import type { Broker } from "./broker/Broker.js"
import { Brokers } from "./broker/Brokers.js"
import * as DhanBroker from "./broker/DhanBroker.js"
import * as ShoonyaBroker from "./broker/ShoonyaBroker.js"
import * as PaperBroker from "./broker/PaperBroker.js"
import { ExitConfig, type ExitOptions } from "./exits/ExitConfig.js"
import { ExitMonitor } from "./exits/ExitMonitor.js"
import { ExitQualification } from "./exits/ExitQualification.js"
import { ExitService } from "./exits/ExitService.js"
import { ExitSettings } from "./exits/ExitSettings.js"
import { TickHub } from "./market/TickHub.js"
import { AuditService } from "./audit/AuditService.js"
import { machineDefinitionsLayer } from "./audit/MachineDefinitions.js"
import { accessTokenOf, type WardenConfig } from "./config/WardenConfig.js"
import type { UniversalOrderCommand } from "./domain/Commands.js"
import { httpLayer } from "./http/HttpServer.js"
import { InstrumentMaster, Instruments } from "./orders/Instruments.js"
import * as OrderEntry from "./orders/OrderEntry.js"
import { ExitEnforcer } from "./risk/ExitEnforcer.js"
import { ForcedUnwind } from "./risk/ForcedUnwind.js"
import { RiskConfig, type RiskOptions } from "./risk/RiskConfig.js"
import { RiskManager } from "./risk/RiskManager.js"
import { StrategyHost } from "./strategy/StrategyHost.js"
import { Diagnostics } from "./store/Diagnostics.js"
import { orderEffectsLayer } from "./orders/OrderEffects.js"
import * as OrderWatcher from "./orders/OrderWatcher.js"
import * as Reconciler from "./orders/Reconciler.js"
import * as ActorRuntime from "./runtime/ActorRuntime.js"
import { type EffectHandler, EffectHandlers } from "./runtime/EffectHandlers.js"
import { Ids } from "./runtime/Ids.js"
import { ActorStore } from "./store/ActorStore.js"
import { type DatabaseConfig, databaseLayer } from "./store/Database.js"
import { TradeManager } from "./trades/TradeManager.js"

/** What the core needs to run: a store and the handlers of the effects its machines declare. */
export interface CoreConfig {
  readonly database: DatabaseConfig
  readonly handlers: Readonly<Record<string, EffectHandler>>
  readonly runtime?: Partial<ActorRuntime.RuntimeConfig>
}

/** Store, runtime, effect handlers and ids on one SQLite file. */
export const coreLayer = (config: CoreConfig) => {
  const db = databaseLayer(config.database)
  const store = ActorStore.Default.pipe(Layer.provide(db))
  const runtime = ActorRuntime.layer({ ...ActorRuntime.defaultRuntimeConfig, ...config.runtime }).pipe(
    Layer.provide(Layer.merge(store, EffectHandlers.layer(config.handlers))),
  )
  return Layer.mergeAll(runtime, store, db, Ids.layer)
}

/** An account at a real broker (Shoonya, Dhan): its connection lives in the engine's scope. */
export interface LiveAccount {
  readonly accountId: string
  readonly connect: (lastPrice: (symbol: string) => number | null) => Effect.Effect<Broker, never, Scope.Scope>
}

/** What the engine runs with. */
export interface EngineConfig {
  readonly database: DatabaseConfig
  /** The paper accounts. */
  readonly paperAccounts: ReadonlyArray<PaperBroker.PaperBrokerOptions>
  /** Accounts at a real broker: how to connect each (given the last price the engine has seen). */
  readonly liveAccounts?: ReadonlyArray<LiveAccount>
  readonly runtime?: Partial<ActorRuntime.RuntimeConfig>
  readonly watcher?: Partial<OrderWatcher.WatcherConfig>
  /** How often the books are reconciled with the brokers (also once at start). */
  readonly reconcileIntervalMs?: number
  /** The exit pipeline's configuration; instruments default to the paper accounts'. */
  readonly exits?: Partial<ExitOptions>
}

/** The engine: store, brokers, order effects, runtime and order watcher on one SQLite file. */
export const engineLayer = (config: EngineConfig) => {
  const db = databaseLayer(config.database)
  const ticks = TickHub.layer()
  // Paper accounts and live ones (Shoonya, Dhan) behind one Brokers service.
  const brokers = Layer.scopedContext(
    Effect.gen(function* () {
      const paper = yield* Layer.build(PaperBroker.layer(config.paperAccounts))
      const hub = yield* TickHub
      const all = new Map<string, Broker>(Context.get(paper, Brokers).all)
      for (const live of config.liveAccounts ?? []) {
        all.set(live.accountId, yield* live.connect((symbol) => hub.last(symbol)?.ltp ?? null))
      }
      return Context.add(paper, Brokers, Brokers.fromMap(all))
    }),
  ).pipe(Layer.provide(Layer.merge(db, ticks)), Layer.orDie)
  const store = ActorStore.Default.pipe(Layer.provide(db))
  const runtime = ActorRuntime.layer({ ...ActorRuntime.defaultRuntimeConfig, ...config.runtime }).pipe(
    Layer.provide(Layer.merge(store, orderEffectsLayer.pipe(Layer.provide(brokers)))),
  )
  const watcher = OrderWatcher.layer({ ...OrderWatcher.defaultWatcherConfig, ...config.watcher }).pipe(
    Layer.provide(Layer.mergeAll(runtime, brokers, db)),
  )
  // Every tick reaches the paper brokers first, so fills happen at the price the exits see.
  const paperTicks = Layer.scopedDiscard(
    Effect.gen(function* () {
      const hub = yield* TickHub
      const paper = yield* PaperBroker.PaperAccounts
      yield* hub.listen((t) =>
        paper.onTick(t.symbol, t.ltp, t.at).pipe(Effect.catchAll((e) => Effect.logWarning(`paper tick: ${e.message}`))),
      )
    }),
  ).pipe(Layer.provide(Layer.merge(ticks, brokers)))
  const reconciler = Reconciler.layer(config.reconcileIntervalMs).pipe(
    Layer.provide(Layer.mergeAll(watcher, brokers, db)),
  )
  // The exit pipeline and the trade manager: settings, stage 2, stage 1 on the ticks, broker-truth exits.
  const engine = Layer.mergeAll(runtime, ticks, db, brokers, Ids.layer)
  const exitBase = Layer.mergeAll(
    engine,
    ExitConfig.layer({ instruments: instrumentsOf(config), ...config.exits }),
    ExitSettings.Default.pipe(Layer.provide(db)),
  )
  const qualified = Layer.merge(exitBase, ExitQualification.Default.pipe(Layer.provide(exitBase)))
  const exits = Layer.mergeAll(
    qualified,
    ExitMonitor.Default.pipe(Layer.provide(qualified)),
    ExitService.Default.pipe(Layer.provide(qualified)),
    TradeManager.Default.pipe(Layer.provide(exitBase)),
  )
  return Layer.mergeAll(reconciler, watcher, runtime, brokers, store, db, ticks, paperTicks, Ids.layer, exits)
}

/** The instruments of every paper account, merged. */
const instrumentsOf = (config: EngineConfig): Instruments =>
  config.paperAccounts.reduce((m, a) => (a.instruments ? m.merge(a.instruments) : m), Instruments.empty)

/**
 * The engine as `warden run` serves it, from its configuration: the engine layer, the entry path
 * (instrument master, risk gate, order entry), diagnostics, and the HTTP server with the webhook
 * and the live stream.
 */
export const serverLayer = (config: WardenConfig) => {
  const instrumentList = Instruments.fromList(config.market.instruments)
  // The simulated market opens at its start prices: the paper broker knows them before the first tick.
  const openingPrices = config.market.simulated
    ? new Map(config.market.instruments.map((i) => [i.symbol, i.startPrice]))
    : undefined
  const paperAccounts = config.accounts.flatMap((a) =>
    a.broker === "paper" ? [{ accountId: a.id, capital: a.capital, instruments: instrumentList, openingPrices }] : [],
  )
  const liveAccounts = config.accounts.flatMap((a): Array<LiveAccount> => {
    if (a.broker === "shoonya") {
      const credentials = { userId: a.userId, accessToken: accessTokenOf(a), ...(a.actid ? { actid: a.actid } : {}) }
      const urls = {
        ...(a.baseUrl ? { baseUrl: a.baseUrl } : {}),
        ...(a.wsUrl ? { wsUrl: a.wsUrl } : {}),
        // Watched for a renewed token while the engine runs.
        ...(a.accessTokenFile ? { accessTokenFile: a.accessTokenFile } : {}),
      }
      return [
        {
          accountId: a.id,
          connect: (lastPrice) =>
            ShoonyaBroker.make({ accountId: a.id, credentials, instruments: instrumentList, lastPrice, ...urls }),
        },
      ]
    }
    if (a.broker === "dhan") {
      const credentials = { clientId: a.clientId, accessToken: accessTokenOf(a) }
      const urls = {
        ...(a.baseUrl ? { baseUrl: a.baseUrl } : {}),
        ...(a.wsUrl ? { wsUrl: a.wsUrl } : {}),
        // Watched for a renewed token while the engine runs.
        ...(a.accessTokenFile ? { accessTokenFile: a.accessTokenFile } : {}),
      }
      return [
        {
          accountId: a.id,
          connect: (lastPrice) =>
            DhanBroker.make({ accountId: a.id, credentials, instruments: instrumentList, lastPrice, ...urls }),
        },
      ]
    }
    return []
  })
  const engine = engineLayer({
    database: { filename: config.db, synchronous: config.synchronous },
    paperAccounts,
    liveAccounts,
  })
  const trading = tradingLayer(engine, instrumentList, config.risk ?? {})
  const audit = Layer.merge(AuditService.Default, machineDefinitionsLayer).pipe(Layer.provide(engine), Layer.orDie)
  const strategies = StrategyHost.layer({ strategies: config.strategies ?? [] }).pipe(Layer.provide(trading))
  // Alerts and the lifecycle log read committed transitions in their own fibers, never in the engine's way.
  const alerts = Alerts.layer(config.alerts).pipe(Layer.provide(engine))
  const lifecycle =
    config.lifecycleLog === null ? Layer.empty : LifecycleLog.layer(config.lifecycleLog).pipe(Layer.provide(engine))
  const services = Layer.mergeAll(trading, audit, strategies, alerts, lifecycle)
  const http = httpLayer({
    ...config.http,
    webhook: { secret: config.webhook.secret ?? "", accountId: config.webhook.accountId ?? config.accounts[0]!.id },
  }).pipe(Layer.provide(services))
  return Layer.merge(services, http)
}

/** What a simulation runs: the engine's configuration, its instrument master and the risk limits. */
export interface SimulationEngineConfig extends EngineConfig {
  readonly instruments: Instruments
  readonly risk: Partial<RiskOptions>
}

/**
 * The engine as `warden simulate` drives it: the engine layer, the entry path as `serverLayer`
 * wires it (instrument master, entry trades, order entry), with the risk manager as the gate, the
 * continuous exit enforcer and forced unwind. No HTTP server: the simulation calls the services.
 */
export const simulationEngineLayer = (config: SimulationEngineConfig) =>
  tradingLayer(engineLayer(config), config.instruments, config.risk)

/**
 * Trading over an engine: the instrument master, the entry path (an entry's trade opens when its
 * order executes), the risk manager as the entry gate, the continuous exit enforcer, forced unwind
 * and diagnostics. `warden run` and `warden simulate` both build on it.
 */
const tradingLayer = (engine: ReturnType<typeof engineLayer>, instruments: Instruments, risk: Partial<RiskOptions>) => {
  const master = Layer.succeed(InstrumentMaster, instruments)
  const entryTrades = Layer.effect(
    OrderEntry.EntryTrades,
    Effect.map(TradeManager, (trades) => ({
      prepare: (command: UniversalOrderCommand, orderId: string) =>
        Effect.map(
          trades.prepare(
            {
              accountId: command.accountId,
              symbol: command.symbol,
              exchange: command.exchange,
              product: command.product,
              side: command.side,
              stopLoss: command.stopLoss,
              target: command.target,
              trailing: command.trailing,
            },
            orderId,
          ),
          (tradeId): string | null => tradeId,
        ),
    })),
  ).pipe(Layer.provide(engine))
  const riskBase = Layer.merge(engine, RiskConfig.layer(risk))
  const manager = Layer.merge(riskBase, RiskManager.Default.pipe(Layer.provide(riskBase)))
  const guarded = Layer.mergeAll(
    manager,
    RiskManager.gate.pipe(Layer.provide(manager)),
    ExitEnforcer.Default.pipe(Layer.provide(manager)),
    ForcedUnwind.Default.pipe(Layer.provide(engine)),
  )
  const entry = OrderEntry.layer.pipe(Layer.provide(Layer.mergeAll(guarded, master, entryTrades)))
  return Layer.mergeAll(guarded, master, entry, Diagnostics.Default.pipe(Layer.provide(engine)))
}

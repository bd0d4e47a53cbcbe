/**
 * The composition root: the engine's layers, wired once. The CLI (`src/cli/main.ts`) launches from
 * here; tests build the same layers through `test/fixtures/TestEngine.ts`.
 *
 *   database ─┬─ paper brokers (Brokers) ── order effect handlers ─┐
 *             ├─ actor store ──────────────────────────────────────┴─ actor runtime ── order watcher
 *             └─ (read models, paper books, migrations)
 */
import { Effect, Layer } from "effect"
import * as PaperBroker from "./broker/PaperBroker.js"
import { TickHub } from "./market/TickHub.js"
import { orderEffectsLayer } from "./orders/OrderEffects.js"
import * as OrderWatcher from "./orders/OrderWatcher.js"
import * as Reconciler from "./orders/Reconciler.js"
import * as ActorRuntime from "./runtime/ActorRuntime.js"
import { type EffectHandler, EffectHandlers } from "./runtime/EffectHandlers.js"
import { Ids } from "./runtime/Ids.js"
import { ActorStore } from "./store/ActorStore.js"
import { type DatabaseConfig, databaseLayer } from "./store/Database.js"

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

/** What the engine runs with. */
export interface EngineConfig {
  readonly database: DatabaseConfig
  /** The paper accounts (real broker adapters join them in the broker layer). */
  readonly paperAccounts: ReadonlyArray<PaperBroker.PaperBrokerOptions>
  readonly runtime?: Partial<ActorRuntime.RuntimeConfig>
  readonly watcher?: Partial<OrderWatcher.WatcherConfig>
  /** How often the books are reconciled with the brokers (also once at start). */
  readonly reconcileIntervalMs?: number
}

/** The engine: store, brokers, order effects, runtime and order watcher on one SQLite file. */
export const engineLayer = (config: EngineConfig) => {
  const db = databaseLayer(config.database)
  const brokers = PaperBroker.layer(config.paperAccounts).pipe(Layer.provide(db), Layer.orDie)
  const store = ActorStore.Default.pipe(Layer.provide(db))
  const runtime = ActorRuntime.layer({ ...ActorRuntime.defaultRuntimeConfig, ...config.runtime }).pipe(
    Layer.provide(Layer.merge(store, orderEffectsLayer.pipe(Layer.provide(brokers)))),
  )
  const watcher = OrderWatcher.layer({ ...OrderWatcher.defaultWatcherConfig, ...config.watcher }).pipe(
    Layer.provide(Layer.mergeAll(runtime, brokers, db)),
  )
  const ticks = TickHub.layer()
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
  const reconciler = Reconciler.layer(config.reconcileIntervalMs).pipe(Layer.provide(Layer.mergeAll(watcher, brokers, db)))
  return Layer.mergeAll(reconciler, watcher, runtime, brokers, store, db, ticks, paperTicks, Ids.layer)
}

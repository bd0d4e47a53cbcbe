/**
 * The composition root: the layers of the engine core, wired once. The CLI (`src/cli/main.ts`)
 * launches from here; tests build the same layers through `test/fixtures/TestEngine.ts`.
 */
import { Layer } from "effect"
import * as ActorRuntime from "./runtime/ActorRuntime.js"
import { type EffectHandler, EffectHandlers } from "./runtime/EffectHandlers.js"
import { Ids } from "./runtime/Ids.js"
import { ActorStore } from "./store/ActorStore.js"
import { type DatabaseConfig, databaseLayer } from "./store/Database.js"

/** What the core needs to run. */
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

/**
 * Loads a strategy module by path: a `.ts` file runs through tsx (registered by `bin/warden.js`)
 * or vitest; its default export, or its export `strategy`, must have a strategy's shape. A module
 * that does not exist, throws while loading or exports something else is a `StrategyLoadError`.
 */
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { Data, Effect } from "effect"
import { isStrategy, type Strategy } from "./Strategy.js"

/** A strategy module that could not be loaded, and why. */
export class StrategyLoadError extends Data.TaggedError("StrategyLoadError")<{
  readonly module: string
  readonly message: string
}> {}

/** Imports a strategy module (relative paths from the working directory). */
export const loadStrategyModule = (module: string): Effect.Effect<Strategy, StrategyLoadError> =>
  Effect.gen(function* () {
    const url = pathToFileURL(resolve(module)).href
    const exports = yield* Effect.tryPromise({
      try: () => import(url) as Promise<Record<string, unknown>>,
      catch: (e) => new StrategyLoadError({ module, message: e instanceof Error ? e.message : String(e) }),
    })
    const candidate = exports.default ?? exports.strategy
    if (!isStrategy(candidate))
      return yield* Effect.fail(
        new StrategyLoadError({
          module,
          message: "the module exports no strategy (a default export or `strategy` with a name and callbacks)",
        }),
      )
    return candidate
  })

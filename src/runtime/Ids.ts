/**
 * Id generation as an Effect service: time from the Clock service and randomness from the Random
 * service, so a simulation with the test clock and a seeded Random makes the same ids every run.
 */
import { Clock, Context, Effect, Layer, Random } from "effect"

/** Makes ids such as `ord_lx2k9f3a_7h2kq0`. */
export class Ids extends Context.Tag("warden/Ids")<
  Ids,
  { readonly next: (prefix: string) => Effect.Effect<string> }
>() {
  /** Ids from the fiber's Clock and Random. */
  static readonly layer = Layer.sync(Ids, () => {
    let last = ""
    let counter = 0
    return {
      next: (prefix: string) =>
        Effect.gen(function* () {
          const t = (yield* Clock.currentTimeMillis).toString(36)
          counter = t === last ? counter + 1 : 0
          last = t
          const r = (yield* Random.nextIntBetween(0, 36 ** 6)).toString(36).padStart(6, "0")
          return `${prefix}_${t}${counter > 0 ? counter.toString(36) : ""}_${r}`
        }),
    }
  })
}

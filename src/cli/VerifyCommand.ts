/** `warden verify`: replays every actor's journal and compares it with its stored snapshot. */
import { Console, Effect, Layer } from "effect"
import { verifyReplay } from "../runtime/Replay.js"
import { ActorStore } from "../store/ActorStore.js"
import { databaseLayer } from "../store/Database.js"
import { CliExit } from "./Launch.js"

/** Exit 0 when every check passes, 1 with the failing actor ids otherwise. */
export const verifyCommand = (values: Record<string, string | boolean | undefined>) =>
  Effect.gen(function* () {
    const db = values.db
    if (typeof db !== "string") return yield* Effect.fail(new CliExit(2, "warden verify: --db FILE is required"))
    const layer = ActorStore.Default.pipe(Layer.provide(databaseLayer({ filename: db })))
    const { checked, mismatches } = yield* verifyReplay().pipe(Effect.provide(layer))
    for (const m of mismatches) yield* Console.log(`MISMATCH ${m.actorId} (${m.actorType}): ${m.detail}`)
    yield* Console.log(`replay: ${checked} actors checked, ${mismatches.length} mismatches`)
    return mismatches.length === 0 ? 0 : 1
  })

/** `warden diagrams`: writes one Mermaid state diagram per machine. */
import { Console, Effect } from "effect"
import { writeDiagrams } from "./diagrams.js"

/** Writes the diagrams and lists them. */
export const diagramsCommand = (values: Record<string, string | boolean | undefined>) =>
  Effect.gen(function* () {
    const out = typeof values.out === "string" ? values.out : "diagrams"
    const files = yield* Effect.promise(() => writeDiagrams(out))
    for (const f of files) yield* Console.log(f)
    return 0
  })

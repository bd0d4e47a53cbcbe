/**
 * Machine definitions by version (migrations/0007): the engine records the chart of every machine
 * it runs at start, and the audit draws an actor on the chart of the version it ran on.
 *
 * A version is recorded once. If a machine changed without a version bump, the first recorded
 * definition stays and a warning says so: the version, not the code, names what an actor ran on.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect, Layer } from "effect"
import type { AnyStateMachine } from "xstate"
import { machines } from "../../machines/Machines.js"
import { type ChartDefinition, definitionOf } from "./ChartDefinition.js"

/** The chart of every registered machine as this build runs it, by actor type. */
export const currentDefinitions = (): ReadonlyArray<ChartDefinition> =>
  Object.entries(machines).map(([type, machine]) => definitionOf(type, machine as unknown as AnyStateMachine))

/**
 * Records the current definition of every machine under its version (once per version); the
 * versions whose recorded definition differs from this build's are logged and returned.
 */
export const recordMachineDefinitions: Effect.Effect<ReadonlyArray<string>, SqlError, SqlClient.SqlClient> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    const now = yield* Clock.currentTimeMillis
    const drifted: Array<string> = []
    for (const def of currentDefinitions()) {
      const json = JSON.stringify(def)
      yield* sql`INSERT INTO machine_definitions ${sql.insert({
        actor_type: def.actorType,
        version: def.version,
        definition: json,
        recorded_at: now,
      })} ON CONFLICT (actor_type, version) DO NOTHING`
      const [row] = yield* sql<{ definition: string }>`
        SELECT definition FROM machine_definitions WHERE actor_type = ${def.actorType} AND version = ${def.version}`
      if (row && row.definition !== json) drifted.push(def.version)
    }
    for (const v of drifted)
      yield* Effect.logWarning(`machine ${v} changed without a version bump; the audit keeps its first definition`)
    return drifted
  },
)

/** `recordMachineDefinitions` as a layer, for the engine's composition root. */
export const machineDefinitionsLayer: Layer.Layer<never, SqlError, SqlClient.SqlClient> =
  Layer.effectDiscard(recordMachineDefinitions)

/** Where a chart came from: recorded for the actor's version, or this build's (same or other version). */
export type DefinitionSource = "recorded" | "current" | "current-other-version"

/** The chart of (type, version): the recorded one, else this build's if it runs that version, else this build's. */
export const loadDefinition = (
  actorType: string,
  version: string,
): Effect.Effect<
  { readonly definition: ChartDefinition; readonly source: DefinitionSource } | null,
  never,
  SqlClient.SqlClient
> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ definition: string }>`
      SELECT definition FROM machine_definitions WHERE actor_type = ${actorType} AND version = ${version}`.pipe(
      // A copied database from before migration 0007 has no such table: fall back to this build's.
      Effect.orElseSucceed(() => []),
    )
    if (rows[0]) return { definition: JSON.parse(rows[0].definition) as ChartDefinition, source: "recorded" as const }
    const current = currentDefinitions().find((d) => d.actorType === actorType)
    if (!current) return null
    return { definition: current, source: current.version === version ? "current" : "current-other-version" } as const
  })

/** Every recorded (type, version), plus this build's versions, for the machine gallery. */
export const listDefinitions: Effect.Effect<
  ReadonlyArray<{ readonly actorType: string; readonly version: string }>,
  never,
  SqlClient.SqlClient
> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ actor_type: string; version: string }>`
    SELECT actor_type, version FROM machine_definitions ORDER BY actor_type, version`.pipe(
    Effect.orElseSucceed(() => []),
  )
  const all = new Map<string, { actorType: string; version: string }>()
  for (const d of currentDefinitions())
    all.set(`${d.actorType} ${d.version}`, { actorType: d.actorType, version: d.version })
  for (const r of rows) all.set(`${r.actor_type} ${r.version}`, { actorType: r.actor_type, version: r.version })
  return [...all.values()].sort((a, b) => (a.actorType + a.version).localeCompare(b.actorType + b.version))
})

/**
 * The audit's answers, as plain JSON for the page and the exported report: the actor list, one
 * actor in full (chart with its path, steps, timeline, causal chain), the machine charts, and a
 * report of an actor with every actor of its chain. Charts are laid out once per machine version.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { AnyStateMachine } from "xstate"
import { machines } from "../../machines/Machines.js"
import type { StoredJournalRow } from "../store/ActorStore.js"
import { actorPath, type PathStep } from "./ActorPath.js"
import { type ActorFilter, type ActorPage, type AuditActorRow, AuditStore } from "./AuditStore.js"
import { type CausalChain, causalChain, parseActorCause } from "./CausalChain.js"
import { type ChartDefinition, nodesById } from "./ChartDefinition.js"
import { type ChartLayout, labelLine, layoutChart } from "./ChartLayout.js"
import { chartSvg, type PathOverlay } from "./ChartSvg.js"
import { type DefinitionSource, listDefinitions, loadDefinition } from "./MachineDefinitions.js"

/** Most timeline rows sent at once (the page asks for the next ones by offset). */
export const timelineRowsMax = 1_000
/** Most timeline rows of one actor in an exported report. */
export const reportTimelineRowsMax = 50_000

/** A journal row as the timeline shows it. */
export interface TimelineRow {
  readonly id: number
  readonly seq: number
  readonly at: number
  readonly event: string
  /** The event's fields other than `type` and `at` (the creation's input for seq 0). */
  readonly payload: Record<string, unknown>
  readonly from: string | null
  readonly to: string
  readonly cause: string | null
  /** The actor whose step caused this row, when the cause is `<actor>#<seq>`. */
  readonly causeActor: string | null
  readonly refused: string | null
}

/** A chart drawn for the page: SVG and where its definition came from. */
export interface DrawnChart {
  readonly actorType: string
  readonly version: string
  readonly source: DefinitionSource
  readonly svg: string
}

/** Everything the page shows about one actor. */
export interface ActorDetail {
  readonly actor: Omit<AuditActorRow, "snapshot">
  readonly chart: DrawnChart & { readonly exact: boolean; readonly note: string | null }
  readonly visited: ReadonlyArray<{ readonly state: string; readonly visits: number }>
  readonly taken: ReadonlyArray<{
    readonly label: string
    readonly from: string
    readonly to: string
    readonly count: number
  }>
  readonly steps: ReadonlyArray<PathStep>
  readonly timeline: { readonly rows: ReadonlyArray<TimelineRow>; readonly offset: number; readonly total: number }
  /** Names of the effects behind `outbox:<id>` causes. */
  readonly effects: Readonly<Record<string, string>>
  readonly chain: CausalChain
}

/** An actor and every actor of its chain, for the exported report. */
export interface AuditReport {
  readonly rootId: string
  readonly generatedAt: number
  readonly actors: Readonly<Record<string, ActorDetail>>
}

const timelineRow = (r: StoredJournalRow): TimelineRow => {
  const { type: _type, at: _at, ...payload } = JSON.parse(r.event) as Record<string, unknown>
  return {
    id: r.id,
    seq: r.seq,
    at: r.at,
    event: r.event_type,
    payload,
    from: r.from_state,
    to: r.to_state,
    cause: r.cause,
    causeActor: parseActorCause(r.cause)?.[0] ?? null,
    refused: r.refused,
  }
}

/** The machine that replays a journal of this (type, version), if this build runs that version. */
const machineFor = (type: string, version: string): AnyStateMachine | null => {
  const m = (machines as Record<string, unknown>)[type] as AnyStateMachine | undefined
  return m && String(m.version ?? "0") === version ? m : null
}

const pathSummary = (def: ChartDefinition, overlay: PathOverlay) => {
  const nodes = nodesById(def)
  const visited = Object.entries(overlay.visits)
    .filter(([id, n]) => n > 0 && id !== def.root.id)
    .map(([id, visits]) => ({ state: nodes.get(id)?.path ?? id, visits }))
  const taken = def.edges
    .filter((e) => (overlay.taken[e.transition] ?? 0) > 0)
    .map((e) => ({
      label: labelLine(e),
      from: nodes.get(e.source)?.path || def.machineId,
      to: e.internal ? "(stays)" : nodes.get(e.target)?.path || def.machineId,
      count: overlay.taken[e.transition]!,
    }))
  return { visited, taken }
}

/** The audit service. */
export class AuditService extends Effect.Service<AuditService>()("warden/AuditService", {
  effect: Effect.gen(function* () {
    const store = yield* AuditStore
    const sql = yield* SqlClient.SqlClient
    const layouts = new Map<string, ChartLayout>()

    const definition = (type: string, version: string) =>
      Effect.flatMap(loadDefinition(type, version), (d) =>
        d === null ? Effect.dieMessage(`no machine definition for ${type} ${version}`) : Effect.succeed(d),
      ).pipe(Effect.provideService(SqlClient.SqlClient, sql))

    const layoutOf = (def: ChartDefinition) =>
      Effect.suspend(() => {
        const key = `${def.actorType}@${def.version}`
        const cached = layouts.get(key)
        if (cached) return Effect.succeed(cached)
        return Effect.tap(layoutChart(def), (l) => Effect.sync(() => layouts.set(key, l)))
      })

    /** One actor in full; undefined when there is no such actor. */
    const detail = (
      id: string,
      offset = 0,
      limit = timelineRowsMax,
    ): Effect.Effect<ActorDetail | undefined, SqlError> =>
      Effect.gen(function* () {
        const row = yield* store.actor(id)
        if (!row) return undefined
        const rows = yield* store.journal(id)
        const { definition: def, source } = yield* definition(row.actor_type, row.machine_version)
        const path = actorPath(def, rows, machineFor(row.actor_type, row.machine_version))
        const layout = yield* layoutOf(def)
        const { snapshot: _s, ...actor } = row
        const outboxIds = rows.flatMap((r) => (r.cause?.startsWith("outbox:") ? [Number(r.cause.slice(7))] : []))
        const effects = Object.fromEntries((yield* store.outbox(outboxIds)).map((o) => [String(o.id), o.effect]))
        const start = Math.max(0, Math.min(offset, rows.length - 1))
        const description = `Path of ${id}: ${[...new Set(path.steps.map((s) => s.state))].join(" → ")}`
        return {
          actor,
          chart: {
            actorType: row.actor_type,
            version: def.version,
            source,
            svg: chartSvg(def, layout, path.overlay, id, description),
            exact: path.exact,
            note: path.note,
          },
          ...pathSummary(def, path.overlay),
          steps: path.steps,
          timeline: { rows: rows.slice(start, start + limit).map(timelineRow), offset: start, total: rows.length },
          effects,
          chain: yield* causalChain(store, row, rows),
        } satisfies ActorDetail
      })

    return {
      /** One page of the actor list. */
      actors: (filter: ActorFilter, cursor: string | null, limit: number): Effect.Effect<ActorPage, SqlError> =>
        store.actors(filter, cursor, limit),
      detail,
      /** Symbols and accounts for the filters. */
      facets: store.facets,
      /** Every machine version known (recorded or running here). */
      machines: Effect.provideService(listDefinitions, SqlClient.SqlClient, sql),
      /** A machine's chart (no path). */
      machineChart: (type: string, version: string): Effect.Effect<DrawnChart> =>
        Effect.gen(function* () {
          const { definition: def, source } = yield* definition(type, version)
          const svg = chartSvg(
            def,
            yield* layoutOf(def),
            null,
            `${type}-${version}`,
            `All states and transitions of ${type}.`,
          )
          return { actorType: type, version: def.version, source, svg }
        }),
      /** An actor and every actor of its chain, in full; undefined when there is no such actor. */
      report: (id: string, now: number): Effect.Effect<AuditReport | undefined, SqlError> =>
        Effect.gen(function* () {
          const root = yield* detail(id, 0, reportTimelineRowsMax)
          if (!root) return undefined
          const actors: Record<string, ActorDetail> = { [id]: root }
          for (const member of root.chain.members) {
            if (actors[member]) continue
            const d = yield* detail(member, 0, reportTimelineRowsMax)
            if (d) actors[member] = d
          }
          return { rootId: id, generatedAt: now, actors }
        }),
    }
  }),
  dependencies: [AuditStore.Default],
}) {}

/**
 * Replay: an actor's accepted journal rows, applied from its creation with XState's pure
 * functions, must give exactly its stored snapshot (ARCHITECTURE.md §2.6, invariant 7).
 */
import { Effect } from "effect"
import type { AnyMachineSnapshot } from "xstate"
import type { ActorType } from "../../machines/Machines.js"
import { ActorStore, type StoredJournalRow } from "../store/ActorStore.js"
import { machineOf, persist } from "./Step.js"
import { pureInitialTransition, pureTransition } from "./PureTransition.js"

/** The persisted snapshot JSON that the journal rows rebuild. */
export const replay = (type: ActorType, rows: ReadonlyArray<StoredJournalRow>): string => {
  const machine = machineOf(type)
  let snapshot: AnyMachineSnapshot | null = null
  for (const row of rows) {
    if (row.refused !== null) continue
    const event = JSON.parse(row.event) as { type: string; input?: unknown }
    if (row.seq === 0) {
      snapshot = pureInitialTransition(machine, event.input as never)[0] as AnyMachineSnapshot
    } else if (snapshot) {
      snapshot = pureTransition(machine, snapshot, event as never)[0] as AnyMachineSnapshot
    }
  }
  if (!snapshot) throw new Error("journal has no creation row")
  return persist(type, snapshot)
}

/** JSON with object keys sorted, so two equal values print the same. */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  )

/** An actor whose replay differs from its stored snapshot. */
export interface ReplayMismatch {
  readonly actorId: string
  readonly actorType: string
  readonly detail: string
}

/** Replays every actor in the store; the mismatches, and how many actors were checked. */
export const verifyReplay = (pageSize = 1_000) =>
  Effect.gen(function* () {
    const store = yield* ActorStore
    const mismatches: Array<ReplayMismatch> = []
    let checked = 0
    let after = ""
    for (;;) {
      const page = yield* store.actorsPage(after, pageSize)
      if (page.length === 0) break
      for (const actor of page) {
        checked++
        const rows = yield* store.journalOf(actor.actor_id)
        const last = rows[rows.length - 1]
        if (!last || last.seq !== actor.seq) {
          mismatches.push({
            actorId: actor.actor_id,
            actorType: actor.actor_type,
            detail: `journal ends at seq ${last?.seq ?? "none"}, snapshot at ${actor.seq}`,
          })
          continue
        }
        try {
          const rebuilt = canonical(JSON.parse(replay(actor.actor_type, rows)))
          if (rebuilt !== canonical(JSON.parse(actor.snapshot))) {
            mismatches.push({
              actorId: actor.actor_id,
              actorType: actor.actor_type,
              detail: "replayed snapshot differs from stored snapshot",
            })
          }
        } catch (e) {
          mismatches.push({
            actorId: actor.actor_id,
            actorType: actor.actor_type,
            detail: `replay failed: ${e instanceof Error ? e.message : String(e)}`,
          })
        }
      }
      after = page[page.length - 1]!.actor_id
    }
    return { checked, mismatches }
  })

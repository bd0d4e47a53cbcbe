/** `warden migrate`: creates or migrates a database file and exits. */
import * as SqlClient from "@effect/sql/SqlClient"
import { Console, Effect } from "effect"
import { databaseLayer } from "../store/Database.js"
import { CliExit } from "./Launch.js"

/** Applies every pending migration (opening the store does) and prints the applied ids. */
export const migrateCommand = (values: Record<string, string | boolean | undefined>) =>
  Effect.gen(function* () {
    const db = values.db
    if (typeof db !== "string") return yield* Effect.fail(new CliExit(2, "warden migrate: --db FILE is required"))
    const rows = yield* Effect.flatMap(
      SqlClient.SqlClient,
      (sql) =>
        sql<{
          migration_id: number
          name: string
        }>`SELECT migration_id, name FROM warden_migrations ORDER BY migration_id`,
    ).pipe(Effect.provide(databaseLayer({ filename: db })))
    for (const r of rows) yield* Console.log(`${String(r.migration_id).padStart(4, "0")} ${r.name}`)
    yield* Console.log(`${db}: migrated (${rows.length} migrations)`)
    return 0
  })

/**
 * SQL-file migrations: `migrations/NNNN_name.sql`, forward-only, applied by the `@effect/sql`
 * migrator in one transaction at start (all pending files or none).
 */
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

/** The folder the migrations ship in. */
export const migrationsDir = fileURLToPath(new URL("../../migrations/", import.meta.url))

const fileName = /^(\d{4})_([a-z0-9_]+)\.sql$/

/** The migration files in id order, with their ids; throws on a badly named file. */
export const migrationFiles = (dir = migrationsDir): ReadonlyArray<{ id: number; key: string; file: string }> =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .map((f) => {
      const m = fileName.exec(f)
      if (!m) throw new Error(`migration file "${f}" is not named NNNN_lower_snake.sql`)
      return { id: Number(m[1]), key: f.slice(0, -4), file: `${dir}/${f}` }
    })
    .sort((a, b) => a.id - b.id)

/**
 * Splits a SQL file into statements. better-sqlite3 prepares one statement at a time; `;` inside
 * a trigger body (BEGIN … END) does not end the statement.
 */
export const splitStatements = (text: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  let current = ""
  let depth = 0
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/--.*$/, "")
    if (/\bBEGIN\b/i.test(line) && /\bCREATE\s+TRIGGER\b/i.test(current + line)) depth++
    if (/^\s*END\s*;/i.test(line)) depth = Math.max(0, depth - 1)
    current += `${line}\n`
    if (depth === 0 && line.trimEnd().endsWith(";")) {
      if (current.trim() !== ";") out.push(current.trim())
      current = ""
    }
  }
  if (current.trim() !== "") out.push(current.trim())
  return out
}

/** The migrator loader over the SQL files. */
export const sqlFileLoader = (dir = migrationsDir): Migrator.Loader =>
  Migrator.fromRecord(
    Object.fromEntries(
      migrationFiles(dir).map(({ key, file }) => [
        key,
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          for (const statement of splitStatements(readFileSync(file, "utf8"))) yield* sql.unsafe(statement)
        }),
      ]),
    ),
  )

/** Applies every pending migration; returns the ids and names applied. */
export const runMigrations = (dir = migrationsDir) =>
  Migrator.make({})({ loader: sqlFileLoader(dir), table: "warden_migrations" })

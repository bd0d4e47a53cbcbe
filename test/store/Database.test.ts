import { copyFileSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { DatabaseError, databaseLayer } from "../../src/store/Database.js"
import { migrationFiles, migrationsDir, splitStatements } from "../../src/store/Migrations.js"
import { tempDir } from "../fixtures/TestEngine.js"

const tables = (filename: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{
        name: string
      }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
  ).pipe(
    Effect.map((rows) => rows.map((r) => r.name)),
    Effect.provide(databaseLayer({ filename })),
  )

describe("migrations", () => {
  it("have ids that strictly increase, one file per id, named NNNN_lower_snake.sql", () => {
    const files = migrationFiles()
    expect(files.length).toBeGreaterThan(0)
    expect(files.map((f) => f.id)).toEqual(files.map((_, i) => i + 1))
  })

  it("split into statements, keeping a trigger body whole", () => {
    const sql =
      "CREATE TABLE a (x);\n-- note; here\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  UPDATE a SET x = 2;\nEND;\nCREATE INDEX i ON a (x);"
    expect(splitStatements(sql)).toHaveLength(3)
  })

  it.effect("are applied at open, once, with WAL, synchronous=FULL and foreign keys on", () =>
    Effect.gen(function* () {
      const filename = join(tempDir(), "w.db")
      const first = yield* tables(filename)
      expect(first).toEqual(
        expect.arrayContaining([
          "actors",
          "journal",
          "outbox",
          "timers",
          "orders",
          "exit_intents",
          "warden_migrations",
        ]),
      )
      const pragmas = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.all([sql`PRAGMA journal_mode`, sql`PRAGMA synchronous`, sql`PRAGMA foreign_keys`]),
      ).pipe(Effect.provide(databaseLayer({ filename })))
      expect(pragmas).toEqual([[{ journal_mode: "wal" }], [{ synchronous: 2 }], [{ foreign_keys: 1 }]])
      const applied = yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql`SELECT migration_id FROM warden_migrations`,
      ).pipe(Effect.provide(databaseLayer({ filename })))
      expect(applied).toHaveLength(migrationFiles().length)
    }),
  )

  it.effect("a failing migration stops the start with a clear error and leaves no half-migrated file", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const migrations = join(dir, "migrations")
      yield* Effect.sync(() => {
        mkdirSync(migrations)
        copyFileSync(
          join(migrationsDir, "0001_create_actor_store.sql"),
          join(migrations, "0001_create_actor_store.sql"),
        )
        writeFileSync(join(migrations, "0002_broken.sql"), "CREATE TABLE ok (x);\nCREATE TABLE broken (;\n")
      })
      const filename = join(dir, "w.db")
      const error = yield* Effect.flip(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
          Effect.provide(databaseLayer({ filename, migrationsDir: migrations })),
        ),
      )
      expect(error).toBeInstanceOf(DatabaseError)
      expect(error).toMatchObject({ stage: "migrate" })
      expect(error.message).toMatch(/syntax error/)
      const left = yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`,
      ).pipe(Effect.provide(databaseLayer({ filename, readonly: true })))
      expect(left.map((r) => r.name).filter((n) => n !== "warden_migrations")).toEqual([])
    }),
  )

  it.effect("a file that is not a database is refused at open, naming the file", () =>
    Effect.gen(function* () {
      const filename = join(tempDir(), "bad.db")
      writeFileSync(filename, "this is not a database, just some text that is long enough to be read as a header")
      const error = yield* Effect.flip(tables(filename))
      expect(error).toMatchObject({ _tag: "DatabaseError", stage: "open", filename })
      expect(error.message).toMatch(/not a database/)
    }),
  )
})

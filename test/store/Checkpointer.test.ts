import { statSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { databaseLayer } from "../../src/store/Database.js"
import { SqliteConnection } from "../../src/store/SqliteConnection.js"
import { tempDir } from "../fixtures/TestEngine.js"

/**
 * Writes `commits` transactions of 20 rows of 2 KB each through the connection, pausing now and
 * then so that a background checkpoint can run, and answers the WAL's size at the end and whether
 * the engine's thread ever checkpointed.
 */
const writeMany = (checkpoints: "background" | "inline", commits: number) => {
  const filename = join(tempDir("warden-ckpt-"), "w.db")
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const conn = yield* SqliteConnection
        const autocheckpoint = yield* conn.use((db) => db.pragma("wal_autocheckpoint", { simple: true }))
        yield* conn.use((db) => db.exec("CREATE TABLE t (k INTEGER, v TEXT)"))
        const pad = "x".repeat(2_000)
        for (let i = 0; i < commits; i++) {
          yield* conn.use((db) => {
            const insert = db.prepare("INSERT INTO t VALUES (?, ?)")
            db.transaction(() => {
              for (let k = 0; k < 20; k++) insert.run(i, pad)
            })()
          })
          if (i % 50 === 49) yield* Effect.sleep("150 millis")
        }
        return { walBytes: statSync(`${filename}-wal`).size, autocheckpoint, filename }
      }).pipe(Effect.provide(databaseLayer({ filename, checkpoints }))),
    ),
  )
}

describe("background checkpoints", () => {
  it("keep the WAL small with the engine's own automatic checkpoint only a far-off safety net", async () => {
    const background = await writeMany("background", 400)
    // 400 commits of about 12 pages each: without any checkpoint the WAL would pass 18 MB.
    expect(background.autocheckpoint).toBe(10_000)
    expect(background.walBytes).toBeLessThan(4 * 1024 * 1024)
    const inline = await writeMany("inline", 50)
    expect(inline.autocheckpoint).toBe(1_000)
  }, 60_000)

  it("stop with the connection's scope, leaving a file another connection opens and reads whole", async () => {
    const { filename } = await writeMany("background", 100)
    const rows = await Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(SqliteConnection, (conn) =>
          conn.use((db) => db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }),
        ).pipe(Effect.provide(databaseLayer({ filename }))),
      ),
    )
    expect(rows.n).toBe(2_000)
  }, 60_000)
})

/**
 * `warden audit` on a database made by the real engine: the exported HTML report and JSON, the
 * timeline as text, its errors, and the audited file left exactly as it was.
 */
import { createHash } from "node:crypto"
import { existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import type { AuditReport } from "../../src/audit/AuditService.js"
import { auditCommand } from "../../src/cli/AuditCommand.js"
import type { CliExit } from "../../src/cli/Launch.js"
import { tempDir } from "../fixtures/TestEngine.js"
import { buildAuditDatabase } from "./auditFixture.js"

const fixture = buildAuditDatabase()
const ids = Effect.promise(() => fixture)

const fingerprint = (file: string) => ({
  sha: createHash("sha256").update(readFileSync(file)).digest("hex"),
  mtimeMs: statSync(file).mtimeMs,
  size: statSync(file).size,
})

const failureOf = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) ? (exit.cause._tag === "Fail" ? (exit.cause.error as CliExit) : null) : null

describe("warden audit", () => {
  it.effect("exports an actor and its chain as a self-contained HTML report and as JSON", () =>
    Effect.gen(function* () {
      const f = yield* ids
      const dir = tempDir()
      const html = join(dir, "report.html")
      const json = join(dir, "report.json")
      expect(yield* auditCommand({ db: f.dbFile, html, json }, [f.intentId])).toBe(0)
      const report = JSON.parse(readFileSync(json, "utf8")) as AuditReport
      expect(report.rootId).toBe(f.intentId)
      expect(Object.keys(report.actors).sort()).toEqual(
        [f.tradeId, f.entryOrderId, f.signalId, f.intentId, f.exitOrderId].sort(),
      )
      const text = readFileSync(html, "utf8")
      for (const id of Object.keys(report.actors)) expect(text).toContain(`data-actor="${id}"`)
      // Self-contained: no reference to anything outside the file.
      expect(text).not.toMatch(/\b(src|href)="(https?:)?\/\//)
      expect(text).not.toMatch(/@import|url\((?!#)/)
    }),
  )

  it.effect("never writes to the audited file", () =>
    Effect.gen(function* () {
      const f = yield* ids
      const before = fingerprint(f.dbFile)
      const wal = existsSync(`${f.dbFile}-wal`)
      yield* auditCommand({ db: f.dbFile, html: join(tempDir(), "r.html") }, [f.tradeId])
      yield* auditCommand({ db: f.dbFile }, [f.exitOrderId])
      expect(fingerprint(f.dbFile)).toEqual(before)
      expect(existsSync(`${f.dbFile}-wal`)).toBe(wal)
    }),
  )

  it.effect("says what is missing: the database, the actor id, or the actor", () =>
    Effect.gen(function* () {
      const f = yield* ids
      expect(failureOf(yield* Effect.exit(auditCommand({}, [f.tradeId])))?.code).toBe(2)
      expect(failureOf(yield* Effect.exit(auditCommand({ db: f.dbFile }, [])))?.code).toBe(2)
      const missing = failureOf(yield* Effect.exit(auditCommand({ db: f.dbFile }, ["nope"])))
      expect([missing?.code, missing?.message]).toEqual([1, `warden audit: no actor nope in ${f.dbFile}`])
      const noFile = yield* Effect.exit(auditCommand({ db: join(tempDir(), "absent.db") }, ["x"]))
      expect(Exit.isFailure(noFile)).toBe(true)
    }),
  )
})

import { spawn, spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import Sqlite from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { ledgerBroker } from "../fixtures/LedgerBroker.js"
import { tempDir } from "../fixtures/TestEngine.js"

const root = join(import.meta.dirname, "../..")
const child = join(root, "test/fixtures/CrashChild.ts")
/** Orders in the workload: more than the killed runs can finish, so every kill lands mid-work. */
const actors = 2_000

/** A small seeded generator (mulberry32), so the kill moments are the same every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Starts the engine; kills it with SIGKILL `killAfterMs` after it is ready, or lets it finish. */
const runChild = (dir: string, killAfterMs: number | null) =>
  new Promise<{ killed: boolean; code: number | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", child, dir, String(actors), "5"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stderr = ""
    let killed = false
    p.stderr.on("data", (d) => (stderr += d))
    p.stdout.on("data", (d: Buffer) => {
      if (killAfterMs !== null && d.toString().includes("ready")) {
        setTimeout(() => {
          killed = p.kill("SIGKILL")
        }, killAfterMs)
      }
    })
    p.on("exit", (code) => resolve({ killed, code, stderr }))
  })

const lines = (file: string): Array<Array<string>> =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .slice(0, -1) // the last line may have been cut by the kill
        .map((l) => l.split(" "))
    : []

describe("crash safety", () => {
  it("SIGKILLed at 20+ seeded moments, the engine loses no committed step, publishes nothing uncommitted, sends no order twice, and replays", {
    timeout: 240_000,
  }, async () => {
    const dir = tempDir("warden-crash-")
    const random = seeded(20261122)
    let kills = 0
    for (let run = 0; run < 40 && kills < 24 && !existsSync(join(dir, "done")); run++) {
      const r = await runChild(dir, 20 + Math.floor(random() * 130))
      if (r.killed) kills++
      else expect(r.code, r.stderr).toBe(0)
    }
    expect(kills).toBeGreaterThanOrEqual(20)
    // Recovery: a last run without a kill finishes the workload.
    if (!existsSync(join(dir, "done"))) {
      const last = await runChild(dir, null)
      expect(last.code, last.stderr).toBe(0)
    }

    const db = new Sqlite(join(dir, "warden.db"), { readonly: true })
    const journal = new Set(
      (
        db.prepare("SELECT id, actor_id, seq FROM journal").all() as Array<{
          id: number
          actor_id: string
          seq: number
        }>
      ).map((r) => `${r.id} ${r.actor_id} ${r.seq}`),
    )
    const steps = new Set([...journal].map((k) => k.split(" ").slice(1).join(" ")))

    const published = lines(join(dir, "published.log"))
    expect(published.length).toBeGreaterThan(2_500)
    const unpublishable = published.filter((p) => !journal.has(p.join(" ")))
    expect(unpublishable, "published but never committed").toEqual([])

    const acked = lines(join(dir, "acked.log"))
    const lost = acked.filter((a) => !steps.has(a.join(" ")))
    expect(lost, "acknowledged as committed but missing after restart").toEqual([])

    const gaps = db
      .prepare(
        "SELECT actor_id FROM actors a WHERE seq + 1 <> (SELECT COUNT(*) FROM journal j WHERE j.actor_id = a.actor_id)",
      )
      .all()
    expect(gaps).toEqual([])
    expect(db.prepare("SELECT status, COUNT(*) AS n FROM orders GROUP BY status").all()).toEqual([
      { status: "EXECUTED", n: actors },
    ])
    expect(db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE status <> 'done'").get()).toEqual({ n: 0 })
    db.close()

    const ledger = ledgerBroker(join(dir, "ledger.db"))
    expect(ledger.duplicates(), "an idempotency key was run twice").toEqual([])
    expect(ledger.placements()).toBe(actors)
    ledger.close()

    const verify = spawnSync(
      process.execPath,
      [join(root, "bin/warden.js"), "verify", "--replay", "--db", join(dir, "warden.db")],
      { encoding: "utf8" },
    )
    expect(verify.stdout).toContain(`${actors} actors checked, 0 mismatches`)
    expect(verify.status).toBe(0)
  })
})

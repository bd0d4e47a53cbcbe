/**
 * `warden audit`: the audit of a database file, always through a read-only copy of it.
 *
 *   warden audit --db FILE --serve [--port N] [--host H]   the audit page at http://H:N/audit
 *   warden audit ACTOR_ID --db FILE --html OUT.html        a self-contained report (opens offline)
 *   warden audit ACTOR_ID --db FILE --json OUT.json        the same data as JSON
 *   warden audit ACTOR_ID --db FILE                        the actor's timeline as text
 */
import { writeFileSync } from "node:fs"
import { Clock, Console, Effect } from "effect"
import { clientScript, reportHtml } from "../audit/AuditPage.js"
import { auditOfCopy, startAuditServer } from "../audit/AuditServer.js"
import { type AuditReport, AuditService } from "../audit/AuditService.js"
import { timeText } from "../audit/Html.js"
import { CliExit } from "./Launch.js"

/** The port `--serve` listens on unless `--port` says otherwise. */
export const auditPortDefault = 8081

type Values = Record<string, string | boolean | undefined>

const serve = (db: string, values: Values) =>
  Effect.scoped(
    Effect.gen(function* () {
      const port = values.port === undefined ? auditPortDefault : Number(values.port)
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        return yield* Effect.fail(new CliExit(2, `warden audit: --port must be a port number, not ${values.port}`))
      const host = typeof values.host === "string" ? values.host : "127.0.0.1"
      const url = yield* startAuditServer({ db, port, host })
      yield* Console.log(`audit of a read-only copy of ${db}: ${url}  (Ctrl-C stops)`)
      return yield* Effect.never
    }),
  )

const textTimeline = (report: AuditReport): string => {
  const d = report.actors[report.rootId]!
  const lines = [
    `${d.actor.actor_type} ${d.actor.actor_id}  (${d.actor.machine_version}, ${d.actor.state}, ${d.actor.status})`,
    ...d.timeline.rows.map(
      (r) =>
        `${String(r.seq).padStart(4)}  ${timeText(r.at)}  ${r.event.padEnd(20)} ${r.from ?? "·"} → ${r.to}  cause=${r.cause ?? "-"}${r.refused ? `  REFUSED: ${r.refused}` : ""}`,
    ),
    `chain: ${d.chain.members.filter((m) => m !== d.actor.actor_id).join(", ") || "none"}`,
  ]
  return lines.join("\n")
}

const exportReport = (db: string, id: string, values: Values) =>
  Effect.gen(function* () {
    const audit = yield* AuditService
    const report = yield* audit.report(id, yield* Clock.currentTimeMillis)
    if (!report) return yield* Effect.fail(new CliExit(1, `warden audit: no actor ${id} in ${db}`))
    if (typeof values.json === "string") {
      writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`)
      yield* Console.log(`wrote ${values.json}`)
    }
    if (typeof values.html === "string") {
      writeFileSync(values.html, reportHtml(report, yield* clientScript))
      yield* Console.log(`wrote ${values.html} (${Object.keys(report.actors).length} actors)`)
    }
    if (values.json === undefined && values.html === undefined) yield* Console.log(textTimeline(report))
    return 0
  }).pipe(Effect.provide(auditOfCopy(db)))

/** Serves the audit page, or exports or prints one actor's audit. */
export const auditCommand = (values: Values, positionals: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const db = values.db
    if (typeof db !== "string") return yield* Effect.fail(new CliExit(2, "warden audit: --db FILE is required"))
    if (values.serve === true) return yield* serve(db, values)
    const id = positionals[0]
    if (id === undefined)
      return yield* Effect.fail(new CliExit(2, "warden audit: give an ACTOR_ID, or --serve for the audit page"))
    return yield* exportReport(db, id, values)
  })

/**
 * The standalone audit: `warden audit --db FILE --serve`. The file is first copied (SQLite's
 * online backup, a consistent snapshot even while an engine writes to it) into a temporary folder,
 * and the copy is opened read-only; the audited file is never opened for writing. The page is
 * served at `/audit`, without live updates (there is no engine).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { NodeHttpServer } from "@effect/platform-node"
import Sqlite from "better-sqlite3"
import { Effect, Layer, type Scope } from "effect"
import { DatabaseError, databaseLayer, errorText } from "../store/Database.js"
import { auditRouter } from "./AuditRoutes.js"
import { AuditService } from "./AuditService.js"

/** A consistent copy of a database file in a temporary folder, removed when the scope closes. */
export const copyDatabase = (source: string): Effect.Effect<string, DatabaseError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const db = new Sqlite(source, { readonly: true, fileMustExist: true })
        const dir = mkdtempSync(join(tmpdir(), "warden-audit-"))
        const copy = join(dir, "audit.db")
        try {
          await db.backup(copy)
          return copy
        } catch (e) {
          rmSync(dir, { recursive: true, force: true })
          throw e
        } finally {
          db.close()
        }
      },
      catch: (e) => new DatabaseError({ stage: "open", filename: source, message: errorText(e) }),
    }),
    (copy) => Effect.sync(() => rmSync(join(copy, ".."), { recursive: true, force: true })),
  )

/** The audit service on a read-only copy of a database file. */
export const auditOfCopy = (source: string): Layer.Layer<AuditService, DatabaseError> =>
  Layer.unwrapScoped(
    Effect.map(copyDatabase(source), (copy) =>
      AuditService.Default.pipe(Layer.provide(databaseLayer({ filename: copy, readonly: true }))),
    ),
  )

/** Where the standalone audit listens. */
export interface AuditServerOptions {
  readonly db: string
  readonly port: number
  readonly host?: string
}

/** Serves the audit of a copied file at `/audit` (and redirects `/` there) until the scope closes; its URL. */
export const startAuditServer = (options: AuditServerOptions): Effect.Effect<string, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const app = HttpRouter.empty.pipe(
      HttpRouter.mount("/audit", auditRouter({ liveSocketPath: "" })),
      HttpRouter.get("/", Effect.succeed(HttpServerResponse.redirect("/audit", { status: 302 }))),
    )
    const server = NodeHttpServer.layer(() => createServer(), { port: options.port, host: options.host ?? "127.0.0.1" })
    const layer = HttpServer.serve(app).pipe(Layer.provideMerge(server), Layer.provide(auditOfCopy(options.db)))
    const context = yield* Layer.build(layer)
    const address = Effect.provide(HttpServer.addressFormattedWith(Effect.succeed), context)
    return `${yield* address}/audit`
  })

/**
 * The operator's switches of the exit pipeline: dark mode (signals and intents are written, no
 * exit is executed), execution enabled per account and per symbol (with a default for each), and
 * exit halts per account (intents rejected with ACCOUNT_HALTED). Every change is written to the
 * database first (migrations/0005) and applied in memory after; the engine reads them at start,
 * so they survive restarts. Reads are synchronous: the gates consult them on the hot path.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, type Scope } from "effect"

/** Which kind of execution flag. */
export type FlagScope = "account" | "symbol"

/** Every switch, as the operator sees them. */
export interface ExitSettingsView {
  readonly darkMode: boolean
  readonly accountDefault: boolean
  readonly symbolDefault: boolean
  readonly accounts: Readonly<Record<string, boolean>>
  readonly symbols: Readonly<Record<string, boolean>>
  readonly halts: Readonly<Record<string, string>>
}

interface State {
  darkMode: boolean
  accountDefault: boolean
  symbolDefault: boolean
  readonly flags: Record<FlagScope, Map<string, boolean>>
  readonly halts: Map<string, string>
}

const load = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    const named = new Map(
      (yield* sql<{ name: string; value: string }>`SELECT name, value FROM exit_settings`).map((r) => [
        r.name,
        r.value,
      ]),
    )
    const state: State = {
      darkMode: named.get("dark_mode") === "1",
      accountDefault: named.get("account_default") !== "0",
      symbolDefault: named.get("symbol_default") !== "0",
      flags: { account: new Map(), symbol: new Map() },
      halts: new Map(),
    }
    const flags = yield* sql<{ scope: FlagScope; name: string; enabled: number }>`
      SELECT scope, name, enabled FROM exit_execution_flags`
    for (const f of flags) state.flags[f.scope].set(f.name, f.enabled === 1)
    for (const h of yield* sql<{ account_id: string; reason: string }>`SELECT account_id, reason FROM exit_halts`)
      state.halts.set(h.account_id, h.reason)
    return state
  })

/** The exit pipeline's operator switches, durable. */
export class ExitSettings extends Effect.Service<ExitSettings>()("warden/ExitSettings", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const state = yield* Effect.orDie(load(sql))
    const listeners = new Set<() => void>()
    const changed = () => {
      for (const l of listeners) l()
    }

    const setNamed = (name: string, on: boolean) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const value = on ? "1" : "0"
        yield* sql`INSERT INTO exit_settings (name, value, updated_at) VALUES (${name}, ${value}, ${now})
          ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
      }).pipe(Effect.orDie)

    const setFlag = (scope: FlagScope, name: string, enabled: boolean | null) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        if (enabled === null) yield* sql`DELETE FROM exit_execution_flags WHERE scope = ${scope} AND name = ${name}`
        else
          yield* sql`INSERT INTO exit_execution_flags (scope, name, enabled, updated_at)
            VALUES (${scope}, ${name}, ${enabled ? 1 : 0}, ${now})
            ON CONFLICT(scope, name) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`
        if (enabled === null) state.flags[scope].delete(name)
        else state.flags[scope].set(name, enabled)
        changed()
      }).pipe(Effect.orDie)

    return {
      /** True while dark mode is on. */
      darkMode: (): boolean => state.darkMode,
      /** True when an exit on this account and symbol is executed (not dark). */
      executes: (accountId: string, symbol: string): boolean =>
        !state.darkMode &&
        (state.flags.account.get(accountId) ?? state.accountDefault) &&
        (state.flags.symbol.get(symbol) ?? state.symbolDefault),
      /** Why exits are halted on the account, or null. */
      exitsHalted: (accountId: string): string | null => state.halts.get(accountId) ?? null,
      /** Turns dark mode on or off. */
      setDarkMode: (on: boolean) =>
        Effect.tap(setNamed("dark_mode", on), () => {
          state.darkMode = on
          changed()
        }),
      /** Enables or disables execution for one account or symbol; null returns it to the default. */
      setExecution: setFlag,
      /** The default of accounts or symbols without a flag of their own. */
      setExecutionDefault: (scope: FlagScope, enabled: boolean) =>
        Effect.tap(setNamed(`${scope}_default`, enabled), () => {
          if (scope === "account") state.accountDefault = enabled
          else state.symbolDefault = enabled
          changed()
        }),
      /** Halts exits on an account (its intents are rejected) until resumed. */
      haltExits: (accountId: string, reason: string) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          yield* sql`INSERT INTO exit_halts (account_id, reason, since) VALUES (${accountId}, ${reason}, ${now})
            ON CONFLICT(account_id) DO UPDATE SET reason = excluded.reason`
          state.halts.set(accountId, reason)
          changed()
        }).pipe(Effect.orDie),
      /** Lifts an account's exit halt. */
      resumeExits: (accountId: string) =>
        Effect.gen(function* () {
          yield* sql`DELETE FROM exit_halts WHERE account_id = ${accountId}`
          state.halts.delete(accountId)
          changed()
        }).pipe(Effect.orDie),
      /** Every switch. */
      view: (): ExitSettingsView => ({
        darkMode: state.darkMode,
        accountDefault: state.accountDefault,
        symbolDefault: state.symbolDefault,
        accounts: Object.fromEntries(state.flags.account),
        symbols: Object.fromEntries(state.flags.symbol),
        halts: Object.fromEntries(state.halts),
      }),
      /** Calls `listener` after every change, for the life of the scope. */
      onChange: (listener: () => void): Effect.Effect<void, never, Scope.Scope> =>
        Effect.acquireRelease(
          Effect.sync(() => listeners.add(listener)),
          () => Effect.sync(() => listeners.delete(listener)),
        ),
    }
  }),
}) {}

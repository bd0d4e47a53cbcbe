/**
 * The strategy interface: a strategy is a module the engine loads (a TypeScript file named in the
 * configuration) whose default export (or export `strategy`) is a `Strategy`. It receives ticks
 * and the committed transitions of its own orders, and emits commands with `ctx.submit`, which
 * goes through the entry path (validation, persistence, risk manager, execution guard): it has no
 * other way to the broker. Callbacks may be synchronous or return a promise; one that throws,
 * rejects or overruns its time stops the strategy's entries (its exits still go through).
 */
import type { CommandOutcome, UniversalOrderCommand } from "../domain/Commands.js"
import type { Tick } from "../market/TickHub.js"
import type { Transition } from "../runtime/ActorRuntime.js"

/**
 * A command as a strategy writes it: the source is always `strategy`; the account defaults to the
 * strategy's, and the command id to a fresh one (give one to make a retry idempotent). The host
 * prefixes the id with the strategy's name.
 */
export type StrategyCommand = Omit<typeof UniversalOrderCommand.Encoded, "source" | "commandId" | "accountId"> & {
  readonly commandId?: string
  readonly accountId?: string
}

/** What a strategy is given: its identity, its parameters, a way to submit, and market reads. */
export interface StrategyContext {
  readonly name: string
  readonly accountId: string
  /** The `params` of the strategy's configuration entry. */
  readonly params: Readonly<Record<string, unknown>>
  /** Submits a command through the entry path; a refusal comes back as a REFUSED outcome with its reason. */
  readonly submit: (command: StrategyCommand) => Promise<CommandOutcome>
  /** The last tick of a symbol, when one was seen. */
  readonly last: (symbol: string) => Tick | undefined
  /** Epoch ms from the engine's Clock. */
  readonly now: () => number
  readonly log: (message: string) => void
}

/** A callback's result: nothing, or a promise of nothing. */
export type Callback = void | Promise<void>

/** A strategy module's export. */
export interface Strategy {
  /** Unique among the loaded strategies; prefixes its command ids. */
  readonly name: string
  /** Called once, after loading. */
  readonly onStart?: (ctx: StrategyContext) => Callback
  /** Called for every tick (a slow strategy skips old ticks; it never holds up the feed). */
  readonly onTick?: (tick: Tick, ctx: StrategyContext) => Callback
  /** Called for every committed transition of an order the strategy submitted. */
  readonly onOrderEvent?: (transition: Transition, ctx: StrategyContext) => Callback
}

/** Types a strategy module's export. */
export const defineStrategy = (strategy: Strategy): Strategy => strategy

/** True when a value has a strategy's shape: a name, and functions where callbacks are given. */
export const isStrategy = (value: unknown): value is Strategy => {
  if (typeof value !== "object" || value === null) return false
  const s = value as Record<string, unknown>
  if (typeof s.name !== "string" || s.name.length === 0) return false
  return ["onStart", "onTick", "onOrderEvent"].every((k) => s[k] === undefined || typeof s[k] === "function")
}

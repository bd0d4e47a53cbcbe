/**
 * The engine a simulation drives, built from a scenario with `simulationEngineLayer` (the engine
 * layer and the entry path exactly as `warden run` composes them, with the risk manager) on one
 * SQLite file, in a scope the harness owns: a crash closes that scope abruptly (interrupted, no
 * clean stop of the harness's work) and builds the layer again from the same file.
 */
import { type Context, Effect, Exit, FiberId, Layer, Scope } from "effect"
import { type PaperBrokerOptions, PaperAccounts } from "../broker/PaperBroker.js"
import { type LiveAccount, simulationEngineLayer } from "../main.js"
import { Instruments } from "../orders/Instruments.js"
import type { RiskLimits, RiskOptions } from "../risk/RiskConfig.js"
import type { SimWire } from "./fakes/SimVenues.js"
import type { Scenario } from "./Scenario.js"

/** The risk limits of each account; `setLimit` steps change them in place. */
export type LimitsByAccount = Record<string, Partial<RiskLimits>>

/** The instrument master of a scenario: its instruments and the symbols of its holdings. */
export const instrumentsOf = (scenario: Scenario): Instruments =>
  Instruments.fromList([
    ...scenario.instruments.map((i) => ({
      exchange: i.exchange,
      symbol: i.symbol,
      tickSize: i.tickSize,
      lotSize: i.lotSize,
      marketOrders: i.marketOrders,
      freezeQty: i.freezeQty ?? null,
    })),
    ...scenario.accounts
      .flatMap((a) => a.holdings)
      .filter((h) => !scenario.instruments.some((i) => i.symbol === h.symbol))
      .map((h) => ({ exchange: h.exchange, symbol: h.symbol, tickSize: 0.05, lotSize: 1 })),
  ])

/** The limits each account starts with. */
export const limitsOf = (scenario: Scenario): LimitsByAccount =>
  Object.fromEntries(
    scenario.accounts.map((a) => {
      const { id, broker: _b, capital: _c, holdings: _h, ...limits } = a
      return [id, Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined))]
    }),
  )

/**
 * The layer of a scenario's engine on `dbFile`: its paper accounts, and its fake-broker accounts
 * connected through the real adapters to the fakes of `wire`.
 */
export const scenarioLayer = (scenario: Scenario, dbFile: string, limits: LimitsByAccount, wire: SimWire | null) => {
  const instruments = instrumentsOf(scenario)
  const startMs = Date.parse(scenario.start)
  const paperAccounts = scenario.accounts
    .filter((a) => a.broker === "paper")
    .map(
      (a): PaperBrokerOptions => ({
        accountId: a.id,
        capital: a.capital,
        holdings: a.holdings,
        instruments,
        faults: scenario.broker,
        startMs,
      }),
    )
  const liveAccounts = (wire?.venues ?? []).map((v): LiveAccount => ({ accountId: v.accountId, connect: v.connect }))
  const risk: Partial<RiskOptions> = { accounts: limits }
  return simulationEngineLayer({
    // A simulated crash drops the process's state, not the machine's: the OS keeps what was written.
    database: { filename: dbFile, synchronous: "NORMAL" },
    paperAccounts,
    liveAccounts,
    instruments,
    risk,
    exits: { instruments, squareOffDefault: scenario.squareOff?.MIS ?? "15:15" },
  })
}

/** What `scenarioLayer` provides. */
export type SimServices = Layer.Layer.Success<ReturnType<typeof scenarioLayer>>

/** A running engine: its services, the scope that holds them, and the fake brokers it is connected to. */
export interface RunningEngine {
  readonly context: Context.Context<SimServices>
  readonly scope: Scope.CloseableScope
  readonly wire: SimWire | null
}

/** Builds the engine in a fresh scope. */
export const startEngine = <E>(layer: Layer.Layer<SimServices, E>, wire: SimWire | null = null) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    // A database that cannot be opened is no scenario outcome: the run dies with it.
    const context = yield* Effect.orDie(Layer.buildWithScope(layer, scope))
    return { context, scope, wire } satisfies RunningEngine
  })

/** Drops the engine as a kill would: its scope closed as interrupted, whatever it was doing. */
export const crashEngine = (engine: RunningEngine) => Scope.close(engine.scope, Exit.interrupt(FiberId.none))

/** Sets every broker (or one account's) down or up: paper brokers, and fake brokers' servers. */
export const setBrokerDown = (engine: RunningEngine, down: boolean, accountId?: string) =>
  Effect.gen(function* () {
    engine.wire?.setDown(down, accountId)
    const paper = yield* PaperAccounts
    for (const [id, broker] of paper.accounts)
      if (accountId === undefined || id === accountId) yield* broker.setDown(down)
  }).pipe(Effect.provide(engine.context))

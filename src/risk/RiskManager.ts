/**
 * The risk manager (seed "complete order flow", ARCHITECTURE.md §3), per account. It decides and
 * never places an order: `check` is the `RiskGate` the entry path asks after the Order is
 * CREATED. It gathers the account's facts (the Account actor's standing, the broker's positions
 * and funds, the orders working, the day's P&L), judges them with the pure rules (`RiskRules`,
 * `ExecutionGuard`), and writes every block with its code and reason (`risk_blocks`) before
 * answering. A broker that does not answer in time leaves the engine's own fills as positions
 * and no funds (entries are then refused, exits still judged). Checks of one account run one at a
 * time, so two entries cannot both pass a limit that only one fits.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Cause, Clock, Effect, Layer, Metric } from "effect"
import type { Broker, BrokerFunds, BrokerPosition } from "../broker/Broker.js"
import { Brokers } from "../broker/Brokers.js"
import type { UniversalOrderCommand } from "../domain/Commands.js"
import type { OrderPurpose, Product, Side } from "../domain/Trading.js"
import { TickHub } from "../market/TickHub.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { readStanding, sendToAccount } from "./AccountActor.js"
import { type DayTrade, dayPnl } from "./DayPnl.js"
import { dayStartOf, limitsFor, RiskConfig, type RiskLimits } from "./RiskConfig.js"
import type { AccountFacts, Block, DayPnl, PositionRow, Standing, WorkingOrder } from "./RiskFacts.js"
import { RiskGate, type RiskDecision } from "./RiskGate.js"
import { riskBlocks } from "./RiskMetrics.js"
import { decide } from "./RiskRules.js"

/** What the facts of an account are gathered for. */
export interface FactsRequest {
  /** The symbol whose last price the decision needs. */
  readonly symbol?: string
  /** The order the decision is about (it is CREATED already; it must not count as working). */
  readonly excludeOrderId?: string | null
  /** Whether the broker's funds are read (entries only). */
  readonly funds?: boolean
}

/** The account's facts plus the broker's raw position book (null when the broker did not answer). */
export interface GatheredFacts extends AccountFacts {
  readonly book: ReadonlyArray<BrokerPosition> | null
}

/** A recorded block, for diagnostics. */
export interface BlockRow {
  readonly account_id: string
  readonly command_id: string
  readonly execution_type: string
  readonly symbol: string
  readonly side: string
  readonly qty: number
  readonly code: string
  readonly reason: string
  readonly at: number
}

/** A recorded enforcer intervention, for diagnostics. */
export interface InterventionRow {
  readonly account_id: string
  readonly kind: string
  readonly action: string
  readonly detail: string
  readonly orders: number
  readonly at: number
}

/** One account's risk picture, for diagnostics and the dashboard. */
export interface RiskReport {
  readonly accountId: string
  readonly standing: Standing
  readonly limits: RiskLimits
  readonly pnl: DayPnl
  readonly positionsFrom: "broker" | "engine"
  readonly openPositions: ReadonlyArray<PositionRow>
  readonly working: ReadonlyArray<WorkingOrder>
}

/** A cause in one line: the error's message. */
const messageOf = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return e instanceof Error ? e.message : String(e)
}

type WorkingRow = {
  order_id: string
  symbol: string
  exchange: string
  product: Product
  side: Side
  qty: number
  filled_qty: number
  purpose: OrderPurpose
}
type TradeRow = {
  symbol: string
  direction: "LONG" | "SHORT"
  qty: number
  entry_price: number
  status: string
  realized_pnl: number | null
}
type NetRow = { symbol: string; exchange: string; product: Product; net: number }

/** The per-account risk manager. */
export class RiskManager extends Effect.Service<RiskManager>()("warden/RiskManager", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rt = yield* ActorRuntime
    const brokers = yield* Brokers
    const hub = yield* TickHub
    const config = yield* RiskConfig
    const permits = new Map<string, Effect.Semaphore>()
    const permitOf = (accountId: string) => {
      const found = permits.get(accountId)
      if (found) return found
      const made = Effect.unsafeMakeSemaphore(1)
      permits.set(accountId, made)
      return made
    }
    const last = (symbol: string) => hub.last(symbol)?.ltp

    /** A broker read, retried once and bounded in time; null (logged) when it fails, times out or dies. */
    const brokerRead = <A>(accountId: string, what: string, read: (b: Broker) => Effect.Effect<A, unknown>) =>
      Effect.flatMap(brokers.forAccount(accountId), read).pipe(
        Effect.retry({ times: 1 }),
        Effect.timeoutFail({ duration: config.brokerReadTimeoutMs, onTimeout: () => new Error(`${what} timed out`) }),
        Effect.catchAllCause((cause) =>
          Effect.as(Effect.logWarning(`risk: broker ${what} unreadable for ${accountId}: ${messageOf(cause)}`), null),
        ),
      )

    const enginePositions = (accountId: string) =>
      Effect.map(
        Effect.orDie(sql<NetRow>`
          SELECT symbol, exchange, product, SUM(CASE side WHEN 'BUY' THEN filled_qty ELSE -filled_qty END) AS net
          FROM orders WHERE account_id = ${accountId} GROUP BY symbol, exchange, product`),
        (rows) =>
          rows.map(
            (r): PositionRow => ({
              symbol: r.symbol,
              exchange: r.exchange,
              product: r.product,
              netQty: r.net,
              ltp: last(r.symbol) ?? 0,
            }),
          ),
      )

    const workingOrders = (accountId: string, excluding: string | null) =>
      Effect.map(
        Effect.orDie(sql<WorkingRow>`
          SELECT order_id, symbol, exchange, product, side, qty, filled_qty, purpose FROM orders
          WHERE account_id = ${accountId} AND status IN ('CREATED', 'SENT_TO_BROKER', 'PARTIAL')`),
        (rows) =>
          rows
            .filter((r) => r.order_id !== excluding)
            .map(
              (r): WorkingOrder => ({
                orderId: r.order_id,
                symbol: r.symbol,
                exchange: r.exchange,
                product: r.product,
                side: r.side,
                remainingQty: Math.max(0, r.qty - r.filled_qty),
                purpose: r.purpose,
              }),
            ),
      )

    const dayTrades = (accountId: string) =>
      Effect.gen(function* () {
        const dayStart = dayStartOf(yield* Clock.currentTimeMillis, config.utcOffsetMinutes)
        const rows = yield* Effect.orDie(sql<TradeRow>`
          SELECT symbol, direction, qty, entry_price, status, realized_pnl FROM trades
          WHERE account_id = ${accountId} AND (status <> 'CLOSED' OR closed_at >= ${dayStart})`)
        return rows.map(
          (r): DayTrade => ({
            symbol: r.symbol,
            direction: r.direction,
            qty: r.qty,
            entryPrice: r.entry_price,
            status: r.status,
            realizedPnl: r.realized_pnl,
          }),
        )
      })

    /** Gathers one account's facts: standing, positions, working orders, funds (when asked), P&L. */
    const gather = (accountId: string, request: FactsRequest = {}): Effect.Effect<GatheredFacts> =>
      Effect.gen(function* () {
        const [standing, book, funds, working, trades] = yield* Effect.all(
          [
            readStanding(accountId).pipe(Effect.provideService(ActorRuntime, rt)),
            brokerRead(accountId, "positions", (b) => b.positions),
            request.funds ? brokerRead(accountId, "funds", (b) => b.funds) : Effect.succeed<BrokerFunds | null>(null),
            workingOrders(accountId, request.excludeOrderId ?? null),
            dayTrades(accountId),
          ],
          { concurrency: "unbounded" },
        )
        const positions =
          book === null
            ? yield* enginePositions(accountId)
            : book.map(
                (p): PositionRow => ({
                  symbol: p.symbol,
                  exchange: p.exchange,
                  product: p.product,
                  netQty: p.netQty,
                  ltp: last(p.symbol) ?? p.ltp,
                }),
              )
        const symbolLtp =
          request.symbol === undefined
            ? undefined
            : (last(request.symbol) ?? book?.find((p) => p.symbol === request.symbol)?.ltp)
        return {
          standing,
          positions,
          positionsFrom: book === null ? ("engine" as const) : ("broker" as const),
          funds,
          working,
          pnl: dayPnl(trades, book, last),
          ltp: symbolLtp !== undefined && symbolLtp > 0 ? symbolLtp : null,
          book,
        }
      })

    const recordBlock = (command: UniversalOrderCommand, block: Block) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const reason = `${block.code}: ${block.detail}`
        yield* Effect.orDie(sql`
          INSERT INTO risk_blocks (account_id, command_id, execution_type, symbol, side, qty, code, reason, at)
          VALUES (${command.accountId}, ${command.commandId}, ${command.executionType}, ${command.symbol},
            ${command.side}, ${command.qty}, ${block.code}, ${reason}, ${at})`)
        yield* Metric.increment(Metric.tagged(riskBlocks, "code", block.code))
        yield* Effect.logWarning(
          `risk refused ${command.executionType} ${command.side} ${command.qty} ${command.symbol}: ${reason}`,
        )
        return reason
      })

    const orderOf = (commandId: string) =>
      Effect.map(
        Effect.orDie(sql<{ order_id: string | null }>`SELECT order_id FROM commands WHERE command_id = ${commandId}`),
        (rows) => rows[0]?.order_id ?? null,
      )

    const judge = (command: UniversalOrderCommand) =>
      Effect.gen(function* () {
        const facts = yield* gather(command.accountId, {
          symbol: command.symbol,
          excludeOrderId: yield* orderOf(command.commandId),
          funds: command.executionType !== "EXIT",
        })
        const block = decide(command, facts, limitsFor(config, command.accountId))
        if (block === null) return { allow: true } as const
        return { allow: false, reason: yield* recordBlock(command, block) } as const
      })

    /** Decides on a command (the `RiskGate`); a defect in the decision refuses it, logged. */
    const check = (command: UniversalOrderCommand): Effect.Effect<RiskDecision> =>
      permitOf(command.accountId)
        .withPermits(1)(judge(command))
        .pipe(
          Effect.catchAllCause((cause) =>
            Effect.as(Effect.logError(`risk check failed for ${command.commandId}: ${Cause.pretty(cause)}`), {
              allow: false,
              reason: "RISK_ERROR: the risk check failed; see the log",
            } as const),
          ),
          Effect.annotateLogs({ commandId: command.commandId, accountId: command.accountId }),
        )

    const recordIntervention = (accountId: string, kind: string, action: string, detail: string, orders = 0) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        yield* Effect.orDie(sql`
          INSERT INTO risk_interventions (account_id, kind, action, detail, orders, at)
          VALUES (${accountId}, ${kind}, ${action}, ${detail}, ${orders}, ${at})`)
      })

    const move = (accountId: string, event: { type: string; reason?: string }, cause: string) =>
      sendToAccount(accountId, event, cause).pipe(Effect.provideService(ActorRuntime, rt))

    return {
      check,
      /** Gathers one account's facts (positions, standing, working orders, P&L, funds when asked). */
      gather,
      /** The limits that apply to an account. */
      limitsOf: (accountId: string) => limitsFor(config, accountId),
      /** HALTED by hand (or by the enforcer): no entries; exits and cancels pass. */
      halt: (accountId: string, reason: string, cause = "risk:manual") =>
        move(accountId, { type: "risk.halt", reason }, cause),
      /** REDUCING by hand (or by the enforcer): only exposure-reducing orders. */
      reduce: (accountId: string, reason: string, cause = "risk:manual") =>
        move(accountId, { type: "risk.reduce", reason }, cause),
      /** Back to ACTIVE. */
      resume: (accountId: string, cause = "risk:manual") => move(accountId, { type: "risk.resume" }, cause),
      /** Writes an enforcer intervention for diagnostics. */
      recordIntervention,
      /** The latest blocks, newest first (of one account, or all). */
      blocks: (options: { accountId?: string; limit?: number } = {}) =>
        Effect.orDie(sql<BlockRow>`
          SELECT account_id, command_id, execution_type, symbol, side, qty, code, reason, at FROM risk_blocks
          WHERE (${options.accountId ?? null} IS NULL OR account_id = ${options.accountId ?? null})
          ORDER BY block_id DESC LIMIT ${options.limit ?? 100}`),
      /** The latest enforcer interventions, newest first (of one account, or all). */
      interventions: (options: { accountId?: string; limit?: number } = {}) =>
        Effect.orDie(sql<InterventionRow>`
          SELECT account_id, kind, action, detail, orders, at FROM risk_interventions
          WHERE (${options.accountId ?? null} IS NULL OR account_id = ${options.accountId ?? null})
          ORDER BY intervention_id DESC LIMIT ${options.limit ?? 100}`),
      /** One account's risk picture: standing, limits, P&L, open positions, working orders. */
      report: (accountId: string): Effect.Effect<RiskReport> =>
        Effect.map(gather(accountId), (f) => ({
          accountId,
          standing: f.standing,
          limits: limitsFor(config, accountId),
          pnl: f.pnl,
          positionsFrom: f.positionsFrom,
          openPositions: f.positions.filter((p) => p.netQty !== 0),
          working: f.working,
        })),
    }
  }),
}) {
  /** The risk manager as the entry path's `RiskGate`. */
  static readonly gate = Layer.effect(
    RiskGate,
    Effect.map(RiskManager, (m) => ({ check: m.check })),
  )
}

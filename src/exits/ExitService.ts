/**
 * The broker-truth exit (seed "position exit service"): `requestExit` reads each account's
 * position book, keeps the rows in scope (symbols, product), never touches CNC (holdings are not
 * in the position book; CNC position rows are skipped), takes quantity and side from the net
 * quantity, skips flat rows, refuses a row with an exit already working (the execution guard),
 * and places the exits. The engine's own open trades on a row move through one exit intent over
 * all of them (a position's exit: signal → intent → gates → one order, one per slice at the
 * freeze; with the request's reason, cooldown bypassed), so that an exit-all sends one order per
 * position, not one per trade, which is what a broker's rate limit allows; whatever the position
 * holds beyond them gets plain EXIT Order actors. Emergency exit-all is scope ALL.
 * The risk manager and every other source only call this; none builds an exit order itself.
 *
 * Limitation: a trade is exited through its intent only when it fits in the broker's net
 * position and has the position's direction; other trades are listed as skipped (the broker's
 * book and the engine's disagree: a reconciliation matter).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Either, Option } from "effect"
import type { OrderInput } from "../../machines/OrderMachine.js"
import type { TradeContext } from "../../machines/TradeMachine.js"
import type { BrokerPosition } from "../broker/Broker.js"
import { Brokers } from "../broker/Brokers.js"
import type { ExitReason, Product, Side } from "../domain/Trading.js"
import { TickHub } from "../market/TickHub.js"
import { shapeOrder } from "../orders/OrderShaping.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { Ids } from "../runtime/Ids.js"
import { SqliteConnection } from "../store/SqliteConnection.js"
import { ExitConfig, instrumentOf } from "./ExitConfig.js"
import { ExitQualification, liveIntentStates } from "./ExitQualification.js"
import { ExitSettings } from "./ExitSettings.js"

/** The unified exit intent. */
export interface ExitRequest {
  readonly scope: "ALL" | "SYMBOLS"
  /** The symbols of scope SYMBOLS. */
  readonly symbols?: ReadonlyArray<string> | null
  readonly product: "MIS" | "NRML" | "ALL"
  readonly reason: ExitReason
  /** Who asked: `dashboard`, `risk`, `webhook` … */
  readonly source: string
  /** Only this account's positions (the enforcer's exits); every account when absent. */
  readonly accountId?: string | null
}

/** An exit order placed (committed as sent to the broker). */
export interface PlacedExit {
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly side: Side
  readonly qty: number
  /** Through an engine trade's exit intent, or a plain EXIT order for a position no trade explains. */
  readonly via: "intent" | "order"
  readonly tradeId: string | null
  readonly intentId: string | null
  readonly orderId: string
}

/** A position row or a trade that was not exited, and why. */
export interface SkippedExit {
  readonly accountId: string
  readonly symbol: string | null
  readonly product: Product | null
  readonly tradeId: string | null
  readonly reason: string
}

/** What `requestExit` did. */
export interface ExitResult {
  readonly placed: ReadonlyArray<PlacedExit>
  readonly skipped: ReadonlyArray<SkippedExit>
}

interface Collect {
  readonly placed: Array<PlacedExit>
  readonly skipped: Array<SkippedExit>
}

/** An exit placed on a position row: its side closes the row's net quantity. */
const placedOn = (
  accountId: string,
  p: BrokerPosition,
  exit: Pick<PlacedExit, "qty" | "via" | "tradeId" | "intentId" | "orderId">,
): PlacedExit => ({
  accountId,
  symbol: p.symbol,
  exchange: p.exchange,
  product: p.product,
  side: p.netQty > 0 ? "SELL" : "BUY",
  ...exit,
})

const inScope = (req: ExitRequest, p: BrokerPosition): boolean =>
  (req.scope === "ALL" || (req.symbols ?? []).includes(p.symbol)) &&
  (req.product === "ALL" || p.product === req.product)

/** The broker-truth exit service. */
export class ExitService extends Effect.Service<ExitService>()("warden/ExitService", {
  effect: Effect.gen(function* () {
    const rt = yield* ActorRuntime
    const sql = yield* SqlClient.SqlClient
    const conn = yield* SqliteConnection
    const ids = yield* Ids
    const hub = yield* TickHub
    const brokers = yield* Brokers
    const qualification = yield* ExitQualification
    const settings = yield* ExitSettings
    const config = yield* ExitConfig
    // One request at a time: the execution guard reads, then places; two at once would both pass.
    const oneAtATime = yield* Effect.makeSemaphore(1)

    // The read models (orders, intents, trades) are written only by the runtime's commit: read at
    // once, as the exit gates read them (`SqliteConnection.selectNow`), not queued behind commits.
    const exitWorking = (accountId: string, p: BrokerPosition) =>
      Effect.sync(() => {
        const orders = conn.selectNow<{ id: string }>(
          `SELECT order_id AS id FROM orders WHERE account_id = ? AND symbol = ?
          AND product = ? AND purpose = 'EXIT' AND status IN ('CREATED', 'SENT_TO_BROKER', 'PARTIAL') LIMIT 1`,
          [accountId, p.symbol, p.product],
        )
        if (orders.length > 0) return orders[0]!.id
        // By symbol (`+` keeps SQLite off the account's index, which holds every intent it ever had).
        const intents = conn.selectNow<{ id: string }>(
          `SELECT i.intent_id AS id FROM exit_intents i JOIN trades t ON t.trade_id = i.trade_id
          WHERE +i.user_broker_id = ? AND i.symbol = ? AND t.product = ?
          AND i.state IN (SELECT value FROM json_each(?)) LIMIT 1`,
          [accountId, p.symbol, p.product, JSON.stringify(liveIntentStates)],
        )
        return intents[0]?.id ?? null
      })

    const openTrades = (accountId: string, p: BrokerPosition) =>
      Effect.gen(function* () {
        const rows = conn.selectNow<{ trade_id: string }>(
          `SELECT trade_id FROM trades WHERE account_id = ? AND symbol = ?
          AND product = ? AND status <> 'CLOSED' ORDER BY opened_at, trade_id`,
          [accountId, p.symbol, p.product],
        )
        const out: Array<{ id: string; state: string; c: TradeContext }> = []
        for (const r of rows) {
          const v = yield* rt.view(r.trade_id)
          if (Option.isSome(v))
            out.push({ id: r.trade_id, state: v.value.state, c: v.value.context as unknown as TradeContext })
        }
        return out
      })

    /**
     * Exits engine trades of one position row through one exit intent over all of them (a
     * position's exit, `ExitQualification.submitPosition`): one order for the lot, one per slice
     * at the freeze, instead of one per trade. Each trade's answer is that intent's.
     */
    const exitTrades = (
      req: ExitRequest,
      accountId: string,
      p: BrokerPosition,
      trades: ReadonlyArray<{ readonly id: string; readonly qty: number }>,
      ltp: number | null,
      out: Collect,
    ) =>
      Effect.gen(function* () {
        if (trades.length === 0) return
        const at = yield* Clock.currentTimeMillis
        const candidates = trades.map((t) => ({
          tradeId: t.id,
          accountId,
          symbol: p.symbol,
          exchange: p.exchange,
          product: p.product,
          reason: req.reason,
          price: ltp ?? p.ltp,
          at,
        }))
        const answers = yield* qualification.submitPosition(candidates, {
          source: `request:${req.source}`,
          bypassCooldown: true,
        })
        for (const [i, q] of answers.entries()) {
          const { id: tradeId, qty } = trades[i]!
          const skip = (reason: string) =>
            out.skipped.push({ accountId, symbol: p.symbol, product: p.product, tradeId, reason })
          if (q._tag === "NotEligible") {
            skip(`${q.reason}: ${q.detail}`)
            continue
          }
          const d = q.decision
          if (!d.approved) {
            skip(`${d.code}: ${d.reason}`)
            continue
          }
          if (!d.executed) {
            skip(`DARK: intent ${q.intentId} recorded, not executed`)
            continue
          }
          out.placed.push(
            placedOn(accountId, p, { qty, via: "intent", tradeId, intentId: q.intentId, orderId: d.orderId }),
          )
        }
      })

    /** Places plain EXIT orders for what the position holds beyond the engine's trades. */
    const exitRemainder = (
      req: ExitRequest,
      accountId: string,
      p: BrokerPosition,
      qty: number,
      ltp: number | null,
      out: Collect,
    ) =>
      Effect.gen(function* () {
        const skip = (reason: string) =>
          out.skipped.push({ accountId, symbol: p.symbol, product: p.product, tradeId: null, reason })
        if (!settings.executes(accountId, p.symbol)) return skip(`DARK: execution disabled, ${qty} not exited`)
        const halted = settings.exitsHalted(accountId)
        if (halted !== null) return skip(`ACCOUNT_HALTED: ${halted}`)
        const side: Side = p.netQty > 0 ? "SELL" : "BUY"
        const instrument = instrumentOf(config.instruments, p.exchange, p.symbol)
        const draft = { side, qty, orderType: "MARKET" as const, price: null, triggerPrice: null }
        const shaped = shapeOrder(draft, instrument, { ltp: ltp ?? p.ltp, band: config.limitBand })
        if (Either.isLeft(shaped)) return skip(`SHAPE: ${shaped.left.field}: ${shaped.left.message}`)
        for (const child of shaped.right) {
          const orderId = yield* ids.next("ord")
          const input = {
            orderId,
            accountId,
            symbol: p.symbol,
            exchange: p.exchange,
            side,
            qty: child.qty,
            product: p.product,
            orderType: child.orderType,
            price: child.price,
            triggerPrice: null,
            clientTag: orderId,
            purpose: "EXIT",
            parentId: null,
            createdAt: yield* Clock.currentTimeMillis,
          } satisfies OrderInput
          const cause = `request:${req.source}:${req.reason}`
          const spawned = yield* rt.spawn("order", orderId, input, cause)
          if (spawned.refused !== null) return skip(`REFUSED: ${spawned.refused}`)
          yield* rt.send(orderId, { type: "cmd.place" }, cause)
          out.placed.push(
            placedOn(accountId, p, { qty: child.qty, via: "order", tradeId: null, intentId: null, orderId }),
          )
        }
      })

    /** One position row: the guard, the engine's trades through their intents, then the rest. */
    const exitRow = (req: ExitRequest, accountId: string, p: BrokerPosition, out: Collect) =>
      Effect.gen(function* () {
        const skip = (reason: string, tradeId: string | null = null) =>
          out.skipped.push({ accountId, symbol: p.symbol, product: p.product, tradeId, reason })
        if (p.product === "CNC") return skip("CNC: delivery positions are never exited")
        if (p.netQty === 0) return skip("FLAT: nothing to exit")
        const working = yield* exitWorking(accountId, p)
        if (working !== null) {
          yield* keepPending(req, accountId, p)
          return skip(`EXIT_WORKING: ${working} is already exiting this position; kept until the position is flat`)
        }
        const ltp = hub.last(p.symbol)?.ltp ?? null
        const direction = p.netQty > 0 ? "LONG" : "SHORT"
        let remaining = Math.abs(p.netQty)
        const mine: Array<{ id: string; qty: number }> = []
        for (const t of yield* openTrades(accountId, p)) {
          const qty = t.c.qty - t.c.exitedQty
          if (t.c.direction !== direction || qty > remaining)
            skip(`NOT_IN_POSITION: the broker's net ${p.netQty} does not hold this ${t.c.direction} ${qty}`, t.id)
          else {
            mine.push({ id: t.id, qty })
            remaining -= qty
          }
        }
        yield* exitTrades(req, accountId, p, mine, ltp, out)
        if (remaining > 0) yield* exitRemainder(req, accountId, p, remaining, ltp, out)
      }).pipe(Effect.annotateLogs({ accountId, symbol: p.symbol, product: p.product }))

    /** Keeps a request a working exit stood in the way of, until the position is flat. */
    const keepPending = (req: ExitRequest, accountId: string, p: BrokerPosition) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (at) =>
          sql`INSERT INTO pending_exits (account_id, symbol, product, reason, source, requested_at)
            VALUES (${accountId}, ${p.symbol}, ${p.product}, ${req.reason}, ${req.source}, ${at})
            ON CONFLICT (account_id, symbol, product) DO UPDATE SET reason = excluded.reason,
              source = excluded.source, requested_at = excluded.requested_at`,
      ).pipe(Effect.orDie)

    /**
     * Carries out the kept requests: a flat position's is dropped; one with an exit still working
     * waits; the rest are requested again for that position alone (and kept until it is flat, in
     * case this exit fails too).
     */
    const retryPending = Effect.gen(function* () {
      const pending = yield* Effect.orDie(
        sql<{
          account_id: string
          symbol: string
          product: Product
          reason: ExitReason
          source: string
        }>`SELECT account_id, symbol, product, reason, source FROM pending_exits ORDER BY requested_at`,
      )
      const out: Collect = { placed: [], skipped: [] }
      for (const k of pending) {
        const broker = yield* Effect.option(brokers.forAccount(k.account_id))
        const positions = Option.isSome(broker) ? yield* Effect.either(broker.value.positions) : undefined
        if (!positions || positions._tag === "Left") continue
        const row = positions.right.find((p) => p.symbol === k.symbol && p.product === k.product)
        if (!row || row.netQty === 0) {
          yield* Effect.orDie(sql`DELETE FROM pending_exits WHERE account_id = ${k.account_id}
            AND symbol = ${k.symbol} AND product = ${k.product}`)
          continue
        }
        if ((yield* exitWorking(k.account_id, row)) !== null) continue
        const req = {
          scope: "SYMBOLS",
          symbols: [k.symbol],
          product: k.product === "NRML" ? "NRML" : "MIS",
          reason: k.reason,
          source: `${k.source}:kept`,
          accountId: k.account_id,
        } as const
        yield* Effect.logWarning(`carrying out a kept ${k.reason} exit of ${k.account_id} ${k.symbol} ${k.product}`)
        const result = yield* requestExit(req)
        out.placed.push(...result.placed)
        out.skipped.push(...result.skipped)
      }
      return out as ExitResult
    })

    const exitAccount = (req: ExitRequest, accountId: string, out: Collect) =>
      Effect.gen(function* () {
        const broker = yield* brokers.forAccount(accountId)
        const rows = (yield* broker.positions).filter((p) => inScope(req, p))
        yield* Effect.forEach(rows, (p) => exitRow(req, accountId, p, out), {
          concurrency: config.requestConcurrencyMax,
          discard: true,
        })
      }).pipe(
        Effect.catchAll((e) =>
          Effect.sync(() =>
            out.skipped.push({
              accountId,
              symbol: null,
              product: null,
              tradeId: null,
              reason: `BROKER: ${e.reason}: ${e.message}`,
            }),
          ),
        ),
      )

    const requestExit = (req: ExitRequest): Effect.Effect<ExitResult> =>
      oneAtATime.withPermits(1)(
        Effect.gen(function* () {
          const out: Collect = { placed: [], skipped: [] }
          yield* Effect.logInfo(`exit requested: ${req.scope} ${req.product} by ${req.source} (${req.reason})`)
          const accounts = req.accountId
            ? [...brokers.all.keys()].filter((a) => a === req.accountId)
            : brokers.all.keys()
          yield* Effect.forEach(accounts, (a) => exitAccount(req, a, out), {
            concurrency: "unbounded",
            discard: true,
          })
          return out
        }),
      )

    return {
      /** Exits broker positions in scope; what was placed and what was skipped, with reasons. */
      requestExit,
      /** Carries out the requests an exit already working stood in the way of (the enforcer's cycle). */
      retryPending,
      /** Emergency exit-all: every MIS and NRML position of every account. */
      exitAll: (reason: ExitReason, source: string) => requestExit({ scope: "ALL", product: "ALL", reason, source }),
    }
  }),
}) {}

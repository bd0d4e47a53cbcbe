/**
 * The entry path (seed "complete order flow"): a validated `UniversalOrderCommand` is checked
 * against the instrument master (symbol known, quantity a multiple of the lot, prices on the tick:
 * refused before any order exists), persisted (`commands`, status RECEIVED), turned into an Order
 * actor (CREATED, committed), checked by the risk gate, and sent (`cmd.place`) or refused
 * (`risk.denied`, the order FAILED with the reason). A command id seen before is answered with its
 * first outcome and executed no further; a command whose run was cut short by a crash is resumed
 * with the same order id, so it never makes two orders.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Context, Data, Effect, Either, Layer, Option } from "effect"
import type { CommandOutcome, UniversalOrderCommand } from "../domain/Commands.js"
import { ActorRuntime } from "../runtime/ActorRuntime.js"
import { Ids } from "../runtime/Ids.js"
import { RiskGate } from "../risk/RiskGate.js"
import { InstrumentMaster } from "./Instruments.js"
import { checkLot, checkPrice } from "./OrderShaping.js"

/** A command refused before anything was written: the field and why. */
export class CommandRefused extends Data.TaggedError("CommandRefused")<{
  readonly field: string
  readonly message: string
}> {}

/** Submits commands. */
export class OrderEntry extends Context.Tag("warden/OrderEntry")<
  OrderEntry,
  { readonly submit: (command: UniversalOrderCommand) => Effect.Effect<CommandOutcome, CommandRefused> }
>() {}

/**
 * Hands an entry order to whoever opens its trade when it executes; returns the trade id, which
 * becomes the order's parent. Called again for a resumed command: it must be idempotent by order id.
 */
export class EntryTrades extends Context.Tag("warden/EntryTrades")<
  EntryTrades,
  { readonly prepare: (command: UniversalOrderCommand, orderId: string) => Effect.Effect<string | null> }
>() {
  /** No trade follows an entry (orders only). */
  static readonly none = Layer.succeed(EntryTrades, { prepare: () => Effect.succeed(null) })
}

type Row = {
  status: "RECEIVED" | "ACCEPTED" | "REFUSED"
  order_id: string | null
  trade_id: string | null
  reason: string | null
}

/** Validates a command against the instrument master: the first field at fault, or nothing. */
export const validate = (
  command: UniversalOrderCommand,
  instruments: InstrumentMaster["Type"],
): CommandRefused | null => {
  const found = instruments.get(command.exchange, command.symbol)
  if (Option.isNone(found))
    return new CommandRefused({ field: "symbol", message: `unknown instrument ${command.exchange}:${command.symbol}` })
  const i = found.value
  const lot = checkLot(command.qty, i.lotSize)
  if (Either.isLeft(lot)) return new CommandRefused({ field: "qty", message: lot.left.message })
  for (const field of ["price", "triggerPrice"] as const) {
    const value = command[field]
    if (value === null) continue
    const p = checkPrice(value, i.tickSize, field)
    if (Either.isLeft(p)) return new CommandRefused({ field, message: p.left.message })
  }
  if ((command.orderType === "LIMIT" || command.orderType === "SL") && command.price === null) {
    return new CommandRefused({ field: "price", message: `price is required for a ${command.orderType} order` })
  }
  if ((command.orderType === "SL" || command.orderType === "SL-M") && command.triggerPrice === null) {
    return new CommandRefused({
      field: "triggerPrice",
      message: `triggerPrice is required for a ${command.orderType} order`,
    })
  }
  return null
}

/** The entry path over the runtime, the risk gate and the instrument master. */
export const layer = Layer.effect(
  OrderEntry,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rt = yield* ActorRuntime
    const ids = yield* Ids
    const risk = yield* RiskGate
    const instruments = yield* InstrumentMaster
    const trades = yield* EntryTrades

    const outcome = (commandId: string, r: Row, duplicate: boolean): CommandOutcome => ({
      commandId,
      status: r.status === "REFUSED" ? "REFUSED" : "ACCEPTED",
      orderId: r.order_id,
      tradeId: r.trade_id,
      reason: r.reason,
      duplicate,
    })

    const setStatus = (commandId: string, status: Row["status"], reason: string | null, at: number) =>
      sql`UPDATE commands SET status = ${status}, reason = ${reason}, updated_at = ${at} WHERE command_id = ${commandId}`.pipe(
        Effect.orDie,
      )

    /** Creates (or finds, after a crash) the order, asks the risk gate, and sends or refuses it. */
    const run = (command: UniversalOrderCommand, orderId: string, tradeId: string | null) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const existing = yield* rt.view(orderId)
        if (Option.isNone(existing)) {
          yield* rt.spawn(
            "order",
            orderId,
            {
              orderId,
              accountId: command.accountId,
              symbol: command.symbol,
              exchange: command.exchange,
              side: command.side,
              qty: command.qty,
              product: command.product,
              orderType: command.orderType,
              price: command.price,
              triggerPrice: command.triggerPrice,
              clientTag: orderId,
              purpose: command.executionType === "EXIT" ? "EXIT" : "ENTRY",
              parentId: tradeId,
              createdAt: at,
            },
            `command:${command.commandId}`,
          )
        } else if (existing.value.state !== "CREATED") {
          return { status: "ACCEPTED" as const, reason: null }
        }
        const decision = yield* risk.check(command)
        if (!decision.allow) {
          yield* rt.send(orderId, { type: "risk.denied", reason: decision.reason }, `command:${command.commandId}`)
          yield* setStatus(command.commandId, "REFUSED", decision.reason, at)
          return { status: "REFUSED" as const, reason: decision.reason }
        }
        yield* rt.send(orderId, { type: "cmd.place" }, `command:${command.commandId}`)
        yield* setStatus(command.commandId, "ACCEPTED", null, at)
        return { status: "ACCEPTED" as const, reason: null }
      })

    const submit = (command: UniversalOrderCommand) =>
      Effect.gen(function* () {
        const seen =
          yield* sql<Row>`SELECT status, order_id, trade_id, reason FROM commands WHERE command_id = ${command.commandId}`.pipe(
            Effect.orDie,
          )
        const first = seen[0]
        if (first && first.status !== "RECEIVED") return outcome(command.commandId, first, true)
        let orderId = first?.order_id ?? null
        let tradeId = first?.trade_id ?? null
        if (!first) {
          const refused = validate(command, instruments)
          if (refused) return yield* Effect.fail(refused)
          const at = yield* Clock.currentTimeMillis
          orderId = yield* ids.next("ord")
          yield* sql`INSERT INTO commands (command_id, execution_type, source, account_id, symbol, payload, status, order_id, trade_id, reason, created_at, updated_at)
            VALUES (${command.commandId}, ${command.executionType}, ${command.source}, ${command.accountId}, ${command.symbol}, ${JSON.stringify(command)}, 'RECEIVED', ${orderId}, NULL, NULL, ${at}, ${at})`.pipe(
            Effect.orDie,
          )
        }
        if (command.executionType === "ENTRY" && tradeId === null) {
          tradeId = yield* trades.prepare(command, orderId!)
          if (tradeId !== null)
            yield* sql`UPDATE commands SET trade_id = ${tradeId} WHERE command_id = ${command.commandId}`.pipe(
              Effect.orDie,
            )
        }
        const r = yield* run(command, orderId!, tradeId)
        return outcome(
          command.commandId,
          { status: r.status, order_id: orderId, trade_id: tradeId, reason: r.reason },
          first !== undefined,
        )
      }).pipe(Effect.annotateLogs({ commandId: command.commandId }))

    return { submit }
  }),
)

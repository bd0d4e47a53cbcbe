/**
 * Helpers of the risk tests: commands through the entry path, orders placed at the paper broker
 * directly (as from outside the engine), the broker's net positions, the account's state, and a
 * broker wrapper that fails on the calls a script picks.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { BrokerError, type Broker, type PlaceRequest } from "../../src/broker/Broker.js"
import { Brokers } from "../../src/broker/Brokers.js"
import { PaperAccounts } from "../../src/broker/PaperBroker.js"
import type { UniversalOrderCommand } from "../../src/domain/Commands.js"
import { Instruments } from "../../src/orders/Instruments.js"
import { OrderEntry } from "../../src/orders/OrderEntry.js"
import { ActorRuntime } from "../../src/runtime/ActorRuntime.js"

/** The instruments of the risk tests: two futures and four stocks. */
export const riskInstruments = Instruments.fromList([
  { exchange: "NFO", symbol: "NIFTY26MARFUT", tickSize: 0.05, lotSize: 65, freezeQty: 1800 },
  { exchange: "NFO", symbol: "BANKNIFTY26MARFUT", tickSize: 0.2, lotSize: 30 },
  { exchange: "NSE", symbol: "RELIANCE-EQ", tickSize: 0.05, lotSize: 1 },
  { exchange: "NSE", symbol: "TCS-EQ", tickSize: 0.05, lotSize: 1 },
  { exchange: "NSE", symbol: "INFY-EQ", tickSize: 0.05, lotSize: 1 },
])

/** An account of the risk tests: 10 million of capital, the risk instruments. */
export const riskAccount = (accountId = "U1") => ({ accountId, instruments: riskInstruments, capital: 10_000_000 })

const exchangeOf = (symbol: string) => (symbol.endsWith("FUT") ? "NFO" : "NSE")

let commands = 0
/** A MIS market entry of one lot of NIFTY by U1 through the API, with these changes. */
export const command = (over: Partial<UniversalOrderCommand> = {}): UniversalOrderCommand => {
  const symbol = over.symbol ?? "NIFTY26MARFUT"
  return {
    commandId: `cmd-${++commands}`,
    executionType: "ENTRY",
    source: "api",
    accountId: "U1",
    symbol,
    exchange: exchangeOf(symbol),
    side: "BUY",
    qty: 65,
    product: "MIS",
    orderType: "MARKET",
    price: null,
    triggerPrice: null,
    stopLoss: null,
    target: null,
    trailing: null,
    ...over,
  }
}

/** Submits a command through the entry path. */
export const submit = (over: Partial<UniversalOrderCommand> = {}) =>
  Effect.flatMap(OrderEntry, (e) => e.submit(command(over)))

let tags = 0
/** Places an order at the paper broker directly, as if from outside the engine. */
export const direct = (symbol: string, side: "BUY" | "SELL", qty: number, accountId = "U1") =>
  Effect.gen(function* () {
    const paper = yield* PaperAccounts
    const request: PlaceRequest = {
      clientTag: `outside-${++tags}`,
      accountId,
      symbol,
      exchange: exchangeOf(symbol),
      side,
      qty,
      product: "MIS",
      orderType: "MARKET",
      price: null,
      triggerPrice: null,
    }
    return yield* paper.accounts.get(accountId)!.place(request)
  })

/** The paper broker's net quantity by symbol (MIS/NRML rows that ever traded). */
export const netQty = (accountId = "U1") =>
  Effect.gen(function* () {
    const paper = yield* PaperAccounts
    const rows = yield* Effect.orDie(paper.accounts.get(accountId)!.positions)
    return Object.fromEntries(rows.filter((p) => p.product !== "CNC").map((p) => [p.symbol, p.netQty]))
  })

/** True when every position of the account is flat. */
export const flat = (accountId = "U1") => Effect.map(netQty(accountId), (q) => Object.values(q).every((n) => n === 0))

/** The account actor's state ("" before it exists). */
export const accountState = (accountId = "U1") =>
  Effect.flatMap(ActorRuntime, (rt) =>
    Effect.map(rt.view(accountId), (v) => Option.match(v, { onNone: () => "", onSome: (a) => a.state })),
  )

/** Rows of a query. */
export const query = <A extends object>(text: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.orDie(sql.unsafe<A>(text)))

/** The engine's EXIT orders: symbol and status, oldest first. */
export const exitOrders = query<{ symbol: string; status: string; qty: number }>(
  "SELECT symbol, status, qty FROM orders WHERE purpose = 'EXIT' ORDER BY created_at, order_id",
)

/** How a scripted broker answers its n-th read (1-based): normally, with a failure, or with a defect. */
export type Script = (n: number) => "ok" | "fail" | "die"

/** Wraps every account's broker so that its position and funds reads follow the script. */
export const scriptedBrokers =
  (script: Script) =>
  (brokers: Brokers["Type"]): Brokers["Type"] => {
    let calls = 0
    const scripted = <A>(read: Effect.Effect<A, BrokerError>): Effect.Effect<A, BrokerError> =>
      Effect.suspend(() => {
        const answer = script(++calls)
        if (answer === "fail")
          return Effect.fail(new BrokerError({ reason: "Unavailable", message: `scripted failure of call ${calls}` }))
        if (answer === "die") return Effect.die(new Error(`scripted defect in call ${calls}`))
        return read
      })
    const wrap = (b: Broker): Broker => ({ ...b, positions: scripted(b.positions), funds: scripted(b.funds) })
    return Brokers.fromMap(new Map([...brokers.all].map(([id, b]) => [id, wrap(b)])))
  }

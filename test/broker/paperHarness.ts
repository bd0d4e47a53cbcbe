/**
 * Helpers for the paper broker tests: a real SQLite file in a fresh temporary folder, the
 * instruments the tests trade, order requests, and a collector of the update stream.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Random, type Scope, Stream } from "effect"
import type { BrokerError, OrderUpdate, PlaceRequest } from "../../src/broker/Broker.js"
import * as PaperBroker from "../../src/broker/PaperBroker.js"
import { Instruments } from "../../src/orders/Instruments.js"
import { databaseLayer } from "../../src/store/Database.js"

/** A fresh database file in a temporary folder. */
export const freshDbFile = (): string => join(mkdtempSync(join(tmpdir(), "warden-paper-")), "warden.db")

/** The engine's database layer on a file. */
export const dbOn = (filename: string) => databaseLayer({ filename })

/** What the tests trade: a future with lots, an equity, and a future whose broker refuses MARKET. */
export const instruments = Instruments.fromList([
  { exchange: "NFO", symbol: "NIFTY26MARFUT", tickSize: 0.05, lotSize: 65, freezeQty: 1800 },
  { exchange: "NFO", symbol: "BANKNIFTY26MARFUT", tickSize: 0.2, lotSize: 30, marketOrders: false },
  { exchange: "NSE", symbol: "RELIANCE-EQ", tickSize: 0.05, lotSize: 1 },
])

/** A MARKET BUY of one NIFTY lot for U1, MIS; override what the test needs. */
export const request = (tag: string, over: Partial<PlaceRequest> = {}): PlaceRequest => ({
  clientTag: tag,
  accountId: "U1",
  symbol: "NIFTY26MARFUT",
  exchange: "NFO",
  side: "BUY",
  qty: 65,
  product: "MIS",
  orderType: "MARKET",
  price: null,
  triggerPrice: null,
  ...over,
})

/** A paper broker for U1 made with a seeded Random (default capital 1,000,000). */
export const paper = (options: Partial<PaperBroker.PaperBrokerOptions> = {}, seed = 7) =>
  PaperBroker.make({ accountId: "U1", instruments, ...options }).pipe(Effect.withRandom(Random.make(seed)))

/** Lets forked fibers (the update collector) run to quiescence. */
export const settle = Effect.repeatN(Effect.yieldNow(), 20)

/** Collects every update published from now on into an array the test reads. */
export const collectUpdates = (
  broker: PaperBroker.PaperBroker,
): Effect.Effect<Array<OrderUpdate>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const seen: Array<OrderUpdate> = []
    const stream = yield* broker.subscribe
    yield* Effect.forkScoped(Stream.runForEach(stream, (u) => Effect.sync(() => seen.push(u))))
    return seen
  })

/** The error of an effect that must fail. */
export const failureOf = <A>(effect: Effect.Effect<A, BrokerError>) => Effect.flip(effect)

/** A compact view of updates: `status filled/qty [fillId]`. */
export const brief = (updates: ReadonlyArray<OrderUpdate>): Array<string> =>
  updates.map(
    (u) => `${u.brokerOrderId} ${u.status} ${u.filledQty}/${u.qty}${u.fill ? ` ${u.fill.fillId}@${u.fill.price}` : ""}`,
  )

/**
 * The paper broker: the embedded default `Broker`, one per paper account. It fills orders
 * against the engine's tick feed (`onTick`), keeps position, holdings and funds books, and
 * injects the faults of SCENARIOS.md's `broker` block. Its books live in the engine's SQLite file
 * (migrations/0003), so a paper account survives a restart: `make` loads them.
 *
 * Time comes only from the `Clock` and randomness only from the `Random` service, both taken
 * when the broker is made, so a simulation with the test clock and a seeded Random is exactly
 * reproducible. Operations are serialised by one permit; each one's changes are written in one
 * transaction, then committed to memory, then published ("persist first, then emit").
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import {
  type Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Layer,
  Option,
  type Random,
  type Scope,
  type Stream,
} from "effect"
import type { Product } from "../domain/Trading.js"
import { Instruments, type Instrument } from "../orders/Instruments.js"
import {
  type Broker,
  BrokerError,
  type BrokerHolding,
  type BrokerOrder,
  isWorking,
  type ModifyRequest,
  type OrderUpdate,
  type PlaceRequest,
} from "./Broker.js"
import { Limiter } from "../runtime/Limiter.js"
import { Brokers } from "./Brokers.js"
import {
  type BookState,
  cancel,
  Draft,
  expireAll,
  modifyOrder,
  type PaperOrder,
  placeOrder,
  tick,
} from "./PaperBook.js"
import { fundsOf, holdingKey, holdingsView, positionKey, positionView } from "./PaperLedger.js"
import { SqliteConnection } from "../store/SqliteConnection.js"
import { makePaperStore, type PaperStore, type PaperWrite, type StoredBooks } from "./PaperStore.js"
import { chance, type Disconnect, makeUpdateChannel, type UpdateChannel } from "./PaperUpdates.js"

/** The fault knobs, exactly as SCENARIOS.md's `broker` block names them. */
export interface PaperFaults {
  /** Each placement, modification and cancel takes between min and max ms (Clock sleeps). */
  readonly latencyMs: readonly [number, number]
  /** Share of accepted orders the exchange rejects afterwards (a late REJECTED). */
  readonly rejectRate: number
  /** Share of orders that fill in 2-3 parts, one part per tick. */
  readonly partialFillRate: number
  readonly duplicateUpdateRate: number
  readonly outOfOrderRate: number
  /** Share of placements that reach the book but answer with a `Timeout`. */
  readonly sendTimeoutRate: number
  /** Spells with no updates, in ms from `startMs`. */
  readonly disconnects: ReadonlyArray<Disconnect>
}

/** No faults at all. */
export const noFaults: PaperFaults = {
  latencyMs: [0, 0],
  rejectRate: 0,
  partialFillRate: 0,
  duplicateUpdateRate: 0,
  outOfOrderRate: 0,
  sendTimeoutRate: 0,
  disconnects: [],
}

/** When the market takes orders: `HH:MM` local times at `utcOffsetMinutes` (IST, 330, by default). */
export interface MarketHours {
  readonly open: string
  readonly close: string
  readonly utcOffsetMinutes?: number
  /** Closed on Saturdays and Sundays (default true). */
  readonly weekdaysOnly?: boolean
}

/** One paper account. */
export interface PaperBrokerOptions {
  readonly accountId: string
  /** Opening cash of a new account (default 1,000,000); ignored once the account exists. */
  readonly capital?: number
  /** Opening delivery holdings of a new account; ignored once the account exists. */
  readonly holdings?: ReadonlyArray<BrokerHolding>
  /** Tick, lot, freeze and market-order rules; unknown symbols trade with tick 0.05, lot 1. */
  readonly instruments?: Instruments
  readonly faults?: Partial<PaperFaults>
  /** Orders outside these hours are rejected "market closed"; always open when absent. */
  readonly marketHours?: MarketHours
  /** Epoch ms the `disconnects` count from (the scenario's start); the Clock's time at `make` by default. */
  readonly startMs?: number
  /** Order ids are `<prefix>-000001`; `P-<accountId>` by default. */
  readonly orderIdPrefix?: string
  /**
   * The price each symbol opens at, known before the feed's first tick (a simulated market's start
   * prices): a MARKET order the engine resumes at start-up, ahead of the feed, fills at it rather
   * than being refused for want of a price. The last fill's price wins over it.
   */
  readonly openingPrices?: ReadonlyMap<string, number>
}

/** A paper account's broker: the port plus the simulation's controls. */
export interface PaperBroker extends Broker {
  /** A trade on the market at `price` (at `at`, or the Clock's now): triggers and fills what it reaches. */
  readonly onTick: (symbol: string, price: number, at?: number) => Effect.Effect<void, BrokerError>
  /** Drops (false) or restores (true) the update stream; the books stay true meanwhile. */
  readonly setConnected: (connected: boolean) => Effect.Effect<void>
  /** Brings the broker down (every call fails `Unavailable`, no updates) or back up. Matching goes on. */
  readonly setDown: (down: boolean) => Effect.Effect<void>
  /** Ends every working order as EXPIRED (end of day); how many. */
  readonly expireWorkingOrders: Effect.Effect<number, BrokerError>
  /** The update stream, subscribed when this is evaluated (so nothing published after is missed). */
  readonly subscribe: Effect.Effect<Stream.Stream<OrderUpdate>, never, Scope.Scope>
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(":").map(Number)
  return (h ?? 0) * 60 + (m ?? 0)
}

/** True when the market is open at `now` under these hours. */
export const isMarketOpen = (hours: MarketHours | undefined, now: number): boolean => {
  if (hours === undefined) return true
  const local = new Date(now + (hours.utcOffsetMinutes ?? 330) * 60_000)
  const day = local.getUTCDay()
  if ((hours.weekdaysOnly ?? true) && (day === 0 || day === 6)) return false
  const minutes = local.getUTCHours() * 60 + local.getUTCMinutes()
  return minutes >= minutesOf(hours.open) && minutes < minutesOf(hours.close)
}

/** The port's view of a paper order. */
const publicOrder = (o: PaperOrder): BrokerOrder => ({
  brokerOrderId: o.brokerOrderId,
  clientTag: o.clientTag,
  accountId: o.accountId,
  symbol: o.symbol,
  exchange: o.exchange,
  side: o.side,
  qty: o.qty,
  product: o.product,
  orderType: o.orderType,
  price: o.price,
  triggerPrice: o.triggerPrice,
  status: o.status,
  filledQty: o.filledQty,
  avgPrice: o.avgPrice,
  reason: o.reason,
  placedAt: o.placedAt,
  updatedAt: o.updatedAt,
})

const bookStateOf = (
  accountId: string,
  idPrefix: string,
  books: StoredBooks,
  openingPrices: ReadonlyMap<string, number> = new Map(),
): BookState => {
  const orders = new Map(books.orders.map((o) => [o.brokerOrderId, o]))
  const working = books.orders.filter((o) => isWorking(o.status))
  return {
    accountId,
    idPrefix,
    capital: books.capital,
    cash: books.cash,
    nextSeq: books.orders.reduce((max, o) => Math.max(max, o.seq), 0) + 1,
    orders,
    working: new Set(working.map((o) => o.brokerOrderId)),
    fills: [...books.fills],
    positions: new Map(books.positions.map((p) => [positionKey(p.symbol, p.exchange, p.product), p])),
    holdings: new Map(books.holdings.map((h) => [holdingKey(h.symbol, h.exchange), h])),
    // The last price each symbol traded at, until the feed's next tick: a MARKET order right after
    // a restart fills at it rather than being refused for want of a price.
    ltp: new Map([...openingPrices, ...books.fills.map((f) => [f.symbol, f.price] as const)]),
  }
}

/** Loads the account's books, opening the account first when it is new. */
const loadBooks = (store: PaperStore, options: PaperBrokerOptions, now: number) =>
  Effect.gen(function* () {
    const stored = yield* store.load
    if (Option.isSome(stored)) return stored.value
    yield* store.create(options.capital ?? 1_000_000, options.holdings ?? [], now)
    return Option.getOrThrow(yield* store.load)
  })

const storeFailure = (e: SqlError) =>
  new BrokerError({ reason: "Unavailable", message: `paper broker store: ${e.message}` })

/** Writes queued operations in groups: whoever waits first writes everything queued by then. */
interface GroupWriter {
  /** Queues one operation's writes (in the order operations commit to memory). */
  readonly queue: (write: PaperWrite) => Effect.Effect<Deferred.Deferred<void, SqlError>>
  /** Waits until a queued write is on disk, writing the queue's groups if nobody else is. */
  readonly flush: (written: Deferred.Deferred<void, SqlError>) => Effect.Effect<void, SqlError>
}

const groupWriter = (store: PaperStore): GroupWriter => {
  const queued: Array<{ readonly write: PaperWrite; readonly done: Deferred.Deferred<void, SqlError> }> = []
  let writing = false
  const drain = Effect.gen(function* () {
    while (queued.length > 0) {
      const group = queued.splice(0)
      const exit = yield* Effect.exit(store.writeAll(group.map((q) => q.write)))
      for (const q of group) yield* Deferred.done(q.done, exit)
    }
  }).pipe(Effect.ensuring(Effect.sync(() => (writing = false))), Effect.uninterruptible)
  return {
    queue: (write) =>
      Effect.map(Deferred.make<void, SqlError>(), (done) => {
        queued.push({ write, done })
        return done
      }),
    flush: (written) =>
      Effect.suspend(() => {
        if (writing) return Deferred.await(written)
        writing = true
        // Lets the operations already under way queue theirs first, so they share this write.
        return Effect.zipRight(Effect.zipRight(Effect.yieldNow(), drain), Deferred.await(written))
      }),
  }
}

/** What the operations of one paper broker share. */
interface Core {
  readonly options: PaperBrokerOptions
  readonly faults: PaperFaults
  readonly state: BookState
  readonly store: PaperStore
  readonly channel: UpdateChannel
  readonly permit: Limiter
  readonly writer: GroupWriter
  readonly clock: Clock.Clock
  readonly random: Random.Random
  readonly instrumentOf: (exchange: string, symbol: string) => Instrument
}

const makeCore = (options: PaperBrokerOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const conn = yield* SqliteConnection
    const clock = yield* Effect.clock
    const random = yield* Effect.random
    const faults: PaperFaults = { ...noFaults, ...options.faults }
    const instruments = options.instruments ?? Instruments.empty
    const store = makePaperStore(sql, conn, options.accountId)
    const started = yield* clock.currentTimeMillis
    const books = yield* loadBooks(store, options, started)
    const core: Core = {
      options,
      faults,
      state: bookStateOf(
        options.accountId,
        options.orderIdPrefix ?? `P-${options.accountId}`,
        books,
        options.openingPrices,
      ),
      store,
      channel: yield* makeUpdateChannel({ random, clock, faults, startMs: options.startMs ?? started }),
      permit: new Limiter(1),
      writer: groupWriter(store),
      clock,
      random,
      instrumentOf: (exchange, symbol) =>
        Option.getOrElse(instruments.get(exchange, symbol), () => Instruments.fromList([{ exchange, symbol }]).all[0]!),
    }
    return core
  })

const unavailable = new BrokerError({ reason: "Unavailable", message: "paper broker is down (simulated)" })

/** Fails `Unavailable` while the broker is down. */
const guardOf = (core: Core): Effect.Effect<void, BrokerError> =>
  Effect.flatMap(core.channel.isDown, (down) => (down ? Effect.fail(unavailable) : Effect.void))

/** A request's trip to the broker: latency, and the broker may go down meanwhile. */
const tripOf = (core: Core): Effect.Effect<void, BrokerError> =>
  Effect.gen(function* () {
    yield* guardOf(core)
    const [min, max] = core.faults.latencyMs
    const ms = max > min ? yield* core.random.nextIntBetween(min, max + 1) : min
    if (ms > 0) yield* core.clock.sleep(Duration.millis(ms))
    yield* guardOf(core)
  })

/**
 * Runs one operation on a draft under the permit and commits it to memory, so the next operation
 * sees it; then, outside the permit, waits until its changes are on disk (group-written with the
 * operations that queued meanwhile: one sync to disk for all of them) before it answers and
 * publishes its updates. Nothing is answered or published before it is durable.
 */
const mutateWith =
  (core: Core) =>
  <A>(operation: (draft: Draft, now: number) => A): Effect.Effect<A, BrokerError> =>
    Effect.gen(function* () {
      const { result, draft, written } = yield* core.permit.withPermit(
        Effect.gen(function* () {
          const now = yield* core.clock.currentTimeMillis
          const draft = new Draft(core.state)
          const result = operation(draft, now)
          const written = draft.isEmpty ? null : yield* core.writer.queue(core.store.prepare(draft, now))
          draft.commit()
          return { result, draft, written }
        }),
      )
      if (written)
        yield* core.writer.flush(written).pipe(
          // Memory is ahead of the disk now: the broker goes down (every call refused) until a
          // restart reloads the books from disk, rather than answer from a book it cannot keep.
          Effect.catchAll((e) => Effect.zipRight(core.channel.setDown(true), Effect.fail(storeFailure(e)))),
        )
      yield* core.channel.publish(draft.updates)
      return result
    })

const findIn = (core: Core, id: string): Effect.Effect<PaperOrder, BrokerError> => {
  const o = core.state.orders.get(id)
  return o ? Effect.succeed(o) : Effect.fail(new BrokerError({ reason: "NotFound", message: `no order ${id}` }))
}

/** Draws the dice of one placement (only for the knobs that are on, so a run without faults draws nothing). */
const placeRolls = (core: Core) =>
  Effect.gen(function* () {
    const { rejectRate, partialFillRate } = core.faults
    return {
      reject: rejectRate > 0 ? yield* core.random.next : 1,
      partial: partialFillRate > 0 ? yield* core.random.next : 1,
      count: partialFillRate > 0 ? yield* core.random.next : 0,
    }
  })

const placeWith = (core: Core) => (req: PlaceRequest) =>
  Effect.gen(function* () {
    const accountId = core.options.accountId
    if (req.accountId !== accountId) {
      return yield* new BrokerError({ reason: "Invalid", field: "accountId", message: `this is account ${accountId}` })
    }
    yield* tripOf(core)
    const rolls = yield* placeRolls(core)
    const outcome = yield* mutateWith(core)((draft, now) =>
      placeOrder(draft, req, {
        now,
        instrument: core.instrumentOf(req.exchange, req.symbol),
        marketOpen: isMarketOpen(core.options.marketHours, now),
        rejectRate: core.faults.rejectRate,
        partialFillRate: core.faults.partialFillRate,
        rolls,
      }),
    )
    if (outcome._tag === "Invalid") {
      return yield* new BrokerError({ reason: "Invalid", field: outcome.field, message: outcome.message })
    }
    if (outcome._tag === "Rejected") {
      return yield* new BrokerError({ reason: "Rejected", message: outcome.order.reason ?? "rejected" })
    }
    if (yield* chance(core.random, core.faults.sendTimeoutRate)) {
      return yield* new BrokerError({ reason: "Timeout", message: "no answer from the broker (simulated)" })
    }
    return { brokerOrderId: outcome.order.brokerOrderId }
  })

const modifyWith = (core: Core) => (id: string, change: ModifyRequest) =>
  Effect.gen(function* () {
    yield* tripOf(core)
    const order = yield* findIn(core, id)
    const outcome = yield* mutateWith(core)((draft, now) =>
      modifyOrder(draft, draft.order(id) ?? order, change, {
        now,
        instrument: core.instrumentOf(order.exchange, order.symbol),
        marketOpen: isMarketOpen(core.options.marketHours, now),
      }),
    )
    if (outcome._tag === "Invalid") {
      return yield* new BrokerError({ reason: "Invalid", field: outcome.field, message: outcome.message })
    }
    if (outcome._tag === "Rejected") return yield* new BrokerError({ reason: "Rejected", message: outcome.message })
  })

const cancelWith = (core: Core) => (id: string) =>
  Effect.gen(function* () {
    yield* tripOf(core)
    const order = yield* findIn(core, id)
    const refused = yield* mutateWith(core)((draft, now) => cancel(draft, draft.order(id) ?? order, now))
    if (refused !== null) return yield* new BrokerError({ reason: "Rejected", message: refused })
  })

/** Whether an order on this symbol can still fill. */
const workingOn = (state: Core["state"], symbol: string): boolean => {
  for (const id of state.working) if (state.orders.get(id)?.symbol === symbol) return true
  return false
}

const onTickWith =
  (core: Core) =>
  (symbol: string, price: number, at?: number): Effect.Effect<void, BrokerError> =>
    Number.isFinite(price) && price > 0
      ? workingOn(core.state, symbol)
        ? mutateWith(core)((draft, now) => {
            core.state.ltp.set(symbol, price)
            tick(draft, symbol, price, at ?? now)
          })
        : Effect.sync(() => {
            // Nothing can fill on this symbol: the price is all a tick changes.
            core.state.ltp.set(symbol, price)
          })
      : Effect.fail(
          new BrokerError({ reason: "Invalid", field: "price", message: `tick price ${price} for ${symbol}` }),
        )

/** The books as the port reports them (every read fails `Unavailable` while the broker is down). */
const queriesOf = (core: Core) => {
  const { state } = core
  const read = <A>(f: () => A): Effect.Effect<A, BrokerError> => Effect.zipRight(guardOf(core), Effect.sync(f))
  return {
    orderBook: read(() => [...state.orders.values()].map(publicOrder)),
    order: (id: string) => Effect.zipRight(guardOf(core), Effect.map(findIn(core, id), publicOrder)),
    orderByTag: (tag: string) =>
      read(() => {
        for (const o of state.orders.values()) if (o.clientTag === tag) return Option.some(publicOrder(o))
        return Option.none()
      }),
    tradeBook: read(() => [...state.fills]),
    positions: read(() => [...state.positions.values()].map((p) => positionView(p, state))),
    position: (symbol: string, exchange: string, product: Product) =>
      read(() =>
        Option.map(Option.fromNullable(state.positions.get(positionKey(symbol, exchange, product))), (p) =>
          positionView(p, state),
        ),
      ),
    holdings: read(() => holdingsView(state)),
    funds: read(() => fundsOf(new Draft(state))),
  }
}

/** Builds the paper broker of one account from its stored books (or opens the account). */
export const make = (
  options: PaperBrokerOptions,
): Effect.Effect<PaperBroker, SqlError, SqlClient.SqlClient | SqliteConnection> =>
  Effect.map(makeCore(options), (core) => ({
    accountId: options.accountId,
    place: placeWith(core),
    modify: modifyWith(core),
    cancel: cancelWith(core),
    ...queriesOf(core),
    updates: core.channel.stream,
    onTick: onTickWith(core),
    setConnected: core.channel.setConnected,
    setDown: core.channel.setDown,
    expireWorkingOrders: mutateWith(core)((draft, now) => expireAll(draft, now)),
    subscribe: core.channel.subscribe,
  }))

/** Every paper account of the engine, with the controls a simulation drives. */
export class PaperAccounts extends Context.Tag("warden/PaperAccounts")<
  PaperAccounts,
  {
    readonly accounts: ReadonlyMap<string, PaperBroker>
    /** Feeds one tick to every paper account. */
    readonly onTick: (symbol: string, price: number, at?: number) => Effect.Effect<void, BrokerError>
  }
>() {}

/** The paper brokers of these accounts, as the engine's `Brokers` and as `PaperAccounts`. */
export const layer = (
  accounts: ReadonlyArray<PaperBrokerOptions>,
): Layer.Layer<Brokers | PaperAccounts, SqlError, SqlClient.SqlClient | SqliteConnection> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const brokers = new Map<string, PaperBroker>()
      for (const options of accounts) brokers.set(options.accountId, yield* make(options))
      const onTick = (symbol: string, price: number, at?: number) =>
        Effect.forEach(brokers.values(), (b) => b.onTick(symbol, price, at), { discard: true })
      return Context.make(Brokers, Brokers.fromMap(brokers)).pipe(
        Context.add(PaperAccounts, { accounts: brokers, onTick }),
      )
    }),
  )

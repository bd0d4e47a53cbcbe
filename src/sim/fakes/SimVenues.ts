/**
 * The fake brokers of a simulation: one fake Shoonya or fake Dhan server per scenario account
 * with `"broker": "shoonya-fake"` or `"dhan-fake"`, on loopback (real HTTP and websocket, a free
 * port), living as long as the run (the broker's book outlives a crash of the engine). The engine
 * connects the real `ShoonyaBroker` / `DhanBroker` adapter to it, so orders go out through real
 * HTTP and updates come back over a real websocket.
 *
 * The fakes keep the simulation's time (their order and fill times are the simulated clock's) and
 * fill at its tick prices (`tick`, called with every published tick). They honour the scenario's
 * `broker` knobs: `latencyMs` (a pause on the simulated clock before each request leaves),
 * `rejectRate` (a placement is accepted, then rejected, as real brokers do), `sendTimeoutRate`
 * (the placement takes effect but is never answered: the adapter times out and the engine looks
 * the order up by its tag), `duplicateUpdateRate` (an update pushed twice), `disconnects` (no
 * websocket during the spell) and `brokerDown` steps (HTTP 503 to everything, websockets cut).
 * `partialFillRate` and `outOfOrderRate` are the paper broker's only: a fake fills an order in one
 * piece, and its updates go out in order.
 *
 * Real I/O does not run on the simulated clock, so the simulation waits for the wire before it
 * moves the clock: `busy()` is true while a request is in flight (other than those a fault holds
 * on purpose) or a websocket frame is still being written. Timing between the engine's fibers
 * and the sockets still varies from run to run: a scenario with a fake broker is checked for its
 * invariants and expectations, not for the same `journalHash`.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Duration, Effect, Option, Random, type Scope } from "effect"
import type { Broker, BrokerError } from "../../broker/Broker.js"
import { type HttpAnswer, type HttpRequest, type Redactor, send } from "../../broker/BrokerHttp.js"
import * as DhanBroker from "../../broker/DhanBroker.js"
import * as ShoonyaBroker from "../../broker/ShoonyaBroker.js"
import { Instruments } from "../../orders/Instruments.js"
import type { BrokerBlock, Scenario } from "../Scenario.js"
import { type FakeBook, type FakeClock, type FakeStatus, positionFigures } from "./FakeBook.js"
import * as FakeDhan from "./FakeDhan.js"
import type { FakeServer } from "./FakeServer.js"
import * as FakeShoonya from "./FakeShoonya.js"

/** The fake brokers a scenario account may name. */
export const fakeBrokers = ["shoonya-fake", "dhan-fake"] as const
export type FakeBrokerName = (typeof fakeBrokers)[number]

/** One account's fake broker. */
export interface SimVenue {
  readonly accountId: string
  readonly broker: FakeBrokerName
  readonly capital: number
  readonly book: FakeBook
  readonly server: FakeServer
  /** Connects the real adapter to the fake, for the engine's scope. */
  readonly connect: (lastPrice: (symbol: string) => number | null) => Effect.Effect<Broker, never, Scope.Scope>
}

/** A small seeded generator (mulberry32), one per fake, so its faults do not draw on the engine's Random. */
const generator = (seed: number, salt: string): (() => number) => {
  let a = seed >>> 0
  for (const ch of salt) a = Math.imul(a ^ ch.charCodeAt(0), 2654435761) >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The scenario's instruments as a broker's scrip master: each with a security id (Dhan orders by it). */
export const venueInstruments = (scenario: Scenario): Instruments => {
  const symbols = [
    ...scenario.instruments,
    ...scenario.accounts
      .flatMap((a) => a.holdings)
      .filter((h) => !scenario.instruments.some((i) => i.symbol === h.symbol))
      .map((h) => ({ ...h, tickSize: 0.05, lotSize: 1, marketOrders: true, freezeQty: undefined })),
  ]
  return Instruments.fromList(
    symbols.map((i, n) => ({
      exchange: i.exchange,
      symbol: i.symbol,
      token: String(100_001 + n),
      tickSize: i.tickSize,
      lotSize: i.lotSize,
      marketOrders: i.marketOrders,
      freezeQty: i.freezeQty ?? null,
    })),
  )
}

/** The fake brokers of one run and the wire between them and the engine. */
export class SimWire {
  /** Requests the adapters sent that are not answered yet. */
  inFlight = 0

  constructor(
    readonly venues: ReadonlyArray<SimVenue>,
    readonly clock: FakeClock,
  ) {}

  /** True while the wire owes something: an answer not held on purpose, or a frame not yet written. */
  busy(): boolean {
    let held = 0
    let frames = 0
    for (const v of this.venues) {
      held += v.server.heldCount
      frames += v.server.framesInFlight
    }
    return this.inFlight > held || frames > 0
  }

  /** A trade on the market: every fake fills what it crosses. */
  tick(symbol: string, price: number): void {
    for (const v of this.venues) v.book.tick(symbol, price)
  }

  /** Every fake (or one account's) down or back up. */
  setDown(down: boolean, accountId?: string): void {
    for (const v of this.venues) if (accountId === undefined || v.accountId === accountId) v.server.setDown(down)
  }

  /** The adapters' transport: the scenario's latency on the simulated clock, then the request, counted. */
  transport(latencyMs: readonly [number, number]) {
    const [min, max] = latencyMs
    return (req: HttpRequest, redact: Redactor): Effect.Effect<HttpAnswer, BrokerError> =>
      Effect.gen(this, function* () {
        const ms = max > min ? yield* Random.nextIntBetween(min, max + 1) : min
        if (ms > 0) yield* Effect.sleep(Duration.millis(ms))
        this.inFlight += 1
        return yield* Effect.ensuring(
          send(req, redact),
          Effect.sync(() => {
            this.inFlight -= 1
          }),
        )
      })
  }
}

/** The knobs a fake honours, drawn from its own generator. */
const applyFaults = (venue: SimVenue, faults: BrokerBlock, startMs: number, random: () => number, clock: FakeClock) => {
  const { server, book } = venue
  const placeRoute = venue.broker === "shoonya-fake" ? "PlaceOrder" : "POST /orders"
  if (faults.sendTimeoutRate > 0)
    server.drawFault = (r) => (r.route === placeRoute && random() < faults.sendTimeoutRate ? { kind: "hold" } : null)
  if (faults.duplicateUpdateRate > 0) server.drawDuplicate = () => random() < faults.duplicateUpdateRate
  if (faults.disconnects.length > 0) {
    server.wsDown = () => {
      const now = clock.now()
      return faults.disconnects.some((d) => now >= startMs + d.atMs && now < startMs + d.atMs + d.forMs)
    }
  }
  if (faults.rejectRate > 0) {
    // Accepted first, rejected after: both brokers report risk rejections on the order, not on the call.
    book.listeners.push((o, event) => {
      if (event === "New" && random() < faults.rejectRate) book.reject(o.id, "RMS:Margin Exceeds (simulated)")
    })
  }
}

/** Starts the fake broker of every fake account of the scenario, for the scope; null when there is none. */
export const startVenues = (
  scenario: Scenario,
  seed: number,
  clock: FakeClock,
): Effect.Effect<SimWire | null, never, Scope.Scope> =>
  Effect.gen(function* () {
    const accounts = scenario.accounts.flatMap((a) => (a.broker === "paper" ? [] : [{ ...a, broker: a.broker }]))
    if (accounts.length === 0) return null
    const instruments = venueInstruments(scenario)
    const startMs = Date.parse(scenario.start)
    const venues: Array<SimVenue> = []
    const wire = new SimWire(venues, clock)
    const transport = wire.transport(scenario.broker.latencyMs)
    for (const a of accounts) {
      // A fake server for the account's broker, closed with the run, and the real adapter to it.
      const venueOn = <
        F extends { readonly book: SimVenue["book"]; readonly server: SimVenue["server"]; close(): Promise<void> },
      >(
        start: () => Promise<F>,
        make: (fake: F, lastPrice: (symbol: string) => number | null) => Effect.Effect<Broker, never, Scope.Scope>,
      ) =>
        Effect.map(
          Effect.acquireRelease(Effect.promise(start), (f) => Effect.promise(() => f.close())),
          (fake): SimVenue => ({
            accountId: a.id,
            broker: a.broker,
            capital: a.capital,
            book: fake.book,
            server: fake.server,
            connect: (lastPrice) => make(fake, lastPrice),
          }),
        )
      const venue: SimVenue =
        a.broker === "shoonya-fake"
          ? yield* venueOn(
              () => FakeShoonya.start({ clock }),
              (fake, lastPrice) =>
                ShoonyaBroker.make({
                  accountId: a.id,
                  baseUrl: fake.baseUrl,
                  wsUrl: fake.wsUrl,
                  credentials: { userId: fake.userId, accessToken: "shoonya-token-0001" },
                  instruments,
                  lastPrice,
                  transport,
                }),
            )
          : yield* venueOn(
              () => FakeDhan.start({ instruments, clock }),
              (fake, lastPrice) =>
                DhanBroker.make({
                  accountId: a.id,
                  baseUrl: fake.baseUrl,
                  wsUrl: fake.wsUrl,
                  credentials: { clientId: fake.clientId, accessToken: "dhan-jwt-0001" },
                  instruments,
                  lastPrice,
                  transport,
                }),
            )
      venue.book.cash = a.capital
      for (const h of a.holdings) {
        const token = Option.match(instruments.get(h.exchange, h.symbol), { onNone: () => "0", onSome: (i) => i.token })
        venue.book.holdings.push({ ...h, token })
      }
      applyFaults(venue, scenario.broker, startMs, generator(seed, a.id), clock)
      venues.push(venue)
    }
    return wire
  })

const paperStatus: Record<FakeStatus, string> = {
  TRANSIT: "PENDING",
  OPEN: "OPEN",
  TRIGGER: "TRIGGER_PENDING",
  PARTIAL: "PARTIALLY_FILLED",
  FILLED: "FILLED",
  CANCELLED: "CANCELLED",
  REJECTED: "REJECTED",
  EXPIRED: "EXPIRED",
}

/**
 * Writes the fakes' books (orders, fills, positions, holdings, cash) into the run's database, in
 * the tables the simulation's invariants and counts read the paper brokers' books from, so every
 * check covers every broker. Ids are prefixed with the account (two fakes number alike).
 */
export const recordBooks = (wire: SimWire) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const now = wire.clock.now()
    for (const v of wire.venues) {
      const id = (raw: string) => `${v.accountId}:${raw}`
      const { book } = v
      yield* sql`INSERT OR REPLACE INTO paper_funds (account_id, capital, cash, updated_at)
        VALUES (${v.accountId}, ${v.capital}, ${book.cash}, ${now})`
      let seq = 0
      for (const o of book.orders.values()) {
        seq += 1
        const trigger = o.type === "SL" || o.type === "SL-M" ? o.trigger : null
        yield* sql`INSERT OR REPLACE INTO paper_orders (broker_order_id, account_id, seq, client_tag, symbol, exchange,
            side, qty, product, order_type, price, trigger_price, status, filled_qty, avg_price, reason, placed_at, updated_at)
          VALUES (${id(o.id)}, ${v.accountId}, ${seq}, ${o.tag}, ${o.symbol}, ${o.exchange}, ${o.side}, ${o.qty},
            ${o.product}, ${o.type}, ${o.price}, ${trigger}, ${paperStatus[o.status]}, ${o.filled}, ${o.avg},
            ${o.reason === "" ? null : o.reason}, ${o.placedAt}, ${o.updatedAt})`
      }
      for (const f of book.fills) {
        const o = book.orders.get(f.orderId)!
        yield* sql`INSERT OR REPLACE INTO paper_fills (fill_id, broker_order_id, account_id, client_tag, symbol, exchange,
            side, product, qty, price, at)
          VALUES (${id(f.id)}, ${id(o.id)}, ${v.accountId}, ${o.tag}, ${o.symbol}, ${o.exchange}, ${o.side},
            ${o.product}, ${f.qty}, ${f.price}, ${f.at})`
      }
      for (const p of book.positions()) {
        const f = positionFigures(p)
        const avgOpen = f.netQty > 0 ? f.buyAvg : f.netQty < 0 ? f.sellAvg : 0
        yield* sql`INSERT OR REPLACE INTO paper_positions (account_id, symbol, exchange, product, net_qty, buy_qty,
            buy_value, sell_qty, sell_value, avg_open, realized_pnl, updated_at)
          VALUES (${v.accountId}, ${p.symbol}, ${p.exchange}, ${p.product}, ${f.netQty}, ${p.buyQty}, ${p.buyValue},
            ${p.sellQty}, ${p.sellValue}, ${avgOpen}, ${f.realized}, ${now})`
      }
      for (const h of book.holdings) {
        yield* sql`INSERT OR REPLACE INTO paper_holdings (account_id, symbol, exchange, qty, avg_price, updated_at)
          VALUES (${v.accountId}, ${h.symbol}, ${h.exchange}, ${h.qty}, ${h.avgPrice}, ${now})`
      }
    }
  }).pipe(Effect.orDie)

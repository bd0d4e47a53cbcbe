/**
 * The causal chain of an actor, both ways. Direct links come from the journal's causes (a row
 * whose cause is `<actor>#<seq>` was sent or spawned by that step) and from the read models' link
 * columns (orders.parent_id, exit_intents.signal_id / trade_id, exit_signals.trade_id). The trade
 * an actor belongs to is then laid out whole: entry command → order → fills → trade, and for each
 * exit episode tick → signal → intent → orders → fills → trade.
 */
import { Effect } from "effect"
import type { StoredJournalRow } from "../store/ActorStore.js"
import type { ActorListRow, AuditActorRow, AuditStore } from "./AuditStore.js"

/** An actor as a link shows it. */
export interface ActorRef {
  readonly id: string
  readonly type: string
  readonly state: string
}

/** A direct link: another actor (or an outside cause) and how it is related. */
export interface ChainLink {
  /** The other actor; null for an outside cause (a command, a tick, the broker). */
  readonly actor: ActorRef | null
  /** How: `created this (step 1)`, `sent order.filled (step 3)`, `parent`, … */
  readonly relations: ReadonlyArray<string>
  /** The outside cause's text, when `actor` is null. */
  readonly text?: string
}

/** A fill of an order, from its journal. */
export interface ChainFill {
  readonly orderId: string
  readonly seq: number
  readonly qty: number
  readonly price: number
  readonly at: number
  readonly cause: string | null
}

/** An order in the chain with its fills. */
export interface ChainOrder {
  readonly order: ActorRef
  readonly purpose: string
  readonly side: string
  readonly qty: number
  readonly command: string | null
  readonly fills: ReadonlyArray<ChainFill>
}

/** One exit episode: the tick that met the condition, its signal, intent and orders. */
export interface ChainExit {
  readonly tick: { readonly price: number | null; readonly at: number; readonly source: string | null }
  readonly reason: string
  readonly signal: ActorRef
  readonly intent: ActorRef | null
  readonly orders: ReadonlyArray<ChainOrder>
}

/** A trade with its entries and exits. */
export interface ChainTrade {
  readonly trade: ActorRef
  readonly entries: ReadonlyArray<ChainOrder>
  readonly exits: ReadonlyArray<ChainExit>
}

/** The causal chain of one actor. */
export interface CausalChain {
  readonly upstream: ReadonlyArray<ChainLink>
  readonly downstream: ReadonlyArray<ChainLink>
  readonly trade: ChainTrade | null
  /** Every actor id the chain names, the actor's own included. */
  readonly members: ReadonlyArray<string>
}

type Store = AuditStore

/** `X#n` → [X, n]; anything else → null. */
export const parseActorCause = (cause: string | null): readonly [string, number] | null => {
  const m = cause === null ? null : /^(.+)#(\d+)$/.exec(cause)
  return m ? [m[1]!, Number(m[2])] : null
}

const refOf = (row: ActorListRow): ActorRef => ({ id: row.actor_id, type: row.actor_type, state: row.state })

/** Collects relations per actor id, in first-seen order. */
class Links {
  readonly byId = new Map<string, Array<string>>()
  readonly outside: Array<ChainLink> = []
  add(id: string | null | undefined, relation: string) {
    if (!id) return
    const list = this.byId.get(id) ?? []
    if (!list.includes(relation)) list.push(relation)
    this.byId.set(id, list)
  }
}

const rowsUpstream = (rows: ReadonlyArray<StoredJournalRow>, links: Links) => {
  for (const row of rows) {
    const c = parseActorCause(row.cause)
    if (c)
      links.add(
        c[0],
        row.seq === 0
          ? `created this at its step ${c[1]}`
          : `sent ${row.event_type} (its step ${c[1]} → step ${row.seq})`,
      )
    else if (row.seq === 0 && row.cause !== null)
      links.outside.push({ actor: null, relations: ["created this"], text: row.cause })
  }
}

const rowsDownstream = (caused: ReadonlyArray<StoredJournalRow>, links: Links) => {
  for (const row of caused) {
    const c = parseActorCause(row.cause)!
    links.add(
      row.actor_id,
      row.seq === 0
        ? `created by step ${c[1]}`
        : `received ${row.event_type} from step ${c[1]}${row.refused ? " (refused)" : ""}`,
    )
  }
}

/** The trade an actor belongs to, by its link columns. */
const tradeIdOf = (store: Store, self: AuditActorRow) =>
  Effect.gen(function* () {
    if (self.actor_type === "trade") return self.actor_id
    if (self.actor_type === "exitSignal") return (yield* store.signal(self.actor_id))?.trade_id ?? null
    if (self.actor_type === "exitIntent") return (yield* store.intent(self.actor_id))?.trade_id ?? null
    if (self.actor_type !== "order") return null
    const parent = (yield* store.order(self.actor_id))?.parent_id ?? null
    if (parent === null) return null
    const intent = yield* store.intent(parent)
    return intent ? intent.trade_id : parent
  })

const fillOf = (row: StoredJournalRow): ChainFill => {
  const e = JSON.parse(row.event) as { qty?: number; price?: number }
  return { orderId: row.actor_id, seq: row.seq, qty: e.qty ?? 0, price: e.price ?? 0, at: row.at, cause: row.cause }
}

/** A trade's entries and exits, laid out. */
const tradeChain = (store: Store, tradeId: string) =>
  Effect.gen(function* () {
    const own = yield* store.signalsOfTrade(tradeId)
    const intents = yield* store.intentsOfTrade(tradeId)
    // A position's exit this trade was a member of is on its first trade's signal.
    const signals = [...own]
    for (const i of intents)
      if (!signals.some((s) => s.signal_id === i.signal_id)) {
        const s = yield* store.signal(i.signal_id)
        if (s) signals.push(s)
      }
    signals.sort((a, b) => a.detected_at - b.detected_at)
    const orders = yield* store.ordersOf([tradeId, ...intents.map((i) => i.intent_id)])
    const ids = [
      tradeId,
      ...signals.map((s) => s.signal_id),
      ...intents.map((i) => i.intent_id),
      ...orders.map((o) => o.order_id),
    ]
    const refs = new Map((yield* store.actorsIn(ids)).map((r) => [r.actor_id, refOf(r)]))
    const created = new Map((yield* store.creations(ids)).map((r) => [r.actor_id, r]))
    const fills = yield* store.fills(orders.map((o) => o.order_id))
    const ref = (id: string): ActorRef => refs.get(id) ?? { id, type: "unknown", state: "not in store" }
    const chainOrder = (o: (typeof orders)[number]): ChainOrder => ({
      order: ref(o.order_id),
      purpose: o.purpose,
      side: o.side,
      qty: o.qty,
      command: created.get(o.order_id)?.cause ?? null,
      fills: fills.filter((f) => f.actor_id === o.order_id).map(fillOf),
    })
    const trade = refs.get(tradeId)
    if (!trade) return null
    return {
      trade,
      entries: orders.filter((o) => o.parent_id === tradeId).map(chainOrder),
      exits: signals.map((s) => {
        const intent = intents.find((i) => i.signal_id === s.signal_id)
        return {
          tick: { price: s.detected_price, at: s.detected_at, source: created.get(s.signal_id)?.cause ?? null },
          reason: s.exit_reason,
          signal: ref(s.signal_id),
          intent: intent ? ref(intent.intent_id) : null,
          orders: intent ? orders.filter((o) => o.parent_id === intent.intent_id).map(chainOrder) : [],
        }
      }),
    } satisfies ChainTrade
  })

/** Link-column relations of an actor, both ways. */
const columnLinks = (store: Store, self: AuditActorRow, up: Links, down: Links) =>
  Effect.gen(function* () {
    const id = self.actor_id
    if (self.actor_type === "order") {
      const o = yield* store.order(id)
      up.add(
        o?.parent_id,
        o?.purpose === "EXIT" ? "exit intent that placed this order" : "parent (the trade this order enters)",
      )
    }
    if (self.actor_type === "exitIntent") {
      const i = yield* store.intent(id)
      up.add(i?.signal_id, "signal that published this intent")
      up.add(i?.trade_id, "trade this intent exits")
      for (const t of yield* store.membersOfIntent(id)) up.add(t, "trade this intent exits with the position")
      for (const o of yield* store.ordersOf([id])) down.add(o.order_id, "order placed by this intent")
    }
    if (self.actor_type === "exitSignal") {
      const tradeId = (yield* store.signal(id))?.trade_id
      up.add(tradeId, "trade whose exit condition it detected")
      for (const i of tradeId ? yield* store.intentsOfTrade(tradeId) : [])
        if (i.signal_id === id) down.add(i.intent_id, "intent it published")
    }
    if (self.actor_type === "trade") {
      const context = (JSON.parse(self.snapshot) as { context?: { entryOrderId?: string | null } }).context
      up.add(context?.entryOrderId, "entry order that opened this trade")
      for (const o of yield* store.ordersOf([id])) up.add(o.order_id, "entry order that opened this trade")
      for (const s of yield* store.signalsOfTrade(id)) down.add(s.signal_id, "exit signal on this trade")
      for (const i of yield* store.intentsOfTrade(id)) down.add(i.intent_id, "exit intent for this trade")
    }
  })

const resolve = (store: Store, links: Links) =>
  Effect.map(store.actorsIn([...links.byId.keys()]), (rows) => {
    const refs = new Map(rows.map((r) => [r.actor_id, refOf(r)]))
    return [
      ...[...links.byId.entries()].map(([id, relations]) => ({
        actor: refs.get(id) ?? { id, type: "unknown", state: "not in store" },
        relations,
      })),
      ...links.outside,
    ]
  })

/** The causal chain of an actor, given its row and journal. */
export const causalChain = (store: Store, self: AuditActorRow, rows: ReadonlyArray<StoredJournalRow>) =>
  Effect.gen(function* () {
    const up = new Links()
    const down = new Links()
    rowsUpstream(rows, up)
    rowsDownstream(yield* store.causedBy(self.actor_id), down)
    yield* columnLinks(store, self, up, down)
    up.byId.delete(self.actor_id)
    down.byId.delete(self.actor_id)
    const tradeId = yield* tradeIdOf(store, self)
    const trade = tradeId === null ? null : yield* tradeChain(store, tradeId)
    const upstream = yield* resolve(store, up)
    const downstream = yield* resolve(store, down)
    const members = new Set<string>([self.actor_id, ...up.byId.keys(), ...down.byId.keys()])
    if (trade) {
      members.add(trade.trade.id)
      for (const o of trade.entries) members.add(o.order.id)
      for (const x of trade.exits) {
        members.add(x.signal.id)
        if (x.intent) members.add(x.intent.id)
        for (const o of x.orders) members.add(o.order.id)
      }
    }
    return { upstream, downstream, trade, members: [...members] } satisfies CausalChain
  })

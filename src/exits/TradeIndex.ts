/**
 * Stage 1 of the exit pipeline, trade qualification: an in-memory index of the engine's open
 * trades by symbol, judged on every tick in plain JavaScript. It produces candidates only; it
 * never changes a trade and never places an order.
 *
 * Hot path: `onTick` allocates nothing unless a trade fires (it returns a shared empty array). A
 * trade that fired is latched (`armed` false) until the pipeline re-arms it (its exit failed or
 * was refused and the cooldown passed), so a condition that keeps holding is not re-submitted
 * on every tick. Best-price improvements of trailing trades are left in a reused buffer
 * (`improvedCount`, `improvedId`, `improvedPrice`) for the caller to send to the Trade actors.
 */
import type { Trailing } from "../../machines/TradeMachine.js"
import type { Direction, ExitReason, Product } from "../domain/Trading.js"
import { improve, type Levels, noExit, priceExit, reasonOfCode, type TimeExit } from "./ExitRules.js"

/** An open trade as the index needs it. */
export interface IndexedTrade {
  readonly tradeId: string
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly direction: Direction
  readonly stopLoss: number | null
  readonly target: number | null
  readonly trailing: Trailing | null
  readonly trailLevel: number | null
  readonly bestPrice: number
  /** True while the trade is OPEN (judged); false while EXITING (only its best price is followed). */
  readonly open: boolean
  /** Its time exit, if it has one. */
  readonly timeExit?: TimeExit
}

/** A trade that meets an exit condition: what stage 2 qualifies. */
export interface ExitCandidate {
  readonly tradeId: string
  readonly accountId: string
  readonly symbol: string
  readonly exchange: string
  readonly product: Product
  readonly reason: ExitReason
  /** The price that met the condition. */
  readonly price: number
  /** Epoch ms of the tick (or of the sweep) that met it. */
  readonly at: number
}

/** The confirmation rule: a price condition must hold for `ticks` ticks and `ms` milliseconds. */
export interface Confirmation {
  readonly ticks: number
  readonly ms: number
}

interface Bucket {
  readonly entries: Array<Entry>
  last: number
}

interface Entry extends Levels {
  readonly trade: IndexedTrade
  readonly bucket: Bucket
  open: boolean
  armed: boolean
  readonly timeAt: number
  readonly timeCode: number
  confirmCode: number
  confirmCount: number
  confirmSince: number
}

const none: ReadonlyArray<ExitCandidate> = Object.freeze([])
const orNaN = (x: number | null): number => (x === null ? Number.NaN : x)

/** The open trades by symbol, judged tick by tick. */
export class TradeIndex {
  private readonly bySymbol = new Map<string, Bucket>()
  private readonly byId = new Map<string, Entry>()
  private readonly improvedIds: Array<string> = []
  private readonly improvedPrices: Array<number> = []
  /** How many trailing trades the last `onTick` improved. */
  improvedCount = 0

  constructor(private readonly confirm: Confirmation = { ticks: 1, ms: 0 }) {}

  /** How many trades are indexed. */
  get size(): number {
    return this.byId.size
  }

  /** Adds a trade (or replaces it, armed again). */
  add(t: IndexedTrade): void {
    this.remove(t.tradeId)
    let bucket = this.bySymbol.get(t.symbol)
    if (!bucket) {
      bucket = { entries: [], last: Number.NaN }
      this.bySymbol.set(t.symbol, bucket)
    }
    const entry: Entry = {
      trade: t,
      bucket,
      long: t.direction === "LONG",
      stop: orNaN(t.stopLoss),
      target: orNaN(t.target),
      trailing: t.trailing,
      trailLevel: orNaN(t.trailLevel),
      best: t.bestPrice,
      open: t.open,
      armed: true,
      timeAt: t.timeExit?.at ?? Number.POSITIVE_INFINITY,
      timeCode: t.timeExit?.code ?? noExit,
      confirmCode: noExit,
      confirmCount: 0,
      confirmSince: 0,
    }
    bucket.entries.push(entry)
    this.byId.set(t.tradeId, entry)
  }

  /** Removes a trade; false when it was not indexed. */
  remove(tradeId: string): boolean {
    const e = this.byId.get(tradeId)
    if (!e) return false
    this.byId.delete(tradeId)
    const list = e.bucket.entries
    const i = list.indexOf(e)
    list[i] = list[list.length - 1]!
    list.pop()
    return true
  }

  /** True when the trade is indexed. */
  has(tradeId: string): boolean {
    return this.byId.has(tradeId)
  }

  /** The trade's state as the index sees it (tests, diagnostics). */
  peek(tradeId: string): { open: boolean; armed: boolean; best: number; trailLevel: number | null } | undefined {
    const e = this.byId.get(tradeId)
    return (
      e && { open: e.open, armed: e.armed, best: e.best, trailLevel: Number.isNaN(e.trailLevel) ? null : e.trailLevel }
    )
  }

  /** Follows the trade's durable state: OPEN or not, and its best price and trailing level if better. */
  follow(tradeId: string, open: boolean, bestPrice: number, trailLevel: number | null): void {
    const e = this.byId.get(tradeId)
    if (!e) return
    if (open && !e.open) e.armed = true
    e.open = open
    if (e.long ? bestPrice > e.best : bestPrice < e.best) e.best = bestPrice
    if (
      trailLevel !== null &&
      (Number.isNaN(e.trailLevel) || (e.long ? trailLevel > e.trailLevel : trailLevel < e.trailLevel))
    )
      e.trailLevel = trailLevel
  }

  /** Lets a latched trade fire again on its next qualifying tick. */
  rearm(tradeId: string): void {
    const e = this.byId.get(tradeId)
    if (e) e.armed = true
  }

  /** Re-arms every trade (an operator setting changed). */
  rearmAll(): void {
    for (const e of this.byId.values()) e.armed = true
  }

  /** The trade whose best price the last `onTick` improved, i-th of `improvedCount`. */
  improvedId(i: number): string {
    return this.improvedIds[i]!
  }

  /** Its new best price. */
  improvedPrice(i: number): number {
    return this.improvedPrices[i]!
  }

  /** Judges every trade on `symbol` at `ltp`: the candidates that fire (the shared empty array when none). */
  onTick(symbol: string, ltp: number, at: number): ReadonlyArray<ExitCandidate> {
    this.improvedCount = 0
    const bucket = this.bySymbol.get(symbol)
    if (bucket === undefined || !(ltp > 0)) return none
    bucket.last = ltp
    const list = bucket.entries
    let out: Array<ExitCandidate> | null = null
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!
      if (improve(e, ltp) && e.trailing !== null) this.noteImprovement(e.trade.tradeId, ltp)
      if (!e.open || !e.armed) continue
      const code = this.judge(e, ltp, at)
      if (code === noExit) continue
      e.armed = false
      e.confirmCode = noExit
      if (out === null) out = []
      out.push(candidateOf(e, code, ltp, at))
    }
    return out ?? none
  }

  /** Time exits due at `now` on trades that saw no tick, at their symbol's last price. */
  sweep(now: number): ReadonlyArray<ExitCandidate> {
    let out: Array<ExitCandidate> | null = null
    for (const e of this.byId.values()) {
      if (!e.open || !e.armed || !(now >= e.timeAt) || !(e.bucket.last > 0)) continue
      e.armed = false
      if (out === null) out = []
      out.push(candidateOf(e, e.timeCode, e.bucket.last, now))
    }
    return out ?? none
  }

  /** The exit that fires now: a confirmed price exit, else a due time exit. */
  private judge(e: Entry, ltp: number, at: number): number {
    const code = priceExit(e, ltp)
    if (code === noExit) e.confirmCode = noExit
    else {
      if (e.confirmCode !== code) {
        e.confirmCode = code
        e.confirmCount = 1
        e.confirmSince = at
      } else e.confirmCount++
      if (e.confirmCount >= this.confirm.ticks && at - e.confirmSince >= this.confirm.ms) return code
    }
    return at >= e.timeAt ? e.timeCode : noExit
  }

  private noteImprovement(tradeId: string, price: number): void {
    this.improvedIds[this.improvedCount] = tradeId
    this.improvedPrices[this.improvedCount] = price
    this.improvedCount++
  }
}

const candidateOf = (e: Entry, code: number, price: number, at: number): ExitCandidate => ({
  tradeId: e.trade.tradeId,
  accountId: e.trade.accountId,
  symbol: e.trade.symbol,
  exchange: e.trade.exchange,
  product: e.trade.product,
  reason: reasonOfCode[code]!,
  price,
  at,
})

/**
 * An example strategy: a channel breakout on one symbol. It buys `qty` when the price rises above
 * the highest of the last `lookback` ticks (with a stop and a target `stopPct` / `targetPct` away,
 * which the exit pipeline watches), and sells it back when the price falls below the lowest. One
 * order at a time; the position is what its executed orders add up to. Configure it as
 *
 *   { "module": "src/strategy/examples/BreakoutExample.ts", "accountId": "PAPER1",
 *     "params": { "symbol": "NIFTY26DECFUT", "exchange": "NFO", "qty": 65, "lookback": 20 } }
 *
 * State lives in the module, so load it once per engine (strategy names are unique anyway).
 */
import { defineStrategy, type StrategyContext } from "../Strategy.js"

interface Params {
  readonly symbol: string
  readonly exchange: string
  readonly qty: number
  readonly product: "MIS" | "NRML"
  readonly lookback: number
  readonly stopPct: number
  readonly targetPct: number
}

const paramsOf = (ctx: StrategyContext): Params => ({
  symbol: "NIFTY26DECFUT",
  exchange: "NFO",
  qty: 65,
  product: "MIS",
  lookback: 20,
  stopPct: 0.5,
  targetPct: 1,
  ...(ctx.params as Partial<Params>),
})

const prices: Array<number> = []
const sides = new Map<string, "BUY" | "SELL">()
let held = 0
let pending = false

const send = async (ctx: StrategyContext, p: Params, side: "BUY" | "SELL", ltp: number) => {
  pending = true
  const entry = side === "BUY"
  const outcome = await ctx.submit({
    executionType: entry ? "ENTRY" : "EXIT",
    symbol: p.symbol,
    exchange: p.exchange,
    side,
    qty: p.qty,
    product: p.product,
    stopLoss: entry ? Math.round(ltp * (1 - p.stopPct / 100)) : null,
    target: entry ? Math.round(ltp * (1 + p.targetPct / 100)) : null,
  })
  if (outcome.status === "REFUSED" || outcome.orderId === null) {
    pending = false
    ctx.log(`breakout: ${side} refused: ${outcome.reason}`)
    return
  }
  sides.set(outcome.orderId, side)
}

/** The breakout example. */
export default defineStrategy({
  name: "breakout-example",
  onTick: async (tick, ctx) => {
    const p = paramsOf(ctx)
    if (tick.symbol !== p.symbol) return
    const window = prices.slice(-p.lookback)
    prices.push(tick.ltp)
    if (prices.length > p.lookback + 1) prices.shift()
    if (pending || window.length < p.lookback) return
    if (held === 0 && tick.ltp > Math.max(...window)) return send(ctx, p, "BUY", tick.ltp)
    if (held > 0 && tick.ltp < Math.min(...window)) return send(ctx, p, "SELL", tick.ltp)
  },
  onOrderEvent: (transition) => {
    const side = sides.get(transition.actorId)
    if (side === undefined || transition.refused !== null) return
    if (!["EXECUTED", "FAILED", "CANCELLED", "EXPIRED"].includes(transition.to)) return
    if (transition.to === "EXECUTED") held += side === "BUY" ? 1 : -1
    sides.delete(transition.actorId)
    pending = false
  },
})

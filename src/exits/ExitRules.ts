/**
 * Exit conditions of stage 1 (trade qualification), pure and allocation-free: direction-aware
 * stop-loss and target, the trailing stop and its ratchet (the same arithmetic as the Trade
 * machine, which holds the durable trailing level), and the instants of time exits (MIS
 * square-off, expiry) in exchange time. A level that is not set is `NaN`, so every comparison
 * with it is false and the hot path needs no null checks.
 */
import type { Trailing } from "../../machines/TradeMachine.js"
import type { ExitReason, Product } from "../domain/Trading.js"

/** No exit condition holds. */
export const noExit = 0
/** Reason code of STOP_LOSS (codes index `reasonOfCode`). */
export const stopLossCode = 1
/** Reason code of TARGET. */
export const targetCode = 2
/** Reason code of TRAILING_STOP. */
export const trailingStopCode = 3
/** Reason code of SQUARE_OFF. */
export const squareOffCode = 4
/** Reason code of EXPIRY. */
export const expiryCode = 5

/** The exit reason of each code (index 0: none). */
export const reasonOfCode: ReadonlyArray<ExitReason> = [
  "",
  "STOP_LOSS",
  "TARGET",
  "TRAILING_STOP",
  "SQUARE_OFF",
  "EXPIRY",
]

/** The levels a trade is judged by; `NaN` where a level is not set. Mutated in place by `improve`. */
export interface Levels {
  readonly long: boolean
  readonly stop: number
  readonly target: number
  readonly trailing: Trailing | null
  trailLevel: number
  best: number
}

/**
 * The price exit that holds at `ltp`, or `noExit`. LONG: stop when ltp ≤ stop, target when
 * ltp ≥ target, trailing when ltp ≤ trailLevel; SHORT the mirror. When both stops are hit, the
 * tighter one (the one nearer the price) is the reason.
 */
export const priceExit = (l: Levels, ltp: number): number => {
  if (l.long) {
    const trail = ltp <= l.trailLevel
    if (ltp <= l.stop || trail) return trail && !(l.stop >= l.trailLevel) ? trailingStopCode : stopLossCode
    return ltp >= l.target ? targetCode : noExit
  }
  const trail = ltp >= l.trailLevel
  if (ltp >= l.stop || trail) return trail && !(l.stop <= l.trailLevel) ? trailingStopCode : stopLossCode
  return ltp <= l.target ? targetCode : noExit
}

/**
 * Records `ltp` as the new best price when it improves on it (higher for a LONG, lower for a
 * SHORT) and ratchets the trailing level; true when it did. Mirrors the Trade machine's
 * `tick.price` step exactly, so the index and the durable trade agree.
 */
export const improve = (l: Levels, ltp: number): boolean => {
  if (l.long ? !(ltp > l.best) : !(ltp < l.best)) return false
  l.best = ltp
  if (l.trailing !== null) {
    const next = trailFrom(l.long, l.trailing, ltp)
    l.trailLevel = Number.isNaN(l.trailLevel)
      ? next
      : l.long
        ? Math.max(l.trailLevel, next)
        : Math.min(l.trailLevel, next)
  }
  return true
}

/** The trailing stop for a best price (the Trade machine's `trailFrom`). */
export const trailFrom = (long: boolean, t: Trailing, price: number): number => {
  const distance =
    t.unit === "ticks" ? t.distance * t.tickSize : t.unit === "percent" ? (price * t.distance) / 100 : t.distance
  return roundPrice(long ? price - distance : price + distance)
}

const roundPrice = (x: number): number => Math.round(x * 10_000) / 10_000

const dayMs = 86_400_000

const minutesOf = (hhmm: string): number => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm)
  if (!m) throw new Error(`"${hhmm}" is not an HH:MM time`)
  return Number(m[1]) * 60 + Number(m[2])
}

/** The first instant at or after `epochMs` whose exchange time is `hhmm`. */
export const nextTimeAt = (epochMs: number, hhmm: string, utcOffsetMinutes: number): number => {
  const offset = utcOffsetMinutes * 60_000
  const localMidnight = Math.floor((epochMs + offset) / dayMs) * dayMs
  const sameDay = localMidnight + minutesOf(hhmm) * 60_000 - offset
  return sameDay >= epochMs ? sameDay : sameDay + dayMs
}

/** The instant of `hhmm` exchange time on a `YYYY-MM-DD` date. */
export const dateAt = (date: string, hhmm: string, utcOffsetMinutes: number): number => {
  const midnight = Date.parse(`${date}T00:00:00Z`)
  if (Number.isNaN(midnight)) throw new Error(`"${date}" is not a YYYY-MM-DD date`)
  return midnight + (minutesOf(hhmm) - utcOffsetMinutes) * 60_000
}

/** What decides a trade's time exit. */
export interface TimeRules {
  readonly squareOff: Readonly<Record<string, string>>
  readonly squareOffDefault: string
  readonly expiryExit: string
  readonly utcOffsetMinutes: number
}

/** A trade's time exit: when (`Infinity`: never) and why. */
export interface TimeExit {
  readonly at: number
  readonly code: number
}

/**
 * The first time exit of a trade: the first MIS square-off at or after its opening (a MIS trade
 * still open after it, an engine down at square-off time, is overdue and goes on the next tick),
 * or the instrument's expiry; the earlier wins, square-off on a tie.
 */
export const timeExitOf = (
  t: {
    readonly product: Product
    readonly exchange: string
    readonly openedAt: number
    readonly expiry: string | null
  },
  rules: TimeRules,
): TimeExit => {
  const squareOff =
    t.product === "MIS"
      ? nextTimeAt(t.openedAt, rules.squareOff[t.exchange] ?? rules.squareOffDefault, rules.utcOffsetMinutes)
      : Number.POSITIVE_INFINITY
  const expiry =
    t.expiry === null ? Number.POSITIVE_INFINITY : dateAt(t.expiry, rules.expiryExit, rules.utcOffsetMinutes)
  if (squareOff === Number.POSITIVE_INFINITY && expiry === Number.POSITIVE_INFINITY) return { at: expiry, code: noExit }
  return squareOff <= expiry ? { at: squareOff, code: squareOffCode } : { at: expiry, code: expiryCode }
}

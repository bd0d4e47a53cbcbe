/**
 * The risk manager's decisions, pure: given one account's facts and limits, a command is allowed
 * or refused with a block. It only decides; it never builds or places an order.
 *
 * - ENTRY: the execution guard's exit-all mode (forced unwind, HALTED); REDUCING lets through only
 *   an order that reduces the position (judged as an exit); then the daily loss limit, the guard's
 *   conflicts, maximum open positions, quantity and notional per position, the price band, margin
 *   from the broker's funds and the capital reserve.
 * - EXIT: never blocked by the account's state or the entry limits; the position must exist, the
 *   side close it, the quantity fit what is left, and a limit or trigger price be sane. CNC is
 *   delivery: the engine never exits it.
 * - ADJUST: judged as an exit when it reduces the position, else as an entry.
 */
import type { UniversalOrderCommand } from "../domain/Commands.js"
import { exitAllMode, guardEntry, guardExit } from "./ExecutionGuard.js"
import type { RiskLimits } from "./RiskConfig.js"
import {
  type AccountFacts,
  type Block,
  keyOf,
  netOf,
  openPositions,
  qtyWorking,
  rupees,
  signed,
  workingOn,
} from "./RiskFacts.js"

/** True when the command only brings the position toward flat (never through it). */
export const isReducing = (command: UniversalOrderCommand, facts: AccountFacts): boolean => {
  const net = netOf(facts.positions, keyOf(command))
  return net !== 0 && Math.sign(signed(command.side, 1)) !== Math.sign(net) && command.qty <= Math.abs(net)
}

/** The price an entry is valued at: its limit price, else the last price. */
const priceOf = (command: UniversalOrderCommand, facts: AccountFacts): number | null => command.price ?? facts.ltp

/** Refuses a limit or trigger price further from the last price than the band. */
export const priceBand = (command: UniversalOrderCommand, facts: AccountFacts, limits: RiskLimits): Block | null => {
  if (facts.ltp === null || facts.ltp <= 0) return null
  for (const [field, value] of [
    ["price", command.price],
    ["triggerPrice", command.triggerPrice],
  ] as const) {
    if (value === null) continue
    const gapPct = (Math.abs(value - facts.ltp) / facts.ltp) * 100
    if (gapPct > limits.priceBandPct)
      return {
        code: "PRICE_BAND",
        detail: `${field} ${value} is ${rupees(gapPct)} % from the last price ${facts.ltp}, band ${limits.priceBandPct} %`,
      }
  }
  return null
}

/** Refuses an entry once the day's loss reaches the limit. */
export const dailyLoss = (facts: AccountFacts, limits: RiskLimits): Block | null =>
  facts.pnl.total <= -limits.maxDailyLoss
    ? {
        code: "DAILY_LOSS",
        detail: `day P&L ${rupees(facts.pnl.total)} reaches the loss limit ${limits.maxDailyLoss}`,
      }
    : null

/** Refuses an entry that opens one position more than the maximum (working entries count as open). */
export const maxOpenPositions = (
  command: UniversalOrderCommand,
  facts: AccountFacts,
  limits: RiskLimits,
): Block | null => {
  if (command.product === "CNC") return null
  const key = keyOf(command)
  const open = new Set(openPositions(facts.positions).map(keyOf))
  for (const o of facts.working) if (o.purpose === "ENTRY" && o.product !== "CNC") open.add(keyOf(o))
  if (open.has(key) || open.size < limits.maxOpenPositions) return null
  return {
    code: "MAX_OPEN_POSITIONS",
    detail: `${open.size} positions open or opening, limit ${limits.maxOpenPositions}`,
  }
}

/** Refuses an entry whose position, working orders included, would pass the notional limit. */
export const maxNotional = (command: UniversalOrderCommand, facts: AccountFacts, limits: RiskLimits): Block | null => {
  const price = priceOf(command, facts)
  if (price === null) return { code: "PRICE_UNKNOWN", detail: `no price for ${command.symbol} yet to value the entry` }
  const key = keyOf(command)
  const inFlight = qtyWorking(workingOn(facts.working, key), command.side)
  const qty = Math.abs(netOf(facts.positions, key) + signed(command.side, inFlight + command.qty))
  const notional = qty * price
  if (notional <= limits.maxNotionalPerPosition) return null
  return {
    code: "MAX_NOTIONAL",
    detail: `position of ${qty} at ${price} is ${rupees(notional)}, limit ${limits.maxNotionalPerPosition}`,
  }
}

/** Refuses an entry the broker's free funds cannot margin while keeping the capital reserve. */
export const marginAndReserve = (
  command: UniversalOrderCommand,
  facts: AccountFacts,
  limits: RiskLimits,
): Block | null => {
  const funds = facts.funds
  if (funds === null) return { code: "FUNDS_UNAVAILABLE", detail: "the broker's funds could not be read" }
  const price = priceOf(command, facts) ?? 0
  const key = keyOf(command)
  const before =
    netOf(facts.positions, key) + signed(command.side, qtyWorking(workingOn(facts.working, key), command.side))
  const closable = command.side === "BUY" ? Math.max(0, -before) : Math.max(0, before)
  const opening = Math.max(0, command.qty - closable)
  const required = limits.marginRates[command.product] * opening * price
  if (required > funds.available)
    return {
      code: "MARGIN",
      detail: `needs ${rupees(required)} of margin, ${rupees(funds.available)} available`,
    }
  const reserve = limits.capitalReserve * funds.total
  if (funds.available - required < reserve)
    return {
      code: "CAPITAL_RESERVE",
      detail: `${rupees(required)} of margin would leave ${rupees(funds.available - required)} free, reserve ${rupees(reserve)}`,
    }
  return null
}

/** The entry checks, in order; the first block wins. */
export const checkEntry = (command: UniversalOrderCommand, facts: AccountFacts, limits: RiskLimits): Block | null => {
  const mode = exitAllMode(facts.standing)
  if (mode !== null) return mode
  if (facts.standing.state === "REDUCING") {
    if (isReducing(command, facts)) return checkExit(command, facts, limits)
    return {
      code: "REDUCING",
      detail: `only exposure-reducing orders while the account is reducing (${facts.standing.reason})`,
    }
  }
  return (
    dailyLoss(facts, limits) ??
    guardEntry(command, facts, limits) ??
    maxOpenPositions(command, facts, limits) ??
    maxNotional(command, facts, limits) ??
    priceBand(command, facts, limits) ??
    marginAndReserve(command, facts, limits)
  )
}

/** The exit checks: position, side, quantity, price; whatever the account's state. */
export const checkExit = (command: UniversalOrderCommand, facts: AccountFacts, limits: RiskLimits): Block | null => {
  if (command.product === "CNC") return { code: "CNC", detail: "delivery holdings are never exited by the engine" }
  const net = netOf(facts.positions, keyOf(command))
  if (net === 0)
    return { code: "NO_POSITION", detail: `no open ${command.product} position in ${command.symbol} to exit` }
  if (Math.sign(signed(command.side, 1)) === Math.sign(net))
    return { code: "EXIT_SIDE", detail: `${command.side} would grow the position of ${net}, not close it` }
  return guardExit(command, facts) ?? priceBand(command, facts, limits)
}

/** The risk manager's decision on a command: null to allow, or the block. */
export const decide = (command: UniversalOrderCommand, facts: AccountFacts, limits: RiskLimits): Block | null => {
  if (command.executionType === "EXIT") return checkExit(command, facts, limits)
  if (command.executionType === "ADJUST" && isReducing(command, facts)) return checkExit(command, facts, limits)
  return checkEntry(command, facts, limits)
}

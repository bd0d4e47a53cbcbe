/**
 * The execution guard (seed "complete order flow"): the last look before an order is sent. Pure.
 *
 * - A duplicate command never reaches it: `OrderEntry` answers a command id seen before with its
 *   first outcome from the `commands` table, before any order or risk check.
 * - A quantity that conflicts with orders already working on the position (same account, symbol,
 *   exchange, product) is refused: an entry while the opposite side works, an entry that with what
 *   is in flight goes past the per-position limit, an exit larger than what is left to exit.
 * - No entry passes while the account is in exit-all mode (forced unwind on, or HALTED).
 */
import type { UniversalOrderCommand } from "../domain/Commands.js"
import type { RiskLimits } from "./RiskConfig.js"
import {
  type AccountFacts,
  type Block,
  keyOf,
  netOf,
  qtyWorking,
  type Standing,
  signed,
  workingOn,
} from "./RiskFacts.js"

/** Refuses every entry while the account exits everything: forced unwind on, or HALTED. */
export const exitAllMode = (standing: Standing): Block | null => {
  if (standing.forcedUnwind)
    return { code: "FORCED_UNWIND", detail: `entries refused while forced unwind is on (${standing.unwindReason})` }
  if (standing.state === "HALTED")
    return { code: "HALTED", detail: `entries refused while the account is halted (${standing.reason})` }
  return null
}

/** Refuses an entry while the opposite side works on the same position. */
export const oppositeWorking = (command: UniversalOrderCommand, facts: AccountFacts): Block | null => {
  const other = command.side === "BUY" ? "SELL" : "BUY"
  const working = qtyWorking(workingOn(facts.working, keyOf(command)), other)
  if (working === 0) return null
  return {
    code: "OPPOSITE_WORKING",
    detail: `${other} ${working} already working on ${command.symbol} ${command.product}`,
  }
}

/** Refuses an entry that, with the same side in flight and the position, goes past the quantity limit. */
export const qtyInFlight = (command: UniversalOrderCommand, facts: AccountFacts, limits: RiskLimits): Block | null => {
  const key = keyOf(command)
  const net = netOf(facts.positions, key)
  const inFlight = qtyWorking(workingOn(facts.working, key), command.side)
  const projected = Math.abs(net + signed(command.side, inFlight + command.qty))
  if (projected <= limits.maxQtyPerPosition) return null
  return {
    code: "MAX_QTY",
    detail: `${command.qty} with ${inFlight} in flight on a position of ${net} makes ${projected}, limit ${limits.maxQtyPerPosition}`,
  }
}

/** The guard's refusal of an entry, or null. */
export const guardEntry = (command: UniversalOrderCommand, facts: AccountFacts, limits: RiskLimits): Block | null =>
  exitAllMode(facts.standing) ?? oppositeWorking(command, facts) ?? qtyInFlight(command, facts, limits)

/** The guard's refusal of an exit larger than the position left once the exits already working fill. */
export const guardExit = (command: UniversalOrderCommand, facts: AccountFacts): Block | null => {
  const key = keyOf(command)
  const open = Math.abs(netOf(facts.positions, key))
  const exiting = qtyWorking(workingOn(facts.working, key), command.side)
  if (command.qty + exiting <= open) return null
  return {
    code: "EXIT_QTY",
    detail: `exit of ${command.qty} with ${exiting} already exiting exceeds the open ${open} on ${command.symbol} ${command.product}`,
  }
}

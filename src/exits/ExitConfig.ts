/**
 * The exit pipeline's settings that come from configuration (not from the operator at run time:
 * those are `ExitSettings`): cooldown, confirmation rule, time exits, price gate, bounds.
 */
import { Context, Layer, Option } from "effect"
import { type Instrument, Instruments } from "../orders/Instruments.js"

/** Configuration of the exit pipeline. */
export interface ExitOptions {
  /** After a signal is published, no new automatic exit episode starts for its trade for this long. */
  readonly cooldownMs: number
  /** A price condition must hold on this many consecutive ticks (1: immediate) … */
  readonly confirmTicks: number
  /** … and for this long since its first tick (0: immediate). */
  readonly confirmMs: number
  /** MIS square-off time (`HH:MM`, exchange time) by exchange; `squareOffDefault` for the others. */
  readonly squareOff: Readonly<Record<string, string>>
  readonly squareOffDefault: string
  /** Exit time (`HH:MM`, exchange time) on an instrument's expiry day. */
  readonly expiryExit: string
  /** Exchange time offset from UTC in minutes (IST: 330). */
  readonly utcOffsetMinutes: number
  /** Widest gap between the detected and the last price the price gate accepts, in percent. */
  readonly priceBandPct: number
  /** Protection band of limit-as-market exit orders, as a fraction. */
  readonly limitBand: number
  /** How often time exits are checked without a tick, in ms (0: only on ticks). */
  readonly timeSweepMs: number
  /** Candidates qualified at once (stage 2 workers). */
  readonly qualifyConcurrencyMax: number
  /** Positions and trades a `requestExit` works on at once. */
  readonly requestConcurrencyMax: number
  /**
   * Broker truth: an exit intent is approved only within the broker's net position on its side
   * (less exits already working), so it never takes a position through zero. Off only for tests
   * that open trades with no position behind them at the broker.
   */
  readonly capByNetPosition: boolean
  /** Tick, lot, freeze and market-order rules of what the engine exits. */
  readonly instruments: Instruments
}

/** The defaults: one-minute cooldown, immediate confirmation, MIS square-off at 15:15 IST. */
export const defaultExitOptions: ExitOptions = {
  cooldownMs: 60_000,
  confirmTicks: 1,
  confirmMs: 0,
  squareOff: {},
  squareOffDefault: "15:15",
  expiryExit: "15:15",
  utcOffsetMinutes: 330,
  priceBandPct: 10,
  limitBand: 0.005,
  timeSweepMs: 1_000,
  qualifyConcurrencyMax: 64,
  requestConcurrencyMax: 256,
  capByNetPosition: true,
  instruments: Instruments.empty,
}

/** The exit pipeline's configuration as a service. */
export class ExitConfig extends Context.Tag("warden/ExitConfig")<ExitConfig, ExitOptions>() {
  /** The defaults with these overrides. */
  static readonly layer = (overrides: Partial<ExitOptions> = {}) =>
    Layer.succeed(ExitConfig, { ...defaultExitOptions, ...overrides })
}

/** The instrument's rules, or the defaults (tick 0.05, lot 1, market orders allowed) for an unknown one. */
export const instrumentOf = (instruments: Instruments, exchange: string, symbol: string): Instrument =>
  Option.getOrElse(instruments.get(exchange, symbol), () => Instruments.fromList([{ exchange, symbol }]).all[0]!)

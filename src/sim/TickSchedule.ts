/**
 * The scenario's tick streams merged into one schedule in time order: seeded random walks (one
 * Random per stream, seeded from the scenario's seed and the symbol, so the prices never depend on
 * what the engine draws) and explicit paths (ticks exactly at their points). Times are ms from
 * the scenario's start; nothing is produced after `durationMs`.
 */
import { Effect, Random } from "effect"
import { step, type WalkSpec } from "./RandomWalkFeed.js"
import type { Scenario } from "./Scenario.js"

/** One tick of the schedule, at `atMs` from the start. */
export interface ScheduledTick {
  readonly symbol: string
  readonly exchange: string
  readonly ltp: number
  readonly atMs: number
}

interface Source {
  nextAtMs: number | null
  /** Produces the tick at `nextAtMs` and moves on. */
  readonly take: Effect.Effect<ScheduledTick>
}

/** A standard normal draw (Box–Muller) from one Random. */
const normalOf = (random: Random.Random) =>
  Effect.gen(function* () {
    const u = Math.max(yield* random.next, 1e-12)
    const v = yield* random.next
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  })

const walkSource = (spec: WalkSpec, seed: number, durationMs: number): Source => {
  const random = Random.make(`${seed}:${spec.symbol}`)
  let price = spec.startPrice
  const source: Source = {
    nextAtMs: 0,
    take: Effect.gen(function* () {
      const atMs = source.nextAtMs ?? 0
      const tick = { symbol: spec.symbol, exchange: spec.exchange, ltp: Number(price.toFixed(4)), atMs }
      price = step(price, spec, yield* normalOf(random))
      const next = atMs + spec.intervalMs
      source.nextAtMs = next <= durationMs ? next : null
      return tick
    }),
  }
  return source
}

const pathSource = (
  symbol: string,
  exchange: string,
  points: ReadonlyArray<readonly [number, number]>,
  durationMs: number,
): Source => {
  const sorted = points.filter(([at]) => at <= durationMs).sort((a, b) => a[0] - b[0])
  let i = 0
  const source: Source = {
    nextAtMs: sorted[0]?.[0] ?? null,
    take: Effect.sync(() => {
      const [atMs, ltp] = sorted[i++]!
      source.nextAtMs = sorted[i]?.[0] ?? null
      return { symbol, exchange, ltp, atMs }
    }),
  }
  return source
}

/** The exchange a symbol trades on: its instrument's, else its holding's, else NSE. */
export const exchangeOf = (scenario: Scenario, symbol: string): string =>
  scenario.instruments.find((i) => i.symbol === symbol)?.exchange ??
  scenario.accounts.flatMap((a) => a.holdings).find((h) => h.symbol === symbol)?.exchange ??
  "NSE"

/** The merged schedule of a scenario's tick streams. */
export class TickSchedule {
  private constructor(private readonly sources: ReadonlyArray<Source>) {}

  /** The schedule of `scenario` under `seed`. */
  static of(scenario: Scenario, seed: number): TickSchedule {
    const sources = scenario.ticks.map((t): Source => {
      const exchange = exchangeOf(scenario, t.symbol)
      if (t.kind === "path") return pathSource(t.symbol, exchange, t.points, scenario.durationMs)
      const instrument = scenario.instruments.find((i) => i.symbol === t.symbol)!
      const spec: WalkSpec = {
        symbol: t.symbol,
        exchange,
        startPrice: instrument.startPrice,
        tickSize: instrument.tickSize,
        intervalMs: t.intervalMs,
        volatilityBps: t.volatilityBps,
        driftBps: t.driftBps,
      }
      return walkSource(spec, seed, scenario.durationMs)
    })
    return new TickSchedule(sources)
  }

  /** When the next tick is due (ms from the start), or null when every stream has ended. */
  peek(): number | null {
    let min: number | null = null
    for (const s of this.sources) if (s.nextAtMs !== null && (min === null || s.nextAtMs < min)) min = s.nextAtMs
    return min
  }

  /** Every tick due at or before `atMs`, in time order (streams in file order at equal times). */
  takeUntil(atMs: number): Effect.Effect<ReadonlyArray<ScheduledTick>> {
    const sources = this.sources
    return Effect.gen(function* () {
      const out: Array<ScheduledTick> = []
      for (;;) {
        let best: Source | null = null
        for (const s of sources)
          if (s.nextAtMs !== null && s.nextAtMs <= atMs && (best === null || s.nextAtMs < best.nextAtMs!)) best = s
        if (best === null) return out
        out.push(yield* best.take)
      }
    })
  }
}

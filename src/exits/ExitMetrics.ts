/**
 * The exit pipeline's metrics (the V010 plan's operational counters), as Effect metrics: signals
 * detected and published, intents approved, rejected, placed, filled and failed, and the time
 * from placed to filled. Counted after the commit of the step they count.
 */
import { Effect, Metric, MetricBoundaries } from "effect"
import type { Transition } from "../runtime/ActorRuntime.js"

/** Exit signals created (DETECTED). */
export const signalsDetected = Metric.counter("warden_exit_signals_detected_total", {
  description: "exit signals detected (stage 1 candidates that became signals)",
})
/** Exit signals published (an intent created). */
export const signalsPublished = Metric.counter("warden_exit_signals_published_total", {
  description: "exit signals published with their exit intent",
})
/** Exit intents approved by the gates (executed or dark). */
export const intentsApproved = Metric.counter("warden_exit_intents_approved_total", {
  description: "exit intents approved by the operational gates",
})
/** Exit intents rejected by the gates. */
export const intentsRejected = Metric.counter("warden_exit_intents_rejected_total", {
  description: "exit intents rejected by the operational gates",
})
/** Exit intents whose order reached the broker. */
export const intentsPlaced = Metric.counter("warden_exit_intents_placed_total", {
  description: "exit intents whose order the broker accepted",
})
/** Exit intents filled. */
export const intentsFilled = Metric.counter("warden_exit_intents_filled_total", { description: "exit intents filled" })
/** Exit intents failed (order rejected, cancelled or expired short). */
export const intentsFailed = Metric.counter("warden_exit_intents_failed_total", { description: "exit intents failed" })
/** Milliseconds from an exit intent's placement to its fill. */
export const placedToFilledMs = Metric.histogram(
  "warden_exit_placed_to_filled_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "milliseconds from an exit intent's placement to its fill",
)

/** Counts an exit intent's committed transition into PLACED, FILLED or FAILED. */
export const countIntentOutcome = (
  t: Transition,
  times: () => Effect.Effect<{ placedAt: number | null; finishedAt: number | null } | null>,
): Effect.Effect<void> => {
  if (t.refused !== null || t.from === t.to) return Effect.void
  if (t.to === "PLACED") return Metric.increment(intentsPlaced)
  if (t.to === "FAILED") return Metric.increment(intentsFailed)
  if (t.to !== "FILLED") return Effect.void
  return Effect.gen(function* () {
    yield* Metric.increment(intentsFilled)
    const c = yield* times()
    if (c?.placedAt != null && c.finishedAt != null) yield* Metric.update(placedToFilledMs, c.finishedAt - c.placedAt)
  })
}

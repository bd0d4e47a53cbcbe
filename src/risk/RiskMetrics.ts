/**
 * The risk manager's and the continuous enforcer's metrics, as Effect metrics (the Prometheus
 * endpoint exports them): blocks by code, interventions by kind, checks and failed checks, and the
 * time of the enforcer's last check.
 */
import { Metric } from "effect"

/** Commands the risk manager refused (tag `code`). */
export const riskBlocks = Metric.counter("warden_risk_blocks_total", {
  description: "commands refused by the risk manager or the execution guard",
})

/** The enforcer's interventions (tag `kind`: POSITION_CAP, DAILY_LOSS, FORCED_UNWIND). */
export const interventions = Metric.counter("warden_risk_interventions_total", {
  description: "continuous enforcer interventions: a state change or exits requested",
})

/** Account checks the enforcer completed. */
export const accountChecks = Metric.counter("warden_risk_enforcer_checks_total", {
  description: "account checks run by the continuous enforcer",
})

/** Account checks that failed (logged; the next cycle runs). */
export const checkFailures = Metric.counter("warden_risk_enforcer_failures_total", {
  description: "account checks of the continuous enforcer that failed",
})

/** Epoch ms of the enforcer's last completed cycle. */
export const lastCheckGauge = Metric.gauge("warden_risk_enforcer_last_check_ms", {
  description: "epoch milliseconds of the continuous enforcer's last completed cycle",
})

/** The engine's Effect metrics in Prometheus text exposition format (`GET /metrics`). */
import { Effect, Metric, MetricState } from "effect"

const name = (n: string) => n.replace(/[^a-zA-Z0-9_:]/g, "_")
const labels = (tags: ReadonlyArray<{ key: string; value: string }>, extra: Record<string, string> = {}) => {
  const all = [...tags.map((t) => [t.key, t.value] as const), ...Object.entries(extra)]
  return all.length === 0
    ? ""
    : `{${all.map(([k, v]) => `${name(k)}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`
}
const num = (v: number | bigint) =>
  typeof v === "bigint" ? v.toString() : Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : "-Inf"

/** Every metric registered in this process, as Prometheus text. */
export const prometheusText: Effect.Effect<string> = Effect.map(Metric.snapshot, (pairs) => {
  const lines: Array<string> = []
  const typed = new Set<string>()
  const header = (n: string, type: string, help: string | undefined) => {
    if (typed.has(n)) return
    typed.add(n)
    if (help) lines.push(`# HELP ${n} ${help}`)
    lines.push(`# TYPE ${n} ${type}`)
  }
  for (const pair of [...pairs].sort((a, b) => (a.metricKey.name < b.metricKey.name ? -1 : 1))) {
    const n = name(pair.metricKey.name)
    const help = Option_getOrUndefined(pair.metricKey.description)
    const s = pair.metricState
    const tags = pair.metricKey.tags
    if (MetricState.isCounterState(s)) {
      header(n, "counter", help)
      lines.push(`${n}${labels(tags)} ${num(s.count)}`)
    } else if (MetricState.isGaugeState(s)) {
      header(n, "gauge", help)
      lines.push(`${n}${labels(tags)} ${num(s.value)}`)
    } else if (MetricState.isHistogramState(s)) {
      header(n, "histogram", help)
      for (const [bound, count] of s.buckets) lines.push(`${n}_bucket${labels(tags, { le: num(bound) })} ${count}`)
      lines.push(`${n}_bucket${labels(tags, { le: "+Inf" })} ${s.count}`)
      lines.push(`${n}_sum${labels(tags)} ${num(s.sum)}`)
      lines.push(`${n}_count${labels(tags)} ${s.count}`)
    } else if (MetricState.isFrequencyState(s)) {
      header(n, "counter", help)
      for (const [k, v] of s.occurrences) lines.push(`${n}${labels(tags, { value: k })} ${v}`)
    } else if (MetricState.isSummaryState(s)) {
      header(n, "summary", help)
      for (const [q, v] of s.quantiles)
        lines.push(`${n}${labels(tags, { quantile: String(q) })} ${v._tag === "Some" ? num(v.value) : "NaN"}`)
      lines.push(`${n}_sum${labels(tags)} ${num(s.sum)}`)
      lines.push(`${n}_count${labels(tags)} ${s.count}`)
    }
  }
  return `${lines.join("\n")}\n`
})

const Option_getOrUndefined = (o: { _tag: "Some"; value: string } | { _tag: "None" }): string | undefined =>
  o._tag === "Some" ? o.value : undefined

/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The step control of an actor view (browser code): a slider over the actor's journal rows that
 * shows the state and context after each, marks that state on the chart (hatched) and the
 * transitions it took (dotted, extra thick), and highlights the timeline row. Clicking a timeline
 * row moves the slider there. Shared by the page and the exported report.
 */
import type { PathStep } from "../ActorPath.js"

/** Contexts after every step, rebuilt from the steps' diffs. */
const contextsOf = (steps: ReadonlyArray<PathStep>): ReadonlyArray<Record<string, unknown> | null> => {
  const out: Array<Record<string, unknown> | null> = []
  let current: Record<string, unknown> | null = null
  for (const s of steps) {
    if (s.changes) {
      const next: Record<string, unknown> = { ...(current ?? {}), ...s.changes }
      for (const k of s.removed ?? []) delete next[k]
      current = next
    }
    out.push(current)
  }
  return out
}

/** `A.b.c` → ["A", "A.b", "A.b.c"]. */
const prefixes = (state: string): ReadonlyArray<string> => {
  const parts = state.split("|")[0]!.split(".")
  return parts.map((_, i) => parts.slice(0, i + 1).join("."))
}

const markChart = (article: HTMLElement, step: PathStep) => {
  const svg = article.querySelector<SVGSVGElement>("svg.chart")
  if (!svg) return
  const active = prefixes(step.state)
  const deepest = active[active.length - 1]
  for (const g of svg.querySelectorAll<SVGGElement>("g.state")) {
    const path = g.dataset.state ?? ""
    const at = path === deepest
    g.classList.toggle("at-step", at)
    g.classList.toggle("at-step-ancestor", !at && active.includes(path))
    const frame = g.querySelector<SVGRectElement>("rect.frame")
    if (frame) frame.style.fill = at ? (svg.dataset.hatch ?? "") : ""
  }
  const taken = new Set(step.transitions ?? [])
  for (const g of svg.querySelectorAll<SVGGElement>("g.edge")) {
    const keys = (g.dataset.transitions ?? "").split(" ")
    g.classList.toggle(
      "step-edge",
      keys.some((k) => taken.has(k)),
    )
  }
}

const markTimeline = (article: HTMLElement, seq: number, scroll: boolean) => {
  for (const tr of article.querySelectorAll<HTMLTableRowElement>("tr[data-seq]")) {
    const at = Number(tr.dataset.seq) === seq
    tr.classList.toggle("at-step", at)
    if (at) {
      tr.setAttribute("aria-current", "step")
      if (scroll) tr.scrollIntoView({ block: "nearest" })
    } else tr.removeAttribute("aria-current")
  }
}

/** Wires the step control of one actor view; returns a function that selects a step by seq. */
export const wireSteps = (article: HTMLElement, steps: ReadonlyArray<PathStep>): ((seq: number) => void) => {
  const slider = article.querySelector<HTMLInputElement>("input.slider")
  const info = article.querySelector<HTMLElement>(".step-info")
  const state = article.querySelector<HTMLElement>(".step-state")
  const context = article.querySelector<HTMLElement>(".step-context")
  if (!slider || steps.length === 0) return () => {}
  const contexts = contextsOf(steps)
  const show = (k: number, scroll: boolean) => {
    const i = Math.max(0, Math.min(steps.length - 1, k))
    const step = steps[i]!
    slider.value = String(i)
    if (info) info.textContent = `Step ${i + 1} of ${steps.length} (journal seq ${step.seq}, ${step.event})`
    if (state) state.replaceChildren(Object.assign(document.createElement("code"), { textContent: step.state }))
    if (context)
      context.textContent = contexts[i] === null ? "(not known for this step)" : JSON.stringify(contexts[i], null, 2)
    markChart(article, step)
    markTimeline(article, step.seq, scroll)
  }
  slider.addEventListener("input", () => show(Number(slider.value), true))
  const button = (cls: string, to: () => number) =>
    article.querySelector<HTMLButtonElement>(`button.${cls}`)?.addEventListener("click", () => show(to(), true))
  button("first", () => 0)
  button("prev", () => Number(slider.value) - 1)
  button("next", () => Number(slider.value) + 1)
  button("last", () => steps.length - 1)
  const bySeq = (seq: number) => steps.findIndex((s) => s.seq === seq)
  article.querySelector("table.timeline-table")?.addEventListener("click", (e) => {
    const target = e.target as HTMLElement
    if (target.closest("a, summary, details")) return
    const tr = target.closest<HTMLTableRowElement>("tr[data-seq]")
    if (tr) show(bySeq(Number(tr.dataset.seq)), false)
  })
  show(steps.length - 1, false)
  return (seq) => show(bySeq(seq), true)
}

/** Wires the chart's zoom toggle: fit to the width, or 100% in a scrolling box. */
export const wireZoom = (article: HTMLElement) => {
  const button = article.querySelector<HTMLButtonElement>("button.zoom")
  const box = article.querySelector<HTMLElement>(".chart-scroll")
  button?.addEventListener("click", () => {
    const full = box?.classList.toggle("fit") === false
    button.setAttribute("aria-pressed", String(full))
    button.textContent = full ? "Fit to width" : "Zoom to 100%"
  })
}

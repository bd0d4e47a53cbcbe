/**
 * The progress bar of a simulation on a terminal: simulated time and ticks per wall second,
 * redrawn at most ten times a second once the run has taken a second; nothing when the output is
 * not a terminal.
 */

/** Reports progress; `done` clears the line. */
export interface Progress {
  readonly update: (simulatedMs: number, ticks: number) => void
  readonly done: () => void
}

/** No progress shown. */
export const silentProgress: Progress = { update: () => {}, done: () => {} }

const clock = (ms: number): string => {
  const s = Math.floor(ms / 1000)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
}

/** A bar on `stream` when it is a terminal, for a run of `durationMs` simulated. */
export const terminalProgress = (durationMs: number, stream: NodeJS.WriteStream = process.stderr): Progress => {
  if (!stream.isTTY) return silentProgress
  const started = performance.now()
  const barWidth = 30
  const redrawMs = 100
  const quietMs = 1_000
  let drawnAt = 0
  let drawn = false
  return {
    update: (simulatedMs, ticks) => {
      const now = performance.now()
      if (now - started < quietMs || now - drawnAt < redrawMs) return
      drawnAt = now
      drawn = true
      const share = Math.min(1, simulatedMs / durationMs)
      const filled = Math.round(share * barWidth)
      const rate = Math.round(ticks / ((now - started) / 1000))
      stream.write(
        `\r[${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${clock(simulatedMs)} / ${clock(durationMs)}  ${rate.toLocaleString("en-US")} ticks/s `,
      )
    },
    done: () => {
      if (drawn) stream.write("\r\x1b[2K")
    },
  }
}

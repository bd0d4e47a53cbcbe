/** A binary min-heap of durable timers by due time (ties by insertion), for the timer fiber. */

/** A timer as the heap holds it. */
export interface TimerEntry {
  readonly dueAt: number
  readonly actorId: string
  readonly name: string
  readonly armedSeq: number
}

/** Min-heap on `dueAt`. Stale entries (re-armed or cleared timers) are skipped by the caller. */
export class TimerHeap {
  private readonly items: Array<TimerEntry> = []

  get size(): number {
    return this.items.length
  }

  push(entry: TimerEntry): void {
    const a = this.items
    a.push(entry)
    let i = a.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (a[parent]!.dueAt <= a[i]!.dueAt) break
      ;[a[parent], a[i]] = [a[i]!, a[parent]!]
      i = parent
    }
  }

  peek(): TimerEntry | undefined {
    return this.items[0]
  }

  pop(): TimerEntry | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && a[l]!.dueAt < a[m]!.dueAt) m = l
        if (r < a.length && a[r]!.dueAt < a[m]!.dueAt) m = r
        if (m === i) break
        ;[a[m], a[i]] = [a[i]!, a[m]!]
        i = m
      }
    }
    return top
  }
}

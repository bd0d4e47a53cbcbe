/** Time exits in exchange time: the MIS square-off per exchange and the expiry day. */
import { describe, expect, it } from "vitest"
import { dateAt, expiryCode, nextTimeAt, noExit, squareOffCode, timeExitOf } from "../../src/exits/ExitRules.js"

const ist = (s: string) => Date.parse(`${s}+05:30`)
const rules = { squareOff: { MCX: "23:25" }, squareOffDefault: "15:15", expiryExit: "15:00", utcOffsetMinutes: 330 }
const mis = { product: "MIS" as const, exchange: "NFO", expiry: null }

describe("time exits", () => {
  it("the square-off is the first HH:MM in exchange time at or after the opening", () => {
    expect(nextTimeAt(ist("2026-03-02T09:20:00"), "15:15", 330)).toBe(ist("2026-03-02T15:15:00"))
    expect(nextTimeAt(ist("2026-03-02T15:15:00"), "15:15", 330)).toBe(ist("2026-03-02T15:15:00"))
    // Just after midnight IST is still the previous day in UTC.
    expect(nextTimeAt(ist("2026-03-03T00:30:00"), "15:15", 330)).toBe(ist("2026-03-03T15:15:00"))
    expect(nextTimeAt(ist("2026-03-02T15:16:00"), "15:15", 330)).toBe(ist("2026-03-03T15:15:00"))
  })

  it("a MIS trade is squared off at its exchange's time, 15:15 by default; NRML and CNC trades are not", () => {
    const openedAt = ist("2026-03-02T10:00:00")
    expect(timeExitOf({ ...mis, openedAt }, rules)).toEqual({ at: ist("2026-03-02T15:15:00"), code: squareOffCode })
    expect(timeExitOf({ ...mis, exchange: "MCX", openedAt }, rules)).toEqual({
      at: ist("2026-03-02T23:25:00"),
      code: squareOffCode,
    })
    expect(timeExitOf({ ...mis, product: "NRML", openedAt }, rules).code).toBe(noExit)
    expect(timeExitOf({ ...mis, product: "CNC", openedAt }, rules).code).toBe(noExit)
  })

  it("a trade in an expiring contract exits on its expiry day; a MIS trade that day is squared off if that comes first", () => {
    const openedAt = ist("2026-03-30T10:00:00")
    expect(timeExitOf({ ...mis, product: "NRML", expiry: "2026-03-31", openedAt }, rules)).toEqual({
      at: ist("2026-03-31T15:00:00"),
      code: expiryCode,
    })
    expect(timeExitOf({ ...mis, expiry: "2026-03-30", openedAt }, rules).code).toBe(expiryCode)
    expect(timeExitOf({ ...mis, expiry: "2026-03-31", openedAt }, rules).code).toBe(squareOffCode)
    expect(dateAt("2026-03-31", "15:00", 330)).toBe(ist("2026-03-31T15:00:00"))
  })
})

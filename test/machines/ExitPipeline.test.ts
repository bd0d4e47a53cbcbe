/**
 * The exit chain across machines: signal → intent → order → fills → trade, with every event one
 * machine declares for another accepted by it.
 */
import { describe, expect, it } from "vitest"
import { MachineBus } from "../fixtures/machineBus.js"

const t0 = 1_772_423_100_000

const trade = {
  tradeId: "T1",
  accountId: "U1",
  symbol: "NIFTY26MARFUT",
  exchange: "NFO",
  product: "MIS",
  direction: "LONG",
  qty: 65,
  entryPrice: 22000.05,
  stopLoss: 21950,
  target: 22100,
  trailing: { distance: 20, unit: "price" },
  entryOrderId: "O0",
  openedAt: t0,
}

const signal = {
  signalId: "S1",
  tradeId: "T1",
  accountId: "U1",
  symbol: "NIFTY26MARFUT",
  exitReason: "STOP_LOSS",
  episodeId: 0,
  detectedPrice: 21949.95,
  detectedAt: t0,
  cooldownMs: 60_000,
}

/** A trade with a published stop-loss signal and its intent, pending. */
function published(): MachineBus {
  const bus = new MachineBus(t0)
  bus.spawn("trade", "T1", trade)
  bus.spawn("exitSignal", "S1", signal)
  bus.send("S1", { type: "signal.publish", intentId: "I1", side: "SELL", qty: 65, exchange: "NFO", product: "MIS" })
  return bus
}

const approve = (bus: MachineBus, execute: boolean) =>
  bus.send("I1", {
    type: "gate.approved",
    slices: [{ orderId: "O1", clientTag: "W-O1", qty: 65 }],
    execute,
    orderType: "MARKET",
    price: null,
  })

/** A trade of 195 with a published stop-loss intent, approved in three slices of 65. */
function sliced(): MachineBus {
  const bus = new MachineBus(t0)
  bus.spawn("trade", "T1", { ...trade, qty: 195 })
  bus.spawn("exitSignal", "S1", signal)
  bus.send("S1", { type: "signal.publish", intentId: "I1", side: "SELL", qty: 195, exchange: "NFO", product: "MIS" })
  bus.send("I1", {
    type: "gate.approved",
    slices: ["O1", "O2", "O3"].map((orderId) => ({ orderId, clientTag: `W-${orderId}`, qty: 65 })),
    execute: true,
    orderType: "MARKET",
    price: null,
  })
  return bus
}

describe("exit pipeline", () => {
  it("a filled exit closes the trade with the P&L of its fills", () => {
    const bus = published()
    approve(bus, true)
    expect([bus.stateOf("I1"), bus.stateOf("O1"), bus.stateOf("T1")]).toEqual([
      "APPROVED.live",
      "SENT_TO_BROKER.awaitingAck",
      "EXITING",
    ])
    expect(bus.effects.map((e) => [e.actorId, e.effect, e.key])).toEqual([["O1", "broker.place", "W-O1"]])

    bus.send("O1", { type: "broker.accepted", brokerOrderId: "B1" })
    expect(bus.stateOf("I1")).toBe("PLACED")
    bus.send("O1", { type: "broker.filled", fillId: "F1", qty: 25, price: 21950 })
    bus.send("O1", { type: "broker.filled", fillId: "F1", qty: 25, price: 21950 })
    bus.send("O1", { type: "broker.filled", fillId: "F2", qty: 40, price: 21949.95 })

    expect([bus.stateOf("S1"), bus.stateOf("I1"), bus.stateOf("O1"), bus.stateOf("T1")]).toEqual([
      "PUBLISHED.cooling",
      "FILLED",
      "EXECUTED",
      "CLOSED",
    ])
    // (21950 − 22000.05) × 25 + (21949.95 − 22000.05) × 40
    expect(bus.snapshotOf("T1").context).toMatchObject({
      exitedQty: 65,
      realizedPnl: -3255.25,
      exitReason: "STOP_LOSS",
    })
    // Only the duplicate fill the broker sent twice was refused: every machine understood the others.
    expect(bus.deliveries.filter((d) => d.refused).map((d) => [d.actorId, d.event.type])).toEqual([
      ["O1", "broker.filled"],
    ])
  })

  it("a rejected exit order fails the intent and reopens the trade in its next episode", () => {
    const bus = published()
    approve(bus, true)
    bus.send("O1", { type: "broker.rejected", reason: "RMS: margin exceeds" })
    expect([bus.stateOf("I1"), bus.stateOf("O1"), bus.stateOf("T1")]).toEqual(["FAILED", "FAILED", "OPEN"])
    expect(bus.snapshotOf("T1").context).toMatchObject({ episode: 1, exitIntentId: null, realizedPnl: null })
    expect(bus.snapshotOf("I1").context).toMatchObject({ rejectCode: "ORDER_FAILED", error: "RMS: margin exceeds" })
    expect(bus.deliveries.some((d) => d.refused)).toBe(false)
  })

  it("a partly filled order cancelled by the operator reports the filled part to the trade", () => {
    const bus = published()
    approve(bus, true)
    bus.send("O1", { type: "broker.accepted", brokerOrderId: "B1" })
    bus.send("O1", { type: "broker.filled", fillId: "F1", qty: 25, price: 21950 })
    bus.send("I1", { type: "cmd.cancel" })
    expect(bus.effects.map((e) => e.effect)).toEqual(["broker.place", "broker.cancel"])
    bus.send("O1", { type: "broker.cancelled", reason: "cancelled by user" })
    expect([bus.stateOf("I1"), bus.stateOf("O1"), bus.stateOf("T1")]).toEqual(["FAILED", "CANCELLED", "OPEN"])
    expect(bus.snapshotOf("T1").context).toMatchObject({ episode: 1, exitedQty: 25, realizedPnl: -1251.25 })
  })

  it("an exit in slices closes the trade only when every slice has filled, with the P&L of all their fills", () => {
    const bus = sliced()
    expect(bus.effects.map((e) => [e.actorId, e.effect, e.key])).toEqual([
      ["O1", "broker.place", "W-O1"],
      ["O2", "broker.place", "W-O2"],
      ["O3", "broker.place", "W-O3"],
    ])
    bus.send("O1", { type: "broker.accepted", brokerOrderId: "B1" })
    bus.send("O2", { type: "broker.accepted", brokerOrderId: "B2" })
    bus.send("O1", { type: "broker.filled", fillId: "F1", qty: 65, price: 21950 })
    bus.send("O2", { type: "broker.filled", fillId: "F1", qty: 65, price: 21949 })
    expect([bus.stateOf("I1"), bus.stateOf("T1")]).toEqual(["PLACED", "EXITING"])
    bus.send("O3", { type: "broker.filled", fillId: "F1", qty: 65, price: 21948 })
    expect([bus.stateOf("I1"), bus.stateOf("O3"), bus.stateOf("T1")]).toEqual(["FILLED", "EXECUTED", "CLOSED"])
    // (21950 + 21949 + 21948 − 3 × 22000.05) × 65 = (21949 − 22000.05) × 195
    expect(bus.snapshotOf("T1").context).toMatchObject({ exitedQty: 195, exitPrice: 21949, realizedPnl: -9954.75 })
    expect(bus.deliveries.some((d) => d.refused)).toBe(false)
  })

  it("a rejected slice cancels the others; the trade keeps what did not fill, OPEN in its next episode", () => {
    const bus = sliced()
    bus.send("O1", { type: "broker.accepted", brokerOrderId: "B1" })
    bus.send("O1", { type: "broker.filled", fillId: "F1", qty: 65, price: 21950 })
    bus.send("O2", { type: "broker.accepted", brokerOrderId: "B2" })
    bus.send("O3", { type: "broker.rejected", reason: "RMS: margin exceeds" })
    // O2 is told to cancel (O1 has executed, O3 failed); the intent waits for it.
    expect([bus.stateOf("I1"), bus.stateOf("O2"), bus.stateOf("T1")]).toEqual([
      "PLACED",
      "SENT_TO_BROKER.cancelling",
      "EXITING",
    ])
    expect(bus.effects.map((e) => [e.actorId, e.effect])).toContainEqual(["O2", "broker.cancel"])
    bus.send("O2", { type: "broker.cancelled", reason: "cancelled" })
    expect([bus.stateOf("I1"), bus.stateOf("T1")]).toEqual(["FAILED", "OPEN"])
    expect(bus.snapshotOf("I1").context).toMatchObject({ filledQty: 65, rejectCode: "ORDER_FAILED" })
    expect(bus.snapshotOf("T1").context).toMatchObject({ episode: 1, exitedQty: 65, realizedPnl: -3253.25 })
    expect(bus.deliveries.some((d) => d.refused)).toBe(false)
  })

  it("a dark approval leaves the trade OPEN and places nothing", () => {
    const bus = published()
    approve(bus, false)
    expect([bus.stateOf("I1"), bus.stateOf("T1")]).toEqual(["APPROVED.dark", "OPEN"])
    expect(bus.actors.has("O1")).toBe(false)
    expect(bus.effects).toEqual([])
  })

  it("the signal's cooldown is a durable timer, and the signal rearms when it fires", () => {
    const bus = published()
    expect(bus.timers.map((t) => [t.actorId, t.name, t.delayMs])).toEqual([["S1", "cooldown", 60_000]])
    bus.send("S1", { type: "timer.cooldown" })
    expect(bus.stateOf("S1")).toBe("PUBLISHED.rearmed")
  })
})

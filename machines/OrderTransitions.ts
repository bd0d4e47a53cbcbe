/**
 * The Order's legal moves, as data (see `src/domain/TransitionTable.ts`). The order is for 65, and
 * has a parent (`I1`, an exit intent) so its notices show. Fill samples: `first` 25, `second` 15,
 * `rest` 40, `whole` 65, so the same sample is new, duplicate, completing or too much depending on
 * what the situation has filled already.
 */
import type { TransitionRow, TransitionTable } from "../src/domain/TransitionTable.js"
import { orderMachineVersion } from "./OrderMachine.js"

const placed = ["effect broker.place", "timer.arm ackTimeout"]
const lookup = ["effect broker.lookup"]
const accepted = ["send I1 order.accepted"]
const filled = ["send I1 order.filled"]
const executed = ["send I1 order.filled", "send I1 order.executed"]
const failed = ["send I1 order.failed"]
const cancelled = ["send I1 order.cancelled"]
const cancel = ["effect broker.cancel"]

/**
 * The moves every SENT_TO_BROKER sub-state shares (they are declared on SENT_TO_BROKER): fills,
 * rejection, cancellation and expiry by the broker. `leaving` is what the sub-state declares on
 * exit; `pendingCancel` when a cancel asked for before the ack is still to be sent.
 */
function sentToBroker(from: string, leaving: ReadonlyArray<string>, pendingCancel = false): Array<TransitionRow> {
  const partial = pendingCancel ? [...leaving, ...filled, ...cancel] : [...leaving, ...filled]
  const note = pendingCancel ? "the cancel asked for before the ack goes out with the first fill" : undefined
  return [
    { from, event: "broker.filled", sample: "first", to: "PARTIAL", guard: "isNewFill", declares: partial, note },
    { from, event: "broker.filled", sample: "second", to: "PARTIAL", guard: "isNewFill", declares: partial, note },
    { from, event: "broker.filled", sample: "rest", to: "PARTIAL", guard: "isNewFill", declares: partial, note },
    {
      from,
      event: "broker.filled",
      sample: "whole",
      to: "EXECUTED",
      guard: "completesOrder",
      declares: [...leaving, ...executed],
    },
    {
      from,
      event: "broker.rejected",
      to: "FAILED",
      declares: [...leaving, ...failed],
      note: "the exchange can reject after the broker acknowledged",
    },
    { from, event: "broker.cancelled", to: "CANCELLED", declares: [...leaving, ...cancelled] },
    { from, event: "broker.expired", to: "EXPIRED", declares: [...leaving, ...cancelled] },
  ]
}

/** The moves of an order with fills that is still working at the broker. */
function partial(from: string): Array<TransitionRow> {
  return [
    { from, event: "broker.filled", sample: "second", to: "PARTIAL", guard: "isNewFill", declares: filled },
    { from, event: "broker.filled", sample: "rest", to: "EXECUTED", guard: "completesOrder", declares: executed },
    { from, event: "broker.cancelled", to: "CANCELLED", declares: cancelled },
    { from, event: "broker.expired", to: "EXPIRED", declares: cancelled },
    { from, event: "broker.rejected", to: "FAILED", declares: failed },
    { from, event: "cmd.cancel", to: "PARTIAL", declares: cancel },
    { from, event: "broker.cancelRejected", to: "PARTIAL", note: "too late: the rest filled first, its fill follows" },
  ]
}

/** Fills after the order left the broker's book: recorded, never lost. */
function lateFills(from: string, filledAlready: boolean): Array<TransitionRow> {
  const note = "a fill after a cancel or an expiry is a real-world possibility, not an error"
  if (filledAlready) {
    return [
      { from, event: "broker.filled", sample: "second", to: stateOf(from), guard: "isNewFill", declares: filled, note },
      {
        from,
        event: "broker.filled",
        sample: "rest",
        to: "EXECUTED",
        guard: "completesOrder",
        declares: executed,
        note,
      },
    ]
  }
  return [
    { from, event: "broker.filled", sample: "first", to: stateOf(from), guard: "isNewFill", declares: filled, note },
    { from, event: "broker.filled", sample: "second", to: stateOf(from), guard: "isNewFill", declares: filled, note },
    { from, event: "broker.filled", sample: "rest", to: stateOf(from), guard: "isNewFill", declares: filled, note },
    {
      from,
      event: "broker.filled",
      sample: "whole",
      to: "EXECUTED",
      guard: "completesOrder",
      declares: executed,
      note,
    },
  ]
}

function stateOf(situation: string): string {
  return situation.split("#")[0]!
}

const lookupsTillLast = [
  "broker.notFound",
  "timer.lookupRetry",
  "broker.notFound",
  "timer.lookupRetry",
  "broker.notFound",
  "timer.lookupRetry",
  "broker.notFound",
  "timer.lookupRetry",
]

/** The Order's transition table. */
export const OrderTransitions: TransitionTable = {
  machine: "order",
  version: orderMachineVersion,
  input: {
    orderId: "O1",
    accountId: "U1",
    symbol: "NIFTY26MARFUT",
    exchange: "NFO",
    side: "SELL",
    qty: 65,
    product: "MIS",
    orderType: "LIMIT",
    price: 21950,
    triggerPrice: null,
    clientTag: "W-O1",
    purpose: "EXIT",
    parentId: "I1",
    createdAt: 1_772_423_100_000,
  },
  states: [
    "CREATED",
    "SENT_TO_BROKER.awaitingAck",
    "SENT_TO_BROKER.unknown",
    "SENT_TO_BROKER.lookupWait",
    "SENT_TO_BROKER.working",
    "SENT_TO_BROKER.cancelling",
    "PARTIAL",
    "EXECUTED",
    "FAILED",
    "CANCELLED",
    "EXPIRED",
  ],
  events: {
    "cmd.place": { default: {} },
    "cmd.cancel": { default: {} },
    "risk.denied": { default: { reason: "daily loss limit reached" } },
    "broker.accepted": { default: { brokerOrderId: "B1" } },
    "broker.rejected": { default: { reason: "RMS: margin exceeds" } },
    "broker.sendUnknown": { default: { reason: "socket timeout" } },
    "broker.found": { default: { brokerOrderId: "B1" } },
    "broker.notFound": { default: {} },
    "broker.lookupFailed": { default: { reason: "connection reset" } },
    "broker.filled": {
      first: { fillId: "F1", qty: 25, price: 21950 },
      second: { fillId: "F2", qty: 15, price: 21949.5 },
      rest: { fillId: "F3", qty: 40, price: 21949 },
      whole: { fillId: "F4", qty: 65, price: 21950 },
    },
    "broker.cancelled": { default: { reason: "cancelled by user" } },
    "broker.expired": { default: {} },
    "broker.cancelRejected": { default: { reason: "order already complete" } },
    "timer.ackTimeout": { default: {} },
    "timer.lookupRetry": { default: {} },
  },
  reach: {
    CREATED: [],
    "SENT_TO_BROKER.awaitingAck": ["cmd.place"],
    "SENT_TO_BROKER.awaitingAck#cancelRequested": ["cmd.place", "cmd.cancel"],
    "SENT_TO_BROKER.unknown": ["cmd.place", "broker.sendUnknown"],
    "SENT_TO_BROKER.unknown#lastLookup": ["cmd.place", "broker.sendUnknown", ...lookupsTillLast],
    "SENT_TO_BROKER.unknown#afterNetworkErrors": [
      "cmd.place",
      "broker.sendUnknown",
      ...Array.from({ length: 6 }, () => ["broker.lookupFailed", "timer.lookupRetry"]).flat(),
    ],
    "SENT_TO_BROKER.unknown#cancelRequested": ["cmd.place", "broker.sendUnknown", "cmd.cancel"],
    "SENT_TO_BROKER.lookupWait": ["cmd.place", "broker.sendUnknown", "broker.notFound"],
    "SENT_TO_BROKER.working": ["cmd.place", "broker.accepted"],
    "SENT_TO_BROKER.cancelling": ["cmd.place", "broker.accepted", "cmd.cancel"],
    PARTIAL: ["cmd.place", "broker.accepted", "broker.filled:first"],
    "PARTIAL#unacknowledged": ["cmd.place", "broker.filled:first"],
    EXECUTED: ["cmd.place", "broker.accepted", "broker.filled:whole"],
    FAILED: ["cmd.place", "broker.rejected"],
    CANCELLED: ["cmd.place", "broker.accepted", "broker.filled:first", "broker.cancelled"],
    "CANCELLED#neverSent": ["cmd.cancel"],
    EXPIRED: ["cmd.place", "broker.accepted", "broker.expired"],
  },
  rows: [
    { from: "CREATED", event: "cmd.place", to: "SENT_TO_BROKER.awaitingAck", declares: placed },
    { from: "CREATED", event: "risk.denied", to: "FAILED", declares: failed },
    { from: "CREATED", event: "cmd.cancel", to: "CANCELLED", declares: cancelled },

    {
      from: "SENT_TO_BROKER.awaitingAck",
      event: "broker.accepted",
      to: "SENT_TO_BROKER.working",
      declares: ["timer.cancel ackTimeout", ...accepted],
    },
    {
      from: "SENT_TO_BROKER.awaitingAck",
      event: "broker.sendUnknown",
      to: "SENT_TO_BROKER.unknown",
      declares: ["timer.cancel ackTimeout", ...lookup],
    },
    {
      from: "SENT_TO_BROKER.awaitingAck",
      event: "timer.ackTimeout",
      to: "SENT_TO_BROKER.unknown",
      declares: ["timer.cancel ackTimeout", ...lookup],
      note: "no answer in time: the order may be at the broker; look it up by tag, never resend",
    },
    {
      from: "SENT_TO_BROKER.awaitingAck",
      event: "cmd.cancel",
      to: "SENT_TO_BROKER.awaitingAck",
      note: "remembered until the broker order id is known",
    },
    ...sentToBroker("SENT_TO_BROKER.awaitingAck", ["timer.cancel ackTimeout"]),

    {
      from: "SENT_TO_BROKER.awaitingAck#cancelRequested",
      event: "broker.accepted",
      to: "SENT_TO_BROKER.cancelling",
      declares: ["timer.cancel ackTimeout", ...accepted, ...cancel],
      note: "the remembered cancel goes out as soon as the broker order id is known",
    },
    {
      from: "SENT_TO_BROKER.awaitingAck#cancelRequested",
      event: "broker.sendUnknown",
      to: "SENT_TO_BROKER.unknown",
      declares: ["timer.cancel ackTimeout", ...lookup],
    },
    {
      from: "SENT_TO_BROKER.awaitingAck#cancelRequested",
      event: "timer.ackTimeout",
      to: "SENT_TO_BROKER.unknown",
      declares: ["timer.cancel ackTimeout", ...lookup],
    },
    { from: "SENT_TO_BROKER.awaitingAck#cancelRequested", event: "cmd.cancel", to: "SENT_TO_BROKER.awaitingAck" },
    ...sentToBroker("SENT_TO_BROKER.awaitingAck#cancelRequested", ["timer.cancel ackTimeout"], true),

    { from: "SENT_TO_BROKER.unknown", event: "broker.found", to: "SENT_TO_BROKER.working", declares: accepted },
    {
      from: "SENT_TO_BROKER.unknown",
      event: "broker.notFound",
      to: "SENT_TO_BROKER.lookupWait",
      guard: "hasLookupsLeft",
      declares: ["timer.arm lookupRetry"],
    },
    {
      from: "SENT_TO_BROKER.unknown",
      event: "broker.lookupFailed",
      to: "SENT_TO_BROKER.lookupWait",
      declares: ["timer.arm lookupRetry"],
      note: "a network error is not an answer: the order is not declared lost",
    },
    {
      from: "SENT_TO_BROKER.unknown",
      event: "broker.accepted",
      to: "SENT_TO_BROKER.working",
      declares: accepted,
      note: "a late ack settles it like a lookup",
    },
    {
      from: "SENT_TO_BROKER.unknown",
      event: "cmd.cancel",
      to: "SENT_TO_BROKER.unknown",
      note: "remembered until the order is found",
    },
    ...sentToBroker("SENT_TO_BROKER.unknown", []),

    {
      from: "SENT_TO_BROKER.unknown#lastLookup",
      event: "broker.notFound",
      to: "FAILED",
      guard: "!hasLookupsLeft",
      declares: failed,
      note: "only a definite not-found after lookupAttemptsMax lookups fails the order",
    },
    {
      from: "SENT_TO_BROKER.unknown#lastLookup",
      event: "broker.found",
      to: "SENT_TO_BROKER.working",
      declares: accepted,
    },
    {
      from: "SENT_TO_BROKER.unknown#lastLookup",
      event: "broker.lookupFailed",
      to: "SENT_TO_BROKER.lookupWait",
      declares: ["timer.arm lookupRetry"],
    },
    {
      from: "SENT_TO_BROKER.unknown#lastLookup",
      event: "broker.accepted",
      to: "SENT_TO_BROKER.working",
      declares: accepted,
    },
    { from: "SENT_TO_BROKER.unknown#lastLookup", event: "cmd.cancel", to: "SENT_TO_BROKER.unknown" },

    {
      from: "SENT_TO_BROKER.unknown#afterNetworkErrors",
      event: "broker.notFound",
      to: "SENT_TO_BROKER.lookupWait",
      guard: "hasLookupsLeft",
      declares: ["timer.arm lookupRetry"],
      note: "failed lookups (network errors) do not count toward lookupAttemptsMax",
    },
    {
      from: "SENT_TO_BROKER.unknown#afterNetworkErrors",
      event: "broker.found",
      to: "SENT_TO_BROKER.working",
      declares: accepted,
    },
    {
      from: "SENT_TO_BROKER.unknown#afterNetworkErrors",
      event: "broker.lookupFailed",
      to: "SENT_TO_BROKER.lookupWait",
      declares: ["timer.arm lookupRetry"],
    },
    {
      from: "SENT_TO_BROKER.unknown#afterNetworkErrors",
      event: "broker.accepted",
      to: "SENT_TO_BROKER.working",
      declares: accepted,
    },
    { from: "SENT_TO_BROKER.unknown#afterNetworkErrors", event: "cmd.cancel", to: "SENT_TO_BROKER.unknown" },
    ...sentToBroker("SENT_TO_BROKER.unknown#afterNetworkErrors", []),
    ...sentToBroker("SENT_TO_BROKER.unknown#lastLookup", []),

    {
      from: "SENT_TO_BROKER.unknown#cancelRequested",
      event: "broker.found",
      to: "SENT_TO_BROKER.cancelling",
      declares: [...accepted, ...cancel],
    },
    {
      from: "SENT_TO_BROKER.unknown#cancelRequested",
      event: "broker.notFound",
      to: "SENT_TO_BROKER.lookupWait",
      guard: "hasLookupsLeft",
      declares: ["timer.arm lookupRetry"],
    },
    {
      from: "SENT_TO_BROKER.unknown#cancelRequested",
      event: "broker.lookupFailed",
      to: "SENT_TO_BROKER.lookupWait",
      declares: ["timer.arm lookupRetry"],
    },
    {
      from: "SENT_TO_BROKER.unknown#cancelRequested",
      event: "broker.accepted",
      to: "SENT_TO_BROKER.cancelling",
      declares: [...accepted, ...cancel],
    },
    { from: "SENT_TO_BROKER.unknown#cancelRequested", event: "cmd.cancel", to: "SENT_TO_BROKER.unknown" },
    ...sentToBroker("SENT_TO_BROKER.unknown#cancelRequested", [], true),

    {
      from: "SENT_TO_BROKER.lookupWait",
      event: "timer.lookupRetry",
      to: "SENT_TO_BROKER.unknown",
      declares: ["timer.cancel lookupRetry", ...lookup],
    },
    {
      from: "SENT_TO_BROKER.lookupWait",
      event: "broker.accepted",
      to: "SENT_TO_BROKER.working",
      declares: ["timer.cancel lookupRetry", ...accepted],
    },
    { from: "SENT_TO_BROKER.lookupWait", event: "cmd.cancel", to: "SENT_TO_BROKER.lookupWait" },
    ...sentToBroker("SENT_TO_BROKER.lookupWait", ["timer.cancel lookupRetry"]),

    { from: "SENT_TO_BROKER.working", event: "cmd.cancel", to: "SENT_TO_BROKER.cancelling", declares: cancel },
    ...sentToBroker("SENT_TO_BROKER.working", []),

    {
      from: "SENT_TO_BROKER.cancelling",
      event: "broker.cancelRejected",
      to: "SENT_TO_BROKER.working",
      note: "too late: the broker filled it first, the fill follows; acceptance is not announced twice",
    },
    ...sentToBroker("SENT_TO_BROKER.cancelling", []),

    ...partial("PARTIAL"),
    ...partial("PARTIAL#unacknowledged"),
    {
      from: "PARTIAL#unacknowledged",
      event: "broker.accepted",
      to: "PARTIAL",
      guard: "lacksBrokerOrderId",
      note: "the fill overtook the ack: the broker order id is still needed to cancel",
    },

    ...lateFills("CANCELLED", true),
    ...lateFills("CANCELLED#neverSent", false).map((r) => ({
      ...r,
      note: "never sent, so no fill can come; the machine cannot tell this cancel from the broker's",
    })),
    ...lateFills("EXPIRED", false),
  ],
}

/**
 * The ExitIntent's legal moves, as data (see `src/domain/TransitionTable.ts`). The intent exits 130
 * of trade `T1` in two slices of 65, orders `O1` and `O2`, once approved. Samples from another
 * order (`O9`) show that the intent listens only to its own. Fill samples of `O1`: `first` 25,
 * `rest` 40, `whole` 65; of `O2`: `second` 65, whose fill id `F1` is also one of `O1`'s (fill ids
 * are per order). `gate.approved:v1` is exitIntent@1's approval of one order for the whole qty.
 */
import type { TransitionRow, TransitionTable } from "../src/domain/TransitionTable.js"
import { exitIntentMachineVersion } from "./ExitIntentMachine.js"

const exitFailed = ["send T1 exit.failed"]
const exitFilled = ["send T1 exit.filled"]

/** The rows of a situation, written compactly: sample reference → [to, guard, declares?, note?]. */
function rowsOf(
  from: string,
  moves: Record<string, readonly [string, string | undefined, ReadonlyArray<string>?, string?]>,
): Array<TransitionRow> {
  return Object.entries(moves).map(([ref, [to, guard, declares, note]]) => {
    const [event, sample] = ref.split(":") as [string, string | undefined]
    return {
      from,
      event,
      ...(sample === undefined ? {} : { sample }),
      to,
      ...(guard === undefined ? {} : { guard }),
      ...(declares === undefined || declares.length === 0 ? {} : { declares }),
      ...(note === undefined ? {} : { note }),
    }
  })
}

/** The ExitIntent's transition table. */
export const ExitIntentTransitions: TransitionTable = {
  machine: "exitIntent",
  version: exitIntentMachineVersion,
  input: {
    intentId: "I1",
    signalId: "S1",
    tradeId: "T1",
    accountId: "U1",
    symbol: "NIFTY26MARFUT",
    exchange: "NFO",
    product: "MIS",
    side: "SELL",
    qty: 130,
    exitReason: "STOP_LOSS",
    episodeId: 0,
    createdAt: 1_772_423_100_000,
  },
  states: ["PENDING", "APPROVED.live", "APPROVED.dark", "PLACED", "FILLED", "FAILED", "REJECTED"],
  events: {
    "gate.approved": {
      live: {
        slices: [
          { orderId: "O1", clientTag: "W-O1", qty: 65 },
          { orderId: "O2", clientTag: "W-O2", qty: 65 },
        ],
        execute: true,
        orderType: "LIMIT",
        price: 21950,
      },
      dark: {
        slices: [
          { orderId: "O1", clientTag: "W-O1", qty: 65 },
          { orderId: "O2", clientTag: "W-O2", qty: 65 },
        ],
        execute: false,
        orderType: "LIMIT",
        price: 21950,
      },
      v1: { orderId: "O1", clientTag: "W-O1", execute: true, orderType: "LIMIT", price: 21950 },
      malformed: {
        slices: [{ orderId: "O1", clientTag: "W-O1", qty: 65 }],
        execute: true,
        orderType: "LIMIT",
        price: 21950,
      },
    },
    "gate.rejected": { default: { code: "COOLDOWN", reason: "cooldown active" } },
    "cmd.cancel": { default: {} },
    "order.accepted": {
      own: { orderId: "O1", brokerOrderId: "B1" },
      second: { orderId: "O2", brokerOrderId: "B2" },
      foreign: { orderId: "O9", brokerOrderId: "B9" },
    },
    "order.filled": {
      first: { orderId: "O1", fillId: "F1", qty: 25, price: 21950 },
      rest: { orderId: "O1", fillId: "F3", qty: 40, price: 21949 },
      whole: { orderId: "O1", fillId: "F4", qty: 65, price: 21950 },
      second: { orderId: "O2", fillId: "F1", qty: 65, price: 21951 },
      foreign: { orderId: "O9", fillId: "F9", qty: 25, price: 21950 },
    },
    "order.executed": {
      complete: { orderId: "O1", filledQty: 65, avgPrice: 21949.3846 },
      second: { orderId: "O2", filledQty: 65, avgPrice: 21951 },
      foreign: { orderId: "O9", filledQty: 65, avgPrice: 21950 },
    },
    "order.failed": {
      own: { orderId: "O1", reason: "RMS: margin exceeds", filledQty: 0, avgPrice: 0 },
      second: { orderId: "O2", reason: "RMS: margin exceeds", filledQty: 0, avgPrice: 0 },
      foreign: { orderId: "O9", reason: "RMS: margin exceeds", filledQty: 0, avgPrice: 0 },
    },
    "order.cancelled": {
      short: { orderId: "O1", reason: "cancelled by user", filledQty: 25, avgPrice: 21950 },
      complete: { orderId: "O1", reason: "cancelled by user", filledQty: 65, avgPrice: 21950 },
      second: { orderId: "O2", reason: "cancelled by user", filledQty: 0, avgPrice: 0 },
      foreign: { orderId: "O9", reason: "cancelled by user", filledQty: 0, avgPrice: 0 },
    },
  },
  reach: {
    PENDING: [],
    "APPROVED.live": ["gate.approved:live"],
    "APPROVED.live#v1": ["gate.approved:v1"],
    "APPROVED.live#sliceFailed": ["gate.approved:live", "order.failed:second"],
    "APPROVED.dark": ["gate.approved:dark"],
    PLACED: ["gate.approved:live", "order.accepted:own"],
    "PLACED#partlyFilled": ["gate.approved:live", "order.accepted:own", "order.filled:first"],
    "PLACED#sliceExecuted": [
      "gate.approved:live",
      "order.accepted:own",
      "order.filled:whole",
      "order.executed:complete",
    ],
    "PLACED#sliceFailed": ["gate.approved:live", "order.accepted:own", "order.filled:first", "order.failed:second"],
    FILLED: [
      "gate.approved:live",
      "order.accepted:own",
      "order.filled:whole",
      "order.executed:complete",
      "order.filled:second",
      "order.executed:second",
    ],
    FAILED: ["gate.approved:live", "order.failed:own", "order.failed:second"],
    REJECTED: ["gate.rejected"],
  },
  rows: [
    ...rowsOf("PENDING", {
      "gate.approved:live": [
        "APPROVED.live",
        "executes",
        ["spawn order O1", "send O1 cmd.place", "spawn order O2", "send O2 cmd.place", "send T1 exit.started"],
        "each slice's order is spawned before it is told to place, all in the same commit",
      ],
      "gate.approved:v1": [
        "APPROVED.live",
        "executes",
        ["spawn order O1", "send O1 cmd.place", "send T1 exit.started"],
        "exitIntent@1's approval: one order for the whole qty",
      ],
      "gate.approved:dark": ["APPROVED.dark", "!executes", [], "dark mode: written (with its slices), never executed"],
      "gate.approved:malformed": [
        "REJECTED",
        "isMalformedApproval",
        [],
        "the slices do not make up the qty: BAD_APPROVAL, nothing placed",
      ],
      "gate.rejected": ["REJECTED", undefined, [], "the trade never left OPEN: nothing to tell it"],
      "cmd.cancel": ["REJECTED", undefined, [], "rejected with code CANCELLED"],
    }),

    ...rowsOf("APPROVED.live", {
      "order.accepted:own": ["PLACED", "isOwnOrder"],
      "order.accepted:second": ["PLACED", "isOwnOrder"],
      "order.filled:first": ["PLACED", "isNewFill", [], "the fill overtook the ack: the order is at the broker"],
      "order.filled:rest": ["PLACED", "isNewFill"],
      "order.filled:whole": ["PLACED", "isNewFill"],
      "order.filled:second": ["PLACED", "isNewFill"],
      "order.failed:own": [
        "APPROVED.live",
        "isSliceEnd",
        ["send O2 cmd.cancel"],
        "one slice failed: the other is cancelled, the intent waits for it to end",
      ],
      "order.failed:second": ["APPROVED.live", "isSliceEnd", ["send O1 cmd.cancel"]],
      "order.cancelled:short": ["APPROVED.live", "isSliceEnd", ["send O2 cmd.cancel"]],
      "order.cancelled:second": ["APPROVED.live", "isSliceEnd", ["send O1 cmd.cancel"]],
      "cmd.cancel": [
        "APPROVED.live",
        undefined,
        ["send O1 cmd.cancel", "send O2 cmd.cancel"],
        "forwarded to every slice: each order remembers a cancel until the broker knows it",
      ],
    }),

    ...rowsOf("APPROVED.live#v1", {
      "order.accepted:own": ["PLACED", "isOwnOrder"],
      "order.filled:first": ["PLACED", "isNewFill"],
      "order.filled:rest": ["PLACED", "isNewFill"],
      "order.filled:whole": ["PLACED", "isNewFill"],
      "order.failed:own": ["FAILED", "isLastEnd", exitFailed, "the one order ended short: the intent fails"],
      "order.cancelled:short": ["FAILED", "isLastEnd", exitFailed],
      "order.cancelled:complete": ["FAILED", "isLastEnd", exitFailed, "65 of the one order's 130 is short"],
      "cmd.cancel": ["APPROVED.live", undefined, ["send O1 cmd.cancel"]],
    }),

    ...rowsOf("APPROVED.live#sliceFailed", {
      "order.accepted:own": ["PLACED", "isOwnOrder", [], "too late for the cancel: it reached the broker"],
      "order.filled:first": ["PLACED", "isNewFill"],
      "order.filled:rest": ["PLACED", "isNewFill"],
      "order.filled:whole": ["PLACED", "isNewFill"],
      "order.failed:own": ["FAILED", "isLastEnd", exitFailed, "the last slice ended: the intent fails"],
      "order.cancelled:short": ["FAILED", "isLastEnd", exitFailed, "its 25 go to the trade with the failure"],
      "cmd.cancel": ["APPROVED.live", undefined, ["send O1 cmd.cancel"], "forwarded to the slice still working"],
    }),

    ...rowsOf("PLACED", {
      "order.accepted:own": ["PLACED", "isOwnOrder"],
      "order.accepted:second": ["PLACED", "isOwnOrder", [], "the other slice reached the broker"],
      "order.filled:first": ["PLACED", "isNewFill"],
      "order.filled:rest": ["PLACED", "isNewFill"],
      "order.filled:whole": ["PLACED", "isNewFill"],
      "order.filled:second": ["PLACED", "isNewFill"],
      "order.executed:complete": ["PLACED", "isSliceEnd", [], "one slice done, the other still works"],
      "order.executed:second": ["PLACED", "isSliceEnd"],
      "order.failed:own": ["PLACED", "isSliceEnd", ["send O2 cmd.cancel"]],
      "order.failed:second": ["PLACED", "isSliceEnd", ["send O1 cmd.cancel"]],
      "order.cancelled:short": ["PLACED", "isSliceEnd", ["send O2 cmd.cancel"]],
      "order.cancelled:second": ["PLACED", "isSliceEnd", ["send O1 cmd.cancel"]],
      "cmd.cancel": ["PLACED", undefined, ["send O1 cmd.cancel", "send O2 cmd.cancel"]],
    }),

    ...rowsOf("PLACED#partlyFilled", {
      "order.accepted:own": ["PLACED", "isOwnOrder"],
      "order.accepted:second": ["PLACED", "isOwnOrder"],
      "order.filled:rest": ["PLACED", "isNewFill"],
      "order.filled:second": ["PLACED", "isNewFill", [], "O2's F1 is not O1's F1"],
      "order.executed:complete": ["PLACED", "isSliceEnd", [], "the order's own totals replace the fills' tally"],
      "order.executed:second": ["PLACED", "isSliceEnd"],
      "order.failed:own": [
        "PLACED",
        "isSliceEnd",
        ["send O2 cmd.cancel"],
        "its totals (0 filled) are the order's truth",
      ],
      "order.failed:second": ["PLACED", "isSliceEnd", ["send O1 cmd.cancel"]],
      "order.cancelled:short": ["PLACED", "isSliceEnd", ["send O2 cmd.cancel"]],
      "order.cancelled:second": ["PLACED", "isSliceEnd", ["send O1 cmd.cancel"]],
      "cmd.cancel": ["PLACED", undefined, ["send O1 cmd.cancel", "send O2 cmd.cancel"]],
    }),

    ...rowsOf("PLACED#sliceExecuted", {
      "order.accepted:second": ["PLACED", "isOwnOrder"],
      "order.filled:second": ["PLACED", "isNewFill"],
      "order.executed:second": ["FILLED", "isCompleteExecution", exitFilled, "every slice EXECUTED"],
      "order.failed:second": [
        "FAILED",
        "isLastEnd",
        exitFailed,
        "the last slice ended short: 65 of 130 go to the trade with the failure",
      ],
      "order.cancelled:second": ["FAILED", "isLastEnd", exitFailed],
      "cmd.cancel": ["PLACED", undefined, ["send O2 cmd.cancel"], "only the slice still working is told"],
    }),

    ...rowsOf("PLACED#sliceFailed", {
      "order.accepted:own": ["PLACED", "isOwnOrder"],
      "order.filled:rest": ["PLACED", "isNewFill", [], "a fill before the cancel took effect still counts"],
      "order.executed:complete": [
        "FAILED",
        "isLastEnd",
        exitFailed,
        "the cancel came too late: O1 filled, but O2 failed",
      ],
      "order.executed:second": [
        "PLACED",
        "isSliceEnd",
        [],
        "a late execution of the failed slice: it counts, O1 still works",
      ],
      "order.failed:own": ["FAILED", "isLastEnd", exitFailed],
      "order.cancelled:short": ["FAILED", "isLastEnd", exitFailed, "the cancel took: 25 exited, 105 stay the trade's"],
      "cmd.cancel": ["PLACED", undefined, ["send O1 cmd.cancel"]],
    }),
  ],
}

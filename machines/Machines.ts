/**
 * The machine registry: every actor type the runtime hosts, with its machine. The runtime, the
 * store's read models, `warden verify` and the diagrams all look machines up here.
 */
import { AccountMachine } from "./AccountMachine.js"
import { ExitIntentMachine } from "./ExitIntentMachine.js"
import { ExitSignalMachine } from "./ExitSignalMachine.js"
import { OrderMachine } from "./OrderMachine.js"
import { TradeMachine } from "./TradeMachine.js"

export const machines = {
  order: OrderMachine,
  exitIntent: ExitIntentMachine,
  exitSignal: ExitSignalMachine,
  trade: TradeMachine,
  account: AccountMachine,
} as const

/** The name of an actor type, as stored in the `actors.actor_type` column. */
export type ActorType = keyof typeof machines

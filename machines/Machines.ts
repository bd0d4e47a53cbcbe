/**
 * The machine registry: every actor type the runtime hosts, with its machine. The runtime, the
 * store's read models, `warden verify` and the diagrams all look machines up here.
 */
import { OrderMachine } from "./OrderMachine.js"

export const machines = {
  order: OrderMachine,
} as const

/** The name of an actor type, as stored in the `actors.actor_type` column. */
export type ActorType = keyof typeof machines

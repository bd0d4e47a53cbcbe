/**
 * The envelope every event to an actor has. `at` is stamped by the runtime from the Clock service
 * when the event is accepted for processing, so machines read time from events, never from
 * `Date.now()`, and a replay of the journal reproduces every snapshot exactly.
 */
export interface ActorEvent {
  readonly type: string
  /** Epoch milliseconds at which the runtime processed the event. */
  readonly at: number
}

/** Event type of a durable timer named `name`. */
export const timerEventType = (name: string): `timer.${string}` => `timer.${name}`

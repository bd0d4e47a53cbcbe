/**
 * The engine's broker connections by account (user_broker id): one `Broker` per account, whatever
 * the adapter behind it.
 */
import { Context, Effect, Layer } from "effect"
import { type Broker, BrokerError } from "./Broker.js"

/** The broker connection of every account the engine serves. */
export class Brokers extends Context.Tag("warden/Brokers")<
  Brokers,
  {
    /** The broker of one account; `NotFound` for an account the engine has no connection for. */
    readonly forAccount: (accountId: string) => Effect.Effect<Broker, BrokerError>
    /** Every account's broker, by account id. */
    readonly all: ReadonlyMap<string, Broker>
  }
>() {
  /** A layer over a fixed set of connections, keyed by account id. */
  static readonly layer = (brokers: ReadonlyMap<string, Broker> | Readonly<Record<string, Broker>>) =>
    Layer.succeed(Brokers, Brokers.fromMap(brokers))

  /** The service over a fixed set of connections. */
  static readonly fromMap = (brokers: ReadonlyMap<string, Broker> | Readonly<Record<string, Broker>>) => {
    const all: ReadonlyMap<string, Broker> = brokers instanceof Map ? brokers : new Map(Object.entries(brokers))
    return {
      forAccount: (accountId: string) => {
        const broker = all.get(accountId)
        return broker
          ? Effect.succeed(broker)
          : Effect.fail(
              new BrokerError({ reason: "NotFound", message: `no broker connection for account ${accountId}` }),
            )
      },
      all,
    }
  }
}

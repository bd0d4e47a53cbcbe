/**
 * A scenario's `webhook` step: the body gets exactly the answer `POST /webhook/tradingview` would
 * give it (`answerWebhook`), with the scenario's secret.
 */
import { answerWebhook } from "../http/TradingViewWebhook.js"

export type { WebhookAnswer } from "../http/TradingViewWebhook.js"

/** The secret a scenario's webhook bodies carry. */
export const scenarioWebhookSecret = "scenario"

/** Runs one webhook body as the route would, for the account `accountId` when the body names none. */
export const runWebhook = (body: unknown, accountId: string) =>
  answerWebhook(typeof body === "string" ? body : JSON.stringify(body), { secret: scenarioWebhookSecret, accountId })

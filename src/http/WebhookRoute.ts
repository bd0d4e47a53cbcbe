/**
 * `POST /webhook/tradingview`: a TradingView alert (JSON or a plain-text template), authenticated
 * by the webhook's secret, becomes the same command or exit request as every other source
 * (`answerWebhook`). Answers 202 with the command id; a bad body is a 400 naming the field, a wrong
 * secret a 401, and neither writes anything.
 */
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Either } from "effect"
import { answerWebhook, type WebhookConfig } from "./TradingViewWebhook.js"

export type { WebhookConfig } from "./TradingViewWebhook.js"

/** The webhook's request handler. */
export const webhookRoute = (config: WebhookConfig) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Effect.either(request.text)
    if (Either.isLeft(text)) {
      return HttpServerResponse.unsafeJson(
        { code: "BODY_TOO_LARGE", message: "the body could not be read or is too large", field: "body" },
        { status: 413 },
      )
    }
    const answer = yield* answerWebhook(text.right, config)
    return HttpServerResponse.unsafeJson(answer.body, { status: answer.status })
  })

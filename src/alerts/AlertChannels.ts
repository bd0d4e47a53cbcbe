/**
 * One delivery of one alert to one channel, over HTTP: a generic JSON webhook (the alert as JSON,
 * its id also in `Idempotency-Key`), or Telegram's `sendMessage` (`chat_id`, `text`). A failure
 * says whether another attempt may succeed: network errors, timeouts, 408, 429 and 5xx may;
 * other 4xx answers will not. Telegram's `retry_after` is honoured.
 */
import { Data, Effect } from "effect"
import type { ResolvedChannel } from "./AlertConfig.js"
import type { AlertEvent } from "./AlertEvents.js"

/** A delivery that did not succeed. */
export class DeliveryFailed extends Data.TaggedError("DeliveryFailed")<{
  readonly message: string
  /** Another attempt may succeed. */
  readonly transient: boolean
  /** The receiver asked to wait this long before the next attempt. */
  readonly retryAfterMs: number | null
}> {}

/** The request a channel is sent for an alert. */
export const requestOf = (
  channel: ResolvedChannel,
  event: AlertEvent,
): { body: string; headers: Record<string, string> } =>
  channel.type === "webhook"
    ? {
        body: JSON.stringify({ source: "warden", ...event }),
        headers: { ...channel.headers, "content-type": "application/json", "idempotency-key": event.id },
      }
    : {
        body: JSON.stringify({
          chat_id: channel.chatId,
          text: `Warden: ${event.text}`,
          disable_web_page_preview: true,
        }),
        headers: { "content-type": "application/json" },
      }

const retryAfterOf = async (res: Response): Promise<number | null> => {
  const header = Number(res.headers.get("retry-after"))
  if (Number.isFinite(header) && header > 0) return header * 1_000
  try {
    const body = (await res.json()) as { parameters?: { retry_after?: unknown } }
    const s = body.parameters?.retry_after
    return typeof s === "number" && s > 0 ? s * 1_000 : null
  } catch {
    return null
  }
}

/** Sends one alert to one channel once, within `timeoutMs`. */
export const deliver = (channel: ResolvedChannel, event: AlertEvent, timeoutMs: number) =>
  Effect.tryPromise({
    try: async (signal) => {
      const { body, headers } = requestOf(channel, event)
      const res = await fetch(channel.url, {
        method: "POST",
        body,
        headers,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      })
      if (res.ok) {
        await res.arrayBuffer()
        return
      }
      const retryAfterMs = res.status === 429 ? await retryAfterOf(res) : null
      if (retryAfterMs === null) await res.arrayBuffer().catch(() => undefined)
      const transient = res.status === 408 || res.status === 429 || res.status >= 500
      throw new DeliveryFailed({ message: `HTTP ${res.status}`, transient, retryAfterMs })
    },
    catch: (e) =>
      e instanceof DeliveryFailed
        ? e
        : new DeliveryFailed({
            message: e instanceof Error ? e.message : String(e),
            transient: true,
            retryAfterMs: null,
          }),
  })

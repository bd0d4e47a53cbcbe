/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Live updates (browser code): the engine's websocket streams committed transitions, one JSON
 * `Transition` per message. The page works without it (a standalone audit of a copied file has
 * none): the status line says so, and a lost connection is retried with a growing delay.
 */

/** Longest wait between two reconnection attempts, in ms. */
const reconnectDelayMsMax = 30_000

/** Connects to `path` (empty: live updates off), reporting each transition and the status. */
export const connectLive = (
  path: string,
  status: HTMLElement,
  onTransition: (t: { readonly actorId: string }) => void,
): void => {
  if (path === "") {
    status.textContent = "Live updates: off (an audit of a database file)."
    return
  }
  let received = 0
  let delayMs = 1_000
  const open = () => {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`
    let socket: WebSocket
    try {
      socket = new WebSocket(url)
    } catch {
      status.textContent = "Live updates: not available."
      return
    }
    socket.addEventListener("open", () => {
      delayMs = 1_000
      status.textContent = "Live updates: connected."
    })
    socket.addEventListener("message", (m) => {
      try {
        const t = JSON.parse(String(m.data)) as { actorId?: unknown }
        if (typeof t.actorId !== "string") return
        received++
        status.textContent = `Live updates: connected, ${received} transitions received.`
        onTransition({ actorId: t.actorId })
      } catch {
        // Not a transition: ignored.
      }
    })
    socket.addEventListener("close", () => {
      status.textContent = `Live updates: disconnected; retrying in ${Math.round(delayMs / 1000)} s.`
      setTimeout(open, delayMs)
      delayMs = Math.min(reconnectDelayMsMax, delayMs * 2)
    })
  }
  status.textContent = "Live updates: connecting…"
  open()
}

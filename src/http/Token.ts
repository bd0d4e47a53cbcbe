/** How a request carries the engine's token, and how it is compared. */
import { createHash, timingSafeEqual } from "node:crypto"

/** The token a request carries: bearer header, `warden_token` cookie, or a `?token=` query. */
export const tokenOf = (
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>,
  url: string,
): string | null => {
  const auth = headers.authorization
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice(7)
  const cookie = typeof headers.cookie === "string" ? headers.cookie : ""
  const m = /(?:^|;\s*)warden_token=([^;]+)/.exec(cookie)
  if (m) return decodeURIComponent(m[1]!)
  return new URL(url, "http://localhost").searchParams.get("token")
}

/** Whether a given token is the engine's, compared in constant time (hashes of equal length). */
export const sameToken = (given: string, token: string): boolean =>
  timingSafeEqual(createHash("sha256").update(given).digest(), createHash("sha256").update(token).digest())

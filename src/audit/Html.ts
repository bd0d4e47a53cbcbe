/**
 * HTML text helpers for the audit's views, which are plain strings so that the same code renders
 * on the server (the exported report) and in the browser (the page). Everything interpolated into
 * markup goes through `esc`.
 */

const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

/** Text escaped for HTML content and attribute values. */
export const esc = (value: unknown): string => String(value ?? "").replace(/[&<>"']/g, (c) => entities[c]!)

/** JSON safe to embed in a `<script type="application/json">` element. */
export const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029")

/** An epoch-ms time as `YYYY-MM-DD HH:MM:SS.mmm` UTC. */
export const timeText = (ms: number | null | undefined): string =>
  typeof ms === "number" && Number.isFinite(ms)
    ? new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC")
    : "—"

/** A number rounded for display (no trailing noise). */
export const num = (n: number): string => (Number.isInteger(n) ? String(n) : String(Math.round(n * 10_000) / 10_000))

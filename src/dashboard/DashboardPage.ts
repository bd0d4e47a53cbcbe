/**
 * The operator dashboard's HTML documents: the page shell (its views are rendered in the browser
 * by the client bundle, over the engine's API and its `/ws` stream) and the sign-in form. Both
 * inline their stylesheet and script: the pages load nothing from anywhere else.
 */
import { fileURLToPath } from "node:url"
import type { Effect } from "effect"
import { esc } from "../audit/Html.js"
import { clientBundle } from "../http/ClientBundle.js"
import { dashboardCss } from "./DashboardCss.js"

const clientEntry = fileURLToPath(new URL("./client/DashboardApp.ts", import.meta.url))

/** The dashboard's client bundle (esbuild, once per process). */
export const dashboardScript: Effect.Effect<string> = clientBundle(clientEntry)

const head = (title: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>${esc(title)}</title><style>${dashboardCss}</style></head>`

/** The dashboard: the top bar, an empty main filled in by the client, and the client. */
export const dashboardHtml = (script: string, options: { live: string; signOut: boolean }): string =>
  `${head("Warden")}<body data-live="${esc(options.live)}"><a class="skip" href="#main">Skip to content</a>
<header class="bar"><p class="brand">Warden</p><nav aria-label="Views">
<a href="#/orders">Order book</a><a href="#/trades">Trades &amp; positions</a><a href="#/risk">Risk</a><a href="#/diagnostics">Diagnostics</a><a href="/audit/">Audit</a></nav>
<span class="spacer"></span><span id="live" class="live" role="status">Live updates: starting…</span>
<button type="button" class="primary" id="new-order">New order</button><button type="button" class="danger" id="exit-all">Exit all…</button>
${options.signOut ? '<form method="post" action="/logout"><button type="submit">Sign out</button></form>' : ""}</header>
<main id="main" tabindex="-1"><p>Loading…</p><noscript>The dashboard needs JavaScript.</noscript></main>
<div id="toasts" aria-live="polite"></div>
<script>${script}</script></body></html>`

/** Where a sign-in may send the browser back to: a path on this server, nothing else. */
export const safeNext = (next: string | null | undefined): string =>
  typeof next === "string" && /^\/(?![/\\])[^\s]*$/.test(next) ? next : "/"

/** The sign-in form; `error` says why the last attempt failed. */
export const signInHtml = (options: { next: string; error?: string | null }): string =>
  `${head("Sign in · Warden")}<body><main id="main" class="signin"><h1>Warden</h1><p class="muted">Sign in with the engine's token (<code>http.token</code> or <code>WARDEN_TOKEN</code>).</p>
${options.error ? `<p class="error" role="alert">${esc(options.error)}</p>` : ""}
<form method="post" action="/login"><input type="hidden" name="next" value="${esc(safeNext(options.next))}">
<input type="text" name="username" value="warden" autocomplete="username" hidden>
<label>Token<input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit" class="primary">Sign in</button></form></main></body></html>`

/** A JSON value: what contexts, events, payloads and snapshots are made of. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

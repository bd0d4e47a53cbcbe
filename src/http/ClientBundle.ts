/**
 * Browser bundles of the engine's pages (the audit visualizer, the operator dashboard): one
 * TypeScript entry each, bundled by esbuild once per process into an IIFE that is safe inside an
 * inline `<script>`, so the pages load nothing from anywhere else.
 */
import { Effect } from "effect"

/** Script text safe inside an inline `<script>` element. */
export const inlineScript = (js: string) => js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--")

const built = new Map<string, Promise<string>>()

/** The bundle of one entry file (an absolute path), built on first use; a failed build is retried next time. */
export const clientBundle = (entry: string): Effect.Effect<string> =>
  Effect.promise(() => {
    const cached = built.get(entry)
    if (cached) return cached
    const build = import("esbuild").then(async (esbuild) => {
      const out = await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: "iife",
        platform: "browser",
        target: "es2020",
        minify: true,
        legalComments: "none",
      })
      return inlineScript(out.outputFiles[0]!.text)
    })
    built.set(entry, build)
    build.catch(() => built.delete(entry))
    return build
  })

/**
 * `npm run bench [-- --json FILE] [-- --quick]`: every benchmark in one process run, one JSON
 * object (figures are medians of repetitions after a warm-up), with the machine it ran on.
 * `--scale` runs only the scaling figures (`bench/ScaleBench.ts`): 1k, 10k and 100k open trades.
 */
import { writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { parseArgs } from "node:util"
import { exitsBench } from "./ExitsBench.js"
import { ordersBench } from "./OrdersBench.js"
import { runtimeBench } from "./RuntimeBench.js"
import { scaleBench } from "./ScaleBench.js"
import { simBench } from "./SimBench.js"

const { values } = parseArgs({
  options: { json: { type: "string" }, quick: { type: "boolean" }, scale: { type: "boolean" } },
})
const quick = values.quick === true
const scale = values.scale === true

const started = Date.now()
const result = {
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    platform: process.platform,
  },
  quick,
  ...(scale
    ? await scaleBench()
    : {
        ...(await runtimeBench(quick)),
        ...(await ordersBench(quick)),
        ...(await exitsBench(quick)),
        ...(await simBench(quick)),
      }),
  benchSeconds: 0,
}
result.benchSeconds = Math.round((Date.now() - started) / 1000)
const text = JSON.stringify(result, null, 2)
console.log(text)
if (values.json) writeFileSync(values.json, `${text}\n`)

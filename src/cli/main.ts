/**
 * The `warden` command line: `run`, `verify`, `migrate`, `diagrams`. `npx warden --help` lists
 * them; each command's own `--help` lists its options.
 */
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { CliExit, launch } from "./Launch.js"

interface Command {
  readonly summary: string
  readonly usage: string
  readonly options: NonNullable<Parameters<typeof parseArgs>[0]>["options"]
  readonly run: (
    values: Record<string, string | boolean | undefined>,
    positionals: ReadonlyArray<string>,
  ) => Effect.Effect<number, unknown>
}

const lazy = <K extends string>(file: string, name: K) =>
  ((values, positionals) =>
    Effect.flatMap(
      Effect.promise(() => import(file) as Promise<Record<K, Command["run"]>>),
      (m) => m[name](values, positionals),
    )) satisfies Command["run"]

const commands: Record<string, Command> = {
  run: {
    summary: "run the engine (embedded SQLite, paper broker, simulated feed by default)",
    usage: "warden run [--db FILE] [--config FILE] [--port N]",
    options: { db: { type: "string" }, config: { type: "string" }, port: { type: "string" } },
    run: lazy("./RunCommand.js", "runCommand"),
  },
  verify: {
    summary: "check a database: orders by status, data-quality checks, journal replay, one order's trace",
    usage: "warden verify --db FILE [--replay] [--order ID]",
    options: { db: { type: "string" }, replay: { type: "boolean" }, order: { type: "string" } },
    run: lazy("./VerifyCommand.js", "verifyCommand"),
  },
  migrate: {
    summary: "create or migrate a database file and exit",
    usage: "warden migrate --db FILE",
    options: { db: { type: "string" } },
    run: lazy("./MigrateCommand.js", "migrateCommand"),
  },
  audit: {
    summary: "audit a database file (read-only copy): the audit page, or one actor's report",
    usage:
      "warden audit --db FILE --serve [--port N] [--host H] | warden audit ACTOR_ID --db FILE [--html OUT.html] [--json OUT.json]",
    options: {
      db: { type: "string" },
      serve: { type: "boolean" },
      port: { type: "string" },
      host: { type: "string" },
      html: { type: "string" },
      json: { type: "string" },
    },
    run: lazy("./AuditCommand.js", "auditCommand"),
  },
  simulate: {
    summary: "run a scenario against the engine with simulated time, ticks and broker faults (SCENARIOS.md)",
    usage: "warden simulate FILE [--seed N] [--report OUT.json] [--db FILE]",
    options: { seed: { type: "string" }, report: { type: "string" }, db: { type: "string" } },
    run: lazy("./SimulateCommand.js", "simulateCommand"),
  },
  diagrams: {
    summary: "write a Mermaid state diagram per machine into diagrams/",
    usage: "warden diagrams [--out DIR]",
    options: { out: { type: "string" } },
    run: lazy("./DiagramsCommand.js", "diagramsCommand"),
  },
}

const help = (): string =>
  [
    "warden: order and exit management engine",
    "",
    "usage: warden <command> [options]",
    "",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}\n  ${"".padEnd(10)} ${c.usage}`),
    "",
    "warden <command> --help shows a command's options.",
  ].join("\n")

const main = (argv: ReadonlyArray<string>): Effect.Effect<number, unknown> => {
  const [name, ...rest] = argv
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(help())
    return Effect.succeed(name ? 0 : 2)
  }
  const command = commands[name]
  if (!command) return Effect.fail(new CliExit(2, `warden: unknown command "${name}"\n\n${help()}`))
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`usage: ${command.usage}\n\n${command.summary}`)
    return Effect.succeed(0)
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...rest], options: command.options, allowPositionals: true, strict: true })
  } catch (e) {
    return Effect.fail(
      new CliExit(2, `warden ${name}: ${e instanceof Error ? e.message : String(e)}\nusage: ${command.usage}`),
    )
  }
  return command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals)
}

launch(main(process.argv.slice(2)))

/**
 * The instrument master: the exchange's rules per tradable symbol (tick size, lot size, freeze
 * quantity, whether market orders are allowed), looked up by (exchange, trading symbol). Loads
 * the brokers' scrip masters (Shoonya `*_symbols.txt`, Dhan `api-scrip-master.csv`), telling
 * them apart by their header, and normalises their units: prices in rupees, quantities in units.
 */
import { readFileSync } from "node:fs"
import { Context, Data, Effect, Either, Option } from "effect"

/** One tradable instrument. */
export interface Instrument {
  readonly exchange: string
  /** The broker's trading symbol (`NIFTY26MARFUT`, `RELIANCE-EQ`, `NIFTY-Oct2026-FUT`). */
  readonly symbol: string
  /** The broker's instrument token / security id. */
  readonly token: string
  /** The underlying or company symbol (`NIFTY`, `RELIANCE`). */
  readonly underlying: string
  /** EQ, FUTIDX, OPTIDX, FUTSTK, OPTSTK, FUTCOM … as the master spells it. */
  readonly kind: string
  /** Rupees. */
  readonly tickSize: number
  /** Units per lot; every order quantity is a multiple of it. */
  readonly lotSize: number
  /** The exchange's quantity freeze: an order must stay below it (null when unknown). */
  readonly freezeQty: number | null
  /** False where the broker or exchange refuses MARKET orders ("limit as market" is needed). */
  readonly marketOrders: boolean
  /** `YYYY-MM-DD`, null for cash instruments. */
  readonly expiry: string | null
  readonly optionType: "CE" | "PE" | null
  readonly strike: number | null
}

/** The fields an instrument must have; the rest default (lot 1, tick 0.05, market orders allowed). */
export type InstrumentInput = Pick<Instrument, "exchange" | "symbol"> & Partial<Instrument>

/** A scrip master that could not be read: the line (1-based, header = 1) and the field at fault. */
export class InstrumentsError extends Data.TaggedError("InstrumentsError")<{
  readonly line: number
  readonly field: string
  readonly message: string
}> {}

/** How a scrip master is read. */
export interface LoadOptions {
  /** Overrides the format's default (Shoonya refuses API MARKET orders, Dhan takes them). */
  readonly marketOrders?: boolean
  /** Freeze quantities by underlying (`{ NIFTY: 1800 }`); the masters do not carry them. */
  readonly freezeQty?: Readonly<Record<string, number>>
}

const keyOf = (exchange: string, symbol: string) => `${exchange.toUpperCase()}|${symbol.toUpperCase()}`

/** The instrument master, immutable; build it with `fromList` or `parseCsv`. */
export class Instruments {
  private readonly bySymbol: ReadonlyMap<string, Instrument>
  private readonly byTokenKey: ReadonlyMap<string, Instrument>

  private constructor(list: ReadonlyArray<Instrument>) {
    this.bySymbol = new Map(list.map((i) => [keyOf(i.exchange, i.symbol), i]))
    this.byTokenKey = new Map(list.filter((i) => i.token !== "").map((i) => [keyOf(i.exchange, i.token), i]))
  }

  /** A master with no instruments. */
  static readonly empty = new Instruments([])

  /** A master from plain descriptions, e.g. a scenario's `instruments`. */
  static fromList(list: ReadonlyArray<InstrumentInput>): Instruments {
    return new Instruments(list.map(withDefaults))
  }

  /** Parses a scrip master, detecting Shoonya or Dhan by its header. */
  static parseCsv(text: string, options: LoadOptions = {}): Either.Either<Instruments, InstrumentsError> {
    return Either.map(parseMaster(text, options), (list) => new Instruments(list))
  }

  /** Reads and parses a scrip master file. */
  static load(path: string, options: LoadOptions = {}): Effect.Effect<Instruments, InstrumentsError> {
    return Effect.try({
      try: () => readFileSync(path, "utf8"),
      catch: (e) => new InstrumentsError({ line: 0, field: "file", message: `${path}: ${String(e)}` }),
    }).pipe(Effect.flatMap((text) => Instruments.parseCsv(text, options)))
  }

  /** The instrument with this trading symbol on this exchange. */
  get(exchange: string, symbol: string): Option.Option<Instrument> {
    return Option.fromNullable(this.bySymbol.get(keyOf(exchange, symbol)))
  }

  /** The instrument with this token (security id) on this exchange. */
  byToken(exchange: string, token: string): Option.Option<Instrument> {
    return Option.fromNullable(this.byTokenKey.get(keyOf(exchange, token)))
  }

  /** Every instrument. */
  get all(): ReadonlyArray<Instrument> {
    return [...this.bySymbol.values()]
  }

  /** A master with the other's instruments added (the other wins on the same key). */
  merge(other: Instruments): Instruments {
    return new Instruments([...this.all, ...other.all])
  }
}

const withDefaults = (i: InstrumentInput): Instrument => ({
  token: "",
  underlying: i.symbol.replace(/-.*$/, ""),
  kind: "EQ",
  tickSize: 0.05,
  lotSize: 1,
  freezeQty: null,
  marketOrders: true,
  expiry: null,
  optionType: null,
  strike: null,
  ...i,
})

type Row = { readonly line: number; readonly cell: (name: string) => string }
type RowParser = (row: Row, options: LoadOptions) => Either.Either<Instrument | null, InstrumentsError>

const shoonyaColumns = ["Exchange", "Token", "LotSize", "TradingSymbol", "TickSize"]
const dhanColumns = [
  "SEM_EXM_EXCH_ID",
  "SEM_SEGMENT",
  "SEM_SMST_SECURITY_ID",
  "SEM_INSTRUMENT_NAME",
  "SEM_TRADING_SYMBOL",
  "SEM_LOT_UNITS",
  "SEM_TICK_SIZE",
]

const parseMaster = (
  text: string,
  options: LoadOptions,
): Either.Either<ReadonlyArray<Instrument>, InstrumentsError> => {
  const lines = text.split(/\r?\n/)
  const header = splitCsvLine(lines[0] ?? "").map((h) => h.trim())
  const has = (cols: ReadonlyArray<string>) => cols.every((c) => header.includes(c))
  const parser: RowParser | null = has(shoonyaColumns) ? shoonyaRow : has(dhanColumns) ? dhanRow : null
  if (parser === null) {
    return Either.left(
      new InstrumentsError({ line: 1, field: "header", message: "neither a Shoonya nor a Dhan scrip master header" }),
    )
  }
  const width = header.length - (header[header.length - 1] === "" ? 1 : 0)
  const out: Array<Instrument> = []
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i] ?? ""
    if (raw.trim() === "") continue
    const cells = splitCsvLine(raw)
    if (cells.length < width) {
      return Either.left(
        new InstrumentsError({ line: i + 1, field: "row", message: `expected ${width} fields, found ${cells.length}` }),
      )
    }
    const row: Row = { line: i + 1, cell: (name) => (cells[header.indexOf(name)] ?? "").trim() }
    const parsed = parser(row, options)
    if (Either.isLeft(parsed)) return Either.left(parsed.left)
    if (parsed.right !== null) out.push(parsed.right)
  }
  return Either.right(out)
}

/** Splits one CSV line; a field may be double-quoted (with `""` for a quote). */
const splitCsvLine = (line: string): Array<string> => {
  const out: Array<string> = []
  let cur = ""
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (ch === '"') quoted = false
      else cur += ch
    } else if (ch === '"') quoted = true
    else if (ch === ",") {
      out.push(cur)
      cur = ""
    } else cur += ch
  }
  out.push(cur)
  return out
}

const fail = (row: Row, field: string, message: string) =>
  Either.left(new InstrumentsError({ line: row.line, field, message }))

const positiveInt = (row: Row, field: string): Either.Either<number, InstrumentsError> => {
  const v = Number(row.cell(field))
  return row.cell(field) !== "" && Number.isInteger(v) && v > 0
    ? Either.right(v)
    : fail(row, field, `"${row.cell(field)}" is not a positive whole number`)
}

const nonNegative = (row: Row, field: string): Either.Either<number, InstrumentsError> => {
  const v = Number(row.cell(field))
  return row.cell(field) !== "" && Number.isFinite(v) && v >= 0
    ? Either.right(v)
    : fail(row, field, `"${row.cell(field)}" is not a number ≥ 0`)
}

const months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]

/** `27-OCT-2026` (Shoonya) or `2026-10-27 14:30:00` (Dhan) as `2026-10-27`; blank is null. */
const expiryOf = (row: Row, field: string): Either.Either<string | null, InstrumentsError> => {
  const v = row.cell(field)
  if (v === "" || v === "0" || v === "NA") return Either.right(null)
  const dmy = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(v)
  if (dmy) {
    const m = months.indexOf(dmy[2]!.toUpperCase())
    if (m >= 0) return Either.right(`${dmy[3]}-${String(m + 1).padStart(2, "0")}-${dmy[1]!.padStart(2, "0")}`)
  }
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[ T].*)?$/.exec(v)
  if (iso) return Either.right(iso[1]!)
  return fail(row, field, `"${v}" is not a date`)
}

const optionTypeOf = (v: string): "CE" | "PE" | null => (v === "CE" || v === "PE" ? v : null)

const shoonyaRow: RowParser = (row, options) =>
  Either.gen(function* () {
    const symbol = row.cell("TradingSymbol")
    const kind = row.cell("Instrument") || "EQ"
    // Placeholder rows with a blank symbol exist in the real files; indices are not tradable.
    if (symbol === "" || kind === "INDEX") return null
    const exchange = row.cell("Exchange")
    if (exchange === "") return yield* fail(row, "Exchange", "blank exchange")
    const lotSize = yield* positiveInt(row, "LotSize")
    const rawTick = yield* nonNegative(row, "TickSize")
    // NSE/BSE cash masters have been seen in paise; a cash tick of 1 rupee or more is not plausible.
    const tickSize = (exchange === "NSE" || exchange === "BSE") && rawTick >= 1 ? rawTick / 100 : rawTick
    if (tickSize <= 0) return yield* fail(row, "TickSize", "tick size must be above 0")
    const expiry = yield* expiryOf(row, "Expiry")
    const strike = Number(row.cell("StrikePrice"))
    const underlying = row.cell("Symbol") || symbol.replace(/-.*$/, "")
    return {
      exchange,
      symbol,
      token: row.cell("Token"),
      underlying,
      kind,
      tickSize,
      lotSize,
      freezeQty: options.freezeQty?.[underlying] ?? null,
      marketOrders: options.marketOrders ?? false,
      expiry,
      optionType: optionTypeOf(row.cell("OptionType")),
      strike: Number.isFinite(strike) && strike > 0 ? strike : null,
    }
  })

/** Dhan's (exchange id, segment) as the exchange code the orders use. */
const dhanExchanges: Readonly<Record<string, string>> = {
  "NSE|E": "NSE",
  "NSE|D": "NFO",
  "NSE|C": "CDS",
  "BSE|E": "BSE",
  "BSE|D": "BFO",
  "BSE|C": "BCD",
  "MCX|M": "MCX",
}

const dhanRow: RowParser = (row, options) =>
  Either.gen(function* () {
    const segment = row.cell("SEM_SEGMENT")
    const kind = row.cell("SEM_INSTRUMENT_NAME")
    if (segment === "I" || kind === "INDEX") return null
    const exchange = dhanExchanges[`${row.cell("SEM_EXM_EXCH_ID")}|${segment}`]
    if (exchange === undefined) return yield* fail(row, "SEM_SEGMENT", `unknown exchange segment "${segment}"`)
    const symbol = row.cell("SEM_TRADING_SYMBOL")
    if (symbol === "") return yield* fail(row, "SEM_TRADING_SYMBOL", "blank trading symbol")
    const lotSize = yield* positiveInt(row, "SEM_LOT_UNITS")
    // The compact master's tick is in paise (5.0000 = ₹0.05).
    const tickSize = (yield* nonNegative(row, "SEM_TICK_SIZE")) / 100
    if (tickSize <= 0) return yield* fail(row, "SEM_TICK_SIZE", "tick size must be above 0")
    const expiry = yield* expiryOf(row, "SEM_EXPIRY_DATE")
    const strike = Number(row.cell("SEM_STRIKE_PRICE"))
    const underlying = symbol.replace(/-.*$/, "")
    return {
      exchange,
      symbol,
      token: row.cell("SEM_SMST_SECURITY_ID"),
      underlying,
      kind,
      tickSize: Number(tickSize.toFixed(6)),
      lotSize,
      freezeQty: options.freezeQty?.[underlying] ?? null,
      marketOrders: options.marketOrders ?? true,
      expiry,
      optionType: optionTypeOf(row.cell("SEM_OPTION_TYPE")),
      strike: Number.isFinite(strike) && strike > 0 ? strike : null,
    }
  })

/** The engine's instrument master, as a service: entries and exits are checked against it. */
export class InstrumentMaster extends Context.Tag("warden/InstrumentMaster")<InstrumentMaster, Instruments>() {}

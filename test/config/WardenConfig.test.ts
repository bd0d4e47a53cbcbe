import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { accessTokenOf, ConfigError, loadConfig } from "../../src/config/WardenConfig.js"
import { tempDir } from "../fixtures/TestEngine.js"

const file = (content: unknown) => {
  const path = join(tempDir(), "warden.config.json")
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content))
  return path
}

describe("configuration", () => {
  it("defaults every field: no file gives a paper account, a simulated market and a loopback API", () => {
    const c = loadConfig(undefined, {})
    expect(c.db).toBe("data/warden.db")
    expect(c.accounts).toEqual([{ id: "PAPER1", broker: "paper", capital: 2_000_000 }])
    expect(c.http.token).toBeNull()
    expect(c.market.simulated).toBe(true)
  })

  it("lets WARDEN_DB, WARDEN_PORT and WARDEN_TOKEN override the file", () => {
    const c = loadConfig(file({ db: "a.db", http: { port: 1 } }), {
      WARDEN_DB: "b.db",
      WARDEN_PORT: "9",
      WARDEN_TOKEN: "tok-123456",
    })
    expect([c.db, c.http.port, c.http.token]).toEqual(["b.db", 9, "tok-123456"])
  })

  it("names the field at fault in a bad file", () => {
    expect(() => loadConfig(file({ http: { port: "eighty" } }), {})).toThrow(/http\.port/)
    expect(() => loadConfig(file({ accounts: [{ id: "S1", broker: "shoonya" }] }), {})).toThrow(ConfigError)
    expect(() => loadConfig(file({ surprise: 1 }), {})).toThrow(/surprise/)
    expect(() => loadConfig(file("{not json"), {})).toThrow(/warden\.config\.json/)
  })

  it("takes a live account's token from the environment, never requiring it in the file", () => {
    const c = loadConfig(file({ accounts: [{ id: "dhan-1", broker: "dhan", clientId: "1100" }] }), {})
    const account = c.accounts[0]!
    expect(() => accessTokenOf(account as never, {})).toThrow(/WARDEN_DHAN_1_TOKEN/)
    expect(accessTokenOf(account as never, { WARDEN_DHAN_1_TOKEN: "jwt" })).toBe("jwt")
  })

  it("reads a live account's token from its accessTokenFile, and names the field when the file has none", () => {
    const dir = tempDir()
    const tokenFile = join(dir, "shoonya.token")
    const config = { accounts: [{ id: "SH1", broker: "shoonya", userId: "FA1", accessTokenFile: tokenFile }] }
    const account = loadConfig(file(config), {}).accounts[0]!
    expect(account).toMatchObject({ accessTokenFile: tokenFile })
    expect(() => accessTokenOf(account as never, {})).toThrow(/accounts\[SH1\]\.accessTokenFile: .*ENOENT/)
    writeFileSync(tokenFile, "  \n")
    expect(() => accessTokenOf(account as never, {})).toThrow(/is empty/)
    writeFileSync(tokenFile, "oauth-token-1\n")
    expect(accessTokenOf(account as never, { WARDEN_SH1_TOKEN: "from-env" })).toBe("oauth-token-1")
    expect(() => loadConfig(file({ accounts: [{ ...config.accounts[0], accessTokenFile: "" }] }), {})).toThrow(
      /accessTokenFile/,
    )
  })

  it("defaults the alerts to no channels and the lifecycle log to none", () => {
    const c = loadConfig(undefined, {})
    expect(c.alerts.channels).toEqual([])
    expect(c.alerts.queueMax).toBeGreaterThan(0)
    expect(c.lifecycleLog).toBeNull()
  })

  it("reads alert channels, and names the field of a bad URL, an unknown kind or a Telegram channel without a token", () => {
    const c = loadConfig(
      file({
        alerts: {
          channels: [
            { type: "webhook", url: "http://127.0.0.1:9/hook" },
            { type: "telegram", chatId: 42, baseUrl: "http://127.0.0.1:9" },
          ],
          kinds: ["fill", "rejection"],
        },
        lifecycleLog: "logs/lifecycle.jsonl",
      }),
      { WARDEN_TELEGRAM_TOKEN: "123:abc" },
    )
    expect(c.alerts.channels.map((ch) => ch.type)).toEqual(["webhook", "telegram"])
    expect(c.lifecycleLog).toBe("logs/lifecycle.jsonl")
    expect(() => loadConfig(file({ alerts: { channels: [{ type: "webhook", url: "ftp://x" }] } }), {})).toThrow(
      /alerts\.channels\.0\.url/,
    )
    expect(() => loadConfig(file({ alerts: { kinds: ["everything"] } }), {})).toThrow(/alerts\.kinds\.0/)
    expect(() => loadConfig(file({ alerts: { channels: [{ type: "telegram", chatId: "7" }] } }), {})).toThrow(
      /alerts\.channels\.0\.botToken: no bot token: set WARDEN_TELEGRAM_TOKEN/,
    )
  })
})

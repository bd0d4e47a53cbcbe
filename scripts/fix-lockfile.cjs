#!/usr/bin/env node
// Run after `npm install` changes dependencies: `node scripts/fix-lockfile.cjs`. npm 11's `npm ci` rejects
// a lock that lacks the optional platform binaries of other systems; the registry this project is
// built against does not serve all of them, so npm leaves them out. This adds their entries back
// (optional, with os/cpu), which npm ci then validates and skips on this platform.
const fs = require("node:fs")
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"))
const pk = lock.packages
let added = 0
for (const [path, entry] of Object.entries(pk)) {
  for (const [dep, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `node_modules/${dep}`
    if (pk[target] || pk[`${path}/node_modules/${dep}`]) continue
    const version = String(spec).replace(/^[\^~=]/, "")
    const m = /(android|darwin|win32|linux|freebsd|openbsd|openharmony|sunos|aix|netbsd)/.exec(dep)
    const c = /(arm64|x64|ia32|riscv64|ppc64|s390x|loong64|arm)/.exec(
      dep.replace(/-(gnueabihf|musleabihf|eabi|msvc|gnu|musl|ohos)$/, ""),
    )
    const e = { version, optional: true }
    if (entry.dev) e.dev = true
    if (m) e.os = [m[1] === "openharmony" ? "openharmony" : m[1]]
    if (c) e.cpu = [c[1]]
    if (/musl/.test(dep)) e.libc = ["musl"]
    else if (/linux/.test(dep) && /gnu|linux-(x64|arm64)$/.test(dep)) e.libc = ["glibc"]
    pk[target] = e
    added++
  }
}
const sorted = Object.fromEntries(
  Object.entries(pk).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
)
lock.packages = sorted
fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n")
console.log("added", added)

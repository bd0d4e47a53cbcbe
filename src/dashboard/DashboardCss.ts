/**
 * The dashboard's stylesheet: system fonts, tabular figures, a dark top bar and light cards. Colour
 * is never the only mark: P&L carries its sign, states their names, and refusals a label.
 */
export const dashboardCss = `
:root { color-scheme: light; --bg: #f3f5f8; --card: #fff; --fg: #111827; --muted: #5b6472; --line: #dde2e9; --bar: #0f1b2d;
  --accent: #1d4ed8; --pos: #0f7a3d; --neg: #b42318; --warn: #9a5b00; --pill: #eef1f5; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; color: var(--fg); background: var(--bg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
.num { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; } .skip:focus { left: 1rem; top: 0.5rem; background: #fff; padding: 0.25rem 0.5rem; z-index: 10; }
header.bar { display: flex; align-items: center; gap: 1.25rem; padding: 0 1.25rem; height: 52px; background: var(--bar); color: #e5e9f0; position: sticky; top: 0; z-index: 5; }
header.bar .brand { font-weight: 700; font-size: 1.05rem; letter-spacing: 0.02em; color: #fff; margin: 0; }
header.bar nav { display: flex; gap: 0.25rem; height: 100%; }
header.bar nav a { display: flex; align-items: center; padding: 0 0.8rem; color: #c7d0dd; text-decoration: none; border-bottom: 3px solid transparent; }
header.bar nav a:hover { color: #fff; }
header.bar nav a[aria-current="page"] { color: #fff; border-bottom-color: #60a5fa; font-weight: 600; }
header.bar .spacer { flex: 1; }
header.bar .live { font-size: 0.82rem; color: #aab4c3; }
header.bar button { background: transparent; color: #e5e9f0; border-color: #4b5a70; }
header.bar button.primary { background: #2563eb; border-color: #2563eb; color: #fff; }
header.bar button.danger { background: #b42318; border-color: #b42318; color: #fff; }
main { padding: 1rem 1.25rem 3rem; max-width: 1880px; margin: 0 auto; }
main:focus { outline: none; }
h2 { font-size: 1.15rem; margin: 0.25rem 0 0.75rem; }
h3 { font-size: 0.95rem; margin: 0 0 0.5rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
.muted, .none { color: var(--muted); }
button { font: inherit; padding: 0.3rem 0.75rem; border: 1px solid #9aa4b2; border-radius: 6px; background: #fff; color: var(--fg); cursor: pointer; }
button:hover { filter: brightness(0.96); }
button:disabled { opacity: 0.5; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { background: #fff; border-color: var(--neg); color: var(--neg); }
button.small { padding: 0.1rem 0.5rem; font-size: 0.85rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 0.75rem; margin-bottom: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 0.75rem 1rem; }
.stat .label { color: var(--muted); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.05em; }
.stat .value { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat.failed .value { color: var(--neg); }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 0.9rem 1rem; margin-bottom: 1rem; overflow-x: auto; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(560px, 100%), 1fr)); gap: 1rem; }
.grid2 > .panel { margin-bottom: 0; }
.grid2.book { grid-template-columns: repeat(auto-fit, minmax(min(780px, 100%), 1fr)); }
.grid2.book > .panel + .panel { margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
thead th { font-size: 0.76rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; white-space: nowrap; background: #f8fafc; }
tbody tr:hover td { background: #f8fafc; }
td .sub { color: var(--muted); font-size: 0.78rem; }
td a.mono, td span.mono { white-space: nowrap; }
td.wrap a.mono { white-space: normal; overflow-wrap: anywhere; display: inline-block; max-width: 10rem; }
.pos { color: var(--pos); font-weight: 600; } .neg { color: var(--neg); font-weight: 600; }
.pill { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; background: var(--pill); font-size: 0.78rem; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.pill.EXECUTED, .pill.CLOSED, .pill.ACTIVE, .pill.ok, .pill.FILLED, .pill.BUY, .pill.LONG { background: #e6f4ea; color: #0f5b2e; }
.pill.FAILED, .pill.HALTED, .pill.bad, .pill.REJECTED, .pill.SELL, .pill.SHORT { background: #fdecea; color: #8c1d13; }
.pill.PARTIAL, .pill.REDUCING, .pill.EXITING, .pill.warn { background: #fff4e0; color: #7a4a00; }
.pill.SENT_TO_BROKER, .pill.CREATED, .pill.OPEN { background: #e8efff; color: #1e3a8a; }
.reason { color: var(--neg); max-width: 22rem; font-size: 0.82rem; }
.toolbar { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-bottom: 0.75rem; }
.toolbar .spacer { flex: 1; }
#toasts { position: fixed; right: 1rem; bottom: 1rem; display: flex; flex-direction: column; gap: 0.5rem; z-index: 20; max-width: 30rem; }
.toast { background: #fff; border: 1px solid var(--line); border-left: 5px solid var(--accent); border-radius: 8px; padding: 0.6rem 0.9rem; box-shadow: 0 6px 20px rgba(15, 27, 45, 0.15); }
.toast.ok { border-left-color: var(--pos); } .toast.bad { border-left-color: var(--neg); }
.toast strong { display: block; }
dialog { border: none; border-radius: 12px; padding: 0; box-shadow: 0 20px 50px rgba(15, 27, 45, 0.35); max-width: min(560px, 94vw); width: 100%; }
dialog::backdrop { background: rgba(15, 27, 45, 0.45); }
dialog .head { padding: 0.9rem 1.1rem; border-bottom: 1px solid var(--line); font-weight: 650; font-size: 1.02rem; }
dialog .body { padding: 1rem 1.1rem; }
dialog .foot { padding: 0.75rem 1.1rem; border-top: 1px solid var(--line); display: flex; justify-content: flex-end; gap: 0.5rem; background: #f8fafc; }
form.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 0.7rem 0.9rem; }
form.fields label, .field { display: flex; flex-direction: column; gap: 0.2rem; font-size: 0.8rem; color: var(--muted); font-weight: 600; }
form.fields .wide { grid-column: 1 / -1; }
input, select { font: inherit; color: var(--fg); padding: 0.35rem 0.5rem; border: 1px solid #b6bfcc; border-radius: 6px; background: #fff; font-weight: 400; }
.seg { display: inline-flex; border: 1px solid #b6bfcc; border-radius: 6px; overflow: hidden; }
.seg label { flex-direction: row; align-items: center; padding: 0.35rem 0.9rem; cursor: pointer; color: var(--fg); font-size: 0.9rem; }
.seg input { position: absolute; opacity: 0; pointer-events: none; }
.seg label:has(input:checked) { background: var(--accent); color: #fff; }
.seg label.sell:has(input:checked) { background: var(--neg); }
.hint { font-weight: 400; color: var(--muted); font-size: 0.78rem; }
.error { color: var(--neg); font-weight: 600; }
.summary { background: #f8fafc; border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.8rem; margin: 0; }
.summary dt { color: var(--muted); font-size: 0.78rem; } .summary dd { margin: 0 0 0.35rem; font-weight: 600; }
.switch { display: inline-flex; align-items: center; gap: 0.5rem; }
.account-head { display: flex; align-items: center; gap: 0.75rem; flex-wrap: wrap; margin-bottom: 0.6rem; }
.account-head h3 { margin: 0; color: var(--fg); font-size: 1rem; text-transform: none; letter-spacing: 0; }
.meter { display: inline-block; vertical-align: middle; margin-left: 0.6rem; width: 220px; height: 8px; background: #edf0f4; border-radius: 4px; overflow: hidden; }
.meter > span { display: block; height: 100%; background: var(--pos); }
.meter.hot > span { background: var(--neg); }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0.5rem 0; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; font-variant-numeric: tabular-nums; }
.signin { max-width: 380px; margin: 12vh auto; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 1.6rem 1.7rem; box-shadow: 0 10px 30px rgba(15, 27, 45, 0.08); }
.signin h1 { font-size: 1.3rem; margin: 0 0 0.25rem; }
.signin form { display: flex; flex-direction: column; gap: 0.8rem; margin-top: 1rem; }
.signin label { display: flex; flex-direction: column; gap: 0.3rem; font-weight: 600; font-size: 0.85rem; }
`

/**
 * The audit's stylesheet: system fonts only, dark text on white, one accent colour that is never
 * the only mark (line style, borders, hatching and text carry every meaning), and a layout that
 * fits a laptop screen: the chart beside a sticky step panel from 1100 px, stacked below.
 */
export const auditCss = `
:root { color-scheme: light; --fg: #111; --muted: #555; --line: #b8b8b8; --accent: #0b4f9c; --panel: #f6f6f6; --step: #b35900; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
a { color: var(--accent); text-decoration: underline; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid var(--step); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; } .skip:focus { left: 1rem; top: 0.5rem; background: #fff; padding: 0.25rem 0.5rem; }
header.top { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: baseline; padding: 0.5rem 1rem; border-bottom: 2px solid var(--fg); }
header.top h1 { font-size: 1.25rem; margin: 0; }
header.top nav a { margin-right: 1rem; }
#live { margin: 0 0 0 auto; color: var(--muted); font-size: 0.9rem; }
main { padding: 0.25rem 1rem 2rem; max-width: 1920px; }
main:focus { outline: none; }
h2 { font-size: 1.3rem; margin: 0.75rem 0 0.5rem; } h3 { font-size: 1.1rem; margin: 1rem 0 0.4rem; } h4 { font-size: 1rem; margin: 0.6rem 0 0.3rem; }
.meta, .none { color: var(--muted); }
.crumbs { margin: 0.5rem 0; }
button { font: inherit; padding: 0.2rem 0.6rem; border: 1px solid #555; border-radius: 4px; background: #fff; cursor: pointer; }
button:disabled { color: #999; border-color: #ccc; cursor: default; }
.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 0.9rem; align-items: end; padding: 0.6rem 0.75rem; background: var(--panel); border: 1px solid var(--line); }
.filters label { display: flex; flex-direction: column; font-size: 0.85rem; }
.filters input, .filters select { font: inherit; padding: 0.15rem 0.3rem; border: 1px solid #777; border-radius: 3px; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { text-align: left; vertical-align: top; padding: 0.25rem 0.5rem; border-bottom: 1px solid #ddd; }
thead th { border-bottom: 2px solid var(--fg); white-space: nowrap; }
table.actors td:first-child { white-space: nowrap; }
.pager { display: flex; gap: 0.75rem; align-items: center; }
.facts { display: flex; flex-wrap: wrap; gap: 0.25rem 1.5rem; margin: 0.25rem 0 0.5rem; }
.facts div { display: flex; gap: 0.4rem; } .facts dt { color: var(--muted); } .facts dd { margin: 0; font-weight: 600; }
.three { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 0 1.5rem; }
.chain ol, .chain ul { padding-left: 1.3rem; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 1.5rem; }
.chain { border: 1px solid var(--line); padding: 0 0.75rem 0.5rem; }
ul.links { padding-left: 1.2rem; margin: 0.25rem 0; } ul.links li { margin-bottom: 0.3rem; }
.rel { color: var(--muted); font-size: 0.86rem; }
ol.episodes > li { margin-bottom: 0.4rem; } ol.flow { margin: 0.2rem 0; }
.step-name { font-weight: 600; }
.chart-and-steps { display: grid; grid-template-columns: minmax(0, 1fr) 370px; gap: 1rem; align-items: start; }
@media (max-width: 1100px) { .chart-and-steps { grid-template-columns: minmax(0, 1fr); } }
.legend { display: flex; flex-wrap: wrap; gap: 0.1rem 1.2rem; padding: 0; margin: 0.25rem 0; list-style: none; font-size: 0.88rem; }
.legend svg { vertical-align: middle; } .lg-taken { stroke: var(--accent); } .lg-untaken { stroke: #777; }
.chart-tools { margin: 0.25rem 0; }
.chart-scroll { overflow: auto; border: 1px solid var(--line); max-height: 78vh; background: #fff; }
.chart-scroll.fit svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
.steps { position: sticky; top: 0.5rem; max-height: calc(100vh - 1rem); overflow: auto; border: 1px solid var(--line); background: var(--panel); padding: 0 0.75rem 0.5rem; }
.step-control { display: flex; gap: 0.3rem; align-items: center; } .step-control input { flex: 1; min-width: 6rem; }
.step-context { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid #ddd; padding: 0.4rem; font-size: 0.82rem; max-height: 55vh; overflow: auto; }
.timeline-table tbody tr { cursor: pointer; }
.timeline-table tr.refused td { background: repeating-linear-gradient(135deg, #fff, #fff 6px, #f2f2f2 6px, #f2f2f2 12px); }
.timeline-table tr.refused td:first-child { border-left: 4px dashed var(--fg); }
.timeline-table tr.at-step td { outline: 2px solid var(--step); outline-offset: -2px; font-weight: 600; }
.timeline-table pre { margin: 0.2rem 0; font-size: 0.82rem; white-space: pre-wrap; }
.timeline-table summary { cursor: pointer; }
svg.chart .frame { fill: #fff; stroke: #333; }
svg.chart .state.compound > .frame { fill: #f3f3f3; }
svg.chart .state.visited > .frame { stroke: var(--accent); }
svg.chart .current-frame, svg.chart .final-frame { stroke: #111; }
svg.chart .name { fill: #111; } svg.chart .tags { fill: var(--muted); } svg.chart .count { fill: var(--accent); font-weight: bold; }
svg.chart .initial { fill: #111; } svg.chart .initial-arrow { stroke: #111; }
svg.chart .edge path { stroke: #7a7a7a; } svg.chart .edge.taken path, svg.chart .arrowhead.taken { stroke: var(--accent); }
svg.chart .arrowhead { fill: #7a7a7a; } svg.chart .arrowhead.taken { fill: var(--accent); }
svg.chart .label { fill: #333; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.chart .label .taken { fill: var(--accent); }
svg.chart .edge.step-edge path { stroke: var(--step); stroke-width: 7px; stroke-dasharray: 1 5; stroke-linecap: round; }
svg.chart .hatch-bg { fill: #fff; } svg.chart .hatch-line { stroke: #f0b400; }
svg.chart .state.at-step > .frame { stroke: var(--step); stroke-width: 4px; }
.report-toc li { margin-bottom: 0.2rem; }
article.actor { border-top: 3px double var(--fg); margin-top: 1rem; }
`

"""The report's look, kept out of the HTML builder: a light page that reads at phone width (tables scroll
sideways, figures take the width) and in print (A4, static figures, the appendix opened)."""

CSS = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --head: #f3f5f8;
  --accent: #4f46e5; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; font-size: 15px; }
body { margin: 0 auto; max-width: 62rem; padding: 1.5rem 1.25rem 4rem; background: #fff; color: var(--ink);
  font: 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
header { border-bottom: 2px solid var(--accent); margin-bottom: 1.25rem; padding-bottom: .75rem; }
header .kicker { color: var(--accent); font-weight: 600; letter-spacing: .04em; text-transform: uppercase;
  font-size: .8rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: .2rem 0 .4rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p { margin: .5rem 0; }
.meta, .note, figcaption .note { color: var(--muted); font-size: .88rem; }
.question { font-size: 1.1rem; font-weight: 600; }
nav.toc { font-size: .9rem; margin: .75rem 0 0; }
nav.toc a { color: var(--accent); margin-right: 1rem; text-decoration: none; white-space: nowrap; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; background: var(--head);
  padding: 0 .2em; border-radius: 3px; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .4rem 0 .3rem; max-width: 100%; }
table { border-collapse: collapse; font-size: .88rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num { white-space: nowrap; }
table.kv th { width: 14rem; font-weight: 500; }
table.compare th { font-weight: 500; }
table.compare thead th { font-weight: 600; vertical-align: bottom; min-width: 7rem; }
table.compare tbody th { white-space: nowrap; }
table.compare td.same { color: var(--muted); }
.used-by { font-weight: 400; font-size: .8rem; color: var(--muted); }
figure { margin: 1.2rem 0; }
figure .plotly-graph-div { width: 100% !important; }
img.frozen-figure { display: block; width: 100%; height: auto; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
ul.reading li { margin: .35rem 0; }
details { border: 1px solid var(--line); border-radius: 6px; margin: .4rem 0; padding: .2rem .7rem; }
details[open] { padding-bottom: .6rem; }
summary { cursor: pointer; padding: .25rem 0; overflow-wrap: anywhere; }
.grid-kv { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 0 1rem;
  font-size: .8rem; margin: .4rem 0; }
.grid-kv div { border-bottom: 1px dotted var(--line); padding: .1rem 0; overflow-wrap: anywhere; }
.grid-kv span { color: var(--muted); }
table.history { font-size: .78rem; }
.history-chunks > .scroll { display: inline-block; vertical-align: top; margin-right: 1rem; }
h4 { font-size: .85rem; margin: .6rem 0 .2rem; }
table.history td, table.history th { padding: .15rem .4rem; }
@media (max-width: 40rem) {
  html { font-size: 14px; }
  body { padding: 1rem .75rem 3rem; }
  h1 { font-size: 1.4rem; }
  table.kv th { width: auto; }
  td { min-width: 5.5rem; }
  table.runs td, table.history td { white-space: nowrap; min-width: 0; }
}
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { font-size: 9.5pt; }
  body { max-width: none; padding: 0; }
  nav.toc, .modebar-container, .no-print { display: none !important; }
  .scroll { overflow: visible; }
  table.history { font-size: 6.5pt; }
  table.history td, table.history th { padding: .05rem .3rem; }
  h2, h3, figcaption { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  details { border: none; padding: 0; margin: 0 0 .6rem; }
  details.run { border-top: 1px solid var(--line); border-radius: 0; padding-top: .3rem; }
  details.run > summary, h4 { break-after: avoid; }
  .grid-kv { break-inside: avoid; }
  .grid-kv { grid-template-columns: repeat(4, 1fr); font-size: 6.5pt; gap: 0 .6rem; }
  .history-chunks > .scroll { margin-right: .5rem; }
  h4 { font-size: 7.5pt; margin: .3rem 0 .1rem; }
  details > summary { list-style: none; font-weight: 600; }
  details > summary::-webkit-details-marker { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""

# Printing from the browser opens the appendix (a closed <details> prints nothing), and closes it again after.
SCRIPT = """
(function () {
  var opened = [];
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details:not([open])').forEach(function (d) { d.open = true; opened.push(d); });
  });
  window.addEventListener('afterprint', function () {
    opened.forEach(function (d) { d.open = false; }); opened = [];
  });
})();
"""

"""A study as one self-contained HTML file, laid out as a course report: the question, the method, the
results (every table and figure of the study's view), the reading, and an appendix with every run's config
and history.

Self-contained because it is handed in: plotly.js is inlined once and each figure is a div that draws with
it, so the file opens with no network at all. Every string that comes from a run folder (names, configs,
histories) is escaped here, in one place: run names are user-editable and must not become markup.
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..plots.style import REPORT_TEMPLATE
from ..studies.catalog import Study
from ..studies.plan import PlannedRun, StudyPlan, runs_table
from ..studies.views.common import StudyView
from . import method
from .style import CSS, SCRIPT

Rows = Sequence[dict[str, Any]]
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def esc(value: Any) -> str:
    """Text as HTML text or attribute value: every <, >, &, and quote escaped."""
    return html.escape(str(value), quote=True)


def inline_md(text: str) -> str:
    """The views' markdown (**bold**, *italic*, `code`) as HTML, escaped first so nothing else is markup."""
    out = esc(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


@functools.cache
def plotly_js() -> str:
    """plotly.js, read once per process (about 4.8 MB): the one script every figure draws with."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


# -- building blocks ----------------------------------------------------------------------------------
def columns(rows: Rows) -> list[str]:
    """Every key of the rows, in the order they first appear (rows may differ in their keys)."""
    cols: list[str] = []
    for row in rows:
        cols += [k for k in row if k not in cols]
    return cols


def table(rows: Rows, cls: str = "", head: bool = True) -> str:
    """Rows of dicts as a table that scrolls sideways when it is wider than the screen."""
    if not rows:
        return '<p class="note">(none)</p>'
    cols = columns(rows)
    thead = "<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr></thead>" if head else ""
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(row.get(c, ''))}</td>" for c in cols) + "</tr>" for row in rows
    )
    return f'<div class="scroll"><table class="{esc(cls)}">{thead}<tbody>{body}</tbody></table></div>'


def key_values(rows: Rows) -> str:
    """{"setting", "value"} rows as a two-column table, the setting as the row's header."""
    body = "".join(f"<tr><th>{esc(r['setting'])}</th><td>{esc(r['value'])}</td></tr>" for r in rows)
    return f'<div class="scroll"><table class="kv"><tbody>{body}</tbody></table></div>'


def figure(number: int, caption: str, fig: Any) -> str:
    """A figure's div (drawn by the inlined plotly.js) under its caption; the div id is fixed, so the same
    study gives the same file."""
    fig.update_layout(template=REPORT_TEMPLATE)
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"figure-{number}",
        config=PLOTLY_CONFIG,
        default_width="100%",
    )
    return (
        f'<figure class="report-figure"><figcaption>Figure {number}. {esc(caption)}</figcaption>'
        f"{div}</figure>"
    )


def section(anchor: str, title: str, parts: Iterable[str]) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{"".join(parts)}</section>'


# -- the report's sections ----------------------------------------------------------------------------
def header(study: Study, plan: StudyPlan, built: datetime) -> str:
    report = {"beyond": "beyond the reports", "selection": "runs picked on Compare"}.get(
        study.report, f"report {study.report}"
    )
    what = "a selection" if study.report == "selection" else f"study {esc(study.name)}"
    done = plan.count("done")
    toc = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("question", "Question"),
            ("method", "Method"),
            ("results", "Results"),
            ("reading", "Reading"),
            ("appendix", "Appendix"),
        )
    )
    return (
        f'<header><div class="kicker">Fashion-MNIST Lab · {what} · {esc(report)}</div>'
        f"<h1>{esc(study.title)}</h1>"
        f'<p class="meta">{done} of {len(plan.runs)} runs done · built {built:%Y-%m-%d %H:%M} · '
        f'code {esc(method.code_commit())}</p><nav class="toc">{toc}</nav></header>'
    )


def question(study: Study) -> str:
    parts = [f'<p class="question">{esc(study.question)}</p>']
    if study.about:
        parts.append(f"<p>{esc(study.about)}</p>")
    return section("question", "The question", parts)


def comparison(comp: method.Comparison, per_table: int = 6) -> str:
    """Settings down, columns across (at most per_table a table, so it stays readable); a setting every
    column shares is one cell across them, so what differs stands out."""
    out = []
    for i in range(0, len(comp.columns), per_table):
        cols = comp.columns[i : i + per_table]
        head = "".join(
            f'<th>{esc(c.title)}<div class="used-by">{esc(", ".join(c.used_by))}</div></th>' for c in cols
        )
        body = ""
        for name in comp.settings:
            values = [c.values.get(name, "–") for c in cols]
            cells = (
                f'<td colspan="{len(cols)}" class="same">{esc(values[0])}</td>'
                if len(set(values)) == 1 and len(cols) > 1
                else "".join(f"<td>{esc(v)}</td>" for v in values)
            )
            body += f"<tr><th>{esc(name)}</th>{cells}</tr>"
        out.append(
            f'<div class="scroll"><table class="compare"><thead><tr><th></th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )
    return "".join(out)


def method_section(plan: StudyPlan) -> str:
    return section(
        "method",
        "Method",
        [
            *(f"<h3>{esc(c.title)}</h3>{comparison(c)}" for c in method.model_comparisons(plan)),
            "<h3>Training</h3>",
            comparison(method.training_comparison(plan)),
            "<h3>Data, selection and statistics</h3>",
            key_values(method.data_rows(plan)),
            "<h3>Machine and code</h3>",
            key_values(method.machine_rows(plan)),
        ],
    )


def results_section(view: StudyView) -> str:
    parts = []
    for i, t in enumerate(view.tables, 1):
        parts.append(f'<h3 class="table-title">Table {i}. {esc(t.title)}</h3>')
        parts.append(table(t.rows, "result"))
        if t.note:
            parts.append(f'<p class="note">{inline_md(t.note)}</p>')
    parts += [figure(i, caption, fig) for i, (caption, fig) in enumerate(view.figures, 1)]
    if not parts:
        parts.append('<p class="note">No finished runs yet.</p>')
    return section("results", "Results", parts)


def reading_section(view: StudyView) -> str:
    items = "".join(f"<li>{inline_md(line)}</li>" for line in view.reading)
    return section("reading", "Reading", [f'<ul class="reading">{items}</ul>'])


# -- the appendix: every run ---------------------------------------------------------------------------
def flat(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """A nested config as (dotted key, value) pairs."""
    if not isinstance(d, dict):
        return [(prefix, d)]
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        out += flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [(f"{prefix}{k}", v)]
    return out


def cell_text(v: Any) -> str:
    """A history or summary value: 4 significant digits for a float, '–' for a missing or non-finite one."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(cell_text(x) for x in v)
    return str(v)


def grid(pairs: Iterable[tuple[str, Any]]) -> str:
    items = "".join(f"<div><span>{esc(k)}</span> {esc(cell_text(v))}</div>" for k, v in pairs)
    return f'<div class="grid-kv">{items}</div>'


def run_details(r: PlannedRun) -> str:
    """One run: its label, id, display name and status in the summary line; its config, summary and
    history inside (closed on screen, opened in print)."""
    info = r.info
    assert info is not None
    name = f" · named “{info.name}”" if info.name != info.run_id else ""
    head = f"{r.label} · {info.run_id}{name} · {info.status.replace('_', ' ')}, {len(info.history)} epochs"
    summary = [(k, v) for k, v in info.summary.items() if k not in ("pid", "host")]
    return (
        f'<details class="run"><summary>{esc(head)}</summary>'
        f"<h4>Config</h4>{grid(flat(info.config))}<h4>Summary</h4>{grid(summary)}"
        f"<h4>History</h4>{history_tables(info.history)}</details>"
    )


def history_tables(history: list[dict], per_table: int = 10) -> str:
    """A run's epochs as tables of at most per_table rows, side by side where there is room: a 100-epoch
    run reads like a newspaper's columns instead of five pages of one narrow table."""
    rows = [{k: cell_text(v) for k, v in row.items()} for row in history]
    if not rows:
        return '<p class="note">(no epochs recorded)</p>'
    chunks = [rows[i : i + per_table] for i in range(0, len(rows), per_table)]
    return '<div class="history-chunks">' + "".join(table(c, "history") for c in chunks) + "</div>"


def appendix(plan: StudyPlan) -> str:
    recorded = [r for r in plan.runs if r.info is not None]
    return section(
        "appendix",
        "Appendix: the runs",
        [
            "<h3>Every run of the study</h3>",
            table(runs_table(plan), "runs"),
            f"<h3>Config and history of each run ({len(recorded)})</h3>",
            *(run_details(r) for r in recorded),
        ],
    )


# -- the file ----------------------------------------------------------------------------------------
def report_html(study: Study, plan: StudyPlan, view: StudyView, built: datetime | None = None) -> str:
    """The study's report as one HTML file: plotly.js inlined once, no request outside the file."""
    built = built or datetime.now()
    body = "".join(
        [
            header(study, plan, built),
            question(study),
            method_section(plan),
            results_section(view),
            reading_section(view),
            appendix(plan),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{'Runs' if study.report == 'selection' else 'Study ' + esc(study.name)}: {esc(study.title)} · "
        "Fashion-MNIST Lab</title>"
        f"<style>{CSS}</style><script>{plotly_js()}</script></head>"
        f"<body>{body}<script>{SCRIPT}</script></body></html>\n"
    )

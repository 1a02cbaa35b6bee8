"""The README's figures are what the shipped runs give: each reference model is evaluated again on the
test set, and every figure in the README's column of our study results is in the study's own view,
built from the shipped run folders (as the Studies page and `python -m fmnist_core study NAME` show it).
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from fmnist_core.data import load_fashion_mnist
from fmnist_core.evaluate import evaluate_run
from fmnist_core.registry import SHIPPED_SEARCH as SEARCH
from fmnist_core.registry import Registry, is_shipped
from fmnist_core.search import summary, summary_line, table_rows, trial_rows
from fmnist_core.studies import STUDIES, build_view, compute_extras, get_study, plan_study

README = (ROOT / "README.md").read_text()
SHIPPED = Registry(ROOT / "saved_models")
NUMBER = re.compile(r"\d+\.\d+%?")


def readme_table(heading: str) -> list[dict[str, str]]:
    """The first markdown table under the README heading that starts with `heading`, as rows of cells."""
    section = README.split("\n## " + heading, 1)[1].split("\n## ", 1)[0]
    lines = [ln.strip() for ln in section.splitlines() if ln.strip().startswith("|")]
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    header, rows = cells[0], cells[2:]  # cells[1] is the |---| line
    return [dict(zip(header, row)) for row in rows]


@pytest.fixture(scope="module")
def data():
    return load_fashion_mnist(download=False)


def _close(text: str, value: float, digits: int) -> bool:
    """`text` shows `value` to `digits` decimals, give or take one in the last one (another CPU's rounding
    can move a borderline image or the 4th decimal)."""
    return any(abs(float(m) - value) <= 1.01 * 10**-digits for m in re.findall(r"\d+\.\d+", text))


def test_the_reference_runs_table_is_what_the_models_score_now(data):
    rows = readme_table("Shipped reference runs")
    assert {r["run"] for r in rows} == {r.run_id for r in SHIPPED.list_runs() if r.run_id.startswith("ref-")}
    for row in rows:
        run_id, ours = row["run"], row["ours, test"]
        out = evaluate_run(SHIPPED, run_id, data)  # from the weights, not from any cache
        if "test_accuracy" in out:
            assert _close(ours, 100 * out["test_accuracy"], 2), (run_id, ours, out["test_accuracy"])
        else:
            assert _close(ours, out["test_mse"], 4), (run_id, ours, out["test_mse"])


def _study_name(label: str) -> str:
    first = re.split(r"[ ,]", label, maxsplit=1)[0].lower()
    assert first in STUDIES, f"README study {label!r} names no study ({', '.join(STUDIES)})"
    return first


def _view_text(name: str, data) -> str:
    study = get_study(name)
    plan = plan_study(study, SHIPPED)
    view = build_view(study, plan, compute_extras(study, plan, SHIPPED, lambda: data))
    cells = [str(v) for t in view.tables for row in t.rows for v in row.values()]
    return " ".join(cells + view.reading)


def test_every_study_figure_in_the_readme_is_in_the_studys_view(data):
    rows = readme_table("Studies")
    assert rows, "the README has no table of study results"
    for row in rows:
        name = _study_name(row["study"])
        figures = NUMBER.findall(row["ours"])
        if name in retraining() and not figures:
            continue  # its figures come when its re-training is complete
        text = _view_text(name, data)
        assert figures, f"README row {row['study']!r} gives no figure of ours"
        missing = [f for f in figures if f not in text]
        assert not missing, f"study {name}: README says {missing}, not in its view"


def retraining() -> set[str]:
    """The studies the README says are still being re-trained on the fixed held-out split."""
    m = re.search(r"\*\*Being re-trained[^*]*\*\*(.*?)\.\s", README, re.S)  # to the sentence's end
    return set(re.findall(r"`([a-z0-9-]+)`", m.group(1))) if m else set()


def test_every_study_is_complete_or_says_it_is_being_retrained(data):
    """A fresh clone shows every study complete on the fixed held-out split, each planned run a shipped run
    with a final result; a study the README lists as being re-trained says so on its own page."""
    assert retraining() <= set(STUDIES)
    for name, study in STUDIES.items():
        plan = plan_study(study, SHIPPED)
        unfinished = [f"{r.template.key} s{r.seed} ({r.status})" for r in plan.runs if not r.finished]
        stale = [r.run_id for r in plan.stale]
        if name in retraining():
            assert unfinished or stale, f"study {name} is complete: take it off the README's re-training list"
            assert not stale or "Partly re-trained" in _view_text(name, data)
            continue
        assert not unfinished, f"study {name}: {', '.join(unfinished)} not shipped"
        assert not stale, f"study {name}: {', '.join(stale)} selected before the fixed held-out split"


def test_every_shipped_run_selects_on_the_one_held_out_split():
    """One data.split_id across every shipped run (a study still being re-trained keeps its stale runs)."""
    ids = {r.split_id for r in SHIPPED.list_runs() if r.split_id is not None}
    assert len(ids) == 1, f"shipped runs on {len(ids)} different splits: {ids}"


def test_the_shipped_runs_stay_under_30_mb():
    """saved_models/ travels with every clone: results-only study runs, weights only where a page needs them
    (scripts/ship_runs.py's WITH_WEIGHTS)."""
    # as `du` counts it, blocks and all: some 1,300 small files round up to about 5 MB more than their bytes
    total = sum(max(p.stat().st_size, 512 * p.stat().st_blocks) for p in (ROOT / "saved_models").rglob("*"))
    assert total < 30 * 2**20, f"saved_models/ takes {total / 2**20:.1f} MB; ship more runs results-only"


def test_no_shipped_file_is_over_3_mb():
    big = [p.name for p in (ROOT / "saved_models").rglob("*") if p.is_file() and p.stat().st_size > 3 * 2**20]
    assert not big, f"files over 3 MB in saved_models/: {big}; ship those runs results-only"


def test_the_shipped_search_is_what_the_readme_says():
    """The example search ships with its journal: 20 or more finished trials on all the training images, each
    a results-only run on the held-out split, and every figure of the README's paragraph on it is in what
    `search conv-ae-n-p-lr --status` prints."""
    rows = trial_rows(SHIPPED, SEARCH)
    s = summary(SHIPPED, SEARCH, rows)
    ended = [r for r in rows if r["state"] in ("complete", "pruned")]
    assert len(ended) >= 20 and s["definition"]["limit"] == 0 and s["running_pid"] is None
    for r in ended:
        info = SHIPPED.info(r["run_id"])
        assert info.damaged is None and info.split_id is not None and info.results_only, r["run_id"]
        assert is_shipped(r["run_id"])  # read-only in the app, not among the user's own runs
    paragraph = README.split("**The shipped search.**", 1)[1].split("\n\n", 1)[0]
    text = (
        summary_line(s)
        + " "
        + " ".join(str(v) for row in table_rows(rows, s["objective"]) for v in row.values())
    )
    figures = NUMBER.findall(paragraph)
    assert figures, "the README's paragraph on the shipped search gives no figure"
    missing = [f for f in figures if f not in text]
    assert not missing, f"the README says {missing} of the shipped search, not in its status"

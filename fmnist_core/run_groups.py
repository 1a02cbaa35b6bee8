"""Compare's groups of runs: the user's own, the reference runs, each study, each search.

With several hundred shipped runs one flat table hides the user's own; grouped, the user's runs come first
and every study or search is one collapsed line that says its best run and, a click away, each of its
configurations as mean ± 95% CI over seeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .compare import seed_group_label, seed_groups
from .registry import RunInfo
from .selection import HOLDOUT, selected_on
from .settings import LABELLED
from .stats import Estimate, estimate
from .studies.catalog import STUDIES

OWN, REFERENCE = "own", "ref"


@dataclass(frozen=True)
class Group:
    key: str  # "own", "ref", "study:a1", "search:NAME"
    title: str  # "Your runs", "Study a1 · Report A: …", "Search conv-ae-n-p-lr"
    runs: list[RunInfo]


def _study_of(run_id: str) -> str | None:
    """The study a run belongs to from its name, study-<study>-<key>-s<seed> (the longest study name that
    fits: label-norelu before label)."""
    if not run_id.startswith("study-"):
        return None
    rest = run_id.removeprefix("study-")
    fits = [name for name in STUDIES if rest.startswith(f"{name}-")]
    return max(fits, key=len) if fits else None


def group_key(run: RunInfo) -> str:
    search = run.config.get("search")
    if isinstance(search, dict) and search.get("name"):
        return f"search:{search['name']}"
    study = _study_of(run.run_id)
    if study is not None:
        return f"study:{study}"
    return REFERENCE if run.run_id.startswith("ref-") else OWN


def _title(key: str, n: int) -> str:
    count = f"{n} run{'s' if n != 1 else ''}"
    if key == OWN:
        return f"Your runs · {count}"
    if key == REFERENCE:
        return f"Reference runs (the reports' settings) · {count}"
    kind, name = key.split(":", 1)
    if kind == "study":
        study = STUDIES[name]
        return f"Study {name} · {study.title} · {count}"
    return f"Search {name} · {count}"


def groups(runs: Iterable[RunInfo]) -> list[Group]:
    """The runs by group: the user's own first, then the reference runs, the studies in catalogue order and
    the searches by name; empty groups left out."""
    by: dict[str, list[RunInfo]] = {}
    for r in runs:
        by.setdefault(group_key(r), []).append(r)
    order = [
        OWN,
        REFERENCE,
        *(f"study:{s}" for s in STUDIES),
        *sorted(k for k in by if k.startswith("search:")),
    ]
    return [Group(k, _title(k, len(by[k])), by[k]) for k in order if by.get(k)]


def _figure(run: RunInfo) -> tuple[str, bool] | None:
    """The summary key a run is ranked on, and whether higher is better: held-out accuracy for classifiers,
    held-out loss for autoencoders; None for a run that did not select on the fixed held-out split (a run
    that picked its epoch on the test set is never ranked against the others)."""
    if selected_on(run) != HOLDOUT or run.damaged:
        return None
    return ("best_val_acc", True) if run.kind in LABELLED else ("best_val_loss", False)


def best(runs: Sequence[RunInfo], kind: str) -> RunInfo | None:
    """The run of `kind` with the best held-out figure at its selected epoch."""
    ranked = [(r, _figure(r)) for r in runs if r.kind == kind]
    scored = [(r, f) for r, f in ranked if f is not None and isinstance(r.summary.get(f[0]), (int, float))]
    if not scored:
        return None
    key, higher = scored[0][1]
    return (max if higher else min)((r for r, _ in scored), key=lambda r: r.summary[key])


@dataclass(frozen=True)
class SeedSummary:
    label: str  # the configuration, as seed_group_label says it
    kind: str
    seeds: int
    held_out: Estimate | None  # at the selected epoch
    test: Estimate | None  # the selected weights on the test set


def seed_summaries(runs: Sequence[RunInfo]) -> list[SeedSummary]:
    """Each configuration of the group that has two or more seeds: held-out and test figures, mean ± CI."""
    out = []
    for g in seed_groups(runs):
        acc = g[0].kind in LABELLED
        held, test = ("best_val_acc", "test_acc") if acc else ("best_val_loss", "test_loss")
        out.append(
            SeedSummary(
                seed_group_label(g),
                g[0].kind,
                len(g),
                estimate([r.summary.get(held) for r in g]),
                estimate([r.summary.get(test) for r in g]),
            )
        )
    return out


def seed_rows(runs: Sequence[RunInfo]) -> list[dict[str, Any]]:
    """seed_summaries as table rows: configuration, seeds, held-out and test as mean ± CI."""
    from .run_table import fmt_estimate

    return [
        {
            "configuration": s.label,
            "seeds": s.seeds,
            "held-out, selected": fmt_estimate(s.held_out, s.kind),
            "test": fmt_estimate(s.test, s.kind),
        }
        for s in seed_summaries(runs)
    ]

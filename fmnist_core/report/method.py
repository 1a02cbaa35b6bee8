"""The report's method section as data: each distinct model's architecture, the training settings, the data
split and selection rule, the seeds, and the machines. Kept apart from the HTML so each fact is computed
once, from the study's plan and its runs' own records, and can be checked without a browser.

Every value here is plain text; html.py escapes it (run folders are user-editable)."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ..config import KIND_LABELS
from ..settings import Setting, settings_of
from ..studies.plan import PlannedRun, StudyPlan

Rows = list[dict[str, str]]
# Training settings the method leaves out: the seed has its own line, the device its own section, and the
# validation image count is an internal default.
TRAIN_SKIP = ("seed", "device", "val_images")


@dataclass
class Column:
    """One distinct architecture (or training setup): the study's configurations that use it and its
    settings, by the schema's label."""

    title: str
    used_by: list[str]
    values: dict[str, str]


@dataclass
class Comparison:
    """Columns side by side over the same settings (one table: what differs stands out)."""

    title: str
    settings: list[str]
    columns: list[Column]


# -- values as the schema shows them ---------------------------------------------------------------
def shown(s: Setting, value: Any) -> str:
    """A setting's value in the schema's words ('kernel 4, no padding (C's AE 4)'; '0 (off)' where its help
    says what 0 means), yes/no, or as is."""
    zero = re.search(r"\b0 = ([^;.,]+)", s.help)
    if zero and value == 0 and not isinstance(value, bool):
        return f"0 ({zero.group(1).strip()})"
    if s.choices and value in s.choices:
        return str(s.choices[value])
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _encoder_words(r: PlannedRun) -> str:
    """A classifier's encoder as the study names it (its run ids differ by seed)."""
    if r.depends_on is not None:
        return f"pretrained: the encoder of '{r.depends_on.template.label}'"
    return "random init"


def _model_settings(r: PlannedRun) -> dict[str, str]:
    """The run's model config in the schema's words, field name -> shown value."""
    model = r.spec.model
    out = {}
    for s in settings_of("model", model.kind):
        value = getattr(model, s.name, None)
        out[s.name] = _encoder_words(r) if s.name == "encoder_run" else shown(s, value)
        if s.name == "decoder" and getattr(model, "padding", None) == "same":  # the setting is not used then
            out[s.name] = "kernel 4, stride 2, padding 1 (mirrors the padded encoder)"
    return out


def _parameters(r: PlannedRun) -> str:
    """The network's number of weights (built at random init: nothing is loaded)."""
    try:
        from ..models import build_model

        return f"{sum(p.numel() for p in build_model(r.spec.model).parameters()):,}"
    except Exception:  # noqa: BLE001 — a count is a nicety; the table stands without it
        return "–"


def model_comparisons(plan: StudyPlan) -> list[Comparison]:
    """Each distinct architecture of the study (configs equal up to the encoder's run id, which differs by
    seed), one table per model kind, with the labels of the study's configurations that use it."""
    seen: dict[str, Column] = {}
    by_kind: dict[str, Comparison] = {}
    for r in plan.runs:
        kind = r.spec.model.kind
        settings = list(settings_of("model", kind))
        named = _model_settings(r)
        values = {s.label: named[s.name] for s in settings}
        key = json.dumps([kind, values], sort_keys=True)
        if key in seen:
            if r.template.label not in seen[key].used_by:
                seen[key].used_by.append(r.template.label)
            continue
        values["Parameters"] = _parameters(r)
        seen[key] = Column(f"Model {len(seen) + 1}", [r.template.label], values)
        title = KIND_LABELS.get(kind, kind)
        comp = by_kind.setdefault(kind, Comparison(title[0].upper() + title[1:] + "s", [], []))
        comp.settings = [s.label for s in settings] + ["Parameters"]
        comp.columns.append(seen[key])
    return list(by_kind.values())


# -- training ----------------------------------------------------------------------------------------
def _seed_words(seeds: list[int], seeded: bool) -> str:
    if not seeded:
        return f"one run (seed {seeds[0]}), shared by every seed"
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 1:
        return f"{len(seeds)} seeds ({seeds[0]}–{seeds[-1]})"
    return f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({', '.join(map(str, seeds))})"


def training_comparison(plan: StudyPlan) -> Comparison:
    """Each distinct training setup of the study (optimizer, rate, batch, epochs, early stopping, ... and
    the seeds), with the configurations that use it; a setting no model of the study uses is left out."""
    firsts = [rs[0] for t in plan.study.runs if (rs := plan.by(t.key))]
    kinds = {r.spec.model.kind for r in firsts}
    settings = [
        s for s in settings_of("train") if s.name not in TRAIN_SKIP and any(s.applies(k) for k in kinds)
    ]
    seen: dict[str, Column] = {}
    for r in firsts:
        values = {s.label: shown(s, getattr(r.spec.train, s.name)) if s.applies(r.spec.model.kind) else "not used"
                  for s in settings}  # fmt: skip
        values["Seeds"] = _seed_words([x.seed for x in plan.by(r.template.key)], r.template.seeded)
        key = json.dumps(values, sort_keys=True)
        if key in seen:
            seen[key].used_by.append(r.template.label)
        else:
            seen[key] = Column(f"Setup {len(seen) + 1}", [r.template.label], values)
    return Comparison("Training", [s.label for s in settings] + ["Seeds"], list(seen.values()))


# -- data and selection ---------------------------------------------------------------------------
def _count(counter: Counter) -> str:
    if not counter:
        return "–"
    if len(counter) == 1:
        return str(next(iter(counter)))
    return "; ".join(f"{k} ({n} run{'s' if n != 1 else ''})" for k, n in counter.most_common())


def _data_of(r: PlannedRun) -> dict:
    data = r.info.config.get("data") if r.info is not None else None
    return data if isinstance(data, dict) else {}


def _images(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) and not isinstance(n, bool) else "?"


def _selection_words(recorded: list[PlannedRun]) -> str:
    rule = (
        "each run keeps the weights of the epoch with the lowest held-out loss (early stopping where a "
        "patience is set); the held-out images are a fixed, stratified 10% of the training set (600 a "
        "class), the same for every run and seed"
    )
    other = sum(_data_of(r).get("split_id") in (None, "test") for r in recorded)
    if other:
        rule += (
            f". {other} of the {len(recorded)} runs selected their epoch on other images (the test set, the "
            "reports' method, or a split of their own from before the fixed one): the tables flag them"
        )
    return rule


def data_rows(plan: StudyPlan) -> Rows:
    """The split the runs selected their epoch on (from their config.json), its sizes, and the rule."""
    recorded = [r for r in plan.runs if r.info is not None]
    splits = Counter(
        str(_data_of(r).get("split_id") or "none: from before the fixed held-out split") for r in recorded
    )
    sizes = Counter(
        f"{_images(_data_of(r).get('n_train'))} training / {_images(_data_of(r).get('n_val'))} held-out images"
        for r in recorded
        if _data_of(r)
    )
    return [
        {"setting": "Held-out split (data.split_id)", "value": _count(splits)},
        {"setting": "Images", "value": _count(sizes)},
        {"setting": "Selection", "value": _selection_words(recorded)},
        {
            "setting": "Test set",
            "value": "the 10,000 test images, read once, for the selected weights: never used to choose "
            "an epoch or a setting",
        },
        {
            "setting": "Intervals",
            "value": "a cell is the mean over seeds ± the 95% confidence interval (Student's t); one seed "
            "has none. Two arms are compared by the paired difference of their seeds",
        },
    ]


# -- the machines ---------------------------------------------------------------------------------
def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def code_commit() -> str:
    """The code's short commit (`git rev-parse --short HEAD` beside this package), else 'unknown'."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_rows(plan: StudyPlan) -> Rows:
    """Where the runs trained (as each recorded it) and where this report was built."""
    recorded = [r.info for r in plan.runs if r.info is not None]
    return [
        {"setting": "Runs trained on", "value": _count(Counter(str(i.config.get("device", "?")) for i in recorded))},
        {"setting": "Runs' torch", "value": _count(Counter(str(i.config.get("torch", "?")) for i in recorded))},
        {"setting": "Report built on", "value": f"{cpu_model()}, {os.cpu_count() or '?'} cores"},
        {"setting": "System", "value": f"{platform.system()} {platform.release()}, Python {platform.python_version()}"},
        {"setting": "torch", "value": _version("torch")},
        {"setting": "Code commit", "value": code_commit()},
    ]  # fmt: skip

"""Tables and groupings over runs: one row per run, seed groups, pretrained/random-init twins."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable, Sequence

from .config import KIND_LABELS, ClassifierConfig, RunSpec, config_key
from .errors import RunError
from .registry import RunInfo, is_shipped
from .selection import figure_label, selected_on

# Keys that do not make two runs different experiments.
_NOT_CONFIG = {("train", "seed"), ("train", "device")}
_TWIN_IGNORE = _NOT_CONFIG | {("model", "encoder_run")}  # and what twins differ in


def _key(info: RunInfo, ignore: Iterable[tuple[str, str]] = _NOT_CONFIG) -> str:
    """The run's experiment as a string, from its settings (defaults filled in: see RunInfo.settings)."""
    d = info.settings
    return config_key(d.get("model", {}), d.get("train", {}), ignore)


def seed_groups(runs: Iterable[RunInfo]) -> list[list[RunInfo]]:
    """Runs that differ only in seed, groups of two or more, largest first."""
    groups: dict[str, list[RunInfo]] = {}
    for r in runs:
        if not r.damaged and r.history:
            groups.setdefault(_key(r), []).append(r)
    return sorted((g for g in groups.values() if len(g) > 1), key=len, reverse=True)


def encoder_twins(run: RunInfo, runs: Iterable[RunInfo]) -> list[RunInfo]:
    """Classifier runs identical to `run` except for the encoder's start: random init for a pretrained
    run, pretrained for a random-init one (the pretrained-vs-random comparison)."""
    if run.kind != "classifier":
        return []
    ignore = _TWIN_IGNORE
    key = _key(run, ignore)
    pretrained = run.encoder_run is not None
    return [
        r
        for r in runs
        if r.kind == "classifier"
        and (r.encoder_run is None) == pretrained
        and not r.damaged
        and r.run_id != run.run_id
        and _key(r, ignore) == key
    ]


def random_init_twins(run: RunInfo, runs: Iterable[RunInfo]) -> list[RunInfo]:
    """Classifier runs identical to a pretrained `run` except that their encoder starts from random weights."""
    return encoder_twins(run, runs) if run.encoder_run is not None else []


def random_init_twin(run: RunInfo, runs: Iterable[RunInfo]) -> RunInfo | None:
    """The random-init twin of a pretrained classifier run, one with the same seed if there is one."""
    twins = random_init_twins(run, runs)
    same_seed = [t for t in twins if t.config["train"].get("seed") == run.config["train"].get("seed")]
    found = same_seed or twins
    return found[0] if found else None


def random_init_twin_spec(run: RunInfo) -> RunSpec:
    """What to train to get a pretrained classifier run's random-init twin."""
    spec = run.spec()
    if not isinstance(spec.model, ClassifierConfig):
        raise RunError(f"run {run.run_id!r} is a {run.kind}, not a classifier: it has no random-init twin")
    return RunSpec(dataclasses.replace(spec.model, encoder_run="random"), spec.train)


def pretrained_classifiers(runs: Sequence[RunInfo]) -> list[RunInfo]:
    """Classifier runs on an encoder copied from an autoencoder run, with a history and not damaged; those
    with a random-init twin first."""
    found = [r for r in runs if r.kind == "classifier" and r.encoder_run and r.history and not r.damaged]
    ignore = _TWIN_IGNORE
    random_keys = {  # each key once: comparing every pair cost 0.2 s with a few hundred runs
        _key(r, ignore) for r in runs if r.kind == "classifier" and r.encoder_run is None and not r.damaged
    }
    return sorted(found, key=lambda r: _key(r, ignore) not in random_keys)


def advantage(run: RunInfo, twin: RunInfo) -> list[float]:
    """Each epoch's validation accuracy of a pretrained run minus its twin's, in percentage points, over
    the epochs both have."""
    n = min(len(run.history), len(twin.history))
    return [100 * (run.history[i]["val_acc"] - twin.history[i]["val_acc"]) for i in range(n)]


def lead(points: float) -> str:
    """An advantage in words: "ahead by 1.20 points", "behind by 0.35 points"."""
    return f"ahead by {points:.2f} points" if points >= 0 else f"behind by {-points:.2f} points"


def seed_group_label(group: Sequence[RunInfo]) -> str:
    """A seed group as the Seeds picker names it: the first run's name without its seed, kind, seed count."""
    first = group[0]
    return f"{first.name.rsplit('-s', 1)[0]} · {KIND_LABELS.get(first.kind, first.kind)} · {len(group)} seeds"


def metric_label(metric: str, on: str) -> str:
    """A history metric as a chart names it, its val_ figures named for the images they are on:
    metric_label("val_acc", "held-out") -> "held-out acc", "train_loss" -> "train loss"."""
    return metric.replace("val_", f"{on} ").replace("_", " ")


def default_pair(runs: list[RunInfo]) -> list[RunInfo]:
    """The runs a page plots before the user picks any (`runs` newest first): the user's own two newest,
    where there are any (what they just trained); else the first reference classifier on a pretrained
    encoder and its random-init twin (what a newcomer learns most from); else the first two."""
    own = [r for r in runs if not is_shipped(r.run_id)]
    if own:
        return own[:2]
    for r in runs:
        if r.run_id.startswith("ref-") and r.encoder_run is not None and (twin := random_init_twin(r, runs)):
            return [r, twin]
    return runs[:2]


def partner_run(run_id: str, runs: list[RunInfo]) -> str | None:
    """The classifier run to compare `run_id` with: its twin with the other encoder init if there is one,
    else another run of the same kind, else any other run of `runs`."""
    this = next((r for r in runs if r.run_id == run_id), None)
    others = [r for r in runs if r.run_id != run_id]
    if this is None or not others:
        return others[0].run_id if others else None
    same_kind = [r for r in others if r.kind == this.kind]
    return (encoder_twins(this, others) or same_kind or others)[0].run_id


def mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None, int]:
    """Mean, sample std (None below two values) and count of the finite values given (None: missing)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None, None, 0
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else None), len(vals)


def _mean_sd(values: list[float]) -> tuple[float, float] | None:
    """Mean and std over a seed group for the runs table; a diverged seed (non-finite) is left out of both,
    while the group's "seeds" column still counts it."""
    m, sd, _ = mean_std(values)
    return None if m is None else (m, sd or 0.0)


def overview_rows(runs: Iterable[RunInfo]) -> list[dict]:
    """Home's table: each run's name, kind, status, epochs, its one figure (saying what it is: "test acc
    90.36%", "held-out MSE 0.0187") and whether the lab ships it."""
    return [
        {
            "name": r.name,
            "kind": KIND_LABELS.get(r.kind, r.kind),
            "status": r.status,
            "epochs": r.summary.get("epochs_done"),
            "figure": figure_label(r, digits=2),
            "shipped": is_shipped(r.run_id),
            "problem": r.damaged or "",
        }
        for r in runs
    ]


def run_rows(runs: Iterable[RunInfo]) -> list[dict]:
    """One flat row per run with the same metric keys as history and summary; `selected_on` says what the
    val figures are on (see selection.selected_on), test_* are the selected epoch's weights on the test set."""
    runs = list(runs)
    group_of = {r.run_id: g for g in seed_groups(runs) for r in g}
    rows = []
    for r in runs:
        m, t, s = r.config.get("model", {}), r.config.get("train", {}), r.summary
        status = r.status + (" · results only" if r.results_only else "")
        row = {
            "run_id": r.run_id,
            "name": r.name,
            "kind": r.kind,
            "status": status,
            "latent_dim": m.get("latent_dim"),
            "dropout": m.get("dropout"),
            "encoder_run": m.get("encoder_run"),
            "freeze_encoder": m.get("freeze_encoder"),
            "optimizer": t.get("optimizer"),
            "lr": t.get("lr"),
            "batch_size": t.get("batch_size"),
            "seed": t.get("seed"),
            "train_fraction": t.get("train_fraction"),
            "precision": r.settings.get("train", {}).get("precision"),  # defaults filled in: see settings
            "n_train": r.config.get("data", {}).get("n_train"),
            "epochs_done": s.get("epochs_done"),
            "best_epoch": s.get("best_epoch"),
            "selected_on": selected_on(r),
            "best_val_loss": s.get("best_val_loss"),
            "final_val_loss": s.get("final_val_loss"),
            "best_val_acc": s.get("best_val_acc"),
            "final_val_acc": s.get("final_val_acc"),
            "test_loss": s.get("test_loss"),
            "test_acc": s.get("test_acc"),
            "test_n": s.get("test_n"),
            "seconds_per_epoch": s.get("seconds_per_epoch"),
            "created": r.config.get("created"),
            "seeds_in_group": 1,
            "group_val_loss": None,
            "group_val_acc": None,
            "damaged": r.damaged,
        }
        group = group_of.get(r.run_id)
        if group:
            row["seeds_in_group"] = len(group)
            losses = [g.summary["final_val_loss"] for g in group if "final_val_loss" in g.summary]
            accs = [g.summary["final_val_acc"] for g in group if "final_val_acc" in g.summary]
            row["group_val_loss"] = _mean_sd(losses)
            row["group_val_acc"] = _mean_sd(accs)
        rows.append(row)
    return rows

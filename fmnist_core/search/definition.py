"""What a search is (its model kind, space, epochs, limit, pruner and seed) and what it may spend (trials,
minutes).

The definition is stored in the study's user attrs when the search starts; running `search NAME` again must
describe the same search, or it would mix trials of two experiments in one study. What it spends is not
part of it: a search can be given more trials or more minutes each time it is run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

import optuna

from ..config import AUTOENCODER_KINDS, CLI_KINDS, MODEL_CONFIGS
from ..errors import ConfigError
from ..settings import setting
from .space import Param, parse_param

PRUNERS = {
    "median": "stop a trial whose held-out score is worse than the median of finished trials at that epoch",
    "asha": "asynchronous successive halving: keep the best third at epochs 1, 3, 9, ...",
    "none": "train every trial for all its epochs",
}


@dataclass(frozen=True)
class Objective:
    """What a trial is scored on: a key of the run's history and summary, and which way is better."""

    metric: str  # "val_loss" | "val_acc" (per epoch in history; best_<metric> in the summary)
    direction: Literal["minimize", "maximize"]

    @property
    def words(self) -> str:
        return "held-out loss (lower is better)" if self.metric == "val_loss" else "held-out accuracy"


def objective_of(kind: str) -> Objective:
    """Autoencoders: the held-out reconstruction loss (MSE); classifiers: the held-out accuracy."""
    return (
        Objective("val_loss", "minimize") if kind in AUTOENCODER_KINDS else Objective("val_acc", "maximize")
    )


@dataclass(frozen=True)
class SearchDef:
    """One search: every trial is a `kind` run of `epochs` on `limit` images, with the values it draws from
    `space`; the pruner stops the poor ones early; the sampler (TPE) is seeded by `seed`."""

    kind: str
    space: tuple[Param, ...]
    epochs: int = 10
    limit: int = 0  # 0: all the training images
    pruner: str = "median"
    seed: int = 0
    pruner_startup: int = 3  # finished trials before the median pruner prunes

    def __post_init__(self):
        if self.kind not in MODEL_CONFIGS:
            raise ConfigError(f"unknown model kind {self.kind!r}")
        if self.pruner not in PRUNERS:
            raise ConfigError(f"--pruner must be one of {', '.join(PRUNERS)} (got {self.pruner!r})")
        setting("train", "epochs").check(self.epochs)
        setting("train", "limit").check(self.limit)
        setting("train", "seed").check(self.seed)
        if not 0 <= self.pruner_startup <= 1000:
            raise ConfigError(f"the pruner's startup trials must be 0-1000 (got {self.pruner_startup})")

    @property
    def objective(self) -> Objective:
        return objective_of(self.kind)

    def make_pruner(self) -> optuna.pruners.BasePruner:
        """The pruner, the same in the coordinator and in every worker (where should_prune() asks it)."""
        if self.pruner == "median":
            # from epoch 1: trials are a few epochs long, and a learning rate that cannot learn shows at once
            return optuna.pruners.MedianPruner(n_startup_trials=self.pruner_startup, n_warmup_steps=0)
        if self.pruner == "asha":
            return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
        return optuna.pruners.NopPruner()

    def make_sampler(self, trials_so_far: int) -> optuna.samplers.BaseSampler:
        """TPE seeded by the search's seed, moved on by the trials it has already asked for: a resumed search
        must not draw its first trials' values again. The two are hashed together (a SeedSequence), not
        added: seed + 4 would be the seed of another search. constant_liar: trials asked while others run
        (one per worker) are steered away from the values those are trying."""
        import numpy as np

        seed = self.seed
        if trials_so_far:
            seed = int(np.random.SeedSequence([self.seed, trials_so_far]).generate_state(1)[0])
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)

    def to_attrs(self) -> dict[str, Any]:
        """As stored in the study's user attrs (JSON): the space in its canonical command-line words."""
        return {
            "kind": self.kind,
            "space": [p.text() for p in self.space],
            **{k: getattr(self, k) for k in ("epochs", "limit", "pruner", "seed", "pruner_startup")},
        }

    @classmethod
    def from_attrs(cls, d: dict[str, Any]) -> SearchDef:
        kind = d["kind"]
        space = tuple(parse_param(t, kind) for t in d["space"])
        return cls(kind, space, **{k: d[k] for k in ("epochs", "limit", "pruner", "seed", "pruner_startup")})


def differences(stored: SearchDef, given: dict[str, Any]) -> list[str]:
    """What the options given (None: left out) say that differs from the stored search, in the command
    line's words: ["--epochs 3 (it has 2)", "--param lr=... (it has lr=...)", ...]."""
    words = {v: k for k, v in CLI_KINDS.items()}
    out = []
    for f in fields(SearchDef):
        value, mine = given.get(f.name), getattr(stored, f.name)
        if value is None or f.name == "space" or value == mine:
            continue
        if f.name == "kind":
            out.append(f"--model {words[value]} (it has {words[mine]})")
        else:
            out.append(f"--{f.name.replace('_', '-')} {value} (it has {mine})")
    if given.get("space") is not None:
        mine = {p.name: p.text() for p in stored.space}
        theirs = {p.name: p.text() for p in given["space"]}
        for name in sorted(set(mine) | set(theirs)):
            if mine.get(name) != theirs.get(name):
                now = f"--param {theirs[name]}" if name in theirs else f"no --param {name}"
                out.append(f"{now} (it has {mine.get(name, f'no {name}')})")
    return out


def resolve(name: str, stored: SearchDef | None, given: dict[str, Any]) -> SearchDef:
    """The search to run: a new one from the options given (defaults for those left out), or the stored
    one, which options left out take and options given must agree with (ConfigError naming each change)."""
    if stored is None:
        if given.get("kind") is None:
            raise ConfigError(f"search {name!r} is new: give --model KIND and the --param settings to search")
        if given.get("space") is None:
            raise ConfigError(f"search {name!r} is new: give at least one --param to search over")
        return SearchDef(**{k: v for k, v in given.items() if v is not None})
    changed = differences(stored, given)
    if changed:
        raise ConfigError(
            f"search {name!r} exists with other settings: {'; '.join(changed)}; run it with its own "
            "settings (or leave them out), or give the new search another name"
        )
    return stored


@dataclass(frozen=True)
class Budget:
    """What one `search` command may spend: trials in all (finished trials of earlier runs count), and/or
    minutes of this command (no trial starts after them; the running ones finish)."""

    trials: int | None = None
    minutes: float | None = None

    def __post_init__(self):
        if self.trials is None and self.minutes is None:
            raise ConfigError("give a budget: --trials N, --minutes M, or both")
        if self.trials is not None and not 1 <= self.trials <= 100_000:
            raise ConfigError(f"--trials must be between 1 and 100000 (got {self.trials})")
        if self.minutes is not None and not 0 < self.minutes <= 60 * 24 * 30:
            raise ConfigError(f"--minutes must be above 0 and at most 43200 (got {self.minutes:g})")

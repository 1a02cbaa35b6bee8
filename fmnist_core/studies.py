"""Studies as data: each report's experiment as a set of runs, how they depend on each other,
the figures and tables that compare them, and the numbers the report gave.

A study run is *present* when the registry holds a run whose model and train configs equal the
study's (ignoring the device and the run's name), so the shipped ref-* runs are reused as they
are. Missing runs get deterministic names (study-a1-n128-s0) so a classifier queued after its
autoencoder can name it as its encoder before it exists. Runs go through the same job queue
as the app (jobs.get_queue), one at a time.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .config import (ClassifierConfig, CNNConfig, ConfigError, ConvAEConfig, DenseAEConfig, MLPConfig,
                     ModelConfig, RunSpec, TrainConfig)
from .data import FashionMNIST
from .registry import RUN_ID_RE, Registry, RunInfo

DONE = ("completed", "early_stopped", "diverged")     # a run with a final result
DENOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)             # report B's noise intensity constants we sweep
DENOISE_IMAGES = 2000                                  # test images per denoising point


# -- definitions --------------------------------------------------------------------------
@dataclass(frozen=True)
class StudyRun:
    """One configuration of a study; repeated over the study's seeds when `seeded`."""
    key: str                          # unique in the study, part of the run name: "n128"
    label: str                        # how tables and legends call it
    model: ModelConfig
    train: TrainConfig
    encoder: str | None = None        # key of the study run whose encoder this classifier copies
    seeded: bool = True               # False: one run shared by every seed (an encoder)
    role: str = "main"                # "main": compared; "encoder": trained to feed the classifiers
    params: dict = field(default_factory=dict)   # the swept values, e.g. {"n": 128}
    report: dict = field(default_factory=dict)   # the report's numbers for it, same keys as ours


@dataclass(frozen=True)
class Study:
    """A question, the runs that answer it, and what the report found."""
    name: str                         # CLI name: "a1"
    title: str
    report: str                       # "A" ... "E", or "beyond"
    question: str
    runs: tuple[StudyRun, ...]
    view: str                         # which comparison: a key of VIEWS
    seeds: int = 1                    # default seeds per seeded run
    about: str = ""                   # what the report did and found
    numbers: dict = field(default_factory=dict)  # study-level report numbers

    def template(self, key: str) -> StudyRun:
        return next(r for r in self.runs if r.key == key)


def _ae(n: int = 64, p: float = 0.2, **kw) -> ConvAEConfig:
    return ConvAEConfig(latent_dim=n, dropout=p, **kw)


def _clf(n: int = 64, p: float = 0.2, **kw) -> ClassifierConfig:
    return ClassifierConfig(latent_dim=n, dropout=p, **kw)


A_AE = TrainConfig(epochs=20)           # report A: Adam 1e-3, batch 100, 20 epochs (= ref-a-ae-base)
A_CLF = TrainConfig(epochs=20)          # report A chose 30; 20 = the shipped ref-a-clf-base / ref-a-clf-random
A4_CLF = TrainConfig(epochs=30)         # report A's statistics are at epoch 30 (and 50)
BASE_AE = StudyRun("ae-base", "autoencoder n=64, p=0.2", _ae(64, 0.2), A_AE, seeded=False, role="encoder",
                   params={"n": 64, "p": 0.2})

A1_MSE = {64: 0.037, 128: 0.031, 256: 0.031, 512: 0.029}
A2_MSE = {0.2: 0.037, 0.05: 0.025, 0.01: 0.023, 0.0001: 0.023}
LABEL_FRACTIONS = (0.01, 0.05, 0.1, 0.5, 1.0)
LABEL_EPOCHS = {0.01: 100, 0.05: 50, 0.1: 40, 0.5: 20, 1.0: 20}   # fewer labels: more (cheaper) epochs
C_AE = dict(epochs=15, patience=5)       # = ref-c-ae4's flags; report C gives no epoch count for the AEs
C_CLF = dict(epochs=40, patience=5)
E_AE = TrainConfig(epochs=30)
E_STEPS = (("baseline", "baseline (p=0.2)", _ae(64, 0.2), (0.0858, 0.0726)),
           ("p0", "dropout 0", _ae(64, 0.0), (0.0300, 0.0312)),
           ("bn", "+ batch norm", _ae(64, 0.0, batch_norm=True), (0.0270, 0.0283)),
           ("avg", "+ average 2nd pool", _ae(64, 0.0, batch_norm=True, second_pool="avg"), (0.0229, 0.0231)),
           ("wide", "+ 64/96 filters", _ae(64, 0.0, channels=(64, 96), batch_norm=True, second_pool="avg"),
            (0.0159, 0.0175)))
E_ENC = dict(latent_dim=64, dropout=0.0, channels=(64, 96), batch_norm=True, second_pool="avg", final_relu=False)


def _define() -> dict[str, Study]:
    s: list[Study] = []
    s.append(Study(
        "a1", "Latent size n", "A", "How does the code size n change the reconstruction error (p = 0.2)?",
        tuple(StudyRun(f"n{n}", f"n = {n}", _ae(n, 0.2), A_AE, params={"n": n},
                       report={"final_val_loss": mse}) for n, mse in A1_MSE.items()),
        view="ae_sweep", numbers={"x": "n"},
        about="Report A swept n one at a time around the baseline (n=64, p=0.2, 20 epochs) and reported the "
              "final validation MSE: 0.037, 0.031, 0.031, 0.029."))
    s.append(Study(
        "a2", "Dropout p", "A", "How does the dropout probability p change the reconstruction error (n = 64)?",
        tuple(StudyRun(f"p{p:g}", f"p = {p:g}", _ae(64, p), A_AE, params={"p": p},
                       report={"final_val_loss": mse}) for p, mse in A2_MSE.items()),
        view="ae_sweep", numbers={"x": "p"},
        about="Report A: lowering p from 0.2 to 0.05, 0.01 and 0.0001 gave 0.037, 0.025, 0.023, 0.023. "
              "Dropout acts on every layer, the 64-number code included."))
    s.append(Study(
        "a3", "Three classifiers", "A", "Which pretrained encoder makes the best classifier: the baseline one, "
        "the improved one (n=128, p=0.01), or the improved one with p raised to 0.2?",
        (BASE_AE,
         StudyRun("ae-improved", "autoencoder n=128, p=0.01", _ae(128, 0.01), A_AE, seeded=False, role="encoder",
                  params={"n": 128, "p": 0.01}, report={"final_val_loss": 0.021}),
         StudyRun("clf-base", "base (n=64, p=0.2)", _clf(64, 0.2), A_CLF, encoder="ae-base",
                  report={"says": "the one to characterise: (91.1 ± 0.3)% at epoch 30 over 15 seeds"}),
         StudyRun("clf-improved", "improved encoder, p=0.01", _clf(128, 0.01), A_CLF, encoder="ae-improved",
                  report={"says": "barely improved from its starting point"}),
         StudyRun("clf-improved-p0.2", "improved encoder, p raised to 0.2", _clf(128, 0.2), A_CLF,
                  encoder="ae-improved",
                  report={"says": "recovered quickly (jumps around epoch 5) but over-fitted more than the base"})),
        view="a3", numbers={"base_acc": 0.911},
        about="Report A trained three classifiers (encoder copied, then Linear(n→10), ReLU, softmax) for 30 "
              "epochs and kept the base model. We train 20 (as the shipped reference runs); --epochs 30 for the "
              "report's length."))
    s.append(Study(
        "a4", "Seed statistics", "A", "How much does the base classifier's accuracy vary between seeds "
        "(one pretrained encoder, different heads and batch orders)?",
        (BASE_AE, StudyRun("clf-base", "base classifier", _clf(64, 0.2), A4_CLF, encoder="ae-base")),
        view="a4", seeds=15, numbers={30: (0.911, 0.003), 50: (0.914, 0.002)},
        about="Report A: 15 classifiers from the same pretrained encoder; (91.1 ± 0.3)% at epoch 30 and "
              "(91.4 ± 0.2)% at epoch 50, so 30 epochs were chosen. Set Epochs to 50 for the second figure."))
    s.append(Study(
        "a5", "Pre-trained vs random init", "A", "Does pre-training the encoder as an autoencoder help the "
        "classifier?",
        (BASE_AE,
         StudyRun("clf-pretrained", "pretrained encoder", _clf(64, 0.2), A_CLF, encoder="ae-base"),
         StudyRun("clf-random", "random init", _clf(64, 0.2, encoder_run="random"), A_CLF)),
        view="a5",
        about="Report A: the randomly initialised classifier starts lower but catches up quickly and ends at "
              "the same accuracy: for this small network (and 60,000 labels) pre-training does not matter. "
              "20 epochs here (as the shipped reference runs), 30 in the report."))
    b_runs = []
    for opt, lrs in (("adam", (0.1, 0.01, 0.001)), ("sgd", (0.1, 0.01, 0.001))):
        for lr in lrs:
            for n in (64, 128, 256, 512):
                b_runs.append(StudyRun(f"{opt}-lr{lr:g}-n{n}", f"{'Adam' if opt == 'adam' else 'SGD'} lr {lr:g}, n={n}",
                                       DenseAEConfig(latent_dim=n, dropout=0.1),
                                       TrainConfig(optimizer=opt, lr=lr, batch_size=1000, epochs=30),
                                       params={"optimizer": opt, "lr": lr, "n": n}))
    s.append(Study(
        "b", "Dense autoencoder: Adam vs SGD, denoising", "B", "Which optimizer, learning rate and code size "
        "suit a one-hidden-layer autoencoder, and which restores noisy images better?",
        tuple(b_runs), view="b",
        numbers={"best": {"sgd": {"lr": 0.1, "n": 512}, "adam": {"lr": 0.001, "n": 512}}},
        about="Report B: 784→n→784, ReLU, dropout 0.1, batch 1000, a grid over lr and n for each optimizer: "
              "best SGD lr 0.1, best Adam lr 0.001, best n 512 for both; Adam restored noisy images better. "
              "The report trained 100 epochs (loss roughly flat after 30); we train 30 (= ref-b-dense-adam)."))
    s.append(Study(
        "c", "Early stopping: four autoencoders, four classifiers", "C", "With early stopping, which autoencoder "
        "reconstructs best, and how do classifiers built on them compare (frozen encoder included)?",
        (StudyRun("ae1", "AE 1 (n=64, p=0.2, Adam)", _ae(64, 0.2), TrainConfig(batch_size=100, **C_AE),
                  seeded=False, params={"n": 64}),
         StudyRun("ae2", "AE 2 (n=256, p=0.3, Adam)", _ae(256, 0.3), TrainConfig(batch_size=1000, **C_AE),
                  seeded=False, params={"n": 256}),
         StudyRun("ae3", "AE 3 (n=64, p=0.3, SGD 0.01)", _ae(64, 0.3),
                  TrainConfig(optimizer="sgd", lr=1e-2, batch_size=1000, **C_AE), seeded=False, params={"n": 64}),
         StudyRun("ae4", "AE 4 (n=128, p=0.3, kernel decoder)", _ae(128, 0.3, decoder="kernel"),
                  TrainConfig(batch_size=1000, **C_AE), seeded=False, params={"n": 128}),
         StudyRun("c5", "C5 (AE 1)", _clf(64, 0.2), TrainConfig(batch_size=100, **C_CLF), encoder="ae1",
                  report=dict(best_epoch=15, train_loss=0.236, val_loss=0.283, train_acc=0.918, val_acc=0.900)),
         StudyRun("c6", "C6 (AE 2)", _clf(256, 0.3), TrainConfig(batch_size=1000, **C_CLF), encoder="ae2",
                  report=dict(best_epoch=40, train_loss=0.242, val_loss=0.290, train_acc=0.931, val_acc=0.904)),
         StudyRun("c7", "C7 (AE 4)", _clf(128, 0.3), TrainConfig(batch_size=100, **C_CLF), encoder="ae4",
                  report=dict(best_epoch=19, train_loss=0.237, val_loss=0.285, train_acc=0.925, val_acc=0.902)),
         StudyRun("c8", "C8 (AE 4, frozen, no final ReLU)", _clf(128, 0.3, freeze_encoder=True, final_relu=False),
                  TrainConfig(batch_size=1000, **C_CLF), encoder="ae4",
                  report=dict(best_epoch=40, train_loss=0.641, val_loss=0.657, train_acc=0.806, val_acc=0.793))),
        view="c", numbers={"ae_best": "ae4", "ae_worst": "ae3"},
        about="Report C: early stopping (patience 5, best weights restored) for four autoencoders and four "
              "classifiers (up to 40 epochs). AE 4 best, AE 3 (SGD) worst; freezing the encoder (C8) under-fits."))
    s.append(Study(
        "d", "Deep CNN vs MLP", "D", "How much does a two-block CNN with BatchNorm gain over a one-hidden-layer "
        "MLP, class by class?",
        (StudyRun("cnn", "deep CNN", CNNConfig(dropout=0.4), TrainConfig(epochs=10, validation="holdout"),
                  report=dict(accuracy=0.8978, macro_precision=0.9036, macro_f1=0.8993)),
         StudyRun("mlp", "MLP (256 hidden)", MLPConfig(hidden=256, dropout=0.2),
                  TrainConfig(epochs=10, validation="holdout"),
                  report=dict(accuracy=0.8799, macro_precision=0.8828, macro_f1=0.8781))),
        view="d", numbers={"overfit_epoch": 4},
        about="Report D: 10 epochs with a held-out validation split, then scikit-learn's classification "
              "report on the test set. The CNN over-fits after about epoch 4."))
    e_runs = [StudyRun(k, label, m, E_AE, seeded=False, params={"n": 64}, report={"final_train_loss": tr,
                                                                                 "final_val_loss": va})
              for k, label, m, (tr, va) in E_STEPS]
    e_runs += [
        StudyRun("clf", "encoder + FC 10 (Adam)", ClassifierConfig(**E_ENC), TrainConfig(epochs=30), encoder="wide",
                 report=dict(final_train_acc=0.9812, final_val_acc=0.9127,
                             final_train_loss=0.0531, final_val_loss=0.3312)),
        StudyRun("clf-fc", "+ hidden FC layer (Adam)", ClassifierConfig(**E_ENC, head_hidden=128), TrainConfig(epochs=30),
                 encoder="wide",
                 report=dict(final_train_acc=0.9806, final_val_acc=0.9083,
                             final_train_loss=0.0520, final_val_loss=0.4182)),
        StudyRun("clf-fc-sgd", "+ hidden FC layer (SGD)", ClassifierConfig(**E_ENC, head_hidden=128),
                 TrainConfig(optimizer="sgd", lr=1e-3, epochs=30), encoder="wide",
                 report=dict(final_train_acc=0.9465, final_val_acc=0.9148,
                             final_train_loss=0.1529, final_val_loss=0.2463))]
    s.append(Study(
        "e", "Step-by-step tuning", "E", "Which changes lower a convolutional autoencoder's error, and how do "
        "classifiers on the tuned encoder compare (Adam vs SGD)?",
        tuple(e_runs), view="e",
        about="Report E: cumulative changes over 30 epochs (batch 100, lr 1e-3), then three classifiers on the "
              "tuned encoder. Its baseline had no linear code layer; ours keeps n=64 throughout. The hidden FC "
              "layer has 128 units (the report does not say); SGD uses lr 1e-3 as stated, no momentum."))
    # validated on a held-out 10% of the training set (the encoder too): the test set is read once, for the figure
    label_runs = [StudyRun("ae-holdout", "autoencoder n=64, p=0.2 (held-out validation)", _ae(64, 0.2),
                           A_AE.replace(validation="holdout"), seeded=False, role="encoder", params={"n": 64})]
    for f in LABEL_FRACTIONS:
        t = TrainConfig(epochs=LABEL_EPOCHS[f], train_fraction=f, validation="holdout")
        label_runs.append(StudyRun(f"pre-f{f:g}", f"pretrained, {f:.0%} labels", _clf(64, 0.2), t,
                                   encoder="ae-holdout", params={"fraction": f, "init": "pretrained"}))
        label_runs.append(StudyRun(f"rnd-f{f:g}", f"random init, {f:.0%} labels", _clf(64, 0.2, encoder_run="random"),
                                   t, params={"fraction": f, "init": "random"}))
    s.append(Study(
        "label", "Label efficiency (beyond the reports)", "beyond", "With only a few labelled images, does the "
        "pretrained encoder help? Accuracy against the fraction of training labels used.",
        tuple(label_runs), view="label", seeds=3,
        about="Report A found that pre-training does not help with all 60,000 labels. Here the autoencoder "
              "sees the 54,000 training images (unlabelled) but the classifier only a seeded fraction of their "
              "labels (1% = 540 images), with more epochs for the smaller fractions. Every run validates on the "
              "same held-out 6,000 training images and keeps its lowest-validation-loss epoch; the test set is "
              "read once, for the accuracy shown."))
    return {study.name: study for study in s}


STUDIES: dict[str, Study] = _define()


def check_study(study: Study, max_seeds: int = 100) -> None:
    """Raise ConfigError if a study's definition is inconsistent: keys, names, dependencies, configs."""
    seen: dict[str, StudyRun] = {}
    for t in study.runs:
        if t.key in seen:
            raise ConfigError(f"study {study.name}: run key {t.key!r} is used twice")
        RunSpec.from_dict(RunSpec(t.model, t.train).to_dict())      # every config valid and round-trips
        longest = _run_name(study, t, max_seeds - 1, 1000, 60000) + "-999"
        if not RUN_ID_RE.fullmatch(longest):
            raise ConfigError(f"study {study.name}: run name {longest!r} is not a valid run id")
        if t.encoder is not None:
            enc = seen.get(t.encoder)
            if enc is None:
                raise ConfigError(f"study {study.name}: {t.key} takes its encoder from {t.encoder!r}, "
                                  "which is not an earlier run of the study")
            if t.model.kind != "classifier" or enc.model.kind != "conv_ae":
                raise ConfigError(f"study {study.name}: {t.key} must be a classifier on a conv autoencoder")
            for k in ("latent_dim", "channels", "batch_norm", "second_pool"):
                if getattr(enc.model, k) != getattr(t.model, k):
                    raise ConfigError(f"study {study.name}: {t.key}'s {k} differs from its encoder {enc.key}'s")
        elif t.model.kind == "classifier" and t.model.encoder_run != "random":
            raise ConfigError(f"study {study.name}: {t.key} names encoder run {t.model.encoder_run!r} directly; "
                              "use `encoder=` with a study run so the plan can resolve it")
        seen[t.key] = t
    if study.view not in VIEWS:
        raise ConfigError(f"study {study.name}: unknown view {study.view!r}")


def get_study(name: str) -> Study:
    """A study by its name (case-insensitive); ConfigError naming the choices otherwise."""
    study = STUDIES.get(name.lower().strip())
    if study is None:
        raise ConfigError(f"unknown study {name!r}; choose one of {', '.join(STUDIES)} "
                          "(`python -m fmnist_core study` lists them)")
    return study


# -- planning -----------------------------------------------------------------------------
def config_key(model: dict, train: dict) -> str:
    """What makes two runs the same run: model and train configs, ignoring the device."""
    return json.dumps({"model": model, "train": {k: v for k, v in train.items() if k != "device"}}, sort_keys=True)


def spec_key(spec: RunSpec) -> str:
    d = spec.to_dict()
    return config_key(d["model"], d["train"])


def run_key(info: RunInfo) -> str | None:
    """The config key of a registry run (defaults filled in), or None if its config is unreadable."""
    try:
        return spec_key(info.spec())
    except (ConfigError, KeyError, TypeError, ValueError):
        return None


@dataclass
class PlannedRun:
    """One run of a study as planned: its spec and whether a matching run exists."""
    template: StudyRun
    seed: int
    spec: RunSpec                     # the resolved spec; spec.name is the id a new run gets
    status: str                       # done | running | queued | missing | blocked
    run_id: str | None                # the existing run's id, or the id a new run will get
    info: RunInfo | None = None
    note: str = ""
    in_queue: bool = False            # queued or running in this process's job queue
    several_seeds: bool = False       # the plan has more than one seed: labels name the seed
    depends_on: "PlannedRun | None" = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return f"{self.template.key}-s{self.seed}"

    @property
    def label(self) -> str:
        return self.template.label + (f" · seed {self.seed}" if self.template.seeded and self.several_seeds else "")

    @property
    def history(self) -> list[dict]:
        return self.info.history if self.info is not None else []

    @property
    def finished(self) -> bool:
        return self.status == "done"

    @property
    def epochs_done(self) -> int:
        return len(self.history)


@dataclass
class StudyPlan:
    study: Study
    runs: list[PlannedRun]
    seeds: int
    epochs: int | None = None
    limit: int = 0

    def by(self, key: str) -> list[PlannedRun]:
        """The planned runs of one study run, over seeds."""
        return [r for r in self.runs if r.template.key == key]

    def count(self, *statuses: str) -> int:
        return sum(r.status in statuses for r in self.runs)

    @property
    def missing(self) -> list[PlannedRun]:
        return [r for r in self.runs if r.status == "missing"]

    @property
    def blocked(self) -> list[PlannedRun]:
        return [r for r in self.runs if r.status == "blocked"]

    @property
    def active(self) -> bool:
        return any(r.status in ("queued", "running") for r in self.runs)

    @property
    def overridden(self) -> bool:
        return bool(self.limit) or self.epochs is not None


def _run_name(study: Study, t: StudyRun, seed: int, epochs: int | None, limit: int) -> str:
    name = f"study-{study.name}-{t.key}-s{seed}"
    if epochs is not None and epochs != t.train.epochs:
        name += f"-e{epochs}"
    if limit:
        name += f"-l{limit}"
    return name


def _pick(candidates: list[RunInfo], name: str) -> RunInfo:
    """Of several matching runs: finished before running, then the shipped ones, then our own name."""
    return sorted(candidates, key=lambda r: (r.status not in DONE, not r.run_id.startswith("ref-"),
                                             r.run_id != name, r.run_id))[0]


def plan_study(study: Study, registry: Registry, seeds: int | None = None, epochs: int | None = None,
               limit: int = 0, queue=None) -> StudyPlan:
    """Which runs of `study` exist (reused by config), which are queued or running, which are missing.

    seeds/epochs/limit override the study's defaults (overridden configs are different runs).
    queue: the process's JobQueue, to see jobs queued or running in it.
    """
    seeds = study.seeds if seeds is None else int(seeds)
    if not 1 <= seeds <= 100:
        raise ConfigError(f"seeds must be between 1 and 100 (got {seeds})")
    if epochs is not None:
        TrainConfig(epochs=epochs)
    TrainConfig(limit=limit)
    index: dict[str, list[RunInfo]] = {}
    taken: set[str] = set()
    if registry.root.is_dir():
        taken = {p.name for p in registry.root.iterdir()}
    for info in registry.list_runs():
        if info.damaged:
            continue
        key = run_key(info)
        if key is not None:
            index.setdefault(key, []).append(info)
    jobs = [j for j in (queue.jobs() if queue is not None else []) if not j.done]
    job_by_key = {spec_key(j.spec): j for j in jobs}
    taken |= {j.spec.name for j in jobs if j.spec.name}
    ours_running = {j.run_id for j in jobs if j.run_id}

    planned: dict[str, dict[int, PlannedRun]] = {}
    out: list[PlannedRun] = []
    for t in study.runs:
        for seed in (range(seeds) if t.seeded else [t.train.seed]):
            train = t.train.replace(seed=seed)
            if epochs is not None:
                train = train.replace(epochs=epochs)
            if limit:
                train = train.replace(limit=limit)
            model, dep = t.model, None
            if t.encoder:
                deps = planned[t.encoder]
                dep = deps.get(seed) or deps[min(deps)]
                model = model.replace(encoder_run=dep.run_id or "random")
            name = _run_name(study, t, seed, epochs, limit)
            spec = RunSpec(model, train, name)
            key = spec_key(spec)
            candidates = index.get(key, [])
            usable = [r for r in candidates if r.status in DONE or r.status == "running"]
            job = job_by_key.get(key)
            if dep is not None and dep.run_id is None:
                p = PlannedRun(t, seed, spec, "blocked", None, note=f"waits for {dep.label}: its run has no id yet")
            elif usable:
                info = _pick(usable, name)
                status = "done" if info.status in DONE else "running"
                mine = info.run_id in ours_running
                note = "" if info.run_id == name else f"reuses {info.run_id}"
                if status == "running" and not mine:
                    note = (note + "; " if note else "") + "being trained by another process"
                p = PlannedRun(t, seed, spec, status, info.run_id, info, note, in_queue=mine)
            elif job is not None:
                status = "running" if job.status == "running" else "queued"
                p = PlannedRun(t, seed, job.spec, status, job.spec.name or job.run_id, note=f"job {job.job_id}",
                               in_queue=True)
            else:
                new = name
                for i in range(2, 1000):
                    if new not in taken:
                        break
                    new = f"{name}-{i}"
                taken.add(new)
                spec = RunSpec(model, train, new)
                note = ""
                if candidates:
                    note = f"{candidates[0].run_id} has this config but is {candidates[0].status}; a new run is needed"
                status = "missing"
                if dep is not None and (dep.status == "blocked" or (dep.status == "running" and not dep.in_queue)):
                    status = "blocked"
                    note = (f"waits for {dep.label} (blocked)" if dep.status == "blocked" else
                            f"waits for {dep.run_id} (being trained by another process)")
                p = PlannedRun(t, seed, spec, status, new, note=note)
            p.depends_on = dep
            p.several_seeds = seeds > 1
            planned.setdefault(t.key, {})[seed] = p
            out.append(p)
    return StudyPlan(study, out, seeds, epochs, limit)


def sweep_tasks(plan: StudyPlan) -> list:
    """The plan's missing runs as sweep tasks, each classifier waiting for its encoder's run."""
    from .runner import Task
    return [Task(r.spec, f"{plan.study.name.upper()} · {r.label}",
                 after=(r.depends_on.run_id,) if r.depends_on is not None and r.depends_on.status != "done" else ())
            for r in plan.missing]


# -- extras: linear baseline, test-set figures, denoising -----------------------------------
def pca_baseline_mses(ds: FashionMNIST, ns: Sequence[int]) -> dict[int, float]:
    """Test MSE of PCA with n components for each n: fit once on the training images in [0, 1].

    The reconstruction is clipped to [0, 1] (the images' range, like an autoencoder's sigmoid).
    PCA is the best any linear autoencoder with an n-number code can do (in squared error).
    """
    from sklearn.decomposition import PCA
    ns = sorted({int(n) for n in ns})
    if not ns:
        return {}
    x = ds.train_images.reshape(len(ds.train_images), -1).numpy().astype(np.float32) / 255.0   # (N, 784)
    t = ds.test_images.reshape(len(ds.test_images), -1).numpy().astype(np.float32) / 255.0    # (M, 784)
    k = min(max(ns), x.shape[1], x.shape[0])
    pca = PCA(n_components=k, svd_solver="covariance_eigh").fit(x)
    tc = t - pca.mean_
    out = {}
    for n in ns:
        c = pca.components_[:min(n, k)]                    # (n, 784), orthonormal rows
        recon = np.clip(tc @ c.T @ c + pca.mean_, 0.0, 1.0)
        out[n] = float(((recon - t) ** 2).mean())
    return out


def pca_baseline_mse(ds: FashionMNIST, n: int) -> float:
    """Test MSE of PCA with n components fit on the training images (see pca_baseline_mses)."""
    return pca_baseline_mses(ds, [n])[int(n)]


def test_figures(registry: Registry, run_id: str, ds: FashionMNIST) -> dict[str, Any]:
    """A classifier run's test-set accuracy and classification report, from its cached confusion matrix
    (a run shipped without weights keeps it)."""
    from .evalcache import EvalCache
    from .evaluate import classifier_figures
    return classifier_figures(EvalCache(registry, lambda: ds).confusion(run_id))


def denoise_curve(registry: Registry | None, run_id: str | None, ds: FashionMNIST,
                  levels: Sequence[float] = DENOISE_LEVELS, n: int = DENOISE_IMAGES) -> list[float]:
    """MSE against the clean image at each level of report B's noise (each image's mean and std times
    the level); run_id None gives the noisy input itself (what doing nothing scores). A run's curve is
    kept in its evaluation cache, so a run shipped without weights still has it."""
    from .data import add_noise, to_float
    from .evalcache import EvalCache
    if run_id is not None:
        curve = EvalCache(registry, lambda: ds).curve(run_id, "gaussian_image", tuple(levels), n)
        return [float(v) for v in curve["mse"]]
    clean = to_float(ds.test_images[:n])
    return [float(((add_noise(clean, "gaussian_image", level, seed=0) - clean) ** 2).mean()) for level in levels]


@dataclass
class Extras:
    """Figures a view needs beyond the run folders (computed by compute_extras, cached by the app)."""
    pca: dict[int, float] = field(default_factory=dict)            # n -> PCA test MSE
    tests: dict[str, dict] = field(default_factory=dict)           # run id -> test_figures
    denoise: dict[str, list[float]] = field(default_factory=dict)  # run id or "noisy input" -> MSE per level


def extras_needed(study: Study, plan: StudyPlan) -> dict[str, list]:
    """Which PCA sizes, test-set evaluations and denoising curves the study's view uses."""
    pca = sorted({t.model.latent_dim for t in study.runs if t.model.kind in ("conv_ae", "dense_ae")}
                 if study.view in ("ae_sweep", "b", "c", "e") else [])
    tests = [r.run_id for r in plan.runs if r.finished and (study.view == "d" or (study.view == "label"
                                                                                 and r.template.role == "main"))]
    denoise = [r.run_id for r in _b_best(plan).values()] if study.view == "b" else []
    return {"pca": pca, "tests": tests, "denoise": denoise}


def compute_extras(study: Study, plan: StudyPlan, registry: Registry, load_data: Callable[[], FashionMNIST],
                   pca: Callable[[tuple[int, ...]], dict[int, float]] | None = None) -> Extras:
    """Compute what extras_needed lists. Test figures and denoising curves come from each run's evaluation
    cache (so results-only runs have them too); pca: a cached PCA baseline function (the app's)."""
    need = extras_needed(study, plan)
    if not any(need.values()):
        return Extras()
    ds = load_data()
    ex = Extras(pca=(pca(tuple(need["pca"])) if pca else pca_baseline_mses(ds, need["pca"])) if need["pca"] else {})
    for run_id in need["tests"]:
        ex.tests[run_id] = test_figures(registry, run_id, ds)
    if need["denoise"]:
        ex.denoise["noisy input"] = denoise_curve(None, None, ds)
        for run_id in need["denoise"]:
            ex.denoise[run_id] = denoise_curve(registry, run_id, ds)
    return ex


# -- results: tables, figures, readings ------------------------------------------------------
@dataclass
class Table:
    title: str
    rows: list[dict[str, str]]
    note: str = ""


@dataclass
class StudyView:
    """What the page (and the CLI) shows for a study: figures, tables, and a reading of them."""
    figures: list = field(default_factory=list)      # (caption, plotly Figure)
    tables: list[Table] = field(default_factory=list)
    reading: list[str] = field(default_factory=list)


def fmt_mse(v: float | None) -> str:
    return "–" if v is None else f"{v:.4f}"


def fmt_acc(v: float | None, std: float | None = None) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.2f}%" + (f" ± {100 * std:.2f}" if std is not None else "")


def mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None, int]:
    """Mean, sample std (None below two values) and count of the values that are there."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None, None, 0
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else None), len(vals)


def compare(ours: float | None, report: float | None, pct: bool = False) -> str:
    """'ours 0.0312 vs report 0.031: about the same' (within 5% relative), or lower / higher by how much."""
    if ours is None or report is None:
        return ""
    f = fmt_acc if pct else fmt_mse
    rep = f"{100 * report:.1f}%" if pct else f"{report:g}"
    if pct:
        d = 100 * (ours - report)
        word = "about the same" if abs(d) < 0.3 else (f"{d:+.1f} points")
        return f"ours {f(ours)} vs report {rep}: {word}"
    ratio = ours / report if report else math.inf
    if 0.95 <= ratio <= 1.05:
        word = "about the same"
    elif ratio < 1:
        word = f"lower ({ratio:.2f}×)"
    else:
        word = f"higher ({ratio:.2f}×)"
    return f"ours {f(ours)} vs report {rep}: {word}"


def _last(r: PlannedRun, key: str) -> float | None:
    return r.history[-1].get(key) if r.history else None


def _at(r: PlannedRun, epoch: int, key: str) -> float | None:
    return r.history[epoch - 1].get(key) if len(r.history) >= epoch else None


def _best(r: PlannedRun, key: str) -> float | None:
    if not r.history:
        return None
    h = r.history
    i = min(range(len(h)), key=lambda j: h[j]["val_loss"] if math.isfinite(h[j]["val_loss"]) else math.inf)
    return h[i].get(key) if key != "epoch" else h[i]["epoch"]


def _status_text(rs: Sequence[PlannedRun]) -> str:
    done = sum(r.finished for r in rs)
    if done == len(rs):
        return f"{done}/{len(rs)}" if len(rs) > 1 else "done"
    running = [r for r in rs if r.status == "running"]
    if running and len(rs) == 1:
        r = running[0]
        return f"running ({r.epochs_done}/{r.spec.train.epochs})"
    return f"{done}/{len(rs)} done" if len(rs) > 1 else rs[0].status


def _caveat(plan: StudyPlan, full: str) -> list[str]:
    if not plan.overridden:
        return []
    parts = []
    if plan.limit:
        parts.append(f"the first {plan.limit:,} training images")
    if plan.epochs is not None:
        parts.append(f"{plan.epochs} epoch{'s' if plan.epochs != 1 else ''}")
    return [f"These runs use {' and '.join(parts)} (a quick version), so they are not comparable with "
            f"the report's {full}; the numbers below show the mechanics, not the result."]


def _nothing(view: StudyView, plan: StudyPlan) -> StudyView:
    if not view.reading:
        view.reading.append("No finished runs yet: queue the missing runs to fill in this comparison.")
    return view


def _curves(runs: Sequence[PlannedRun], metric: str, title: str, reference_lines=(), show_train=True):
    from .plots import curves_figure
    series = [{"name": r.label, "history": r.history} for r in runs if r.history]
    return curves_figure(series, metric, title=title, reference_lines=reference_lines, show_train=show_train)


# A1 / A2: final validation MSE against n or p, with the PCA line
def _view_ae_sweep(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from .plots import sweep_figure
    v = StudyView()
    x = study.numbers["x"]
    mains = [t for t in study.runs if t.role == "main"]
    ours, errs, rep, pca, rows = [], [], [], [], []
    for t in mains:
        rs = plan.by(t.key)
        m, sd, k = mean_std([_last(r, "val_loss") for r in rs if r.finished])
        n = t.model.latent_dim
        ours.append(m), errs.append(sd), rep.append(t.report.get("final_val_loss")), pca.append(ex.pca.get(n))
        rows.append({x: f"{t.params[x]:g}", "runs": _status_text(rs),
                     "ours: final val MSE": fmt_mse(m) + (f" ± {sd:.4f}" if sd else ""),
                     "report": fmt_mse(t.report.get("final_val_loss")),
                     "PCA, same n (linear)": fmt_mse(ex.pca.get(n)),
                     "ours vs report": compare(m, t.report.get("final_val_loss")).split(": ")[-1] if m else ""})
    xs = [t.params[x] for t in mains]
    series = [{"name": "ours (final val MSE)", "y": ours, "err": errs},
              {"name": "report A", "y": rep, "style": "report"}]
    if any(v_ is not None for v_ in pca):
        series.append({"name": "PCA, same n (best linear)", "y": pca, "style": "baseline"})
    xlabel = "latent size n" if x == "n" else "dropout p"
    v.figures.append(("Final validation MSE vs report A and PCA",
                      sweep_figure(xs, series, xlabel, "validation MSE", categorical=True)))
    ns = sorted({t.model.latent_dim for t in mains})
    lines = [(f"PCA-{n}: {ex.pca[n]:.4f}", ex.pca[n]) for n in ns if n in ex.pca] if len(ns) == 1 else []
    first = [plan.by(t.key)[0] for t in mains]
    if any(r.history for r in first):
        v.figures.append(("Validation MSE per epoch" + (" (seed 0)" if plan.seeds > 1 else ""),
                          _curves(first, "loss", None, lines, show_train=False)))
    v.tables.append(Table("Final validation MSE (epoch 20 in the report)", rows))
    v.reading += _caveat(plan, "60,000 images and 20 epochs")
    for t, m in zip(mains, ours):
        if m is not None:
            v.reading.append(f"{t.label}: {compare(m, t.report.get('final_val_loss'))}.")
    have = [(t, m) for t, m in zip(mains, ours) if m is not None]
    if len(have) >= 2:
        vals = [m for _, m in have]
        falling = all(b <= a * 1.02 for a, b in zip(vals, vals[1:]))
        rep_first, rep_last = have[0][0].report["final_val_loss"], have[-1][0].report["final_val_loss"]
        what = "n grows" if x == "n" else "p falls"
        ratio = vals[-1] / vals[0]
        ours = (f"ours stays about level ({vals[0]:.4f} → {vals[-1]:.4f}), unlike the report." if ratio > 0.98 else
                f"ours falls from {vals[0]:.4f} to {vals[-1]:.4f} ({ratio:.2f}×), "
                + ("falling (or level) at each step as in the report." if falling else "but not at every step."))
        v.reading.append(f"Report A: MSE falls from {rep_first:g} to {rep_last:g} as {what}; {ours}")
    for t, m in (have[:1] + have[-1:] if x == "n" and len(have) > 1 else have[:1]):
        n = t.model.latent_dim
        if n in ex.pca:
            rel = m / ex.pca[n]
            where = "above" if rel > 1.02 else "below" if rel < 0.98 else "level with"
            v.reading.append(f"PCA with {n} components reaches {ex.pca[n]:.4f} on the test images, the best any "
                             f"linear autoencoder with a {n}-number code can do. Ours at {t.label} is {where} it "
                             f"({rel:.2f}× the linear baseline).")
    if x == "p" and len(have) >= 2 and 64 in ex.pca:
        (t0, m0), (t1, m1) = have[0], have[-1]
        gap0, gap1 = m0 - ex.pca[64], m1 - ex.pca[64]
        if gap0 > 0:
            closed = 1 - gap1 / gap0
            why = ("dropout, which zeroes a fraction p of the code (and of every layer) at each training step, "
                   "accounts for most of this autoencoder's distance from the linear baseline." if closed >= 0.5 else
                   "dropout accounts for part of the distance from the linear baseline." if closed >= 0.1 else
                   "here lowering the dropout does not bring the autoencoder closer to the linear baseline.")
            v.reading.append(f"With n fixed at 64, going from {t0.label} to {t1.label} closes {max(closed, 0):.0%} "
                             f"of the gap to PCA-64: {why}")
    if x == "n" and have and all(m > ex.pca.get(t.model.latent_dim, math.inf) for t, m in have):
        v.reading.append("At p=0.2 every size stays above PCA with the same n; study A2 shows what lowering the "
                         "dropout p does at n=64.")
    return _nothing(v, plan)


# A3: the three classifiers
def _jump_epoch(h: list[dict]) -> int | None:
    if len(h) < 2:
        return None
    gains = [(h[i]["val_acc"] - h[i - 1]["val_acc"], h[i]["epoch"]) for i in range(1, len(h))]
    return max(gains)[1]


CLF_NOTE = ("val acc, saved: at the epoch of lowest validation loss, whose weights the run keeps. train − val: "
            "the over-fitting gap at the last epoch. Mean ± std over seeds where there are several.")


def _clf_row(label: str, rs: Sequence[PlannedRun]) -> dict[str, str]:
    fin = [r for r in rs if r.history]
    first, m_sd_last = mean_std([_at(r, 1, "val_acc") for r in fin]), mean_std([_last(r, "val_acc") for r in fin])
    gap = mean_std([_last(r, "train_acc") - _last(r, "val_acc") for r in fin])[0] if fin else None
    return {"classifier": label, "runs": _status_text(rs), "epochs": str(max((r.epochs_done for r in fin), default=0)),
            "val acc, epoch 1": fmt_acc(first[0]), "val acc, last": fmt_acc(m_sd_last[0], m_sd_last[1]),
            "val acc, saved": fmt_acc(mean_std([_best(r, "val_acc") for r in fin])[0]),
            "train − val, last": "–" if gap is None else f"{100 * gap:+.2f} pts",
            "best epoch": "–" if not fin else ", ".join(str(_best(r, "epoch")) for r in fin[:3])
            + (", …" if len(fin) > 3 else "")}


def _view_a3(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    mains = [t for t in study.runs if t.role == "main"]
    firsts = [plan.by(t.key)[0] for t in mains]
    if any(r.history for r in firsts):
        v.figures.append(("Loss (train dashed, validation solid)", _curves(firsts, "loss", None)))
        v.figures.append(("Accuracy (train dashed, validation solid)", _curves(firsts, "acc", None)))
    v.tables.append(Table("The three classifiers", [_clf_row(t.label, plan.by(t.key)) for t in mains], CLF_NOTE))
    v.reading += _caveat(plan, "60,000 images and 20 epochs")
    gaps = {}
    for t in mains:
        r = next((r for r in plan.by(t.key) if r.finished and len(r.history) >= 2), None)
        if r is None:
            continue
        h = r.history
        a1, al = h[0]["val_acc"], h[-1]["val_acc"]
        gaps[t.key] = h[-1]["train_acc"] - al
        rise = _best(r, "epoch")
        line = (f"**{t.label}** — report: {t.report['says']}. Ours: {fmt_acc(a1)} after epoch 1, {fmt_acc(al)} at "
                f"epoch {len(h)} ({100 * (al - a1):+.1f} points); lowest validation loss at epoch {rise}; "
                f"train − validation accuracy at the end {100 * gaps[t.key]:+.1f} points.")
        if t.key == "clf-improved-p0.2":
            line += f" Largest one-epoch gain at epoch {_jump_epoch(h)}."
        if t.key == "clf-base":
            line += (" Against report A's mean at epoch 30: " + compare(al, study.numbers["base_acc"], pct=True)
                     + (f" (ours at epoch {len(h)})." if len(h) != 30 else "."))
        v.reading.append(line)
    if "clf-base" in gaps and "clf-improved-p0.2" in gaps:
        more = gaps["clf-improved-p0.2"] > gaps["clf-base"]
        v.reading.append(f"Over-fitting (train − validation accuracy at the end): base {100 * gaps['clf-base']:+.1f}, "
                         f"improved encoder with p=0.2 {100 * gaps['clf-improved-p0.2']:+.1f} points: "
                         + ("more for the improved encoder, as in the report." if more else
                            "not more for the improved encoder, unlike the report."))
    return _nothing(v, plan)


# A4: seed statistics
def _view_a4(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from .plots import band_figure
    v = StudyView()
    rs = [r for r in plan.by("clf-base") if r.history]
    done = [r for r in rs if r.finished]
    if rs:
        v.figures.append((f"Validation accuracy, mean ± std over {len(rs)} seed(s)",
                          band_figure([{"name": "base classifier", "histories": [r.history for r in rs]}], "val_acc")))
    rows = []
    for epoch, (rm, rsd) in study.numbers.items():
        vals = [a for a in (_at(r, epoch, "val_acc") for r in done) if a is not None]
        m, sd, k = mean_std(vals)
        rows.append({"epoch": str(epoch), "seeds": str(k), "ours: mean ± std": fmt_acc(m, sd),
                     "ours: min – max": f"{fmt_acc(min(vals))} – {fmt_acc(max(vals))}" if vals else "–",
                     "report (15 seeds)": fmt_acc(rm, rsd)})
    v.tables.append(Table("Validation accuracy across seeds", rows,
                          note="Epoch 50 needs runs of 50 epochs: set Epochs to 50 above (or `python -m fmnist_core study a4 --epochs 50`)."))
    v.reading += _caveat(plan, "60,000 images and 30 epochs")
    for epoch, (rm, rsd) in study.numbers.items():
        m, sd, k = mean_std([_at(r, epoch, "val_acc") for r in done])
        if m is None:
            continue
        line = f"Epoch {epoch}, {k} seed{'s' if k > 1 else ''}: {compare(m, rm, pct=True)}"
        if sd is not None:
            line += f"; our spread ±{100 * sd:.2f} points vs the report's ±{100 * rsd:.1f}."
        else:
            line += "; a spread needs at least two seeds."
        v.reading.append(line)
    return _nothing(v, plan)


# A5: pretrained vs random init
def _view_a5(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from .plots import band_figure
    v = StudyView()
    arms = [("clf-pretrained", "pretrained encoder"), ("clf-random", "random init")]
    groups = [{"name": label, "histories": [r.history for r in plan.by(k) if r.history]} for k, label in arms]
    if max(len(g["histories"]) for g in groups) > 1:
        v.figures.append(("Validation accuracy, mean ± std over seeds", band_figure(groups, "val_acc")))
        v.figures.append(("Validation loss, mean ± std over seeds", band_figure(groups, "val_loss")))
    elif any(g["histories"] for g in groups):
        firsts = [r for k, _ in arms for r in plan.by(k)[:1]]
        v.figures.append(("Accuracy (train dashed, validation solid)", _curves(firsts, "acc", None)))
        v.figures.append(("Loss (train dashed, validation solid)", _curves(firsts, "loss", None)))
    v.tables.append(Table("Pretrained vs random init", [_clf_row(label, plan.by(k)) for k, label in arms], CLF_NOTE))
    v.reading += _caveat(plan, "60,000 images and 20 epochs")
    stats = {}
    for k, label in arms:
        done = [r for r in plan.by(k) if r.finished]
        if done:
            stats[k] = (mean_std([_at(r, 1, "val_acc") for r in done])[0], mean_std([_last(r, "val_acc") for r in done]),
                        len(done))
    if len(stats) == 2:
        (p1, (pl, psd, pk), _), (r1, (rl, rsd, rk), _) = stats["clf-pretrained"], stats["clf-random"]
        v.reading.append(f"After epoch 1: pretrained {fmt_acc(p1)}, random init {fmt_acc(r1)} "
                         f"({100 * (p1 - r1):+.1f} points for pre-training). Report A: random init starts lower"
                         + (" — ours agrees." if p1 > r1 else " — ours does not."))
        d = 100 * (pl - rl)
        same = abs(d) < 0.5 + (100 * max(psd or 0, rsd or 0))
        v.reading.append(f"At the last epoch: pretrained {fmt_acc(pl, psd)}, random init {fmt_acc(rl, rsd)} "
                         f"({d:+.2f} points). Report A: both end at the same accuracy — "
                         + ("ours agrees (within half a point and the seed spread)." if same else "ours differs."))
        if pk < 2 or rk < 2:
            v.reading.append("One seed per arm: raise the seeds to see whether the difference is larger than "
                             "the seed-to-seed spread (study A4).")
    return _nothing(v, plan)


# B: dense autoencoder grid and denoising
def _b_best(plan: StudyPlan) -> dict[str, PlannedRun]:
    """The finished run with the lowest final validation MSE per optimizer."""
    best: dict[str, PlannedRun] = {}
    for r in plan.runs:
        m = _last(r, "val_loss")
        if not r.finished or m is None or not math.isfinite(m):
            continue
        opt = r.template.params["optimizer"]
        if opt not in best or m < _last(best[opt], "val_loss"):
            best[opt] = r
    return best


def _view_b(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from .plots import color, sweep_figure
    v = StudyView()
    ns = (64, 128, 256, 512)
    series, rows = [], []
    for opt in ("adam", "sgd"):
        for i, lr in enumerate((0.1, 0.01, 0.001)):
            ys, row = [], {"optimizer": "Adam" if opt == "adam" else "SGD", "lr": f"{lr:g}"}
            for n in ns:
                rs = plan.by(f"{opt}-lr{lr:g}-n{n}")
                m = mean_std([_last(r, "val_loss") for r in rs if r.finished])[0]
                ys.append(m)
                row[f"n={n}"] = fmt_mse(m) if m is not None else _status_text(rs)
            rows.append(row)
            series.append({"name": f"{row['optimizer']} lr {lr:g}", "y": ys, "color": color(i),
                           "dash": "solid" if opt == "adam" else "dash"})
    if ex.pca:
        rows.append({"optimizer": "PCA (linear)", "lr": "–", **{f"n={n}": fmt_mse(ex.pca.get(n)) for n in ns}})
        series.append({"name": "PCA, same n (best linear)", "y": [ex.pca.get(n) for n in ns], "style": "baseline"})
    v.figures.append(("Final validation MSE (Adam solid, SGD dashed)",
                      sweep_figure(ns, series, "code size n", "validation MSE", categorical=True)))
    best = _b_best(plan)
    if ex.denoise and best:
        dseries = [{"name": "noisy input (no model)", "y": ex.denoise.get("noisy input", []), "style": "baseline"}]
        for opt, r in best.items():
            if r.run_id in ex.denoise:
                dseries.append({"name": f"best {opt.upper() if opt == 'sgd' else 'Adam'}: {r.template.label}",
                                "y": ex.denoise[r.run_id]})
        v.figures.append(("Denoising: MSE to the clean image",
                          sweep_figure(DENOISE_LEVELS, dseries, "noise level", "MSE to the clean image")))
    v.tables.append(Table("Final validation MSE over the grid", rows,
                          note=f"Denoising: {DENOISE_IMAGES:,} test images with Gaussian noise of each image's own mean "
                               "and std times the level (report B's noise), reconstructed by the best Adam and the "
                               "best SGD run."))
    v.reading += _caveat(plan, "60,000 images and 30 epochs (the report ran 100)")
    rep = study.numbers["best"]
    for opt, r in best.items():
        opt_rows = [rr for rr in plan.runs if rr.template.params["optimizer"] == opt]
        done = sum(rr.finished for rr in opt_rows)
        p = r.template.params
        agree = [f"lr {p['lr']:g} {'=' if p['lr'] == rep[opt]['lr'] else '≠'} report's {rep[opt]['lr']:g}",
                 f"n {p['n']} {'=' if p['n'] == rep[opt]['n'] else '≠'} report's {rep[opt]['n']}"]
        v.reading.append(f"Best {'Adam' if opt == 'adam' else 'SGD'} of the {done} finished: {r.template.label}, "
                         f"MSE {fmt_mse(_last(r, 'val_loss'))} ({'; '.join(agree)})"
                         + ("" if done == len(opt_rows) else " — the grid is incomplete") + ".")
        n = p["n"]
        if n in ex.pca:
            v.reading.append(f"PCA with {n} components reaches {ex.pca[n]:.4f}; this run is "
                             f"{_last(r, 'val_loss') / ex.pca[n]:.2f}× that linear baseline.")
    if len(best) == 2:
        a, s = _last(best["adam"], "val_loss"), _last(best["sgd"], "val_loss")
        v.reading.append(f"Best Adam {fmt_mse(a)} vs best SGD {fmt_mse(s)}: "
                         + ("Adam lower, as in the report." if a < s else "SGD lower, unlike the report."))
        if all(best[o].run_id in ex.denoise for o in best):
            i = DENOISE_LEVELS.index(0.2)
            da, dsg = ex.denoise[best["adam"].run_id][i], ex.denoise[best["sgd"].run_id][i]
            v.reading.append(f"Denoising at level 0.2: Adam {fmt_mse(da)} vs SGD {fmt_mse(dsg)} (noisy input "
                             f"{fmt_mse(ex.denoise['noisy input'][i])}): "
                             + ("Adam restores better, as in the report." if da < dsg else
                                "SGD restores better, unlike the report."))
    return _nothing(v, plan)


# C: early stopping
def _view_c(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    aes = [t for t in study.runs if t.model.kind == "conv_ae"]
    clfs = [t for t in study.runs if t.model.kind == "classifier"]
    ae_rows, ae_mse = [], {}
    for t in aes:
        r = plan.by(t.key)[0]
        m = _best(r, "val_loss") if r.finished else None
        if m is not None:
            ae_mse[t.key] = m
        ae_rows.append({"autoencoder": t.label, "run": _status_text([r]),
                        "epochs run": str(r.epochs_done) if r.history else "–",
                        "best epoch": str(_best(r, "epoch")) if r.history else "–",
                        "best val MSE": fmt_mse(_best(r, "val_loss")),
                        "PCA, same n (linear)": fmt_mse(ex.pca.get(t.model.latent_dim))})
    v.tables.append(Table("Autoencoders (report C ranks AE 4 best, AE 3 worst; no MSE given)", ae_rows))
    rows = []
    for t in clfs:
        rs = [r for r in plan.by(t.key) if r.finished]
        rep = t.report

        def pair(key, pct):
            m = mean_std([_best(r, key) for r in rs])[0]
            f = fmt_acc if pct else fmt_mse
            return f"{f(m)} ({f(rep[key]) if pct else format(rep[key], '.3f')})"
        be = mean_std([_best(r, "epoch") for r in rs])[0]
        rows.append({"classifier": t.label, "runs": _status_text(plan.by(t.key)),
                     "best epoch (report)": f"{'–' if be is None else f'{be:.0f}'} ({rep['best_epoch']})",
                     "train loss (report)": pair("train_loss", False), "val loss (report)": pair("val_loss", False),
                     "train acc (report)": pair("train_acc", True), "val acc (report)": pair("val_acc", True)})
    v.tables.append(Table("Classifiers at their best epoch: ours (report's)", rows))
    firsts = [plan.by(t.key)[0] for t in clfs]
    if any(r.history for r in firsts):
        v.figures.append(("Classifiers: validation accuracy", _curves(firsts, "acc", None, show_train=False)))
    ae_first = [plan.by(t.key)[0] for t in aes]
    if any(r.history for r in ae_first):
        v.figures.append(("Autoencoders: validation MSE", _curves(ae_first, "loss", None, show_train=False)))
    v.reading += _caveat(plan, "60,000 images and up to 15 (autoencoders) / 40 (classifiers) epochs")
    if len(ae_mse) >= 2:
        order = sorted(ae_mse, key=ae_mse.get)
        names = {t.key: t.label.split(" (")[0] for t in aes}
        ranking = " < ".join(f"{names[k]} {ae_mse[k]:.4f}" for k in order)
        v.reading.append(f"Autoencoders by best validation MSE: {ranking}"
                         + f". Report C: AE 4 best, AE 3 worst; ours: {names[order[0]]} best, {names[order[-1]]} worst"
                         + (" — agrees." if order[0] == "ae4" and order[-1] == "ae3" else
                            " — partly agrees." if order[0] == "ae4" or order[-1] == "ae3" else " — differs."))
    accs = {}
    for t in clfs:
        rs = [r for r in plan.by(t.key) if r.finished]
        m = mean_std([_best(r, "val_acc") for r in rs])[0]
        if m is not None:
            accs[t.key] = m
            v.reading.append(f"{t.label}: validation accuracy at the best epoch "
                             f"{compare(m, t.report['val_acc'], pct=True)}; "
                             f"best epoch {_best(rs[0], 'epoch')} vs the report's {t.report['best_epoch']}.")
    if "c8" in accs and len(accs) >= 2:
        others = [accs[k] for k in accs if k != "c8"]
        d = 100 * (statistics.fmean(others) - accs["c8"])
        v.reading.append(f"The frozen encoder (C8) is {d:.1f} points below the trained ones (report: 11 points): "
                         + ("it under-fits, as in the report." if d > 3 else "less of a gap than the report found."))
    return _nothing(v, plan)


# D: deep CNN vs MLP
def _view_d(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from .data import CLASS_NAMES
    v = StudyView()
    keys = [("accuracy", "test_accuracy"), ("macro_precision", "macro_precision"), ("macro_f1", "macro_f1")]
    rows, got = [], {}
    for t in study.runs:
        rs = plan.by(t.key)
        tests = [ex.tests[r.run_id] for r in rs if r.finished and r.run_id in ex.tests]
        row = {"model": t.label, "runs": _status_text(rs)}
        for rk, ok in keys:
            m = mean_std([x[ok] for x in tests])[0]
            row[f"{rk.replace('macro_', 'macro ').replace('f1', 'F1')} (report)"] = \
                f"{'–' if m is None else f'{m:.4f}'} ({t.report[rk]:.4f})"
        row["macro recall"] = "–" if not tests else f"{statistics.fmean(x['macro_recall'] for x in tests):.4f}"
        row["best epoch"] = ", ".join(str(_best(r, "epoch")) for r in rs if r.history) or "–"
        rows.append(row)
        if tests:
            got[t.key] = tests[0]
    v.tables.append(Table("Test set: scikit-learn classification report (macro averages), ours (report's)", rows,
                          note="best epoch: the epoch of lowest loss on the held-out validation split, whose weights "
                               "are evaluated here."))
    if got:
        per_class = []
        for name in CLASS_NAMES:
            row = {"class": name}
            for k, x in got.items():
                pc = x["per_class"][name]
                row[f"{k.upper()} precision"] = f"{pc['precision']:.3f}"
                row[f"{k.upper()} recall"] = f"{pc['recall']:.3f}"
                row[f"{k.upper()} F1"] = f"{pc['f1']:.3f}"
            per_class.append(row)
        v.tables.append(Table("Per class (seed 0)", per_class))
    firsts = [plan.by(t.key)[0] for t in study.runs]
    if any(r.history for r in firsts):
        v.figures.append(("Loss (train dashed, validation solid)", _curves(firsts, "loss", None)))
        v.figures.append(("Accuracy (train dashed, validation solid)", _curves(firsts, "acc", None)))
    v.reading += _caveat(plan, "54,000 training images and 10 epochs")
    if len(got) == 2:
        c, m = got["cnn"]["test_accuracy"], got["mlp"]["test_accuracy"]
        rc, rm = study.template("cnn").report["accuracy"], study.template("mlp").report["accuracy"]
        v.reading.append(f"Test accuracy: CNN {c:.4f} vs MLP {m:.4f} ({100 * (c - m):+.1f} points); report D: "
                         f"{rc:.4f} vs {rm:.4f} ({100 * (rc - rm):+.1f} points)."
                         + (" The CNN wins here too." if c > m else " Here the MLP is not behind."))
        worst = min(CLASS_NAMES, key=lambda n: got["cnn"]["per_class"][n]["f1"])
        v.reading.append(f"Hardest class for the CNN by F1: {worst} ({got['cnn']['per_class'][worst]['f1']:.3f}).")
    cnn = next((r for r in plan.by("cnn") if r.finished), None)
    if cnn is not None:
        e = _best(cnn, "epoch")
        v.reading.append(f"The CNN's validation loss is lowest at epoch {e} of {cnn.epochs_done} (report: over-fits "
                         f"after about epoch 4); the saved weights are that epoch's.")
    return _nothing(v, plan)


# E: step-by-step tuning
def _view_e(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    aes = [t for t in study.runs if t.model.kind == "conv_ae"]
    clfs = [t for t in study.runs if t.model.kind == "classifier"]
    rows, got = [], []
    for t in aes:
        r = plan.by(t.key)[0]
        tr, va = (_last(r, "train_loss"), _last(r, "val_loss")) if r.finished else (None, None)
        rows.append({"model": t.label, "run": _status_text([r]), "train MSE: ours (report)":
                     f"{fmt_mse(tr)} ({t.report['final_train_loss']:.4f})",
                     "val MSE: ours (report)": f"{fmt_mse(va)} ({t.report['final_val_loss']:.4f})",
                     "PCA-64 (linear)": fmt_mse(ex.pca.get(64))})
        if va is not None:
            got.append((t, va))
    v.tables.append(Table("Autoencoder, one change at a time (final epoch)", rows))
    crow = []
    for t in clfs:
        r = plan.by(t.key)[0]
        row = {"classifier": t.label, "run": _status_text([r])}
        for key, what, f in (("train_acc", "train acc", fmt_acc), ("val_acc", "val acc", fmt_acc),
                             ("train_loss", "train loss", fmt_mse), ("val_loss", "val loss", fmt_mse)):
            row[f"{what}: ours (report)"] = f"{f(_last(r, key) if r.finished else None)} ({f(t.report['final_' + key])})"
        crow.append(row)
    v.tables.append(Table("Classifiers on the tuned encoder (final epoch)", crow))
    ae_first = [plan.by(t.key)[0] for t in aes]
    lines = [(f"PCA-64: {ex.pca[64]:.4f}", ex.pca[64])] if 64 in ex.pca else []
    if any(r.history for r in ae_first):
        v.figures.append(("Autoencoders: validation MSE per epoch",
                          _curves(ae_first, "loss", None, lines, show_train=False)))
    c_first = [plan.by(t.key)[0] for t in clfs]
    if any(r.history for r in c_first):
        v.figures.append(("Classifiers: loss (train dashed)", _curves(c_first, "loss", None)))
    v.reading += _caveat(plan, "60,000 images and 30 epochs")
    prev = None
    for t, va in got:
        if prev is not None:
            pt, pv = prev
            ours_d, rep_d = va / pv - 1, t.report["final_val_loss"] / pt.report["final_val_loss"] - 1
            v.reading.append(f"{t.label}: validation MSE {pv:.4f} → {va:.4f} ({ours_d:+.0%}); report "
                             f"{pt.report['final_val_loss']:.4f} → {t.report['final_val_loss']:.4f} ({rep_d:+.0%})"
                             + (" — no clear change in ours." if abs(ours_d) < 0.01 else
                                " — same direction." if (ours_d < 0) == (rep_d < 0) else " — opposite direction."))
        prev = (t, va)
    for t in clfs:
        r = plan.by(t.key)[0]
        if r.finished:
            h = r.history
            lo = min(x["val_loss"] for x in h)
            v.reading.append(f"{t.label}: final validation accuracy "
                             f"{compare(h[-1]['val_acc'], t.report['final_val_acc'], pct=True)}; "
                             f"validation loss ends {h[-1]['val_loss'] / lo:.2f}× its minimum "
                             f"(epoch {_best(r, 'epoch')})"
                             + (" — it over-fits." if h[-1]["val_loss"] > 1.2 * lo else "."))
    return _nothing(v, plan)


# Beyond: label efficiency
def _view_label(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from .plots import sweep_figure
    v = StudyView()
    n_all = round(0.9 * (plan.limit or 60000))      # what the held-out validation split leaves to train on
    stats: dict[str, list] = {"pre": [], "rnd": []}
    rows = []
    for f in LABEL_FRACTIONS:
        row = {"labels": f"{f:.0%} ({max(10, round(n_all * f)):,} images)"}
        both = []
        for arm, name in (("pre", "pretrained"), ("rnd", "random init")):
            rs = plan.by(f"{arm}-f{f:g}")
            both += rs
            m, sd, k = mean_std([ex.tests[r.run_id]["test_accuracy"] for r in rs if r.run_id in ex.tests])
            stats[arm].append((m, sd, k))
            row[name] = fmt_acc(m, sd)
        pm, rm = stats["pre"][-1][0], stats["rnd"][-1][0]
        row["pre-training gain"] = "–" if pm is None or rm is None else f"{100 * (pm - rm):+.2f} pts"
        row["runs done"] = f"{sum(r.finished for r in both)}/{len(both)}"
        rows.append(row)
    series = [{"name": "pretrained encoder", "y": [s[0] for s in stats["pre"]], "err": [s[1] for s in stats["pre"]]},
              {"name": "random init", "y": [s[0] for s in stats["rnd"]], "err": [s[1] for s in stats["rnd"]]}]
    v.figures.append(("Accuracy against the fraction of training labels (mean ± std over seeds)",
                      sweep_figure([100 * f for f in LABEL_FRACTIONS], series, "training labels used (%, log scale)",
                                   "test-set accuracy", log_x=True, percent=True)))
    v.tables.append(Table("Test-set accuracy of the saved (lowest held-out loss) epoch, mean ± std over seeds", rows))
    v.reading += _caveat(plan, "54,000 images and 20–100 epochs")
    gains = []
    for f, p, r in zip(LABEL_FRACTIONS, stats["pre"], stats["rnd"]):
        if p[0] is None or r[0] is None:
            continue
        d = 100 * (p[0] - r[0])
        spread = 100 * max(p[1] or 0, r[1] or 0)
        gains.append((f, d))
        verdict = ("pre-training helps" if d > max(0.5, spread) else
                   "pre-training hurts" if d < -max(0.5, spread) else "no clear difference")
        v.reading.append(f"{f:.0%} of the labels: pretrained {fmt_acc(p[0], p[1])} vs random {fmt_acc(r[0], r[1])} "
                         f"({d:+.2f} points): {verdict}"
                         + (" (one seed: no spread to compare with)." if min(p[2], r[2]) < 2 else "."))
    if len(gains) >= 2:
        (f0, d0), (f1, d1) = gains[0], gains[-1]
        v.reading.append(f"The gain goes from {d0:+.2f} points at {f0:.0%} to {d1:+.2f} at {f1:.0%}"
                         + (": pre-training matters when labels are scarce, and fades as they grow — consistent "
                            "with report A's finding at 100%." if d0 > d1 and d0 > 0.5 else "."))
    return _nothing(v, plan)


VIEWS: dict[str, Callable[[Study, StudyPlan, Extras], StudyView]] = {
    "ae_sweep": _view_ae_sweep, "a3": _view_a3, "a4": _view_a4, "a5": _view_a5, "b": _view_b, "c": _view_c,
    "d": _view_d, "e": _view_e, "label": _view_label}


def build_view(study: Study, plan: StudyPlan, extras: Extras | None = None) -> StudyView:
    """The study's figures, tables (ours beside the report's) and a reading generated from the numbers."""
    return VIEWS[study.view](study, plan, extras or Extras())


def runs_table(plan: StudyPlan) -> list[dict[str, str]]:
    """One row per planned run: what it is, its status, its run id, and why."""
    rows = []
    for r in plan.runs:
        s = r.status
        if s == "running" and r.info is not None:
            s = f"running ({r.epochs_done}/{r.spec.train.epochs})"
        elif s == "done" and r.info is not None and r.info.status != "completed":
            s = f"done ({r.info.status.replace('_', ' ')})"
        rows.append({"run": r.label, "role": r.template.role, "status": s, "run id": r.run_id or "–",
                     "epochs": str(r.spec.train.epochs), "note": r.note})
    return rows


# -- command line ---------------------------------------------------------------------------
def text_table(rows: Sequence[dict[str, str]]) -> str:
    """Rows of strings as an aligned plain-text table."""
    if not rows:
        return "(empty)"
    cols = list(rows[0])
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(width[c]) for c in cols), "  ".join("-" * width[c] for c in cols)]
    lines += ["  ".join(str(r.get(c, "")).ljust(width[c]) for c in cols) for r in rows]
    return "\n".join(line.rstrip() for line in lines)

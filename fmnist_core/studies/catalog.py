"""The study catalog: each report's experiment as data (StudyRun, Study), the report's numbers, and
STUDIES, every study by its CLI name. Long because it is a catalogue: eleven studies and their report
numbers, written out as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import (
    OPTIMIZER_LABELS,
    ClassifierConfig,
    CNNConfig,
    ConfigError,
    ConvAEConfig,
    DenseAEConfig,
    MLPConfig,
    ModelConfig,
    TrainConfig,
)

DONE = ("completed", "early_stopped", "diverged")  # a run with a final result
DENOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)  # report B's noise intensity constants we sweep
DENOISE_IMAGES = 2000  # test images per denoising point


# -- definitions --------------------------------------------------------------------------
@dataclass(frozen=True)
class StudyRun:
    """One configuration of a study; repeated over the study's seeds when `seeded`."""

    key: str  # unique in the study, part of the run name: "n128"
    label: str  # how tables and legends call it
    model: ModelConfig
    train: TrainConfig
    encoder: str | None = None  # key of the study run whose encoder this classifier copies
    seeded: bool = True  # False: one run shared by every seed (an encoder)
    seeds: int = 0  # seeds of this run; 0 = the study's (a --seeds override sets every run's)
    role: str = "main"  # "main": compared; "encoder": trained to feed the classifiers
    params: dict = field(default_factory=dict)  # the swept values, e.g. {"n": 128}
    report: dict = field(default_factory=dict)  # the report's numbers for it, same keys as ours


@dataclass(frozen=True)
class Study:
    """A question, the runs that answer it, and what the report found."""

    name: str  # CLI name: "a1"
    title: str
    report: str  # "A" ... "E", or "beyond"
    question: str
    runs: tuple[StudyRun, ...]
    view: str  # which comparison: a key of views.VIEWS
    seeds: int = 1  # default seeds per seeded run
    about: str = ""  # what the report did and found
    numbers: dict = field(default_factory=dict)  # study-level report numbers

    def template(self, key: str) -> StudyRun:
        return next(r for r in self.runs if r.key == key)


def _ae(n: int = 64, p: float = 0.2, **kw) -> ConvAEConfig:
    return ConvAEConfig(latent_dim=n, dropout=p, **kw)


def _clf(n: int = 64, p: float = 0.2, **kw) -> ClassifierConfig:
    return ClassifierConfig(latent_dim=n, dropout=p, **kw)


A_AE = TrainConfig(epochs=20)  # report A: Adam 1e-3, batch 100, 20 epochs (= ref-a-ae-base)
A_CLF = TrainConfig(epochs=30)  # report A's classifiers: 30 epochs (its statistics are at epoch 30)
BASE_AE = StudyRun(
    "ae-base",
    "autoencoder n=64, p=0.2",
    _ae(64, 0.2),
    A_AE,
    seeded=False,
    role="encoder",
    params={"n": 64, "p": 0.2},
)

A1_MSE = {64: 0.037, 128: 0.031, 256: 0.031, 512: 0.029}
A2_MSE = {0.2: 0.037, 0.05: 0.025, 0.01: 0.023, 0.0001: 0.023}
LABEL_FRACTIONS = (0.01, 0.05, 0.1, 0.5, 1.0)
LABEL_EPOCHS = {0.01: 100, 0.05: 50, 0.1: 40, 0.5: 20, 1.0: 20}  # fewer labels: more (cheaper) epochs
C_AE: dict[str, Any] = dict(epochs=15, patience=5)  # report C gives no epoch count for the AEs
C_CLF: dict[str, Any] = dict(epochs=40, patience=5)
E_AE = TrainConfig(epochs=30)
E_STEPS = (
    ("baseline", "baseline (p=0.2)", _ae(64, 0.2), (0.0858, 0.0726)),
    ("p0", "dropout 0", _ae(64, 0.0), (0.0300, 0.0312)),
    ("bn", "+ batch norm", _ae(64, 0.0, batch_norm=True), (0.0270, 0.0283)),
    ("avg", "+ average 2nd pool", _ae(64, 0.0, batch_norm=True, second_pool="avg"), (0.0229, 0.0231)),
    (
        "wide",
        "+ 64/96 filters",
        _ae(64, 0.0, channels=(64, 96), batch_norm=True, second_pool="avg"),
        (0.0159, 0.0175),
    ),
)
E_ENC: dict[str, Any] = dict(
    latent_dim=64, dropout=0.0, channels=(64, 96), batch_norm=True, second_pool="avg", final_relu=False
)


# Beyond PCA: from the reports' layout to a modern one, one change at a time, at the reports' widths (16/32
# filters). Every step trains 10 epochs at batch 128 until the last two, which change only the schedule,
# then only the batch size (64: twice the steps in the same 10 epochs).
PCA_NS = (32, 64, 128)
PCA_GOALS = {32: 0.0085, 64: 0.0065, 128: 0.0050}  # test MSE within 10 epochs (issue "models worth studying")
PCA_TRAIN = TrainConfig(epochs=10, batch_size=128)
PCA_STEPS: tuple[tuple[str, str, dict, TrainConfig], ...] = (
    ("reports", "the reports' layout (p=0.2)", dict(dropout=0.2), PCA_TRAIN),
    ("geometry", "+ padded convs, 7×7 map, mirrored decoder", dict(dropout=0.2, padding="same"), PCA_TRAIN),
    ("p0", "+ dropout off", dict(dropout=0.0, padding="same"), PCA_TRAIN),
    ("linear", "+ linear code", dict(dropout=0.0, padding="same", code_activation="linear"), PCA_TRAIN),
    (
        "bn",
        "+ batch norm",
        dict(dropout=0.0, padding="same", code_activation="linear", batch_norm=True),
        PCA_TRAIN,
    ),
    (
        "onecycle",
        "+ one-cycle schedule (max lr 3e-3)",
        dict(dropout=0.0, padding="same", code_activation="linear", batch_norm=True),
        PCA_TRAIN.replace(lr=3e-3, schedule="onecycle"),
    ),
    (
        "b64",
        "+ batch 64 (twice the steps)",
        dict(dropout=0.0, padding="same", code_activation="linear", batch_norm=True),
        PCA_TRAIN.replace(lr=3e-3, schedule="onecycle", batch_size=64),
    ),
)


def _pca_runs() -> tuple[StudyRun, ...]:
    return tuple(
        StudyRun(
            f"{key}-n{n}",
            f"n={n}: {label}",
            ConvAEConfig(latent_dim=n, **model),
            train,
            params={"n": n, "step": key},
        )
        for n in PCA_NS
        for key, label, model, train in PCA_STEPS
    )


# The classifier record for a 2-core CPU: the conv classifier with the design options the reports did not
# use, as wide and as long as 10 minutes (and 2 minutes) of training on such a machine allow.
RECORD_MODEL: dict[str, Any] = dict(
    padding="same", batch_norm=True, code_activation="linear", head_hidden=128, final_relu=False, dropout=0.0
)
RECORD_TRAIN = TrainConfig(
    epochs=20, batch_size=128, lr=3e-3, schedule="onecycle", weight_decay=5e-4, label_smoothing=0.1,
    augment="shift_flip",
)  # fmt: skip
RECORD_MINUTES = {"10min": 10, "2min": 2}  # the wall-clock budget of each (training and validation)
RECORD_2MIN = ClassifierConfig(latent_dim=128, channels=(16, 32), **RECORD_MODEL)
# What each ingredient buys: the 2-minute record without one of them at a time (model, train changes).
RECORD_WITHOUT: tuple[tuple[str, str, dict, dict], ...] = (
    ("no-aug", "without shifts and mirror images", {}, dict(augment="none")),
    ("no-ls", "without label smoothing", {}, dict(label_smoothing=0.0)),
    ("no-wd", "without weight decay", {}, dict(weight_decay=0.0)),
    ("constant", "with a constant lr 1e-3, not one-cycle", {}, dict(schedule="constant", lr=1e-3)),
    ("no-head", "without a hidden layer in the head", dict(head_hidden=0), {}),
)
RECORD_SEEDS = 3  # the 2-minute record and its ablations; the 10-minute record is one run


def _record_2min() -> tuple[StudyRun, ...]:
    """The 2-minute record over seeds, the same without each ingredient, and with its encoder pre-trained as
    beyond PCA's n=128 autoencoder (the same encoder layout): does pre-training help a good encoder?"""
    train = RECORD_TRAIN.replace(epochs=15)
    pca_key, _, pca_model, pca_train = PCA_STEPS[-1]
    arms = [
        StudyRun(
            "2min",
            "16/32 filters, n=128, 15 epochs (2-minute budget)",
            RECORD_2MIN,
            train,
            seeds=RECORD_SEEDS,
            params={"minutes": 2},
        ),
        *(
            StudyRun(
                f"2min-{key}",
                f"2-minute record {label}",
                RECORD_2MIN.replace(**model),
                train.replace(**change),
                seeds=RECORD_SEEDS,
                params={"without": key},
            )
            for key, label, model, change in RECORD_WITHOUT
        ),
        StudyRun(
            "ae-n128",
            "beyond PCA's autoencoder, n=128",
            ConvAEConfig(latent_dim=128, **pca_model),
            pca_train,
            seeded=False,
            role="encoder",
            params={"step": pca_key},
        ),
        StudyRun(
            "2min-pretrained",
            "2-minute record, encoder pre-trained as an autoencoder",
            RECORD_2MIN,
            train,
            encoder="ae-n128",
            seeds=RECORD_SEEDS,
            params={"init": "pretrained"},
        ),
    ]
    return tuple(arms)  # fmt: skip


def _a5_arms(final_relu: bool) -> tuple[StudyRun, ...]:
    """A5's pretrained and random-init classifiers, with or without the final ReLU."""
    tag, note = ("", "") if final_relu else ("-norelu", ", no final ReLU")
    return (
        StudyRun(
            f"clf-pretrained{tag}",
            f"pretrained encoder{note}",
            _clf(64, 0.2, final_relu=final_relu),
            A_CLF,
            encoder="ae-base",
            params={"init": "pretrained", "final_relu": final_relu},
        ),
        StudyRun(
            f"clf-random{tag}",
            f"random init{note}",
            _clf(64, 0.2, final_relu=final_relu, encoder_run="random"),
            A_CLF,
            params={"init": "random", "final_relu": final_relu},
        ),
    )


def _label_runs(final_relu: bool, seeds: dict[float, int] | None = None) -> tuple[StudyRun, ...]:
    """The label studies' runs: report A's base autoencoder (on the 54,000 training images), then
    pretrained and random-init classifiers at each label fraction; `seeds` per fraction where it differs
    from the study's."""
    runs = [BASE_AE]
    for f in LABEL_FRACTIONS:
        t = TrainConfig(epochs=LABEL_EPOCHS[f], train_fraction=f)
        for arm, label, kw in (
            ("pre", "pretrained", {}),
            ("rnd", "random init", {"encoder_run": "random"}),
        ):
            runs.append(
                StudyRun(
                    f"{arm}-f{f:g}",
                    f"{label}, {f:.0%} labels",
                    _clf(64, 0.2, final_relu=final_relu, **kw),
                    t,
                    encoder="ae-base" if arm == "pre" else None,
                    seeds=(seeds or {}).get(f, 0),
                    params={"fraction": f, "init": label.split()[0]},
                )
            )
    return tuple(runs)


def _define() -> dict[str, Study]:
    s: list[Study] = []
    s.append(
        Study(
            "a1",
            "Latent size n",
            "A",
            "How does the code size n change the reconstruction error (p = 0.2)?",
            tuple(
                StudyRun(
                    f"n{n}", f"n = {n}", _ae(n, 0.2), A_AE, params={"n": n}, report={"final_val_loss": mse}
                )
                for n, mse in A1_MSE.items()
            ),
            view="ae_sweep",
            seeds=3,
            numbers={"x": "n"},
            about="Report A swept n one at a time around the baseline (n=64, p=0.2, 20 epochs) and reported the "
            "final validation MSE: 0.037, 0.031, 0.031, 0.029.",
        )
    )
    s.append(
        Study(
            "a2",
            "Dropout p",
            "A",
            "How does the dropout probability p change the reconstruction error (n = 64)?",
            tuple(
                StudyRun(
                    f"p{p:g}", f"p = {p:g}", _ae(64, p), A_AE, params={"p": p}, report={"final_val_loss": mse}
                )
                for p, mse in A2_MSE.items()
            ),
            view="ae_sweep",
            seeds=3,
            numbers={"x": "p"},
            about="Report A: lowering p from 0.2 to 0.05, 0.01 and 0.0001 gave 0.037, 0.025, 0.023, 0.023. "
            "Dropout acts on every layer, the 64-number code included.",
        )
    )
    s.append(
        Study(
            "a3",
            "Three classifiers",
            "A",
            "Which pretrained encoder makes the best classifier: the baseline one, "
            "the improved one (n=128, p=0.01), or the improved one with p raised to 0.2?",
            (
                BASE_AE,
                StudyRun(
                    "ae-improved",
                    "autoencoder n=128, p=0.01",
                    _ae(128, 0.01),
                    A_AE,
                    seeded=False,
                    role="encoder",
                    params={"n": 128, "p": 0.01},
                    report={"final_val_loss": 0.021},
                ),
                StudyRun(
                    "clf-base",
                    "base (n=64, p=0.2)",
                    _clf(64, 0.2),
                    A_CLF,
                    encoder="ae-base",
                    report={"says": "the one to characterise: (91.1 ± 0.3)% at epoch 30 over 15 seeds"},
                ),
                StudyRun(
                    "clf-improved",
                    "improved encoder, p=0.01",
                    _clf(128, 0.01),
                    A_CLF,
                    encoder="ae-improved",
                    report={"says": "barely improved from its starting point"},
                ),
                StudyRun(
                    "clf-improved-p0.2",
                    "improved encoder, p raised to 0.2",
                    _clf(128, 0.2),
                    A_CLF,
                    encoder="ae-improved",
                    report={
                        "says": "recovered quickly (jumps around epoch 5) but over-fitted more than the base"
                    },
                ),
            ),
            view="a3",
            seeds=3,
            numbers={"base_acc": 0.911},
            about="Report A trained three classifiers (encoder copied, then Linear(n→10), ReLU, softmax) for 30 "
            "epochs and kept the base model; so do we.",
        )
    )
    s.append(
        Study(
            "a4",
            "Seed statistics",
            "A",
            "How much does the base classifier's accuracy vary between seeds "
            "(one pretrained encoder, different heads and batch orders)?",
            (BASE_AE, StudyRun("clf-base", "base classifier", _clf(64, 0.2), A_CLF, encoder="ae-base")),
            view="a4",
            seeds=15,
            numbers={30: (0.911, 0.003), 50: (0.914, 0.002)},
            about="Report A: 15 classifiers from the same pretrained encoder; (91.1 ± 0.3)% at epoch 30 and "
            "(91.4 ± 0.2)% at epoch 50, so 30 epochs were chosen. Set Epochs to 50 for the second figure.",
        )
    )
    s.append(
        Study(
            "a5",
            "Pre-trained vs random init",
            "A",
            "Does pre-training the encoder as an autoencoder help the classifier?",
            (
                BASE_AE,
                *_a5_arms(final_relu=True),
                *_a5_arms(final_relu=False),
            ),
            view="a5",
            seeds=5,
            about="Report A: the randomly initialised classifier starts lower but catches up quickly and ends at "
            "the same accuracy: for this small network (and 60,000 labels) pre-training does not matter. "
            "30 epochs, as in the report. Each seed gives both arms the same head initialisation, batch order "
            "and dropout masks, so the arms pair by seed. The pair is trained twice: with the reports' ReLU "
            "before the softmax, and without it (no class can die).",
        )
    )
    b_runs = []
    for opt, lrs in (("adam", (0.1, 0.01, 0.001)), ("sgd", (0.1, 0.01, 0.001))):
        for lr in lrs:
            for n in (64, 128, 256, 512):
                b_runs.append(
                    StudyRun(
                        f"{opt}-lr{lr:g}-n{n}",
                        f"{OPTIMIZER_LABELS[opt]} lr {lr:g}, n={n}",
                        DenseAEConfig(latent_dim=n, dropout=0.1),
                        TrainConfig(optimizer=opt, lr=lr, batch_size=1000, epochs=30),
                        params={"optimizer": opt, "lr": lr, "n": n},
                    )
                )
    s.append(
        Study(
            "b",
            "Dense autoencoder: Adam vs SGD, denoising",
            "B",
            "Which optimizer, learning rate and code size "
            "suit a one-hidden-layer autoencoder, and which restores noisy images better?",
            tuple(b_runs),
            view="b",
            numbers={"best": {"sgd": {"lr": 0.1, "n": 512}, "adam": {"lr": 0.001, "n": 512}}},
            about="Report B: 784→n→784, ReLU, dropout 0.1, batch 1000, a grid over lr and n for each optimizer: "
            "best SGD lr 0.1, best Adam lr 0.001, best n 512 for both; Adam restored noisy images better. "
            "The report trained 100 epochs (loss roughly flat after 30); we train 30 (= ref-b-dense-adam).",
        )
    )
    s.append(
        Study(
            "c",
            "Early stopping: four autoencoders, four classifiers",
            "C",
            "With early stopping, which autoencoder "
            "reconstructs best, and how do classifiers built on them compare (frozen encoder included)?",
            (
                StudyRun(
                    "ae1",
                    "AE 1 (n=64, p=0.2, Adam)",
                    _ae(64, 0.2),
                    TrainConfig(batch_size=100, **C_AE),
                    params={"n": 64},
                ),
                StudyRun(
                    "ae2",
                    "AE 2 (n=256, p=0.3, Adam)",
                    _ae(256, 0.3),
                    TrainConfig(batch_size=1000, **C_AE),
                    params={"n": 256},
                ),
                StudyRun(
                    "ae3",
                    "AE 3 (n=64, p=0.3, SGD 0.01)",
                    _ae(64, 0.3),
                    TrainConfig(optimizer="sgd", lr=1e-2, batch_size=1000, **C_AE),
                    params={"n": 64},
                ),
                StudyRun(
                    "ae4",
                    "AE 4 (n=128, p=0.3, kernel decoder)",
                    _ae(128, 0.3, decoder="kernel"),
                    TrainConfig(batch_size=1000, **C_AE),
                    params={"n": 128},
                ),
                StudyRun(
                    "c5",
                    "C5 (AE 1)",
                    _clf(64, 0.2),
                    TrainConfig(batch_size=100, **C_CLF),
                    encoder="ae1",
                    report=dict(
                        best_epoch=15, train_loss=0.236, val_loss=0.283, train_acc=0.918, val_acc=0.900
                    ),
                ),
                StudyRun(
                    "c6",
                    "C6 (AE 2)",
                    _clf(256, 0.3),
                    TrainConfig(batch_size=1000, **C_CLF),
                    encoder="ae2",
                    report=dict(
                        best_epoch=40, train_loss=0.242, val_loss=0.290, train_acc=0.931, val_acc=0.904
                    ),
                ),
                StudyRun(
                    "c7",
                    "C7 (AE 4)",
                    _clf(128, 0.3),
                    TrainConfig(batch_size=100, **C_CLF),
                    encoder="ae4",
                    report=dict(
                        best_epoch=19, train_loss=0.237, val_loss=0.285, train_acc=0.925, val_acc=0.902
                    ),
                ),
                StudyRun(
                    "c8",
                    "C8 (AE 4, frozen, no final ReLU)",
                    _clf(128, 0.3, freeze_encoder=True, final_relu=False),
                    TrainConfig(batch_size=1000, **C_CLF),
                    encoder="ae4",
                    report=dict(
                        best_epoch=40, train_loss=0.641, val_loss=0.657, train_acc=0.806, val_acc=0.793
                    ),
                ),
            ),
            view="c",
            seeds=3,
            numbers={"ae_best": "ae4", "ae_worst": "ae3"},
            about="Report C: early stopping (patience 5, best weights restored) for four autoencoders and four "
            "classifiers (up to 40 epochs). AE 4 best, AE 3 (SGD) worst; freezing the encoder (C8) under-fits.",
        )
    )
    s.append(
        Study(
            "d",
            "Deep CNN vs MLP",
            "D",
            "How much does a two-block CNN with BatchNorm gain over a one-hidden-layer MLP, class by class?",
            (
                StudyRun(
                    "cnn",
                    "deep CNN",
                    CNNConfig(dropout=0.4),
                    TrainConfig(epochs=10, validation="holdout"),
                    report=dict(accuracy=0.8978, macro_precision=0.9036, macro_f1=0.8993),
                ),
                StudyRun(
                    "mlp",
                    "MLP (256 hidden)",
                    MLPConfig(hidden=256, dropout=0.2),
                    TrainConfig(epochs=10, validation="holdout"),
                    report=dict(accuracy=0.8799, macro_precision=0.8828, macro_f1=0.8781),
                ),
            ),
            view="d",
            seeds=3,
            numbers={"overfit_epoch": 4},
            about="Report D: 10 epochs with a held-out validation split, then scikit-learn's classification "
            "report on the test set. The CNN over-fits after about epoch 4.",
        )
    )
    e_runs = [
        StudyRun(
            k,
            label,
            m,
            E_AE,
            params={"n": 64},
            report={"final_train_loss": tr, "final_val_loss": va},
        )
        for k, label, m, (tr, va) in E_STEPS
    ]
    e_runs += [
        StudyRun(
            "clf",
            "encoder + FC 10 (Adam)",
            ClassifierConfig(**E_ENC),
            TrainConfig(epochs=30),
            encoder="wide",
            report=dict(
                final_train_acc=0.9812, final_val_acc=0.9127, final_train_loss=0.0531, final_val_loss=0.3312
            ),
        ),
        StudyRun(
            "clf-fc",
            "+ hidden FC layer (Adam)",
            ClassifierConfig(**E_ENC, head_hidden=128),
            TrainConfig(epochs=30),
            encoder="wide",
            report=dict(
                final_train_acc=0.9806, final_val_acc=0.9083, final_train_loss=0.0520, final_val_loss=0.4182
            ),
        ),
        StudyRun(
            "clf-fc-sgd",
            "+ hidden FC layer (SGD)",
            ClassifierConfig(**E_ENC, head_hidden=128),
            TrainConfig(optimizer="sgd", lr=1e-3, epochs=30),
            encoder="wide",
            report=dict(
                final_train_acc=0.9465, final_val_acc=0.9148, final_train_loss=0.1529, final_val_loss=0.2463
            ),
        ),
    ]
    s.append(
        Study(
            "e",
            "Step-by-step tuning",
            "E",
            "Which changes lower a convolutional autoencoder's error, and how do "
            "classifiers on the tuned encoder compare (Adam vs SGD)?",
            tuple(e_runs),
            view="e",
            seeds=3,
            about="Report E: cumulative changes over 30 epochs (batch 100, lr 1e-3), then three classifiers on the "
            "tuned encoder. Its baseline had no linear code layer; ours keeps n=64 throughout. The hidden FC "
            "layer has 128 units (the report does not say); SGD uses lr 1e-3 as stated, no momentum.",
        )
    )
    label_about = (
        "Report A found that pre-training does not help with all 60,000 labels. Here the autoencoder "
        "sees the 54,000 training images (unlabelled) but the classifier only a seeded fraction of their "
        "labels (1% = 540 images), with more epochs for the smaller fractions. Every run validates on the "
        "same held-out 6,000 training images and keeps its lowest-validation-loss epoch; the test set is "
        "read once, for the accuracy shown."
    )
    s.append(
        Study(
            "label",
            "Label efficiency (beyond the reports)",
            "beyond",
            "With only a few labelled images, does the "
            "pretrained encoder help? Accuracy against the fraction of training labels used.",
            _label_runs(final_relu=True),
            view="label",
            seeds=3,
            about=label_about,
        )
    )
    s.append(
        Study(
            "label-norelu",
            "Label efficiency without the final ReLU",
            "beyond",
            "Does the pretrained encoder still help with few labels once no class can die? The label study "
            "again, with the classifiers' logits going straight to the softmax.",
            _label_runs(final_relu=False, seeds={0.01: 8, 0.1: 8, 1.0: 8}),
            view="label",
            seeds=3,
            about=label_about
            + " The reports put a ReLU before the softmax: a class whose logit turns negative "
            "for every image is never predicted again, which the label study's random-init runs often hit. "
            "Here the classifiers have no final ReLU (same encoder run, same seeds, same fractions).",
        )
    )
    s.append(
        Study(
            "beyond-pca",
            "Beyond PCA: which design choices buy what",
            "beyond",
            "PCA with n components is the best a linear code can do. At the reports' widths, can a conv "
            "autoencoder beat it clearly, and which change to the reports' layout buys how much?",
            _pca_runs(),
            view="pca",
            seeds=3,
            about="From the reports' layout (16/32 filters, unpadded 3×3 convs, a ReLU and dropout on the "
            "code) to a modern one, one change at a time, each kept for the next: padded convs that keep a "
            "7×7 map with a decoder that mirrors them, dropout off, a linear code, batch norm, a one-cycle "
            "schedule (max lr 3e-3), and batch 64 instead of 128. 10 epochs each (Adam, lr 1e-3 until the "
            "one-cycle step), at n = 32, 64 and 128, each beside PCA with as many components on the same "
            "test images.",
            numbers={"goals": PCA_GOALS},
        )
    )
    s.append(
        Study(
            "record",
            "A classifier record for this machine",
            "beyond",
            "How accurate a classifier can a 2-core CPU train in 10 minutes, and in 2?",
            (
                StudyRun(
                    "10min",
                    "32/64 filters, n=256, 20 epochs (10-minute budget)",
                    ClassifierConfig(latent_dim=256, channels=(32, 64), **RECORD_MODEL),
                    RECORD_TRAIN,
                    params={"minutes": 10},
                ),
                *_record_2min(),
            ),
            view="record",
            seeds=1,
            about="The reports' conv classifier with what they did not use: padded convs (a 7×7 map), batch "
            "norm, a linear code, a hidden layer in the head, no final ReLU and no dropout, trained with "
            "random shifts and mirror images, label smoothing 0.1, weight decay 5e-4 and a one-cycle "
            "schedule up to lr 3e-3 at batch 128. Selected on the held-out split; the test set read once. "
            "The record is timed with the train command (both cores, nothing else running): a study sweep "
            "trains each run on one core and takes longer.",
            numbers={"minutes": RECORD_MINUTES, "goals": {"10min": 0.93}},  # test accuracy
        )
    )
    return {study.name: study for study in s}


STUDIES: dict[str, Study] = _define()


def get_study(name: str) -> Study:
    """A study by its name (case-insensitive); ConfigError naming the choices otherwise."""
    study = STUDIES.get(name.lower().strip())
    if study is None:
        raise ConfigError(
            f"unknown study {name!r}; choose one of {', '.join(STUDIES)} "
            "(`python -m fmnist_core study` lists them)"
        )
    return study

"""Frozen config dataclasses: one per model kind, plus TrainConfig.

Every config converts to and from a plain dict (JSON in run folders); unknown keys and
out-of-range values raise ConfigError with a message that says what to change.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from .errors import ConfigError  # noqa: F401  (re-exported)
from .settings import check_config, setting, settings_of


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ConfigError(msg)


def _typed(kind: str, name: str, value: Any, default: Any) -> Any:
    """Check a value read from JSON against the type of the field's default (a hand-edited file)."""
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
        tuple: lambda v: (
            isinstance(v, (list, tuple)) and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
        ),
    }[type(default)]
    _check(
        ok(value),
        f"{kind} config: {name} must be a {type(default).__name__} like {default!r} (got {value!r})",
    )
    if isinstance(default, tuple):
        return tuple(value)
    return float(value) if isinstance(default, float) else value


class _Base:
    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {"kind": self.kind, **{k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        d = dict(d)
        kind = d.pop("kind", cls.kind)
        _check(kind == cls.kind, f"config kind {kind!r} is not {cls.kind!r}")
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - names)
        _check(not unknown, f"unknown {cls.kind} config keys: {', '.join(unknown)}")
        defaults = cls()
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name in d:
                d[f.name] = _typed(cls.kind, f.name, d[f.name], getattr(defaults, f.name))
        return cls(**d)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def __post_init__(self):
        # the ranges and choices of every field are the settings schema's (settings.py)
        check_config("train" if self.kind == "train" else "model", self.kind, self)


@dataclass(frozen=True)
class ConvAEConfig(_Base):
    """Report A's convolutional autoencoder and the variants of reports C and E."""

    kind: ClassVar[str] = "conv_ae"
    latent_dim: int = 64  # n, size of the code
    dropout: float = 0.2  # p after every ReLU
    channels: tuple[int, int] = (16, 32)  # conv filters; report E's best: (64, 96)
    batch_norm: bool = False  # BatchNorm before each pooling (report E)
    second_pool: str = "max"  # "max" | "avg" (report E)
    decoder: str = "output_padding"  # "output_padding" (A, C) | "kernel" (C's AE 4)
    dropout_mode: str = (
        "element"  # "element" (the reports) | "channel" (Dropout2d on maps: a different, faster model)
    )
    padding: str = (
        "valid"  # "valid": maps 28 -> 13 -> 5 (the reports) | "same": 28 -> 14 -> 7, mirrored decoder
    )
    code_activation: str = "relu"  # "relu" on the code (the reports) | "linear"

    def __post_init__(self):
        _check(
            len(self.channels) == 2, f"channels must be two numbers between 1 and 512 (got {self.channels})"
        )
        _check(
            self.padding == "valid" or self.decoder == "output_padding",
            "the decoder's last layer is a choice of the unpadded layout only: with padding 'same' the "
            "decoder mirrors the encoder (leave decoder at 'output_padding')",
        )
        super().__post_init__()


@dataclass(frozen=True)
class DenseAEConfig(_Base):
    """Report B's one-hidden-layer autoencoder 784 -> n -> 784."""

    kind: ClassVar[str] = "dense_ae"
    latent_dim: int = 512
    dropout: float = 0.1


@dataclass(frozen=True)
class ClassifierConfig(_Base):
    """A conv encoder (same options as ConvAEConfig) plus a linear head.

    encoder_run: the autoencoder run whose encoder weights are copied, or "random".
    """

    kind: ClassVar[str] = "classifier"
    latent_dim: int = 64
    dropout: float = 0.2  # may differ from the autoencoder's (report A's third variant)
    channels: tuple[int, int] = (16, 32)
    batch_norm: bool = False
    second_pool: str = "max"
    dropout_mode: str = "element"
    padding: str = "valid"
    code_activation: str = "relu"
    encoder_run: str = "random"
    freeze_encoder: bool = False  # report C's C8
    head_hidden: int = 0  # 0: Linear(n->10); else Linear(n->h), ReLU, Linear(h->10) (report E)
    final_relu: bool = True  # ReLU before the softmax (reports A, C)

    def __post_init__(self):
        super().__post_init__()
        _check(bool(self.encoder_run), "encoder_run must be an autoencoder run id or 'random'")
        self.encoder_config()  # the encoder's own checks (channels, pooling, ...)

    @property
    def pretrained(self) -> bool:
        return self.encoder_run != "random"

    def encoder_config(self) -> ConvAEConfig:
        """The conv autoencoder whose encoder this classifier has (or copies)."""
        return ConvAEConfig(**encoder_arch(self), dropout=self.dropout, dropout_mode=self.dropout_mode)


@dataclass(frozen=True)
class CNNConfig(_Base):
    """Report D's deep CNN (two conv blocks with BatchNorm, then 864 -> 600 -> 100 -> 10)."""

    kind: ClassVar[str] = "cnn"
    dropout: float = 0.4


@dataclass(frozen=True)
class MLPConfig(_Base):
    """Report D's comparison: one hidden layer 784 -> h -> 10."""

    kind: ClassVar[str] = "mlp"
    hidden: int = 256
    dropout: float = 0.2


MODEL_CONFIGS: dict[str, type[ModelConfig]] = {
    c.kind: c for c in (ConvAEConfig, DenseAEConfig, ClassifierConfig, CNNConfig, MLPConfig)
}
AUTOENCODER_KINDS = ("conv_ae", "dense_ae")
CLASSIFIER_KINDS = ("classifier", "cnn", "mlp")
KIND_LABELS = {
    "conv_ae": "conv autoencoder",
    "dense_ae": "dense autoencoder",
    "classifier": "classifier",
    "cnn": "deep CNN",
    "mlp": "MLP",
}
# the command line's words for the kinds (`train autoencoder`, `search --model cnn`)
CLI_KINDS = {
    "autoencoder": "conv_ae",
    "dense-autoencoder": "dense_ae",
    "classifier": "classifier",
    "cnn": "cnn",
    "mlp": "mlp",
}
# What a classifier must share with the conv autoencoder whose encoder it copies.
ENCODER_ARCH = ("latent_dim", "channels", "batch_norm", "second_pool", "padding", "code_activation")
PRECISIONS = tuple(setting("train", "precision").choices)
OPTIMIZER_LABELS = setting("train", "optimizer").choices  # the optimizers TrainConfig takes, as shown
ModelConfig = ConvAEConfig | DenseAEConfig | ClassifierConfig | CNNConfig | MLPConfig


def model_config(kind: str, **choices: Any) -> ModelConfig:
    """A model config of `kind` from a user's flat choices (a form, the command line): the options of
    other kinds are ignored, those left out (or None) take the config's defaults, and a name that is no
    kind's option is refused (a typo must not fall back to a default silently)."""
    _check(kind in MODEL_CONFIGS, f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_CONFIGS)}")
    known = {f.name for c in MODEL_CONFIGS.values() for f in fields(c)}
    unknown = sorted(set(choices) - known)
    _check(not unknown, f"unknown model option(s): {', '.join(unknown)}")
    cls = MODEL_CONFIGS[kind]
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in choices.items() if k in names and v is not None})


def latent_of(cfg: ModelConfig) -> int | None:
    """The code size n of a model that has one (the autoencoders and the classifier), else None."""
    return cfg.latent_dim if isinstance(cfg, (ConvAEConfig, DenseAEConfig, ClassifierConfig)) else None


def encoder_arch(cfg: ConvAEConfig | ClassifierConfig) -> dict[str, Any]:
    """The ENCODER_ARCH fields of a config: equal for an autoencoder and a classifier that copies it."""
    return {k: getattr(cfg, k) for k in ENCODER_ARCH}


def model_config_from_dict(d: dict[str, Any]) -> ModelConfig:
    """Rebuild a model config from its dict; the 'kind' key picks the class."""
    kind = d.get("kind")
    if not isinstance(kind, str) or kind not in MODEL_CONFIGS:
        raise ConfigError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_CONFIGS)}")
    return MODEL_CONFIGS[kind].from_dict(d)


@dataclass(frozen=True)
class TrainConfig(_Base):
    """Every training hyperparameter, with its unit."""

    kind: ClassVar[str] = "train"
    optimizer: str = "adam"  # "adam" (eps 1e-8) | "sgd"
    lr: float = 1e-3  # learning rate
    momentum: float = 0.0  # SGD only
    batch_size: int = 100  # images per step
    epochs: int = 20  # maximum number of passes over the training set
    seed: int = 0  # weights init, batch order, dropout masks
    patience: int = 0  # early stopping: epochs without val_loss improvement; 0 = off
    min_delta: float = 0.0  # early stopping: smallest improvement that counts
    restore_best: bool = True  # keep the weights of the epoch with the best val_loss
    validation: str = "holdout"  # "holdout": select on the fixed held-out split of train (data.py) |
    # "test": select on the official test set, the reports' method (it selects on the figure it reports)
    val_fraction: float = 0.1  # holdout only: stratified fraction of the training set held out
    limit: int = 0  # train on the first N training images; 0 = all
    train_fraction: float = 1.0  # use a seeded fraction of the (limited) training set (label efficiency)
    val_images: int = 0  # validation images per epoch; 0 = auto: the whole held-out split, or for a
    # fraction of the training set the same fraction of it (a fixed stratified sample)
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "mps"
    precision: str = "fp32"  # "fp32" (the reports) | "bf16": training steps under bfloat16 autocast,
    # faster where the hardware has bf16 units (AVX-512 BF16 / AMX CPUs, GPUs); a different computation
    schedule: str = "constant"  # "constant" (the reports) | "onecycle": warm up to lr, then anneal
    weight_decay: float = 0.0  # decoupled (AdamW with Adam); 0 = off
    label_smoothing: float = 0.0  # classifiers only
    augment: str = "none"  # classifiers only: "none" | "shift_flip" (shifts of up to 2 px, mirror images)

    def __post_init__(self):
        super().__post_init__()
        _check(
            self.device in ("auto", "cpu", "cuda", "mps") or self.device.startswith("cuda:"),
            f"device must be auto, cpu, cuda or mps (got {self.device!r})",
        )


@dataclass(frozen=True)
class RunSpec:
    """What a training job needs: the model, the training hyperparameters, an optional run id."""

    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str | None = None

    def __post_init__(self):
        # a training setting for other kinds of model (label smoothing for an autoencoder) is refused,
        # not ignored: a run must do what its config says
        for s in settings_of("train"):
            value = getattr(self.train, s.name)
            if not s.applies(self.model.kind) and value != getattr(TrainConfig(), s.name):
                kinds = ", ".join(KIND_LABELS[k] for k in s.kinds)
                raise ConfigError(
                    f"{s.words} applies to {kinds} only; leave it at its default for a "
                    f"{KIND_LABELS[self.model.kind]}"
                )

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model.to_dict(), "train": self.train.to_dict(), "name": self.name}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        unknown = sorted(set(d) - {"model", "train", "name"})
        _check(not unknown, f"unknown run spec keys: {', '.join(unknown)}")
        return cls(
            model_config_from_dict(d["model"]), TrainConfig.from_dict(d.get("train", {})), d.get("name")
        )


def config_key(model: dict, train: dict, ignore: Iterable[tuple[str, str]] = (("train", "device"),)) -> str:
    """Model and train configs (as dicts) as one canonical string, without the ignored (section, key)s:
    two runs with equal keys are the same experiment (by default wherever they were trained)."""
    ignore = set(ignore)
    parts = {
        sec: {k: v for k, v in d.items() if (sec, k) not in ignore}
        for sec, d in (("model", model), ("train", train))
    }
    return json.dumps(parts, sort_keys=True)

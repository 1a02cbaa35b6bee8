"""A search space: `--param NAME=LOW:HIGH[:log|:int]` or `--param NAME=a,b,c`, checked against the settings
schema (settings.py) before anything runs, and turned into Optuna distributions and trial run specs.

NAME is the train command's option without its dashes (`lr`, `batch-size`, `latent`, `no-final-relu`), so
a search speaks the same words as `train`; the schema says which model kinds have the setting, its range
and its choices, and every bound and choice is checked against it here: a value the schema refuses would
otherwise only fail trials, one by one, minutes into the search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ..config import (
    CLI_KINDS,
    ENCODER_ARCH,
    KIND_LABELS,
    MODEL_CONFIGS,
    ConvAEConfig,
    RunSpec,
    TrainConfig,
    encoder_arch,
    model_config,
)
from ..errors import ConfigError
from ..registry import Registry, validate_run_id
from ..settings import SETTINGS, Setting, settings_of

# Options of `train` that a search sets itself, or that would make its trials incomparable.
NOT_SEARCHED = {
    "epochs": "the search's own --epochs sets every trial's epochs",
    "limit": "the search's own --limit sets every trial's training images",
    "validation": "trials are compared on the fixed held-out split (validation holdout)",
    "device": "the device is where a trial runs, not a hyperparameter",
}
BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
Value = bool | int | float | str  # what Optuna's categorical distribution stores


def option(s: Setting) -> str:
    """The setting's name on a search's command line: its train option without dashes."""
    return (s.flag or "").lstrip("-")


def searchable(kind: str) -> dict[str, Setting]:
    """The settings a search of `kind` may vary, by option name."""
    found = {}
    for section in ("model", "train"):
        for s in settings_of(section, kind):
            if s.flag and option(s) not in NOT_SEARCHED:
                found[option(s)] = s
    return found


def _default(s: Setting, kind: str) -> Any:
    """The config's default for a setting: its type is the type a value must have."""
    return getattr(TrainConfig() if s.section == "train" else MODEL_CONFIGS[kind](), s.name)


@dataclass(frozen=True)
class Param:
    """One searched setting: a range (low, high, log) or choices, in the words of the command line."""

    name: str  # the option, e.g. "lr", "batch-size"
    section: str  # the setting's section and field in the schema
    field: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False  # a whole-number setting: an IntDistribution
    choices: tuple[Value, ...] = ()

    @property
    def setting(self) -> Setting:
        return next(s for s in SETTINGS if (s.section, s.name) == (self.section, self.field))

    def text(self) -> str:
        """The canonical `NAME=...` form: what the study stores, and what a changed space is named by."""
        if self.choices:
            return f"{self.name}=" + ",".join(_show(v) for v in self.choices)
        assert self.low is not None and self.high is not None
        return f"{self.name}={_show(self.low)}:{_show(self.high)}" + (":log" if self.log else "")

    def distribution(self) -> BaseDistribution:
        if self.choices:
            return CategoricalDistribution(self.choices)
        assert self.low is not None and self.high is not None
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(self.low, self.high, log=self.log)

    def config_value(self, value: Value) -> Any:
        """A value Optuna drew, as the config field holds it: a flag such as --keep-last is the opposite of
        its field (restore_best), and a pair of filters is drawn as the text "16x32"."""
        s = self.setting
        if s.invert_flag:
            return not value
        if isinstance(value, str) and self.field == "channels":
            return tuple(int(c) for c in value.split("x"))
        return value


def _show(v: Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def _lookup(name: str, kind: str) -> Setting:
    """The setting an option names, or a ConfigError saying why it cannot be searched for this kind."""
    name = name.replace("_", "-")
    if name in NOT_SEARCHED:
        raise ConfigError(f"--param {name}: not searchable: {NOT_SEARCHED[name]}")
    found = searchable(kind).get(name)
    if found is not None:
        return found
    other = next((s for s in SETTINGS if s.flag and option(s) == name), None)
    if other is not None:
        has = ", ".join(KIND_LABELS[k] for k in other.kinds)
        raise ConfigError(f"--param {name}: a {KIND_LABELS[kind]} has no such setting ({has} only)")
    raise ConfigError(
        f"--param {name}: unknown setting; a {KIND_LABELS[kind]} has {', '.join(sorted(searchable(kind)))}"
    )


def _parse_value(text: str, s: Setting, kind: str, name: str) -> Value:
    """One value of the command line as the setting's type (channels: the text "16x32")."""
    default = _default(s, kind)
    text = text.strip()
    try:
        if isinstance(default, bool):
            if text.lower() not in BOOLS:
                raise ValueError
            return BOOLS[text.lower()]
        if isinstance(default, tuple):
            pair = tuple(int(c) for c in text.lower().split("x"))
            if len(pair) != 2:
                raise ValueError
            return f"{pair[0]}x{pair[1]}"
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            v = float(text)
            if not math.isfinite(v):
                raise ValueError
            return v
    except ValueError:
        want = {bool: "true or false", tuple: "two filter counts like 16x32", int: "a whole number"}
        raise ConfigError(f"--param {name}: {text!r} is not {want.get(type(default), 'a number')}") from None
    if not text:
        raise ConfigError(f"--param {name}: an empty value")
    return text


def _check_value(p: Param, v: Value) -> None:
    """The schema's range and choices for one value (prefixed with the option, to say which --param)."""
    try:
        p.setting.check(p.config_value(v))
        if p.field == "encoder_run" and v != "random":
            validate_run_id(str(v))
    except (ConfigError, ValueError, RuntimeError) as e:
        raise ConfigError(f"--param {p.name}: {e}") from None


def parse_param(text: str, kind: str) -> Param:
    """`NAME=LOW:HIGH[:log][:int]` (a range) or `NAME=a,b,c` (choices; one value fixes the setting)."""
    name, eq, value = text.partition("=")
    if not eq or not name.strip() or not value.strip():
        raise ConfigError(f"--param needs NAME=LOW:HIGH[:log|:int] or NAME=a,b,c (got {text!r})")
    s = _lookup(name.strip(), kind)
    name = option(s)
    if ":" in value:
        return _parse_range(name, s, kind, value)
    items = [v for v in value.split(",")]
    if any(not v.strip() for v in items):
        raise ConfigError(f"--param {name}: an empty choice in {value!r}")
    choices = tuple(_parse_value(v, s, kind, name) for v in items)
    if len(set(choices)) < len(choices):
        raise ConfigError(f"--param {name}: a choice is given twice in {value!r}")
    p = Param(name, s.section, s.name, choices=tuple(sorted(choices, key=_sort_key)))
    for v in p.choices:
        _check_value(p, v)
    return p


def _sort_key(v: Value) -> tuple:
    return (str(type(v)), v)


def _parse_range(name: str, s: Setting, kind: str, value: str) -> Param:
    low_text, high_text, *flags = value.split(":")
    default = _default(s, kind)
    numeric = isinstance(default, (int, float)) and not isinstance(default, bool) and s.low is not None
    if not numeric:
        what = "choices like 16x32,32x64" if isinstance(default, tuple) else "choices (a,b,c)"
        raise ConfigError(f"--param {name}: not a number; give {what}, not a range")
    bad = [f for f in flags if f not in ("log", "int")]
    if bad or len(set(flags)) < len(flags):
        raise ConfigError(f"--param {name}: a range ends in :log, :int or both (got {value!r})")
    integer = isinstance(default, int)
    if "int" in flags and not integer:
        raise ConfigError(f"--param {name}: {s.words} is not a whole number; drop :int")
    low, high = (_parse_value(t, s, kind, name) for t in (low_text, high_text))
    assert isinstance(low, (int, float)) and isinstance(high, (int, float))
    if low == high:
        raise ConfigError(
            f"--param {name}: the range {value!r} is empty; give LOW < HIGH, or one value ({name}={low_text})"
        )
    if low > high:
        raise ConfigError(f"--param {name}: the range {value!r} is inverted; give LOW < HIGH")
    log = "log" in flags
    if log and low <= 0:
        raise ConfigError(f"--param {name}: a log range must lie above 0 (got {value!r})")
    p = Param(name, s.section, s.name, low=low, high=high, log=log, integer=integer)
    _check_value(p, low)
    _check_value(p, high)
    return p


def parse_space(texts: list[str], kind: str) -> tuple[Param, ...]:
    """Every --param of a search, sorted by name; a setting named twice or no setting at all is refused."""
    if not texts:
        raise ConfigError("give at least one --param NAME=LOW:HIGH or NAME=a,b,c to search over")
    space = [parse_param(t, kind) for t in texts]
    names = [p.name for p in space]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"--param {twice[0]} is given twice; give each setting once")
    _check_encoder_arch(space)
    return tuple(sorted(space, key=lambda p: p.name))


def _check_encoder_arch(space: list[Param]) -> None:
    """A pretrained encoder fixes the classifier's code size and conv layers: searching them with it is a
    contradiction, refused as the train command refuses --latent unequal to the encoder's."""
    encoder = next((p for p in space if p.field == "encoder_run"), None)
    if encoder is None or set(encoder.choices) == {"random"}:
        return
    arch = [p.name for p in space if p.field in ENCODER_ARCH]
    if arch:
        raise ConfigError(
            f"--param {arch[0]}: a pretrained encoder fixes it; search it with --param encoder=random only"
        )


def check_encoders(space: tuple[Param, ...], registry: Registry) -> None:
    """The encoder runs a classifier search names exist and are conv autoencoders (RunError/ConfigError)."""
    for p in space:
        if p.field != "encoder_run":
            continue
        for run_id in p.choices:
            if run_id != "random" and registry.get(str(run_id)).kind != "conv_ae":
                raise ConfigError(f"--param {p.name}: run {run_id!r} is not a convolutional autoencoder")


def trial_spec(
    kind: str,
    space: tuple[Param, ...],
    params: dict[str, Value],
    epochs: int,
    limit: int,
    registry: Registry,
    name: str | None = None,
) -> RunSpec:
    """The run spec of one trial: the train command's defaults, the values drawn, the search's epochs and
    limit (a ConfigError for a combination the configs refuse, e.g. padding same with decoder kernel)."""
    model: dict[str, Any] = {}
    train: dict[str, Any] = {"epochs": epochs, "limit": limit}
    for p in space:
        (model if p.section == "model" else train)[p.field] = p.config_value(params[p.name])
    encoder = model.get("encoder_run")
    if encoder and encoder != "random":  # the classifier takes its encoder run's code size and layers
        ae = registry.get(encoder).spec().model
        assert isinstance(ae, ConvAEConfig)
        model.update(encoder_arch(ae))
    return RunSpec(model_config(kind, **model), TrainConfig(**train), name)


def train_command(spec: RunSpec) -> str:
    """The train command that trains the same run alone: recorded in the trial's run as its command."""
    cli_kind = next(k for k, v in CLI_KINDS.items() if v == spec.model.kind)
    words = ["python -m fmnist_core train", cli_kind]
    for config, defaults, section in (
        (spec.model, MODEL_CONFIGS[spec.model.kind](), "model"),
        (spec.train, TrainConfig(), "train"),
    ):
        for s in settings_of(section, spec.model.kind):
            value = getattr(config, s.name)
            if not s.flag or value == getattr(defaults, s.name):
                continue
            if isinstance(value, bool):
                words.append(s.flag)  # a store_true flag, or an inverted one (--keep-last) for False
            else:
                words += [s.flag, " ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)]
    return " ".join(words)

"""check_study: is a study's definition consistent (run keys and names, encoders, configs, view)?"""

from __future__ import annotations

from ..config import ENCODER_ARCH, ClassifierConfig, RunSpec
from ..errors import ConfigError
from ..registry import RUN_ID_RE
from .catalog import Study, StudyRun
from .plan import _run_name
from .views import VIEWS


def check_study(study: Study, max_seeds: int = 100) -> None:
    """Raise ConfigError if a study's definition is inconsistent: keys, names, dependencies, configs."""
    seen: dict[str, StudyRun] = {}
    for t in study.runs:
        if t.key in seen:
            raise ConfigError(f"study {study.name}: run key {t.key!r} is used twice")
        RunSpec.from_dict(RunSpec(t.model, t.train).to_dict())  # every config valid and round-trips
        longest = _run_name(study, t, max_seeds - 1, 1000, 60000) + "-999"
        if not RUN_ID_RE.fullmatch(longest):
            raise ConfigError(f"study {study.name}: run name {longest!r} is not a valid run id")
        if t.encoder is not None:
            enc = seen.get(t.encoder)
            if enc is None:
                raise ConfigError(
                    f"study {study.name}: {t.key} takes its encoder from {t.encoder!r}, "
                    "which is not an earlier run of the study"
                )
            if t.model.kind != "classifier" or enc.model.kind != "conv_ae":
                raise ConfigError(f"study {study.name}: {t.key} must be a classifier on a conv autoencoder")
            for k in ENCODER_ARCH:
                if getattr(enc.model, k) != getattr(t.model, k):
                    raise ConfigError(
                        f"study {study.name}: {t.key}'s {k} differs from its encoder {enc.key}'s"
                    )
        elif isinstance(t.model, ClassifierConfig) and t.model.encoder_run != "random":
            raise ConfigError(
                f"study {study.name}: {t.key} names encoder run {t.model.encoder_run!r} directly; "
                "use `encoder=` with a study run so the plan can resolve it"
            )
        seen[t.key] = t
    if study.view not in VIEWS:
        raise ConfigError(f"study {study.name}: unknown view {study.view!r}")

"""A study's time to finish: the missing runs from a calibration, the running ones at their own pace."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from fmnist_core.config import ConvAEConfig, MLPConfig, RunSpec, TrainConfig
from fmnist_core.estimate import plan_seconds


def _planned(status: str, kind_cfg, epochs_done: int = 0, pace: float | None = None):
    info = NS(summary={"seconds_per_epoch": pace}) if pace else None
    return NS(
        status=status, epochs_done=epochs_done, info=info, spec=RunSpec(kind_cfg, TrainConfig(epochs=10))
    )


def test_plan_seconds_adds_missing_runs_and_the_rest_of_running_ones():
    plan = NS(
        runs=[
            _planned("done", ConvAEConfig()),
            _planned("missing", ConvAEConfig()),
            _planned("interrupted", ConvAEConfig(), epochs_done=4),  # 6 of its 10 epochs to go
            _planned("running", ConvAEConfig(), epochs_done=7, pace=3.0),
            _planned("missing", MLPConfig()),
        ]
    )
    seconds = {"conv_ae": 100.0, "mlp": None}
    total, unknown = plan_seconds(plan, lambda spec: seconds[spec.model.kind])
    assert total == pytest.approx(100 + 100 * 0.6 + 3 * 3)
    assert unknown == ["MLP"]


def test_the_evaluation_after_training_is_counted(ds):
    """A quick run spends most of its time on the evaluations after its last epoch (for an autoencoder,
    every noise level the Reconstructions page offers): the estimate counts them."""
    from fmnist_core.config import ConvAEConfig, MLPConfig, RunSpec, TrainConfig
    from fmnist_core.estimate import estimate_seconds, evaluation_seconds

    quick = TrainConfig(train_fraction=0.01, epochs=3, device="cpu")
    ae, mlp = RunSpec(ConvAEConfig(), quick), RunSpec(MLPConfig(), quick)
    assert evaluation_seconds(ae, ds) > estimate_seconds(ae, ds)  # the noise grid outweighs 3 tiny epochs
    assert evaluation_seconds(ae, ds) > 3 * evaluation_seconds(mlp, ds) > 0

"""Figure builders: what a reader of the axes sees (no browser needed)."""

from __future__ import annotations

import math

import numpy as np

from fmnist_core.plots import NEUTRAL, curves_figure, histogram_figure, sweep_figure
from fmnist_core.plots.style import ticks_125


def test_ticks_at_1_2_5_steps_cover_the_values():
    assert ticks_125(0.007, 0.04) == [0.005, 0.01, 0.02, 0.05]
    assert ticks_125(0.3, 0.3) == [0.2, 0.5]


def test_a_log_scale_loss_axis_has_labelled_ticks_inside_a_decade():
    history = [{"epoch": e, "train_loss": 0.04 / e, "val_loss": 0.045 / e} for e in range(1, 6)]
    fig = curves_figure([{"name": "run", "history": history}], "loss", log_y=True)
    assert fig.layout.yaxis.type == "log"
    assert list(fig.layout.yaxis.tickvals) == [0.005, 0.01, 0.02, 0.05]
    assert list(fig.layout.yaxis.ticktext) == ["0.005", "0.01", "0.02", "0.05"]
    assert curves_figure([{"name": "run", "history": history}], "loss").layout.yaxis.tickvals is None


def test_a_log_histogram_labels_its_ticks_with_the_values():
    fig = histogram_figure(np.array([0.01, 0.02, 0.03]), "MSE", marker=0.1, log_x=True)
    vals, text = fig.layout.xaxis.tickvals, fig.layout.xaxis.ticktext
    assert [float(t) for t in text] == [round(10**v, 12) for v in vals]
    assert "0.01" in text and "0.1" in text and all(math.isfinite(v) for v in vals)


def test_the_reports_points_are_the_neutral_grey():
    series = [
        {"name": "ours", "y": [0.03, 0.02]},
        {"name": "report A", "y": [0.037, 0.031], "style": "report"},
    ]
    fig = sweep_figure([64, 128], series, "n", "MSE")
    report = [t for t in fig.data if t.name == "report A"]
    assert report and report[0].marker.color == NEUTRAL

"""One image through the lab's models: each classifier's probabilities, and how familiar the image looks
to an autoencoder (its reconstruction error against the test images'). The Classify page and
`python -m fmnist_core predict` both answer with these."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .evaluate import percentile_of, predict_proba, reconstruct
from .files import CLASS_NAMES
from .metrics import mse

FAMILIAR, UNUSUAL = 90.0, 99.0  # percentiles of the test images' error: up to FAMILIAR is familiar


@dataclass(frozen=True)
class Guess:
    probs: np.ndarray  # (10,) class probabilities

    @property
    def index(self) -> int:
        return int(self.probs.argmax())

    @property
    def label(self) -> str:
        return CLASS_NAMES[self.index]

    @property
    def confidence(self) -> float:
        return float(self.probs[self.index])


@dataclass(frozen=True)
class Familiarity:
    mse: float  # the image's reconstruction error
    percentile: float  # percent of the test images reconstructed better
    recon: torch.Tensor  # (1, 1, 28, 28) what the autoencoder made of it

    @property
    def verdict(self) -> str:
        """'familiar', 'unusual' (a classifier's answer is a guess) or 'foreign' (it means little)."""
        if self.percentile <= FAMILIAR:
            return "familiar"
        return "unusual" if self.percentile <= UNUSUAL else "foreign"


def classify(models: dict[str, nn.Module], x: torch.Tensor) -> dict[str, Guess]:
    """Each classifier's guess for one image x (1, 1, 28, 28) in [0, 1]."""
    return {name: Guess(predict_proba(m, x)[0].numpy()) for name, m in models.items()}


def familiarity(autoencoder: nn.Module, x: torch.Tensor, test_mse: np.ndarray) -> Familiarity:
    """How x's reconstruction error ranks among the test images' (`test_mse`, one per image)."""
    recon = reconstruct(autoencoder, x)
    err = mse(recon, x)
    return Familiarity(err, percentile_of(err, test_mse), recon)

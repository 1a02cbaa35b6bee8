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

    @property
    def verdict(self) -> str:
        """'familiar', 'unusual' (a classifier's answer is a guess) or 'foreign' (it means little)."""
        if self.percentile <= FAMILIAR:
            return "familiar"
        return "unusual" if self.percentile <= UNUSUAL else "foreign"


def classify(models: dict[str, nn.Module], x: torch.Tensor) -> dict[str, Guess]:
    """Each classifier's guess for one image x (1, 1, 28, 28) in [0, 1]."""
    return {name: Guess(predict_proba(m, x)[0].numpy()) for name, m in models.items()}


def reconstruction(autoencoder: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """What the autoencoder makes of one image x (1, 1, 28, 28), and the MSE between the two."""
    recon = reconstruct(autoencoder, x)
    return recon, mse(recon, x)


def familiarity(error: float, test_mse: np.ndarray) -> Familiarity:
    """How an image's reconstruction error ranks among the test images' (`test_mse`, one per image)."""
    return Familiarity(error, percentile_of(error, test_mse))


# what the Classify page says of the input after "The input …", by verdict
VERDICTS = {
    "familiar": "looks like Fashion-MNIST to it.",
    "unusual": "is unusual for it.",
    "foreign": "looks nothing like Fashion-MNIST to it, so the classifiers' answer means little.",
}


def answer_line(run_id: str, guess: Guess, true_label: str | None = None) -> str:
    """A classifier's answer in markdown, ticked or crossed where the true class is known (a test image):
    '**clf** says **Bag** (97.1%) ✓'."""
    mark = "" if true_label is None else " ✓" if guess.label == true_label else f" ✗ (it is a {true_label})"
    return f"**{run_id}** says **{guess.label}** ({100 * guess.confidence:.1f}%){mark}"


def familiarity_line(known: Familiarity, n_test: int) -> str:
    """How the input's reconstruction error ranks among the n_test test images', and what that means."""
    return (
        f"Reconstruction MSE **{known.mse:.4f}**: higher than {known.percentile:.1f}% of the "
        f"{n_test:,} test images. The input {VERDICTS[known.verdict]}"
    )

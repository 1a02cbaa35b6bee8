"""The Reconstructions page's choices and rows: which test images it shows, the rows of images (the
originals, the noisy input, each model's output) with their titles, and the test-set table of MSE and PSNR."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .config import KIND_LABELS
from .data import CLASS_NAMES, NOISES, sample_of_class
from .evaluate import reconstruct
from .files import sample_per_class
from .metrics import mse_per_image
from .models import config_of
from .registry import RunInfo

PICKS = ("one per class", "one class", "by index")
PICK_LABELS = {"one per class": "per class", "one class": "one class", "by index": "by index"}
MAX_INDICES = 12  # test images named by index: one row of twelve still fits a screen


def default_models(runs: Sequence[RunInfo], kinds: Sequence[str]) -> list[str]:
    """The autoencoders picked before the user picks: the first run of each kind, in the order of `kinds`."""
    return [next(r.run_id for r in runs if r.kind == k) for k in kinds if any(r.kind == k for r in runs)]


def parse_indices(text: str, n: int) -> list[int] | None:
    """Test image indices typed as whole numbers separated by commas or spaces (the first MAX_INDICES);
    None if there are none or one is not a whole number below n."""
    tokens = text.replace(",", " ").split()
    if not tokens or not all(t.isdigit() and int(t) < n for t in tokens):
        return None
    return [int(t) for t in tokens[:MAX_INDICES]]


def sampled_indices(pick: str, labels: torch.Tensor, seed: int, cls: int = 0) -> torch.Tensor:
    """The seeded sample of test images: one of each class (pick "one per class") or ten of class `cls`."""
    if pick == "one per class":
        return torch.from_numpy(sample_per_class(labels.numpy(), 1, seed))
    return sample_of_class(labels, cls, 10, seed)


def model_label(run_id: str, model: nn.Module) -> str:
    return f"{run_id} · {KIND_LABELS[config_of(model).kind]}"


def image_rows(
    clean: torch.Tensor,
    noisy: torch.Tensor,
    labels: torch.Tensor,
    models: dict[str, nn.Module],
    noise: str,
    level: float,
) -> list[tuple[str, torch.Tensor, list[str]]]:
    """(row label, images (k, 1, 28, 28), a title per image): the test images under their class, the noisy
    input (where the level is above 0) under its MSE, then each model's reconstruction under its MSE."""
    rows = [("Test images", clean, [CLASS_NAMES[int(c)] for c in labels])]
    if level > 0:
        label, unit = NOISES[noise].label, NOISES[noise].level
        titles = [f"in MSE {v:.3f}" for v in mse_per_image(noisy, clean)]
        rows.append((f"Noisy input ({label}, {unit} {level:g})", noisy, titles))
    for run_id, model in models.items():
        recon = reconstruct(model, noisy)
        rows.append(
            (model_label(run_id, model), recon, [f"MSE {v:.4f}" for v in mse_per_image(recon, clean)])
        )
    return rows


def at_level(curve: dict, grid: Sequence[float], level: float) -> dict[str, float]:
    """A cached noise curve's figures (mse, psnr, input_mse, input_psnr) at one level of its grid."""
    return {k: float(v[grid.index(level)]) for k, v in curve.items()}


def score_rows(tests: dict[str, dict], at: dict[str, dict], models: dict[str, nn.Module]) -> list[dict]:
    """Each autoencoder's MSE and PSNR on the test set from clean and from noisy input, then the noisy input
    itself against the clean image (the bar a denoiser must pass). tests: run -> its cached test entry;
    at: run -> its figures at the noise level shown."""
    rows: list[dict] = [
        {
            "model": run_id,
            "kind": KIND_LABELS[config_of(models[run_id]).kind],
            "MSE clean in": float(test["mse_per_image"].mean()),
            "PSNR clean in": float(test["psnr"]),
            "MSE noisy in": at[run_id]["mse"],
            "PSNR noisy in": at[run_id]["psnr"],
        }
        for run_id, test in tests.items()
    ]
    last = at[list(tests)[-1]]  # every run saw the same noisy images
    rows.append(
        {
            "model": "noisy input itself",
            "kind": "no model",
            "MSE clean in": 0.0,
            "PSNR clean in": None,
            "MSE noisy in": last["input_mse"],
            "PSNR noisy in": last["input_psnr"],
        }
    )
    return rows

"""Pure metric functions on tensors; the same keys everywhere (history, plots, tables, CLI JSON)."""
from __future__ import annotations

import math

import torch

from .data import CLASS_NAMES


def mse(recon: torch.Tensor, target: torch.Tensor) -> float:
    """Mean squared error over pixels and images (the reports' figure)."""
    return float(((recon.float() - target.float()) ** 2).mean())


def mse_per_image(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) mean squared error of each image."""
    return ((recon.float() - target.float()) ** 2).flatten(1).mean(1)


def psnr(recon: torch.Tensor, target: torch.Tensor, max_value: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of the mean squared error (inf for a perfect match)."""
    m = mse(recon, target)
    return math.inf if m == 0 else 10.0 * math.log10(max_value ** 2 / m)


def edge_errors(pixel_mse, width: int = 2) -> tuple[float, float]:
    """Mean of a (28, 28) per-pixel error map on the bottom/right border and on the top/left one.

    Report C's decoder stripes sit on the bottom and right edges; a ratio far above 1 shows them.
    """
    pm = torch.as_tensor(pixel_mse, dtype=torch.float64)
    far = torch.cat([pm[-width:].flatten(), pm[:-width, -width:].flatten()]).mean()
    near = torch.cat([pm[:width].flatten(), pm[width:, :width].flatten()]).mean()
    return float(far), float(near)


def accuracy(pred: torch.Tensor, labels: torch.Tensor) -> float:
    return float((pred == labels).float().mean()) if len(labels) else float("nan")


def confusion_matrix(pred: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """(C, C) counts: rows are true classes, columns predicted classes."""
    idx = labels.long() * num_classes + pred.long()
    return torch.bincount(idx, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """(C,) recall of each class from a confusion matrix."""
    return cm.diag().float() / cm.sum(1).clamp_min(1).float()


def normalize_rows(cm: torch.Tensor) -> torch.Tensor:
    """Row-normalised confusion matrix in percent."""
    return 100.0 * cm.float() / cm.sum(1, keepdim=True).clamp_min(1).float()


def classification_report(pred: torch.Tensor, labels: torch.Tensor) -> dict:
    """scikit-learn's report as a dict: per class and macro/weighted precision, recall, f1, support."""
    from sklearn.metrics import classification_report as sk_report
    return sk_report(labels.numpy(), pred.numpy(), labels=list(range(len(CLASS_NAMES))),
                     target_names=list(CLASS_NAMES), output_dict=True, zero_division=0)


def most_confused(cm: torch.Tensor, k: int = 5) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (true, predicted, count)."""
    off = cm.clone()
    off.fill_diagonal_(0)
    values, idx = off.flatten().topk(k)
    c = cm.shape[0]
    return [(int(i) // c, int(i) % c, int(v)) for v, i in zip(values, idx) if v > 0]

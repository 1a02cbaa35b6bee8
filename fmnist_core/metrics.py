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
    return math.inf if m == 0 else 10.0 * math.log10(max_value**2 / m)


def edge_errors(pixel_mse, width: int = 2) -> tuple[float, float]:
    """Mean of a (28, 28) per-pixel error map on the bottom/right border and on the top/left one.

    Report C's decoder stripes sit on the bottom and right edges; a ratio far above 1 shows them.
    """
    pm = torch.as_tensor(pixel_mse, dtype=torch.float64)
    far = torch.cat([pm[-width:].flatten(), pm[:-width, -width:].flatten()]).mean()
    near = torch.cat([pm[:width].flatten(), pm[width:, :width].flatten()]).mean()
    return float(far), float(near)


STRIPE_RATIO = 1.5  # a bottom/right border this much worse than the top/left one is striped


def edge_note(far: float, near: float, can_stripe: bool) -> str:
    """What the border errors say: report C's stripes are named only where the decoder can make them (a
    conv autoencoder with the output-padding decoder) and the ratio is high."""
    ratio = far / max(near, 1e-9)
    note = (
        f"Mean error on the two-pixel bottom/right border {far:.4f}, top/left {near:.4f} (ratio {ratio:.1f})"
    )
    if not can_stripe:
        return note + "."
    return note + (
        ": the output padding's stripes." if ratio >= STRIPE_RATIO else ": no stripes to speak of."
    )


def accuracy(pred: torch.Tensor, labels: torch.Tensor) -> float:
    return float((pred == labels).float().mean()) if len(labels) else float("nan")


def confusion_matrix(pred: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """(C, C) counts: rows are true classes, columns predicted classes."""
    idx = labels.long() * num_classes + pred.long()
    return torch.bincount(idx, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """(C,) recall of each class from a confusion matrix."""
    return cm.diag().float() / cm.sum(1).clamp_min(1).float()


def normalize_rows(cm: torch.Tensor) -> torch.Tensor:
    """Row-normalised confusion matrix in percent."""
    return 100.0 * cm.float() / cm.sum(1, keepdim=True).clamp_min(1).float()


def classification_report(pred: torch.Tensor, labels: torch.Tensor) -> dict:
    """scikit-learn's report as a dict: per class and macro/weighted precision, recall, f1, support."""
    return report_from_confusion(confusion_matrix(pred, labels))


def report_from_confusion(cm) -> dict:
    """scikit-learn's classification_report(output_dict=True, zero_division=0) from a (C, C) confusion
    matrix (rows true, columns predicted): a run shipped without its weights keeps only the matrix."""
    cm = torch.as_tensor(cm, dtype=torch.float64)
    tp, support, predicted = cm.diag(), cm.sum(1), cm.sum(0)
    precision = torch.where(predicted > 0, tp / predicted.clamp_min(1), 0.0)
    recall = torch.where(support > 0, tp / support.clamp_min(1), 0.0)
    f1 = torch.where(
        precision + recall > 0, 2 * precision * recall / (precision + recall).clamp_min(1e-300), 0.0
    )
    total = float(support.sum())
    out: dict = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1-score": float(f1[i]),
            "support": float(support[i]),
        }
        for i, name in enumerate(CLASS_NAMES)
    }
    out["accuracy"] = float(tp.sum()) / total if total else 0.0
    w = support / total if total else support
    for name, weights in (("macro avg", torch.full_like(support, 1.0 / len(support))), ("weighted avg", w)):
        out[name] = {
            "precision": float((precision * weights).sum()),
            "recall": float((recall * weights).sum()),
            "f1-score": float((f1 * weights).sum()),
            "support": total,
        }
    return out


def most_confused(cm: torch.Tensor, k: int = 5) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (true, predicted, count)."""
    off = cm.clone()
    off.fill_diagonal_(0)
    values, idx = off.flatten().topk(k)
    c = cm.shape[0]
    return [(int(i) // c, int(i) % c, int(v)) for v, i in zip(values, idx) if v > 0]

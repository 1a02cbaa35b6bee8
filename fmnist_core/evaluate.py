"""Run a trained model over many images: reconstructions, probabilities, test-set figures."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from . import metrics
from .data import CLASS_NAMES, FashionMNIST, add_noise, to_float
from .registry import Registry
from .train import is_reconstruction


def _batches(model: nn.Module, images: torch.Tensor, fn, batch_size: int = 2000) -> torch.Tensor:
    device = next(model.parameters()).device
    model.eval()
    outs = []
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            x = images[i:i + batch_size]
            x = to_float(x) if x.dtype == torch.uint8 else x.float()
            outs.append(fn(model(x.to(device))).cpu())
    return torch.cat(outs) if outs else torch.empty(0)


def reconstruct(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) uint8 or float -> reconstructions (N, 1, 28, 28) float in [0, 1]."""
    return _batches(model, images, lambda out: out)


def predict_proba(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) -> class probabilities (N, 10)."""
    return _batches(model, images, lambda out: out.softmax(1))


def evaluate_autoencoder(model: nn.Module, clean: torch.Tensor, inputs: torch.Tensor | None = None) -> dict[str, Any]:
    """MSE and PSNR of reconstructing `clean` from `inputs` (clean itself, or a noisy copy)."""
    target = to_float(clean) if clean.dtype == torch.uint8 else clean
    recon = reconstruct(model, target if inputs is None else inputs)
    per_image = metrics.mse_per_image(recon, target)
    return {"mse": float(per_image.mean()), "psnr": metrics.psnr(recon, target), "n": len(target),
            "mse_per_image": per_image, "recon": recon}


def evaluate_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """Accuracy, confusion matrix, per-class figures and probabilities."""
    probs = predict_proba(model, images)
    pred = probs.argmax(1)
    cm = metrics.confusion_matrix(pred, labels)
    return {"accuracy": metrics.accuracy(pred, labels), "n": len(labels), "correct": int((pred == labels).sum()),
            "confusion_matrix": cm, "per_class_accuracy": metrics.per_class_accuracy(cm),
            "report": metrics.classification_report(pred, labels), "probs": probs, "pred": pred}


def evaluate_run(registry: Registry, run_id: str, ds: FashionMNIST, noise: str | None = None,
                 level: float = 0.0, seed: int = 0, limit: int = 0) -> dict[str, Any]:
    """A run's figures on the official test set (optionally with noisy inputs), JSON-ready."""
    model = registry.load_model(run_id)
    images, labels = ds.test_images, ds.test_labels
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = to_float(images)
    inputs = add_noise(x, noise, level, seed) if noise else x
    out: dict[str, Any] = {"run_id": run_id, "kind": model.cfg.kind, "n_test": len(labels)}
    if noise:
        out["noise"] = {"kind": noise, "level": level, "seed": seed}
    if is_reconstruction(model):
        r = evaluate_autoencoder(model, x, inputs)
        out.update(test_mse=r["mse"], test_psnr=r["psnr"])
    else:
        r = evaluate_classifier(model, inputs, labels)
        rep = r["report"]
        out.update(test_accuracy=r["accuracy"], correct=r["correct"],
                   macro_precision=rep["macro avg"]["precision"], macro_recall=rep["macro avg"]["recall"],
                   macro_f1=rep["macro avg"]["f1-score"], weighted_f1=rep["weighted avg"]["f1-score"],
                   per_class={name: {"precision": rep[name]["precision"], "recall": rep[name]["recall"],
                                     "f1": rep[name]["f1-score"], "support": int(rep[name]["support"])}
                              for name in CLASS_NAMES},
                   confusion_matrix=r["confusion_matrix"].tolist())
    return out

"""Run a trained model over many images: reconstructions, probabilities, test-set figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from . import metrics
from .data import CLASS_NAMES, FashionMNIST, add_noise, to_float
from .models import config_of
from .registry import Registry
from .train import is_reconstruction


def _batches(model: nn.Module, images: torch.Tensor, fn, batch_size: int = 500) -> torch.Tensor:
    device = next(model.parameters()).device
    model.eval()
    if device.type == "cpu" and any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules()):
        # NHWC and batches of a few hundred: about 2x the images per second of NCHW in batches of
        # 2,000 on the CPU (pooling and the transposed convolutions stay in cache); the same numbers
        model.to(memory_format=torch.channels_last)
    outs = []
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            x = images[i : i + batch_size]
            x = to_float(x) if x.dtype == torch.uint8 else x.float()
            outs.append(fn(model(x.to(device))).cpu())
    return torch.cat(outs) if outs else torch.empty(0)


def reconstruct(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) uint8 or float -> reconstructions (N, 1, 28, 28) float in [0, 1]."""
    return _batches(model, images, lambda out: out)


def predict_proba(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) -> class probabilities (N, 10)."""
    return _batches(model, images, lambda out: out.softmax(1))


def evaluate_autoencoder(
    model: nn.Module, clean: torch.Tensor, inputs: torch.Tensor | None = None
) -> dict[str, Any]:
    """MSE and PSNR of reconstructing `clean` from `inputs` (clean itself, or a noisy copy)."""
    target = to_float(clean) if clean.dtype == torch.uint8 else clean
    recon = reconstruct(model, target if inputs is None else inputs)
    per_image = metrics.mse_per_image(recon, target)
    return {
        "mse": float(per_image.mean()),
        "psnr": metrics.psnr(recon, target),
        "n": len(target),
        "mse_per_image": per_image,
        "recon": recon,
    }


def evaluate_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """Accuracy, confusion matrix, per-class figures and probabilities."""
    probs = predict_proba(model, images)
    pred = probs.argmax(1)
    cm = metrics.confusion_matrix(pred, labels)
    return {
        "accuracy": metrics.accuracy(pred, labels),
        "n": len(labels),
        "correct": int((pred == labels).sum()),
        "confusion_matrix": cm,
        "per_class_accuracy": metrics.per_class_accuracy(cm),
        "report": metrics.classification_report(pred, labels),
        "probs": probs,
        "pred": pred,
    }


def evaluate_run(
    registry: Registry,
    run_id: str,
    ds: FashionMNIST,
    noise: str | None = None,
    level: float = 0.0,
    seed: int = 0,
    limit: int = 0,
) -> dict[str, Any]:
    """A run's figures on the official test set (optionally with noisy inputs), JSON-ready."""
    model = registry.load_model(run_id)
    images, labels = ds.test_images, ds.test_labels
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = to_float(images)
    inputs = add_noise(x, noise, level, seed) if noise else x
    out: dict[str, Any] = {"run_id": run_id, "kind": config_of(model).kind, "n_test": len(labels)}
    if noise:
        out["noise"] = {"kind": noise, "level": level, "seed": seed}
    if is_reconstruction(model):
        r = evaluate_autoencoder(model, x, inputs)
        out.update(test_mse=r["mse"], test_psnr=r["psnr"])
    else:
        out.update(classifier_figures(evaluate_classifier(model, inputs, labels)["confusion_matrix"]))
    return out


def classifier_figures(cm: Any) -> dict[str, Any]:
    """A classifier's test figures (JSON-ready) from its (10, 10) confusion matrix."""
    cm = torch.as_tensor(cm)
    rep = metrics.report_from_confusion(cm)
    return dict(
        test_accuracy=rep["accuracy"],
        correct=int(cm.diag().sum()),
        macro_precision=rep["macro avg"]["precision"],
        macro_recall=rep["macro avg"]["recall"],
        macro_f1=rep["macro avg"]["f1-score"],
        weighted_f1=rep["weighted avg"]["f1-score"],
        per_class={
            name: {
                "precision": rep[name]["precision"],
                "recall": rep[name]["recall"],
                "f1": rep[name]["f1-score"],
                "support": int(rep[name]["support"]),
            }
            for name in CLASS_NAMES
        },
        confusion_matrix=cm.tolist(),
    )


# -- looking inside: noise sweeps, error maps, galleries (the inspect pages) ---------------
def autoencoder_figures(
    model: nn.Module, clean: torch.Tensor, noise: str | None = None, level: float = 0.0, seed: int = 0
) -> dict[str, Any]:
    """Reconstruct clean uint8 images (N, 1, 28, 28) from (optionally noisy) inputs; small results only.

    mse/psnr: reconstruction against the clean image; input_mse/input_psnr: the noisy input itself
    against the clean image (what doing nothing scores); pixel_mse: (28, 28) mean squared error of
    each pixel over the images (decoder artefacts such as report C's edge stripes show up here).
    """
    x = to_float(clean) if clean.dtype == torch.uint8 else clean.float()
    inputs = add_noise(x, noise, level, seed) if noise and level else x
    r = evaluate_autoencoder(model, x, inputs)
    return {
        "mse": r["mse"],
        "psnr": r["psnr"],
        "n": r["n"],
        "input_mse": metrics.mse(inputs, x),
        "input_psnr": metrics.psnr(inputs, x),
        "mse_per_image": r["mse_per_image"].numpy(),
        "pixel_mse": ((r["recon"] - x) ** 2).mean(0)[0].numpy(),
    }  # (28, 28)


def noise_sweep(
    model: nn.Module,
    clean: torch.Tensor,
    noise: str,
    levels: list[float],
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> list[dict[str, float]]:
    """MSE and PSNR of reconstructing the clean images from inputs at each noise level."""
    out = []
    for i, level in enumerate(levels):
        r = autoencoder_figures(model, clean, noise, level, seed)
        out.append(
            {
                "level": float(level),
                "mse": r["mse"],
                "psnr": r["psnr"],
                "input_mse": r["input_mse"],
                "input_psnr": r["input_psnr"],
            }
        )
        if progress is not None:
            progress((i + 1) / len(levels))
    return out


def denoise_classify_sweep(
    classifier: nn.Module,
    autoencoder: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    noise: str,
    levels: list[float],
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> list[dict[str, float]]:
    """Accuracy on noisy images, raw and after passing them through the autoencoder first."""
    x = to_float(images) if images.dtype == torch.uint8 else images.float()
    out = []
    for i, level in enumerate(levels):
        if progress is not None and i:
            progress(i / len(levels))
        noisy = add_noise(x, noise, level, seed) if level else x
        raw = predict_proba(classifier, noisy).argmax(1)
        denoised = predict_proba(classifier, reconstruct(autoencoder, noisy)).argmax(1)
        out.append(
            {
                "level": float(level),
                "raw_acc": metrics.accuracy(raw, labels),
                "denoised_acc": metrics.accuracy(denoised, labels),
            }
        )
    return out


def pair_examples(
    probs: torch.Tensor, labels: torch.Tensor, true_class: int, pred_class: int, k: int = 20
) -> torch.Tensor:
    """Indices of images of `true_class` predicted as `pred_class`, the telling ones first.

    Off the diagonal: the most confident mistakes first; on it: the least confident correct ones.
    """
    pred = probs.argmax(1)
    idx = ((labels == true_class) & (pred == pred_class)).nonzero().flatten()
    conf = probs[idx, pred_class]
    order = conf.argsort(descending=true_class != pred_class)
    return idx[order[:k]]


def top_k(probs: torch.Tensor, k: int = 3) -> list[tuple[str, float]]:
    """The k most probable classes of one probability vector (10,), as (name, probability)."""
    values, idx = probs.topk(k)
    return [(CLASS_NAMES[int(i)], float(v)) for v, i in zip(values, idx)]


def percentile_of(value: float, reference: Any) -> float:
    """Percent of the reference values (e.g. test images' reconstruction MSE) below `value`."""
    ref = torch.as_tensor(reference, dtype=torch.float64).flatten()
    return 100.0 * float((ref < value).double().mean()) if len(ref) else float("nan")

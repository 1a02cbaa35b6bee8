"""How long a run takes on this device: a short calibration of the run's own model and batch size.

Timing a few real training steps (the same train_step fit() runs, with the same dropout and
optimizer) and one validation batch here, now, beats scaling runs measured elsewhere: a shipped
run's seconds per epoch say little about this CPU, its thread count or its load.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .config import KIND_LABELS, RunSpec
from .data import FashionMNIST, make_split
from .models import build_model
from .train import loss_and_accuracy, make_optimizer, prepare_model, resolve_device, train_step

EPOCH_OVERHEAD = 0.02  # seconds per epoch beyond the steps: the batch-order gather, saving the epoch
RUN_OVERHEAD = 0.3  # seconds per run: building the model and split, creating the run folder


@dataclass(frozen=True)
class StepTimes:
    train_image: float  # seconds per training image: forward, backward, optimizer step
    eval_image: float  # seconds per validation image: forward only


_MEMO: dict[str, StepTimes] = {}


def calibrate(spec: RunSpec, budget: float = 0.3) -> StepTimes:
    """Seconds per image of training and validating `spec`'s model at its batch size on its device.

    Spends about `budget` seconds the first time for each (model, batch size, optimizer, device,
    threads); remembered after that.
    """
    device = resolve_device(spec.train.device)
    cfg = spec.train
    key = repr(
        (
            spec.model.to_dict(),
            cfg.batch_size,
            cfg.optimizer,
            cfg.precision,
            str(device),
            torch.get_num_threads(),
        )
    )
    if key not in _MEMO:
        _MEMO[key] = _measure(spec, device, budget)
    return _MEMO[key]


def _measure(spec: RunSpec, device: torch.device, budget: float) -> StepTimes:
    g = torch.Generator().manual_seed(0)
    bs = spec.train.batch_size
    x = torch.rand(bs, 1, 28, 28, generator=g).to(device)
    y = torch.randint(0, 10, (bs,), generator=g).to(device)
    model_cfg = spec.model.replace(encoder_run="random") if hasattr(spec.model, "encoder_run") else spec.model
    model = prepare_model(build_model(model_cfg), device)
    opt = make_optimizer(model, spec.train)
    precision = spec.train.precision
    train_step(model, opt, x, y, precision)  # first step: allocations, kernel selection
    steps, t0 = 0, time.perf_counter()
    while steps < 1 or (time.perf_counter() - t0 < budget and steps < 50):
        train_step(model, opt, x, y, precision)
        steps += 1
    train_image = (time.perf_counter() - t0) / (steps * bs)
    val = torch.randint(0, 256, (500, 1, 28, 28), generator=g, dtype=torch.uint8)
    labels = torch.randint(0, 10, (500,), generator=g)
    loss_and_accuracy(model, val[:50], labels[:50], device)
    t0 = time.perf_counter()
    loss_and_accuracy(model, val, labels, device)
    return StepTimes(train_image, (time.perf_counter() - t0) / len(val))


def estimate_seconds(spec: RunSpec, ds: FashionMNIST, epochs: int | None = None) -> float:
    """Seconds to train `spec` (all its epochs, or `epochs`) on this device, from a calibration."""
    cfg = spec.train
    split = make_split(
        ds, cfg.validation, cfg.val_fraction, cfg.seed, cfg.limit, cfg.train_fraction, cfg.val_images
    )
    t = calibrate(spec)
    n_train, n_val = len(split.y_train), len(split.y_val)
    # a partial last batch costs about as much as a full one
    per_epoch = math.ceil(n_train / cfg.batch_size) * cfg.batch_size * t.train_image + n_val * t.eval_image
    return RUN_OVERHEAD + (cfg.epochs if epochs is None else epochs) * (per_epoch + EPOCH_OVERHEAD)


def evaluation_seconds(spec: RunSpec, ds: FashionMNIST) -> float:
    """Seconds of forward passes after a run's last epoch, before the queue takes the next job: its test
    figure, then what the pages read (the test entry and, for an autoencoder, every level of every noise
    kind on NOISE_IMAGES images; for a classifier, its confusion matrix)."""
    from .config import AUTOENCODER_KINDS
    from .evalcache import NOISE_GRID, NOISE_IMAGES

    n_test = len(ds.test_labels)
    images = (max(spec.train.limit, 200) if spec.train.limit else n_test) + n_test
    if spec.model.kind in AUTOENCODER_KINDS:
        images += sum(len(levels) for levels in NOISE_GRID.values()) * NOISE_IMAGES
    else:
        images += n_test
    return images * calibrate(spec).eval_image


def workers_used(workers: int, runs: int) -> int:
    """The workers a sweep of `runs` runs keeps busy: no more than it has runs, at least one."""
    return max(1, min(int(workers), runs or 1))


def plan_seconds(plan, estimate: Callable[[RunSpec], float | None]) -> tuple[float, list[str]]:
    """Seconds to train a study plan's missing runs and finish its running ones, and the model kinds
    `estimate` (seconds for a whole run, None if unknown) could not time. A running run goes on at its
    own measured pace."""
    total, unknown = 0.0, set()
    for r in plan.runs:
        pace = (
            r.info.summary.get("seconds_per_epoch") if r.status == "running" and r.info is not None else None
        )
        if pace:
            total += pace * max(r.spec.train.epochs - r.epochs_done, 0)
        elif r.status != "done":
            seconds = estimate(r.spec)
            if seconds is None:
                unknown.add(KIND_LABELS.get(r.spec.model.kind, r.spec.model.kind))
            else:
                total += seconds * (1 - r.epochs_done / r.spec.train.epochs)
    return total, sorted(unknown)

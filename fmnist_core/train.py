"""One training loop for every model kind, early stopping, and training a run into the registry."""

from __future__ import annotations

import contextlib
import copy
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from .allocator import keep_freed_memory
from .augment import shift_flip
from .config import AUTOENCODER_KINDS, ENCODER_ARCH, ClassifierConfig, RunSpec, TrainConfig
from .data import FashionMNIST, Split, make_split, to_float
from .errors import RunError
from .files import CLASS_NAMES
from .models import Classifier, build_model, config_of
from .registry import Registry

NUM_CLASSES = len(CLASS_NAMES)


AUGMENT_SEED_OFFSET = 7919  # the augmentation generator's seed: the run's seed plus this


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> cuda, then mps, then cpu; an unavailable explicit choice is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for but no CUDA GPU is available; use --device auto or cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError("device mps was asked for but is not available; use --device auto or cpu")
    return torch.device(name)


def bf16_native(device: torch.device) -> bool:
    """Whether the device computes bfloat16 in hardware (elsewhere bf16 runs, but slower than float32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:  # oneDNN's own check: AVX-512 BF16 or AMX
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple GPU (mps)"
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'s' if n != 1 else ''})"


@dataclass
class EarlyStopping:
    """Stop after `patience` epochs in a row without an improvement of more than min_delta (as Keras and
    Lightning count), with two differences: patience 0 switches it off, and a non-finite value (NaN, inf)
    is simply no improvement. A diverged loss is fit()'s to stop, not this class's."""

    patience: int = 0  # 0 = never stop early
    min_delta: float = 0.0
    mode: str = "min"
    best: float = math.inf
    best_epoch: int = 0
    wait: int = 0

    def step(self, value: float, epoch: int) -> bool:
        """Record one epoch's monitored value; True if it is the new best."""
        score = value if self.mode == "min" else -value
        if score < self.best - self.min_delta or (self.best_epoch == 0 and math.isfinite(score)):
            self.best, self.best_epoch, self.wait = score, epoch, 0
            return True
        self.wait += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience > 0 and self.wait >= self.patience


@dataclass
class BatchProgress:
    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based within the epoch
    batches: int
    loss: float  # this batch's loss
    elapsed: float  # seconds since fit() started
    eta: float  # seconds left, estimated

    @property
    def batches_done(self) -> int:
        """Batches trained so far over all epochs."""
        return (self.epoch - 1) * self.batches + self.batch

    @property
    def fraction(self) -> float:
        """How far the whole run is, in [0, 1]."""
        return min(self.batches_done / max(self.epochs * self.batches, 1), 1.0)


@dataclass
class FitState:
    """What fit() hands its on_epoch callback and returns."""

    model: nn.Module
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None  # best val_loss weights (or last, restore_best=False)
    weights_epoch: int = 0
    status: str = "running"  # -> completed | early_stopped | stopped


def is_reconstruction(model: nn.Module) -> bool:
    return config_of(model).kind in AUTOENCODER_KINDS


def _loss(
    model: nn.Module, out: torch.Tensor, x: torch.Tensor, y: torch.Tensor, smoothing: float = 0.0
) -> torch.Tensor:
    if is_reconstruction(model):
        return F.mse_loss(out, x)
    return F.cross_entropy(out, y, label_smoothing=smoothing) if smoothing else F.cross_entropy(out, y)


@torch.inference_mode()
def loss_and_accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    device: torch.device | str = "cpu",
    batch_size: int = 500,
) -> dict[str, Any]:
    """Mean loss over samples (MSE per pixel for autoencoders, cross-entropy otherwise); for classifiers
    the accuracy and how many images it predicts as each class (a class predicted for none has died)."""
    was_training = model.training
    model.eval()
    total, correct, n = 0.0, 0, len(labels)
    counts = torch.zeros(NUM_CLASSES, dtype=torch.long)
    for i in range(0, n, batch_size):
        x = images[i : i + batch_size].to(device)
        x = to_float(x) if x.dtype == torch.uint8 else x
        y = labels[i : i + batch_size].to(device)
        out = model(x)
        total += float(_loss(model, out, x, y)) * len(y)
        if not is_reconstruction(model):
            pred = out.argmax(1)
            correct += int((pred == y).sum())
            counts += torch.bincount(pred.cpu(), minlength=NUM_CLASSES)
    model.train(was_training)
    metrics: dict[str, Any] = {"loss": total / max(n, 1)}
    if not is_reconstruction(model):
        metrics["acc"] = correct / max(n, 1)
        metrics["pred_counts"] = counts.tolist()
    return metrics


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The forward pass's precision: bf16 runs it under bfloat16 autocast (weights, gradients and the
    optimizer stay float32; losses are computed in float32); fp32 changes nothing."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_step(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    precision: str = "fp32",
    smoothing: float = 0.0,
) -> tuple[float, int]:
    """One optimizer step on a batch; returns its mean loss and (classifiers) how many it got right. Label
    smoothing changes the training loss only: held-out losses stay plain cross-entropy, comparable."""
    with autocast(x.device, precision):
        out = model(x)
        loss = _loss(model, out, x, y, smoothing)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    correct = 0 if is_reconstruction(model) else int((out.argmax(1) == y).sum())
    return loss.item(), correct


def prepare_model(model: nn.Module, device: torch.device) -> nn.Module:
    """On the device, in training mode, conv models in NHWC memory."""
    keep_freed_memory()  # no page faults on each step's activations (see allocator.py)
    model.to(device).train()
    if any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules()):
        # NHWC: max-pooling and the convolutions run ~1.3x faster per step on the CPU (see bench)
        model.to(memory_format=torch.channels_last)
    return model


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.weight_decay:  # decoupled from the gradient's scaling (Loshchilov & Hutter), not Adam's L2
        return torch.optim.AdamW(params, lr=cfg.lr, eps=1e-8, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, eps=1e-8)


def make_schedule(opt: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int) -> Any:
    """The learning-rate schedule, stepped after every batch; None for a constant rate (the reports)."""
    if cfg.schedule != "onecycle":
        return None
    total = max(cfg.epochs * steps_per_epoch, 2)
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.3)


def fit(
    model: nn.Module,
    split: Split,
    cfg: TrainConfig,
    device: torch.device | str = "cpu",
    on_batch: Callable[[BatchProgress], None] | None = None,
    on_epoch: Callable[[FitState], None] | None = None,
    stop_event: threading.Event | None = None,
) -> FitState:
    """Train `model` on split.x_train for cfg.epochs, validating on split.x_val after each epoch.

    Batches are slices of the training tensor, moved to the device once and permuted per epoch
    with a generator seeded by cfg.seed. A set stop_event ends training after the current batch;
    the epoch in progress is left out of the history and the best weights so far are kept (if no
    epoch has finished, the weights as they are, so the run still loads).
    """
    device = torch.device(device)
    prepare_model(model, device)
    recon = is_reconstruction(model)
    x_all = to_float(split.x_train).to(device)  # (N, 1, 28, 28) float in [0, 1]
    y_all = split.y_train.to(device)  # (N,)
    n, bs = len(y_all), cfg.batch_size
    batches = math.ceil(n / bs)
    opt = make_optimizer(model, cfg)
    schedule = make_schedule(opt, cfg, batches)
    gen = torch.Generator().manual_seed(cfg.seed)
    # augmentation draws from its own generator: the batch order stays the seed's, augmented or not
    aug_gen = torch.Generator().manual_seed(cfg.seed + AUGMENT_SEED_OFFSET) if cfg.augment != "none" else None
    stopper = EarlyStopping(cfg.patience, cfg.min_delta)
    state = FitState(model)
    t0 = time.perf_counter()
    step_times: list[float] = []  # seconds per epoch, train + validation
    for epoch in range(1, cfg.epochs + 1):
        t_epoch = time.perf_counter()
        perm = torch.randperm(n, generator=gen).to(device)
        xs, ys = x_all[perm], y_all[perm]  # one gather per epoch; batches are views
        loss_sum, correct, stopped = 0.0, 0, False
        for b in range(batches):
            if stop_event is not None and stop_event.is_set():
                stopped = True
                break
            x, y = xs[b * bs : (b + 1) * bs], ys[b * bs : (b + 1) * bs]
            if aug_gen is not None:
                x = shift_flip(x, aug_gen)
            batch_loss, batch_correct = train_step(model, opt, x, y, cfg.precision, cfg.label_smoothing)
            if schedule is not None:
                schedule.step()
            loss_sum += batch_loss * len(y)
            correct += batch_correct
            if on_batch is not None:
                elapsed_epoch = time.perf_counter() - t_epoch
                # before the first epoch ends: the batches so far, plus validation at about a third of
                # the training cost per image (forward only)
                per_epoch = (
                    sum(step_times) / len(step_times)
                    if step_times
                    else elapsed_epoch / (b + 1) * (batches + len(split.y_val) / bs / 3)
                )
                eta = max(per_epoch - elapsed_epoch, 0.0) + per_epoch * (cfg.epochs - epoch)
                on_batch(
                    BatchProgress(
                        epoch, cfg.epochs, b + 1, batches, batch_loss, time.perf_counter() - t0, eta
                    )
                )
        if stopped:
            state.status = "stopped"
            break
        val = loss_and_accuracy(model, split.x_val, split.y_val, device)
        record: dict[str, Any] = {"epoch": epoch, "train_loss": loss_sum / n}
        if not recon:
            record["train_acc"] = correct / n
        record["val_loss"] = val["loss"]
        if not recon:
            record["val_acc"] = val["acc"]
            record["val_pred_counts"] = val["pred_counts"]  # images predicted as each class
        record["epoch_seconds"] = time.perf_counter() - t_epoch
        step_times.append(record["epoch_seconds"])
        state.history.append(record)
        if not math.isfinite(record["train_loss"]) or not math.isfinite(record["val_loss"]):
            state.status = "diverged"
            if on_epoch is not None:
                on_epoch(state)
            break
        if stopper.step(record["val_loss"], epoch) or not cfg.restore_best:
            state.best_state = copy.deepcopy(model.state_dict())  # the weights a save would keep
            state.weights_epoch = epoch
        state.best_epoch = stopper.best_epoch
        if on_epoch is not None:
            on_epoch(state)
        if stopper.should_stop:
            state.status = "early_stopped"
            break
    else:
        state.status = "completed"
    state.best_epoch = stopper.best_epoch
    if state.best_state is None and state.status != "diverged":
        state.best_state = copy.deepcopy(model.state_dict())  # stopped in epoch 1: the weights as they are
    if state.best_state is not None:  # a diverged run keeps its last finite best, or none
        model.load_state_dict(state.best_state)
    model.eval()
    return state


def summarize(state: FitState, status: str | None = None, **extra: Any) -> dict[str, Any]:
    """The summary.json of a run: status, epochs, best epoch and the figures at it and at the end."""
    h = state.history
    s: dict[str, Any] = {
        "status": status or state.status,
        "epochs_done": len(h),
        "best_epoch": state.best_epoch,
        "weights_epoch": state.weights_epoch,
    }
    if h:
        best = h[state.best_epoch - 1] if state.best_epoch else h[-1]
        for k in ("train_loss", "val_loss", "train_acc", "val_acc"):
            if k in h[-1]:
                s[f"final_{k}"] = h[-1][k]
                s[f"best_{k}"] = best[k]
        s["train_seconds"] = sum(r["epoch_seconds"] for r in h)  # training and validation, wall clock
        s["seconds_per_epoch"] = s["train_seconds"] / len(h)
    s.update(extra)
    return s


def test_figures(model: nn.Module, ds: FashionMNIST, limit: int, device: torch.device) -> dict[str, Any]:
    """The figure a run reports: its saved weights (selected on the held-out split) on the test set, read
    once, after training (a quick run with a limit reads as many test images as it validated on)."""
    n = max(limit, 200) if limit else len(ds.test_labels)
    m = loss_and_accuracy(model, ds.test_images[:n], ds.test_labels[:n], device)
    return {"test_loss": m["loss"], "test_n": n, **({"test_acc": m["acc"]} if "acc" in m else {})}


def build_for_spec(spec: RunSpec, registry: Registry) -> nn.Module:
    """The model of a spec, with its encoder copied from the named autoencoder run if any."""
    model = build_model(spec.model)
    if isinstance(spec.model, ClassifierConfig) and spec.model.pretrained:
        ae = registry.get(spec.model.encoder_run)
        if ae.kind != "conv_ae":
            raise RunError(
                f"run {ae.run_id!r} is a {ae.kind}, not a convolutional autoencoder; "
                "pick a conv_ae run as the encoder"
            )
        ae_cfg = ae.spec().model
        mine = spec.model.encoder_config()
        for key in ENCODER_ARCH:
            if getattr(ae_cfg, key) != getattr(mine, key):
                raise RunError(
                    f"the classifier's {key} ({getattr(mine, key)}) differs from encoder run "
                    f"{ae.run_id!r} ({getattr(ae_cfg, key)}); use the autoencoder's settings"
                )
        state = registry.load_state(ae.run_id)
        enc = {k[len("encoder.") :]: v for k, v in state.items() if k.startswith("encoder.")}
        cast(Classifier, model).load_encoder(enc)
    return model


def train_run(
    spec: RunSpec,
    ds: FashionMNIST,
    registry: Registry | None = None,
    on_batch: Callable[[BatchProgress], None] | None = None,
    on_epoch: Callable[[str, FitState], None] | None = None,
    stop_event: threading.Event | None = None,
    on_created: Callable[[str], None] | None = None,
    command: str | None = None,
) -> str:
    """Train one run, saving it to the registry at every epoch end; returns the run id."""
    registry = registry or Registry()
    cfg = spec.train
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)  # weights init and dropout masks
    model = build_for_spec(spec, registry)
    split = make_split(
        ds, cfg.validation, cfg.val_fraction, cfg.seed, cfg.limit, cfg.train_fraction, cfg.val_images
    )
    extra = {
        "data": {"source": ds.source, **split.describe()},
        "device": device_description(device),
        "command": command or " ".join(["python -m fmnist_core"] + sys.argv[1:]),
        "torch": torch.__version__,
    }
    run_id = registry.create(spec, extra, spec.name)
    if on_created is not None:
        on_created(run_id)

    def save(state: FitState) -> None:
        registry.save_epoch(
            run_id, state.history, summarize(state, "running"), state.best_state, state.weights_epoch
        )
        if on_epoch is not None:
            on_epoch(run_id, state)

    try:
        state = fit(model, split, cfg, device, on_batch, save, stop_event)
        test = test_figures(model, ds, cfg.limit, device) if state.best_state is not None else {}
        registry.save_epoch(
            run_id, state.history, summarize(state, **test), state.best_state, state.weights_epoch
        )
    except BaseException as e:
        info = registry.info(run_id)
        registry.write_summary(
            run_id,
            {**info.summary, "status": "failed", "error": f"{type(e).__name__}: {e}".splitlines()[0][:300]},
        )
        raise
    finally:
        registry.release(run_id)
    return run_id

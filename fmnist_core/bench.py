"""`python -m fmnist_core bench`: images per second of fit() against the reports' own training loop.

The reference is report A's model written with plain torch.nn (nn.Dropout where report A puts it)
and trained the way the reports did it: torchvision's FashionMNIST dataset with ToTensor, a
DataLoader(batch_size=100, shuffle=True) with the default num_workers=0, Adam 1e-3. The project's
side is build_model(ConvAEConfig() / ClassifierConfig()) trained by fit() for one epoch on a Split
of the same first `images` training images.

Fairness: fit() always validates after its epoch, so both sides include the same validation pass,
over the same first VAL_IMAGES test images (one batch): fit() through loss_and_accuracy(), the reference
through a torchvision test-set DataLoader in eval mode under no_grad, as the reports did. Each
timed pass covers optimizer creation, the training epoch and that validation pass (for fit(): the
whole call, with its conversion of the images to float and its copy of the best weights); model
construction and dataset loading are outside the timing on both sides. The two sides alternate
A B A B after one untimed warm-up of each, with the same torch thread count, and the medians are
reported. The reference runs in a child process of its own, as a script of the reports would: with
the C library's default memory allocator, which the project's processes tune (see allocator.py).
"""

from __future__ import annotations

import gzip
import math
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .config import ClassifierConfig, ConvAEConfig, TrainConfig
from .data import FILES, FashionMNIST, Split, find_data
from .models import build_model
from .train import bf16_native, fit

BATCH = 100
LR = 1e-3
VAL_IMAGES = 100  # one batch of the test set, validated by both sides after their epoch
WARMUP_IMAGES = 300  # the untimed warm-up pass of each side
MODELS = ("autoencoder", "classifier")


# --- the reports' model in plain torch.nn (independent of fmnist_core.models) -----------------------


def reference_encoder(n: int = 64, p: float = 0.2) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3),
        nn.ReLU(),
        nn.Dropout(p),
        nn.MaxPool2d(2),  # (B, 16, 13, 13)
        nn.Conv2d(16, 32, 3),
        nn.ReLU(),
        nn.Dropout(p),
        nn.MaxPool2d(2),  # (B, 32, 5, 5)
        nn.Flatten(),
        nn.Linear(800, n),
        nn.ReLU(),
        nn.Dropout(p),  # (B, n)
    )


def reference_autoencoder(n: int = 64, p: float = 0.2) -> nn.Sequential:
    decoder = nn.Sequential(
        nn.Linear(n, 800),
        nn.ReLU(),
        nn.Dropout(p),
        nn.Unflatten(1, (32, 5, 5)),
        nn.ConvTranspose2d(32, 16, 5, stride=2),
        nn.ReLU(),
        nn.Dropout(p),  # (B, 16, 13, 13)
        nn.ConvTranspose2d(16, 1, 3, stride=2, output_padding=1),
        nn.Sigmoid(),  # (B, 1, 28, 28)
    )
    return nn.Sequential(reference_encoder(n, p), decoder)


def reference_classifier(n: int = 64, p: float = 0.2) -> nn.Sequential:
    return nn.Sequential(reference_encoder(n, p), nn.Sequential(nn.Linear(n, 10), nn.ReLU()))


# --- the torchvision dataset the reports used ---------------------------------------------------------


def build_torchvision_root(root: Path) -> Path:
    """Lay the four IDX files out as torchvision expects them: ROOT/FashionMNIST/raw/, un-gzipped."""
    files = find_data(download=False)
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for key, stem in FILES.items():
        src = files[key]
        if src.suffix == ".gz":
            with gzip.open(src, "rb") as f_in, open(raw / stem, "wb") as f_out:
                shutil.copyfileobj(f_in, f_out)
        else:
            shutil.copyfile(src, raw / stem)
    return root


def reference_loaders(root: Path):
    from torch.utils.data import DataLoader, Subset
    from torchvision.datasets import FashionMNIST as TVFashionMNIST
    from torchvision.transforms import ToTensor

    train = TVFashionMNIST(str(root), train=True, download=False, transform=ToTensor())
    test = TVFashionMNIST(str(root), train=False, download=False, transform=ToTensor())

    def train_loader(n: int) -> DataLoader:
        return DataLoader(Subset(train, range(n)), batch_size=BATCH, shuffle=True)

    val_loader = DataLoader(Subset(test, range(VAL_IMAGES)), batch_size=BATCH)
    return train_loader, val_loader


# --- one timed pass of each side ----------------------------------------------------------------------


def reference_pass(kind: str, train_loader, val_loader, seed: int) -> float:
    """The reports' loop for one epoch plus the validation pass; returns seconds."""
    torch.manual_seed(seed)
    model = reference_autoencoder() if kind == "autoencoder" else reference_classifier()
    recon = kind == "autoencoder"
    criterion = nn.MSELoss() if recon else nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    running = 0.0
    for x, y in train_loader:
        opt.zero_grad()
        out = model(x)
        loss = criterion(out, x) if recon else criterion(out, y)
        loss.backward()
        opt.step()
        running += loss.item()
    model.eval()
    val = 0.0
    with torch.no_grad():
        for x, y in val_loader:
            out = model(x)
            val += (criterion(out, x) if recon else criterion(out, y)).item()
    elapsed = time.perf_counter() - t0
    if not math.isfinite(running + val):
        raise RuntimeError(f"the reference {kind} diverged during the benchmark")
    return elapsed


def project_pass(kind: str, split: Split, seed: int, precision: str = "fp32") -> float:
    """fit() for one epoch (its validation pass included); returns seconds."""
    torch.manual_seed(seed)
    model = build_model(ConvAEConfig() if kind == "autoencoder" else ClassifierConfig())
    cfg = TrainConfig(
        optimizer="adam", lr=LR, batch_size=BATCH, epochs=1, seed=seed, device="cpu", precision=precision
    )
    t0 = time.perf_counter()
    state = fit(model, split, cfg, "cpu")
    elapsed = time.perf_counter() - t0
    if state.status != "completed":
        raise RuntimeError(f"the project's {kind} ended {state.status} during the benchmark")
    return elapsed


# --- the reference in a process of its own (the allocator as a plain script has it) ----------------------

_REF: dict[str, Any] = {}


def _reference_init(threads: int, root: str, images: int, warm_images: int) -> None:
    torch.set_num_threads(threads)
    make_train_loader, val_loader = reference_loaders(Path(root))
    _REF.update(train=make_train_loader(images), warm=make_train_loader(warm_images), val=val_loader)


def _reference_in_child(kind: str, loader: str, seed: int) -> float:
    return reference_pass(kind, _REF[loader], _REF["val"], seed)


# --- FLOPs ----------------------------------------------------------------------------------------------


def matmul_gflops(size: int = 1024, reps: int = 5, trials: int = 3) -> float:
    """This CPU's float32 matmul rate (best of `trials` runs of `reps` size x size products), GFLOP/s."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=g)
    b = torch.randn(size, size, generator=g)
    c = torch.empty(size, size)
    torch.mm(a, b, out=c)  # warm-up
    best = math.inf
    for _ in range(trials):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size**3 * reps / best / 1e9


def train_flops_per_image(kind: str) -> float:
    """FLOPs of one training step's forward and backward per image (conv and matmul ops, counted
    by torch.utils.flop_counter on one batch of the project's model; 1 MAC = 2 FLOPs)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(ConvAEConfig() if kind == "autoencoder" else ClassifierConfig()).train()
    x = torch.rand(BATCH, 1, 28, 28)
    y = torch.randint(0, 10, (BATCH,))
    with FlopCounterMode(display=False) as counter:
        out = model(x)
        loss = (
            nn.functional.mse_loss(out, x) if kind == "autoencoder" else nn.functional.cross_entropy(out, y)
        )
        loss.backward()
    return counter.get_total_flops() / BATCH


# --- the benchmark ---------------------------------------------------------------------------------------


def _alternate(rounds: int, *sides: Callable[[int], float]) -> list[list[float]]:
    """Seconds of each side's pass, the sides taking turns (A B C A B C ...) for `rounds` rounds."""
    times: list[list[float]] = [[] for _ in sides]
    for r in range(rounds):
        for side, t in zip(sides, times):
            t.append(side(r))
    return times


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def run_bench(
    ds: FashionMNIST,
    images: int = 6000,
    rounds: int = 2,
    which: str = "both",
    out=None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Time the reference loop (A) and fit() (B) alternately, A B A B; print and return the figures.

    threads: torch's intra-op thread count for both sides (default: the current one); restored after.
    Returns {"threads", "images", "rounds", "matmul_gflops", "validation", "load_average", and per
    model: {"reference_img_s", "project_img_s", "ratio", "reference_img_s_runs", "project_img_s_runs",
    "flops_per_image", "project_gflops", "fraction_of_peak"}}.
    """
    out = out or sys.stdout
    n_train = len(ds.train_labels)
    if not 1 <= images <= n_train:
        raise ValueError(f"images must be between 1 and {n_train} (got {images})")
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1 (got {rounds})")
    kinds = MODELS if which == "both" else (which,)
    for k in kinds:
        if k not in MODELS:
            raise ValueError(f"unknown model {k!r}; choose autoencoder, classifier or both")

    old_threads = torch.get_num_threads()
    threads = threads or old_threads
    if threads < 1:
        raise ValueError(f"threads must be at least 1 (got {threads})")
    torch.set_num_threads(threads)  # one count for both sides, kept for the whole benchmark
    try:
        return _run(ds, images, rounds, kinds, out, threads)
    finally:
        torch.set_num_threads(old_threads)


def _run(
    ds: FashionMNIST, images: int, rounds: int, kinds: tuple[str, ...], out, threads: int
) -> dict[str, Any]:
    load = _load_average()
    peak = matmul_gflops()
    result: dict[str, Any] = {
        "threads": threads,
        "images": images,
        "rounds": rounds,
        "matmul_gflops": peak,
        "load_average": load,
        "validation": f"both sides validate on the first {VAL_IMAGES} test images after the epoch; "
        "timed: optimizer creation, the epoch and the validation pass",
    }
    split = Split(
        ds.train_images[:images],
        ds.train_labels[:images],
        ds.test_images[:VAL_IMAGES],
        ds.test_labels[:VAL_IMAGES],
        "test",
        "test",
    )
    warm_n = min(images, WARMUP_IMAGES)
    warm_split = Split(
        ds.train_images[:warm_n],
        ds.train_labels[:warm_n],
        ds.test_images[:VAL_IMAGES],
        ds.test_labels[:VAL_IMAGES],
        "test",
        "test",
    )
    print(
        f"bench: {images} training images, {rounds} round(s) A B, batch {BATCH}, Adam {LR:g}, "
        f"{threads} torch thread(s), CPU matmul {peak:.1f} GFLOP/s (1024x1024 float32)",
        file=out,
    )
    print(
        f"  A = reference: plain torch.nn, nn.Dropout, torchvision FashionMNIST + ToTensor + "
        f"DataLoader(batch_size={BATCH}, shuffle=True); B = project: build_model() + fit()",
        file=out,
    )
    print(f"  {result['validation']}", file=out)
    cpus = os.cpu_count() or 1
    if load is not None and load > 0.5:
        print(
            f"  note: load average {load:.1f} on {cpus} CPU(s) at the start; other processes compete for "
            "the cores, so absolute figures are low and noisy",
            file=out,
        )

    bf16 = bf16_native(torch.device("cpu"))
    rng_state = torch.get_rng_state()
    try:
        with tempfile.TemporaryDirectory(prefix="fmnist-bench-") as tmp:
            root = build_torchvision_root(Path(tmp))
            spawn = multiprocessing.get_context("spawn")
            init = (threads, str(root), images, warm_n)
            with ProcessPoolExecutor(1, mp_context=spawn, initializer=_reference_init, initargs=init) as ref:
                for kind in kinds:
                    ref.submit(_reference_in_child, kind, "warm", 0).result()  # warm-up, untimed
                    project_pass(kind, warm_split, seed=0)
                    sides = [
                        lambda r: ref.submit(_reference_in_child, kind, "train", r).result(),
                        lambda r: project_pass(kind, split, seed=r),
                    ]
                    if bf16:
                        sides.append(lambda r: project_pass(kind, split, seed=r, precision="bf16"))
                    t_ref, t_proj, *t_bf16 = _alternate(rounds, *sides)
                    result[kind] = _report(kind, images, t_ref, t_proj, peak, out)
                    if t_bf16:
                        result[f"{kind}_bf16"] = _report(kind, images, t_ref, t_bf16[0], peak, out, " bf16")
            if not bf16:
                print("bf16: skipped, this CPU has no native bfloat16 (AVX-512 BF16 or AMX)", file=out)
    finally:
        torch.set_rng_state(rng_state)
    return result


def _report(
    kind: str, images: int, t_ref: list[float], t_proj: list[float], peak: float, out, label: str = ""
) -> dict[str, Any]:
    """One model's figures from the timed passes (seconds), printed on two lines."""
    ref_runs = [images / t for t in t_ref]
    proj_runs = [images / t for t in t_proj]
    ref_ips, proj_ips = statistics.median(ref_runs), statistics.median(proj_runs)
    flops = train_flops_per_image(kind)
    achieved = proj_ips * flops / 1e9
    fig: dict[str, Any] = {
        "reference_img_s": ref_ips,
        "project_img_s": proj_ips,
        "ratio": proj_ips / ref_ips,
        "reference_img_s_runs": ref_runs,
        "project_img_s_runs": proj_runs,
        "flops_per_image": flops,
        "project_gflops": achieved,
        "fraction_of_peak": achieved / peak,
    }
    runs = "  ".join(f"A {a:.0f} B {b:.0f}" for a, b in zip(ref_runs, proj_runs))
    print(
        f"{kind + label:16s}  reference {ref_ips:6.0f} img/s  project {proj_ips:6.0f} img/s  "
        f"ratio {fig['ratio']:.2f}x  {100 * fig['fraction_of_peak']:.1f}% of float32 matmul peak "
        f"({achieved:.2f} of {peak:.1f} GFLOP/s)",
        file=out,
    )
    print(f"{'':16s}  {flops / 1e6:.2f} MFLOP/image forward+backward; img/s per round: {runs}", file=out)
    return fig


# --- a sweep: the one-at-a-time job queue against worker processes ---------------------------------


def sweep_bench(
    ds: FashionMNIST,
    runs: int = 4,
    images: int = 12000,
    epochs: int = 2,
    workers: int | None = None,
    out=None,
) -> dict[str, Any]:
    """Wall time of `runs` independent conv-autoencoder runs (seeds 0..runs-1) trained (A) one at a time
    by the app's job queue in this process with torch's default threads, and (B) by the sweep runner's
    worker processes of one thread each. Both include each run's evaluations for the pages."""
    from .config import RunSpec
    from .job_queue import JobQueue
    from .registry import Registry
    from .sweep import Task, default_workers, run_local

    out = out or sys.stdout
    workers = workers or default_workers()
    specs = [
        RunSpec(ConvAEConfig(), TrainConfig(epochs=epochs, limit=images, seed=s, device="cpu"), f"sweep-s{s}")
        for s in range(runs)
    ]
    threads = torch.get_num_threads()
    print(
        f"sweep: {runs} conv autoencoder runs of {epochs} epoch(s) on {images:,} images, with their "
        f"evaluations; A = the job queue, one run at a time, {threads} torch threads; B = {workers} worker "
        f"process(es) of 1 thread",
        file=out,
    )
    with tempfile.TemporaryDirectory(prefix="fmnist-sweep-") as tmp:
        queue = JobQueue(Registry(Path(tmp) / "a"), lambda: ds)
        t0 = time.perf_counter()
        jobs = [queue.submit(spec)[0] for spec in specs]
        queue.wait([j.job_id for j in jobs], evaluated=True)
        t_queue = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_local(
            [Task(spec, spec.name or "") for spec in specs], Registry(Path(tmp) / "b"), "bench", workers
        )
        t_workers = time.perf_counter() - t0
    fig = {
        "runs": runs,
        "queue_s": t_queue,
        "workers_s": t_workers,
        "workers": workers,
        "ratio": t_queue / t_workers,
    }
    print(
        f"sweep        queue {t_queue:6.1f} s   {workers} workers {t_workers:6.1f} s   throughput ratio "
        f"{fig['ratio']:.2f}x",
        file=out,
    )
    return fig

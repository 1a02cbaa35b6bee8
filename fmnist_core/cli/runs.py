"""Commands on single runs and the data: data, train, runs, evaluate, predict, cache, strip-weights, bench."""

from __future__ import annotations

import functools
import json
import math
import shlex
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ..compare import run_rows
from ..config import (
    AUTOENCODER_KINDS,
    CLASSIFIER_KINDS,
    RunSpec,
)
from ..data import CLASS_NAMES, NOISE_KINDS, load_fashion_mnist
from ..errors import ImageError
from ..evalcache import EvalCache
from ..registry import Registry, RunInfo
from ..selection import selected_on_label
from .args import CLIError, registry_from_args, spec_from_args, with_encoder_arch


def fmt_value(v, pct=False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{100 * v:.2f}%" if pct else f"{v:.4f}"


def text_table(rows: Sequence[dict[str, str]]) -> str:
    """Rows of strings as an aligned plain-text table."""
    if not rows:
        return "(empty)"
    cols = list(rows[0])
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(width[c]) for c in cols), "  ".join("-" * width[c] for c in cols)]
    lines += ["  ".join(str(r.get(c, "")).ljust(width[c]) for c in cols) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def cmd_data(a) -> int:
    ds = load_fashion_mnist(a.data_dir)
    out = {
        "source": ds.source,
        "train": len(ds.train_labels),
        "test": len(ds.test_labels),
        "classes": {
            name: {"train": int((ds.train_labels == i).sum()), "test": int((ds.test_labels == i).sum())}
            for i, name in enumerate(CLASS_NAMES)
        },
    }
    print(json.dumps(out, indent=1))
    return 0


def train_with_progress(spec: RunSpec, ds, registry: Registry, command: str | None = None) -> str:
    """Train one run with a tqdm bar; Ctrl-C stops after the current batch and keeps the run."""
    from tqdm import tqdm

    from ..train import train_run

    stop = threading.Event()
    bar = None

    def on_batch(pr):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=pr.epochs * pr.batches, unit="batch", dynamic_ncols=True, file=sys.stderr)
        bar.n = pr.batches_done
        bar.set_description(f"epoch {pr.epoch}/{pr.epochs}", refresh=False)
        bar.set_postfix(loss=f"{pr.loss:.4f}", refresh=False)
        bar.update(0)

    def on_epoch(run_id, state):
        r = state.history[-1]
        parts = [f"epoch {r['epoch']}", f"train_loss {r['train_loss']:.4f}", f"val_loss {r['val_loss']:.4f}"]
        if "val_acc" in r:
            parts += [f"train_acc {100 * r['train_acc']:.2f}%", f"val_acc {100 * r['val_acc']:.2f}%"]
        parts.append(f"{r['epoch_seconds']:.1f}s")
        (bar.write if bar else print)("  ".join(parts), file=sys.stderr)

    def on_sigint(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after this batch (Ctrl-C again to abort)...", file=sys.stderr)

    old = (
        signal.signal(signal.SIGINT, on_sigint)
        if threading.current_thread() is threading.main_thread()
        else None
    )
    import torch

    from ..cores import Claim

    # its threads stay as torch chose them (a run the command makes is reproducible), but claimed, so that a
    # Train-page job beside it sizes itself to what is left
    try:
        with Claim(torch.get_num_threads()):
            run_id = train_run(spec, ds, registry, on_batch, on_epoch, stop, command=command)
    finally:
        if bar is not None:
            bar.close()
        if old is not None:
            signal.signal(signal.SIGINT, old)
    return run_id


def end_line(info: RunInfo) -> str:
    """A finished run in one line: its best epoch and what selected it, the val figures there, then its test
    figure, e.g. "completed: 20 epochs; best epoch 14, selected on held-out: val_loss 0.0187; on 10,000 test
    images: test_loss 0.0190"."""
    s = info.summary
    line = (
        f"{info.status}: {s.get('epochs_done')} epochs; best epoch {s.get('best_epoch')}, "
        f"selected on {selected_on_label(info)}: val_loss {fmt_value(s.get('best_val_loss'))}"
    )
    if "best_val_acc" in s:
        line += f", val_acc {fmt_value(s['best_val_acc'], pct=True)}"
    if "test_loss" in s:
        line += f"; on {s.get('test_n') or 0:,} test images: test_loss {fmt_value(s['test_loss'])}"
    if "test_acc" in s:
        line += f", test_acc {fmt_value(s['test_acc'], pct=True)}"
    return line


def cmd_train(a) -> int:
    registry = registry_from_args(a)
    spec = with_encoder_arch(a, spec_from_args(a), registry)
    ds = load_fashion_mnist(a.data_dir)
    command = "python -m fmnist_core " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    run_id = train_with_progress(spec, ds, registry, command)
    info = registry.get(run_id)
    print(end_line(info), file=sys.stderr)
    if info.summary.get("epochs_done", 0) > 0:
        print("evaluating on the test set for the app's pages...", file=sys.stderr)
        EvalCache(registry, lambda: ds).precompute(run_id)
    print(run_id)
    return 0


def cmd_strip_weights(a) -> int:
    from ..studies import DENOISE_IMAGES, DENOISE_LEVELS

    registry = registry_from_args(a)
    for run_id in a.run_ids:
        registry.get(run_id)
    cache = EvalCache(registry, functools.cache(lambda: load_fashion_mnist(a.data_dir)))
    for run_id in a.run_ids:
        info = registry.get(run_id)
        if info.results_only:
            continue
        # what a study reads of a run, computed while the weights are here: kept, the rest goes
        if info.kind in CLASSIFIER_KINDS:
            cache.confusion(run_id)
        else:
            cache.curve(run_id, "gaussian_image", DENOISE_LEVELS, DENOISE_IMAGES)
        size = (info.path / "weights.pt").stat().st_size
        registry.strip_weights(
            run_id,
            keep_eval=tuple(
                p.stem
                for p in (info.path / "eval").glob("*.npz")
                if p.stem == "confusion" or p.stem.startswith("curve-")
            ),
        )
        print(f"{run_id}: results only ({size / 1e6:.1f} MB of weights dropped)", file=sys.stderr)
    return 0


def cmd_cache(a) -> int:
    registry = registry_from_args(a)
    ids = a.run_ids or [
        r.run_id
        for r in registry.list_runs()
        if not r.damaged
        and not r.results_only
        and (r.path / "weights.pt").exists()  # a run that diverged in its first epoch has none
        and r.summary.get("epochs_done", 0) > 0
        and r.status != "running"
    ]
    for run_id in ids:
        registry.get(run_id)
    if a.denoise_with and registry.get(a.denoise_with).kind not in CLASSIFIER_KINDS:
        raise CLIError(f"--denoise-with needs a classifier run, not {registry.get(a.denoise_with).kind}")
    cache = EvalCache(registry, functools.cache(lambda: load_fashion_mnist(a.data_dir)))
    for run_id in ids:
        t = time.perf_counter()
        cache.precompute(run_id)
        cache.latent(run_id)  # the Latent space page's map (t-SNE: ~15 s a run)
        if a.denoise_with and registry.get(run_id).kind in AUTOENCODER_KINDS:
            for kind in NOISE_KINDS:
                cache.denoise(a.denoise_with, run_id, kind)
        print(f"{run_id}: {time.perf_counter() - t:.1f}s", file=sys.stderr)
    return 0


def cmd_runs(a) -> int:
    registry = registry_from_args(a)
    rows = run_rows(registry.list_runs())
    if a.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print(
            f"no runs in {registry.root}; train one with "
            "`python -m fmnist_core train autoencoder --limit 2000 --epochs 2`"
        )
        return 0
    head = (
        f"{'run_id':34s} {'kind':10s} {'status':12s} {'epochs':>6s} {'best':>4s} {'selected_on':11s} "
        f"{'val_loss':>9s} {'val_acc':>8s} {'test_loss':>9s} {'test_acc':>8s}"
    )
    print(head)
    for r in rows:
        if r["damaged"]:
            print(f"{r['run_id']:34s} {'?':10s} {'damaged':12s}  {r['damaged']}")
            continue
        print(
            f"{r['run_id']:34s} {r['kind']:10s} {r['status']:12s} {r['epochs_done'] or 0:6d} "
            f"{r['best_epoch'] or 0:4d} {r['selected_on'] or '-':11s} {fmt_value(r['best_val_loss']):>9s} "
            f"{fmt_value(r['best_val_acc'], True):>8s} {fmt_value(r['test_loss']):>9s} "
            f"{fmt_value(r['test_acc'], True):>8s}"
        )
    print(
        "\nval_*: at the best epoch, on the images that selected it (selected_on: holdout = the fixed held-out"
        " split, own holdout = a run's own from before it, test = the test set, the reports' method).\n"
        "test_*: the best epoch's weights on the test set, read once after training (older runs: -)."
    )
    return 0


def cmd_evaluate(a) -> int:
    from ..evaluate import evaluate_run

    if not 0 <= a.level <= 10:
        raise CLIError(f"--level must be between 0 and 10 (got {a.level})")
    if not 0 <= a.limit <= 10000:
        raise CLIError(f"--limit must be between 0 (all 10,000 test images) and 10000 (got {a.limit})")
    if not 0 <= a.seed < 2**31:
        raise CLIError(f"--seed must be between 0 and 2^31-1 (got {a.seed})")
    registry = registry_from_args(a)
    registry.get(a.run_id)
    ds = load_fashion_mnist(a.data_dir)
    print(json.dumps(evaluate_run(registry, a.run_id, ds, a.noise, a.level, a.seed, a.limit), indent=1))
    return 0


def cmd_predict(a) -> int:
    from ..classify import classify, familiarity, reconstruction
    from ..preprocess import prepare_image

    registry = registry_from_args(a)
    info = registry.get(a.run_id)
    if info.kind not in CLASSIFIER_KINDS:
        raise CLIError(f"run {a.run_id!r} is a {info.kind}; predict needs a classifier, cnn or mlp run")
    model = registry.load_model(a.run_id)
    ae, test_mse = None, None
    if a.autoencoder:
        if registry.get(a.autoencoder).kind not in AUTOENCODER_KINDS:
            raise CLIError(f"--autoencoder {a.autoencoder!r} is not an autoencoder run")
        ae = registry.load_model(a.autoencoder)
        test_mse = EvalCache(registry, lambda: load_fashion_mnist(a.data_dir)).test(a.autoencoder)[
            "mse_per_image"
        ]
    results = []
    for path in a.images:
        try:
            prepared = prepare_image(_read_image(path))
        except ImageError as e:
            raise CLIError(f"{path}: {e}") from None
        guess = classify({a.run_id: model}, prepared.tensor)[a.run_id]
        result = {
            "image": path,
            "predicted": guess.label,
            "class_index": guess.index,
            "probabilities": {n: round(float(v), 6) for n, v in zip(CLASS_NAMES, guess.probs)},
            "notes": prepared.notes,
        }
        if ae is not None and test_mse is not None:
            f = familiarity(reconstruction(ae, prepared.tensor)[1], test_mse)
            result["familiarity"] = {
                "autoencoder": a.autoencoder,
                "mse": round(f.mse, 6),
                "percentile": round(f.percentile, 2),
                "verdict": f.verdict,
            }
        results.append(result)
    print(json.dumps(results, indent=1))
    return 0


def _read_image(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        raise CLIError(f"cannot read {path}: {e.strerror or e}; give the path of an image file") from None


def cmd_bench(a) -> int:
    from ..bench import run_bench

    if a.threads is not None and a.threads < 1:
        raise CLIError(f"--threads must be at least 1 (got {a.threads})")
    if not 1 <= a.images <= 60000:
        raise CLIError(f"--images must be between 1 and 60000 (got {a.images})")
    if not 1 <= a.rounds <= 100:
        raise CLIError(f"--rounds must be between 1 and 100 (got {a.rounds})")
    ds = load_fashion_mnist(a.data_dir)
    run_bench(ds, images=a.images, rounds=a.rounds, which=a.model, threads=a.threads)
    if a.sweep_runs:
        from ..bench import sweep_bench

        if not 1 <= a.sweep_runs <= 64 or not 100 <= a.sweep_images <= 60000:
            raise CLIError("--sweep-runs must be 0-64 and --sweep-images 100-60000")
        sweep_bench(ds, a.sweep_runs, a.sweep_images)
    return 0

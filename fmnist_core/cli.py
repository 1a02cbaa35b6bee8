"""Command line: python -m fmnist_core {data,train,runs,evaluate,predict,bench,study}."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from .compare import run_rows
from .config import (
    AUTOENCODER_KINDS,
    CLASSIFIER_KINDS,
    DenseAEConfig,
    RunSpec,
    TrainConfig,
    encoder_arch,
    model_config,
)
from .data import CLASS_NAMES, NOISE_KINDS, load_fashion_mnist
from .errors import USER_ERRORS
from .evalcache import EvalCache
from .preprocess import ImageError
from .registry import Registry, RunError


class CLIError(Exception):
    """Bad input from the command line; printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, exit 2, like ours
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST IDX files (or FMNIST_DATA_DIR)")
    p.add_argument("--runs-dir", help="folder of run folders (or FMNIST_RUNS_DIR; default saved_models)")


def _train_flags(p: argparse.ArgumentParser, kind: str) -> None:
    d = TrainConfig()
    g = p.add_argument_group("training")
    g.add_argument("--lr", type=float, default=d.lr, help="learning rate (default %(default)s)")
    g.add_argument(
        "--batch-size", type=int, default=d.batch_size, help="images per step (default %(default)s)"
    )
    g.add_argument("--epochs", type=int, default=d.epochs, help="maximum epochs (default %(default)s)")
    g.add_argument("--optimizer", choices=("adam", "sgd"), default=d.optimizer)
    g.add_argument("--momentum", type=float, default=d.momentum, help="SGD momentum (default %(default)s)")
    g.add_argument("--seed", type=int, default=d.seed)
    g.add_argument(
        "--patience",
        type=int,
        default=d.patience,
        help="early stopping after this many epochs without val_loss improvement; 0 = off",
    )
    g.add_argument(
        "--min-delta", type=float, default=d.min_delta, help="smallest val_loss improvement that counts"
    )
    g.add_argument("--keep-last", action="store_true", help="keep the last epoch's weights, not the best")
    g.add_argument(
        "--validation",
        choices=("test", "holdout"),
        default=d.validation,
        help="validate on the official test set (as the reports) or a held-out part of train",
    )
    g.add_argument("--limit", type=int, default=0, help="train on the first N images only (0 = all)")
    g.add_argument(
        "--train-fraction", type=float, default=1.0, help="seeded fraction of the training set to use"
    )
    g.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda or mps")
    g.add_argument("--name", help="run id to save under (default: kind and time)")
    m = p.add_argument_group("model")
    # a classifier on a pretrained encoder takes the encoder run's n and conv layers (see _encoder_arch):
    # its defaults are None, so an option given by hand can be told from one left out
    clf = kind == "classifier"
    if kind in ("autoencoder", "classifier", "dense-autoencoder"):
        default_n = DenseAEConfig().latent_dim if kind == "dense-autoencoder" else 64
        m.add_argument(
            "--latent",
            type=int,
            default=None if clf else default_n,
            help="code size n (default: the encoder run's, else 64)"
            if clf
            else "code size n (default %(default)s)",
        )
    if kind in ("autoencoder", "classifier"):
        m.add_argument("--dropout", type=float, default=0.2, help="dropout p after every ReLU (default 0.2)")
        m.add_argument(
            "--channels", type=int, nargs=2, default=None if clf else (16, 32), metavar=("C1", "C2")
        )
        m.add_argument(
            "--batch-norm",
            action="store_true",
            default=None if clf else False,
            help="BatchNorm before each pooling (report E)",
        )
        m.add_argument("--second-pool", choices=("max", "avg"), default=None if clf else "max")
        m.add_argument(
            "--dropout-mode",
            choices=("element", "channel"),
            default="element",
            help="channel = Dropout2d on conv maps: faster, but not the reports' model",
        )
    if kind == "autoencoder":
        m.add_argument(
            "--decoder",
            choices=("output_padding", "kernel"),
            default="output_padding",
            help="last layer: kernel 3 + output_padding (A) or kernel 4 (C's AE 4)",
        )
    if kind == "classifier":
        m.add_argument(
            "--encoder", default="random", help="autoencoder RUN_ID to copy the encoder from, or random"
        )
        m.add_argument("--freeze-encoder", action="store_true", help="train the head only (report C's C8)")
        m.add_argument("--head-hidden", type=int, default=0, help="hidden units in the head (0 = none)")
        m.add_argument(
            "--no-final-relu",
            dest="final_relu",
            action="store_false",
            help="no ReLU before the softmax (reports A and C use one)",
        )
    if kind == "dense-autoencoder":
        m.add_argument("--dropout", type=float, default=0.1)
    if kind in ("cnn", "mlp"):
        m.add_argument("--dropout", type=float, default=0.4 if kind == "cnn" else 0.2)
    if kind == "mlp":
        m.add_argument("--hidden", type=int, default=256)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m fmnist_core", description="Fashion-MNIST Lab: train, evaluate and compare models."
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("data", help="where the data was found, split sizes, class counts")
    _common(s)
    s = sub.add_parser("train", help="train a model and save it as a run")
    kinds = s.add_subparsers(dest="kind", required=True, parser_class=_Parser)
    for kind, desc in (
        ("autoencoder", "report A's convolutional autoencoder (and C, E variants)"),
        ("dense-autoencoder", "report B's 784 -> n -> 784 autoencoder"),
        ("classifier", "an encoder (pretrained or random) plus a linear head"),
        ("cnn", "report D's deep CNN"),
        ("mlp", "report D's one-hidden-layer MLP"),
    ):
        k = kinds.add_parser(kind, help=desc, description=desc)
        _common(k)
        _train_flags(k, kind)
    s = sub.add_parser("runs", help="list saved runs")
    _common(s)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s = sub.add_parser("evaluate", help="test-set metrics of a run, as JSON")
    _common(s)
    s.add_argument("run_id")
    s.add_argument(
        "--noise",
        choices=list(NOISE_KINDS),
        help="add noise to the inputs: " + "; ".join(f"{k}: {v}" for k, v in NOISE_KINDS.items()),
    )
    s.add_argument("--level", type=float, default=0.2, help="noise level (default %(default)s)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--limit", type=int, default=0, help="first N test images only")
    s = sub.add_parser("predict", help="class probabilities for image files, as JSON")
    _common(s)
    s.add_argument("run_id")
    s.add_argument("images", nargs="+", help="PNG, JPEG, WebP, BMP or GIF files")
    s.add_argument(
        "--autoencoder",
        metavar="RUN_ID",
        help="also say how familiar each image looks to this "
        "autoencoder: its reconstruction error against the test images'",
    )
    s = sub.add_parser("bench", help="images/s of fit() against a torchvision DataLoader reference loop")
    _common(s)
    s.add_argument(
        "--images", type=int, default=6000, help="training images per timed pass (default %(default)s)"
    )
    s.add_argument("--rounds", type=int, default=2, help="A B rounds (default %(default)s)")
    s.add_argument("--model", choices=("autoencoder", "classifier", "both"), default="both")
    s.add_argument("--threads", type=int, help="torch threads for both sides (default: torch's own choice)")
    s.add_argument("--sweep-runs", type=int, default=4, help="runs of the sweep comparison (0 = skip it)")
    s.add_argument("--sweep-images", type=int, default=12000, help="training images per sweep run")
    s = sub.add_parser(
        "cache",
        help="compute the test-set evaluations the app's pages read (every run "
        "does this when it finishes; this fills in older runs)",
    )
    _common(s)
    s.add_argument("run_ids", nargs="*", help="runs to evaluate (default: every usable run)")
    s.add_argument(
        "--denoise-with",
        metavar="RUN_ID",
        help="also each autoencoder's denoise-then-classify curves with this classifier",
    )
    s = sub.add_parser(
        "strip-weights",
        help="make finished runs results-only for shipping: keep their record "
        "and the evaluations a study needs, drop their weights (retrain with the recorded command)",
    )
    _common(s)
    s.add_argument("run_ids", nargs="+")
    s = sub.add_parser("study", help="run a study's missing runs, then print its table")
    _common(s)
    s.add_argument("name", nargs="?", help="study name; omit to list them")
    s.add_argument("--seeds", type=int, help="seeds per configuration (default: the study's)")
    s.add_argument("--epochs", type=int, help="epochs per run (default: the study's)")
    s.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    s.add_argument("--dry-run", action="store_true", help="list the runs it would train")
    s.add_argument(
        "--workers",
        type=int,
        help="runs trained side by side, one process and one torch thread each (default: one per CPU core)",
    )
    s.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="send each run to a Ray cluster as a task (ADDRESS as for "
        "ray.init, e.g. ray://head:10001), or 'local' to start one on this machine",
    )
    return p


# the command line's names for the model kinds
CLI_KINDS = {
    "autoencoder": "conv_ae",
    "dense-autoencoder": "dense_ae",
    "classifier": "classifier",
    "cnn": "cnn",
    "mlp": "mlp",
}


def spec_from_args(a: argparse.Namespace) -> RunSpec:
    train = TrainConfig(
        optimizer=a.optimizer,
        lr=a.lr,
        momentum=a.momentum,
        batch_size=a.batch_size,
        epochs=a.epochs,
        seed=a.seed,
        patience=a.patience,
        min_delta=a.min_delta,
        restore_best=not a.keep_last,
        validation=a.validation,
        limit=a.limit,
        train_fraction=a.train_fraction,
        device=a.device,
    )
    # options left out are None: the config's defaults (a pretrained encoder's, see _encoder_arch)
    options = ("dropout", "dropout_mode", "decoder", "freeze_encoder", "head_hidden", "final_relu", "hidden")
    model = model_config(
        CLI_KINDS[a.kind],
        **_arch_args(a),
        **{k: getattr(a, k, None) for k in options},
        encoder_run=getattr(a, "encoder", None),
    )
    return RunSpec(model, train, a.name)


def _arch_args(a: argparse.Namespace) -> dict:
    """The encoder architecture as given on the command line (None: left out)."""
    channels = getattr(a, "channels", None)
    return {
        "latent_dim": getattr(a, "latent", None),
        "channels": tuple(channels) if channels else None,
        "batch_norm": getattr(a, "batch_norm", None),
        "second_pool": getattr(a, "second_pool", None),
    }


def _encoder_arch(a: argparse.Namespace, spec: RunSpec, registry: Registry) -> RunSpec:
    """A classifier on a pretrained encoder gets the encoder run's latent size and conv layers, as on the
    Train page; an option given by hand that differs is refused in one line."""
    if spec.model.kind != "classifier" or not spec.model.pretrained:
        return spec
    ae = registry.get(spec.model.encoder_run)
    if ae.kind != "conv_ae":
        return spec  # build_for_spec says why it cannot be an encoder
    ae_cfg = ae.spec().model
    flags = {
        "latent_dim": "--latent",
        "channels": "--channels",
        "batch_norm": "--batch-norm",
        "second_pool": "--second-pool",
    }
    for key, given in _arch_args(a).items():
        if given is not None and given != getattr(ae_cfg, key):
            raise CLIError(
                f"{flags[key]} {given} differs from encoder run {ae.run_id!r} ({getattr(ae_cfg, key)}); "
                f"leave {flags[key]} out to take the encoder's"
            )
    return dataclasses.replace(spec, model=dataclasses.replace(spec.model, **encoder_arch(ae_cfg)))


def _registry(a) -> Registry:
    """The runs folder of --runs-dir / FMNIST_RUNS_DIR, refused in one line if it cannot be one."""
    registry = Registry(a.runs_dir)
    root = registry.root
    if root.exists() and not root.is_dir():
        raise CLIError(f"--runs-dir {root} is a file, not a folder; give a folder for the runs")
    if not root.exists():
        parent = next((p for p in root.parents if p.exists()), None)
        if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK):
            raise CLIError(f"--runs-dir {root} cannot be created here; give a folder you can write to")
    elif root.resolve().parts[:2] in (("/", "proc"), ("/", "sys"), ("/", "dev")):
        raise CLIError(f"--runs-dir {root} is a system folder; give a folder of your own")
    return registry


def _fmt(v, pct=False) -> str:
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

    from .train import train_run

    stop = threading.Event()
    bar = None

    def on_batch(pr):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=pr.epochs * pr.batches, unit="batch", dynamic_ncols=True, file=sys.stderr)
        bar.n = (pr.epoch - 1) * pr.batches + pr.batch
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
    try:
        run_id = train_run(spec, ds, registry, on_batch, on_epoch, stop, command=command)
    finally:
        if bar is not None:
            bar.close()
        if old is not None:
            signal.signal(signal.SIGINT, old)
    return run_id


def cmd_train(a) -> int:
    registry = _registry(a)
    spec = _encoder_arch(a, spec_from_args(a), registry)
    ds = load_fashion_mnist(a.data_dir)
    command = "python -m fmnist_core " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    run_id = train_with_progress(spec, ds, registry, command)
    info = registry.get(run_id)
    s = info.summary
    line = (
        f"{info.status}: {s.get('epochs_done')} epochs, best epoch {s.get('best_epoch')}, "
        f"val_loss {_fmt(s.get('best_val_loss'))}"
    )
    if "best_val_acc" in s:
        line += f", val_acc {_fmt(s.get('best_val_acc'), pct=True)}"
    print(line, file=sys.stderr)
    if info.summary.get("epochs_done", 0) > 0:
        print("evaluating on the test set for the app's pages...", file=sys.stderr)
        EvalCache(registry, lambda: ds).precompute(run_id)
    print(run_id)
    return 0


def cmd_strip_weights(a) -> int:
    from .studies import DENOISE_IMAGES, DENOISE_LEVELS

    registry = _registry(a)
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
    registry = _registry(a)
    ids = a.run_ids or [
        r.run_id
        for r in registry.list_runs()
        if not r.damaged
        and not r.results_only
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
    registry = _registry(a)
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
    head = f"{'run_id':34s} {'kind':10s} {'status':12s} {'epochs':>6s} {'best':>4s} {'val_loss':>9s} {'val_acc':>8s}"
    print(head)
    for r in rows:
        if r["damaged"]:
            print(f"{r['run_id']:34s} {'?':10s} {'damaged':12s}  {r['damaged']}")
            continue
        print(
            f"{r['run_id']:34s} {r['kind']:10s} {r['status']:12s} {r['epochs_done'] or 0:6d} "
            f"{r['best_epoch'] or 0:4d} {_fmt(r['best_val_loss']):>9s} {_fmt(r['best_val_acc'], True):>8s}"
        )
    return 0


def cmd_evaluate(a) -> int:
    from .evaluate import evaluate_run

    if not 0 <= a.level <= 10:
        raise CLIError(f"--level must be between 0 and 10 (got {a.level})")
    if not 0 <= a.limit <= 10000:
        raise CLIError(f"--limit must be between 0 (all 10,000 test images) and 10000 (got {a.limit})")
    if not 0 <= a.seed < 2**31:
        raise CLIError(f"--seed must be between 0 and 2^31-1 (got {a.seed})")
    registry = _registry(a)
    registry.get(a.run_id)
    ds = load_fashion_mnist(a.data_dir)
    print(json.dumps(evaluate_run(registry, a.run_id, ds, a.noise, a.level, a.seed, a.limit), indent=1))
    return 0


def cmd_predict(a) -> int:
    from .classify import classify, familiarity
    from .preprocess import prepare_image

    registry = _registry(a)
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
        if ae is not None:
            f = familiarity(ae, prepared.tensor, test_mse)
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
    from .bench import run_bench

    if a.threads is not None and a.threads < 1:
        raise CLIError(f"--threads must be at least 1 (got {a.threads})")
    if not 1 <= a.images <= 60000:
        raise CLIError(f"--images must be between 1 and 60000 (got {a.images})")
    if not 1 <= a.rounds <= 100:
        raise CLIError(f"--rounds must be between 1 and 100 (got {a.rounds})")
    ds = load_fashion_mnist(a.data_dir)
    run_bench(ds, images=a.images, rounds=a.rounds, which=a.model, threads=a.threads)
    if a.sweep_runs:
        from .bench import sweep_bench

        if not 1 <= a.sweep_runs <= 64 or not 100 <= a.sweep_images <= 60000:
            raise CLIError("--sweep-runs must be 0-64 and --sweep-images 100-60000")
        sweep_bench(ds, a.sweep_runs, a.sweep_images)
    return 0


def _print_epochs(registry: Registry, names: list[str], done: threading.Event) -> None:
    """Print each run's new epochs as its folder records them, until `done`."""
    seen: dict[str, int] = {}
    while not done.wait(2.0):
        for name in names:
            try:
                history = registry.info(name).history
            except RunError:
                continue
            for r in history[seen.get(name, 0) :]:
                parts = [
                    f"{name}: epoch {r.get('epoch')}",
                    f"train_loss {_fmt(r.get('train_loss'))}",
                    f"val_loss {_fmt(r.get('val_loss'))}",
                ]
                if "val_acc" in r:
                    parts.append(f"val_acc {_fmt(r.get('val_acc'), pct=True)}")
                print("  ".join(parts), file=sys.stderr, flush=True)
            seen[name] = len(history)


def _sweep(tasks: list, registry: Registry, a, command: str):
    """Train the tasks locally in worker processes or on Ray; SIGTERM or Ctrl-C stops them cleanly."""
    import multiprocessing

    from .runner import run_local, run_ray

    def report(name: str, what: str) -> None:
        print(f"{name}: {what}", file=sys.stderr, flush=True)

    if a.ray:
        return run_ray(tasks, registry, command, a.ray, a.data_dir, report)
    stop = multiprocessing.get_context("spawn").Event()

    def on_signal(signum, frame):
        # set the event first, and write with os.write: a print() here can land inside the main thread's own
        # print to stderr and raise "reentrant call", leaving the sweep unstopped
        first = not stop.is_set()
        stop.set()
        if first:
            os.write(2, b"\nstopping: each run ends after its current batch and keeps its best epoch...\n")

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    printing = threading.Event()
    threading.Thread(
        target=_print_epochs, args=(registry, [t.spec.name for t in tasks], printing), daemon=True
    ).start()
    try:
        return run_local(tasks, registry, command, a.workers, a.data_dir, report, stop)
    finally:
        printing.set()
        for sig, handler in old.items():
            signal.signal(sig, handler)


def cmd_study(a) -> int:
    from .background import running_sweep, sweep_record
    from .studies import STUDIES, build_view, compute_extras, get_study, plan_study, runs_table, sweep_tasks

    if not a.name:
        print(
            text_table(
                [
                    {
                        "study": s.name,
                        "report": s.report,
                        "runs": str(sum(s.seeds if t.seeded else 1 for t in s.runs)),
                        "title": s.title,
                        "question": s.question,
                    }
                    for s in STUDIES.values()
                ]
            )
        )
        print(
            "\nrun one with `python -m fmnist_core study NAME [--seeds K] [--epochs E] [--limit N] [--workers W]`"
        )
        return 0
    if a.workers is not None and not 1 <= a.workers <= 256:
        raise CLIError(f"--workers must be between 1 and 256 (got {a.workers})")
    study = get_study(a.name)
    registry = _registry(a)
    plan = plan_study(study, registry, a.seeds, a.epochs, a.limit)
    print(f"study {study.name} (report {study.report}): {study.title}\n  {study.question}", file=sys.stderr)
    reused = [r for r in plan.runs if r.finished and r.note.startswith("reuses")]
    print(
        f"  {len(plan.runs)} runs: {plan.count('done')} done"
        + (f" ({len(reused)} reused: {', '.join(sorted({r.run_id for r in reused}))})" if reused else "")
        + f", {plan.count('running')} running elsewhere, {len(plan.missing)} to train"
        + (f", {len(plan.blocked)} blocked" if plan.blocked else ""),
        file=sys.stderr,
    )
    for r in plan.blocked:
        print(f"  blocked: {r.label}: {r.note}", file=sys.stderr)
    if a.dry_run:
        print(text_table(runs_table(plan)))
        return 0
    tasks = sweep_tasks(plan)
    sweep = None
    if tasks:
        other = running_sweep(registry, study.name)
        if other is not None:
            raise CLIError(
                f"a sweep of study {study.name} is already running (pid {other['pid']}); "
                "stop it first or wait for it"
            )
        load_fashion_mnist(a.data_dir, download=False)  # fail early (and once) if the data is missing
        command = "python -m fmnist_core " + " ".join(shlex.quote(x) for x in sys.argv[1:])
        where = f"Ray at {a.ray}" if a.ray else f"{a.workers or os.cpu_count()} worker process(es)"
        print(f"  training {len(tasks)} run(s) with {where}", file=sys.stderr)
        with sweep_record(registry, study.name, command=command, workers=a.workers, ray=a.ray):
            sweep = _sweep(tasks, registry, a, command)
    else:
        print(
            "  nothing to train: every run of this study exists"
            if not plan.blocked
            else "  nothing to train now",
            file=sys.stderr,
        )
    plan = plan_study(study, registry, a.seeds, a.epochs, a.limit)
    view = build_view(
        study,
        plan,
        compute_extras(study, plan, registry, functools.cache(lambda: load_fashion_mnist(a.data_dir))),
    )
    print(f"\n# {study.name}: {study.title}")
    print("\n## runs\n" + text_table(runs_table(plan)))
    for t in view.tables:
        print(f"\n## {t.title}\n" + text_table(t.rows) + (f"\n{t.note}" if t.note else ""))
    print("\n## reading")
    for line in view.reading:
        print("- " + line.replace("**", ""))
    for o in sweep.failed if sweep else []:
        print(f"{o.name}: {o.status}: {o.error}", file=sys.stderr)
    return 1 if (sweep and sweep.failed) or plan.blocked else 0


COMMANDS = {
    "data": cmd_data,
    "train": cmd_train,
    "runs": cmd_runs,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "bench": cmd_bench,
    "study": cmd_study,
    "cache": cmd_cache,
    "strip-weights": cmd_strip_weights,
}


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    try:
        code = COMMANDS[a.command](a)
        sys.stdout.flush()  # a reader gone early shows up here, not as a traceback at exit
        return code
    except BrokenPipeError:  # `runs --json | head`: the reader stopped; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (CLIError, *USER_ERRORS) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:  # e.g. an unavailable device
        if "device" in str(e) or "CUDA" in str(e):
            print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130

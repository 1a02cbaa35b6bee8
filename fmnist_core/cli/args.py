"""The command line's options: the parser, and a RunSpec built from what was given."""

from __future__ import annotations

import argparse
import dataclasses
import os

from ..config import (
    PRECISIONS,
    DenseAEConfig,
    RunSpec,
    TrainConfig,
    encoder_arch,
    model_config,
)
from ..data import NOISE_KINDS
from ..presets import VALIDATION_LABELS
from ..registry import Registry


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
        choices=tuple(VALIDATION_LABELS),
        default=d.validation,
        help="the images that pick the best epoch and stop early: "
        + "; ".join(f"{choice} = {label}" for choice, label in VALIDATION_LABELS.items()),
    )
    g.add_argument("--limit", type=int, default=0, help="train on the first N images only (0 = all)")
    g.add_argument(
        "--train-fraction", type=float, default=1.0, help="seeded fraction of the training set to use"
    )
    g.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda or mps")
    g.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=d.precision,
        help="bf16 = bfloat16 autocast: faster on CPUs with AVX-512 BF16 or AMX and on GPUs, but not "
        "the reports' float32 computation (labelled in the run)",
    )
    g.add_argument("--name", help="run id to save under (default: kind and time)")
    m = p.add_argument_group("model")
    # a classifier on a pretrained encoder takes the encoder run's n and conv layers (see with_encoder_arch):
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
    s.add_argument("--all", action="store_true", help="every study, one after the other (rebuilds them all)")
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
        precision=a.precision,
    )
    # options left out are None: the config's defaults (a pretrained encoder's, see with_encoder_arch)
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


def with_encoder_arch(a: argparse.Namespace, spec: RunSpec, registry: Registry) -> RunSpec:
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


def registry_from_args(a) -> Registry:
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

"""The command line's options: the parser, and a RunSpec built from what was given."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

from ..config import (
    CLI_KINDS,
    ENCODER_ARCH,
    MODEL_CONFIGS,
    ClassifierConfig,
    ConvAEConfig,
    RunSpec,
    TrainConfig,
    encoder_arch,
    model_config,
)
from ..data import NOISE_KINDS
from ..registry import Registry
from ..settings import Setting, setting, settings_of


class CLIError(Exception):
    """Bad input from the command line; printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, exit 2, like ours
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST IDX files (or FMNIST_DATA_DIR)")
    p.add_argument("--runs-dir", help="folder of run folders (or FMNIST_RUNS_DIR; default saved_models)")


def _add_setting(g, s: Setting, default: Any, fixed_by_encoder: bool = False) -> None:
    """One setting of the schema as a command-line option (dest: the config field's name)."""
    help = (s.flag_help or s.help).rstrip(".").replace("%", "%%")
    is_bool, is_pair = isinstance(default, bool), isinstance(default, tuple)
    if fixed_by_encoder:  # None: left out, so the encoder run's value is taken (see with_encoder_arch)
        help += f" (default: the encoder run's, else {default!r})"
        default = None
    elif any(str(c).lower() != label.lower() for c, label in s.choices.items()):
        help += ": " + "; ".join(f"{c} = {label}" for c, label in s.choices.items())
    if is_bool:
        action = "store_false" if s.invert_flag else "store_true"
        g.add_argument(s.flag, dest=s.name, action=action, default=default, help=help)
        return
    metavar = (s.flag or s.name).lstrip("-").upper().replace("-", "_")
    kw: dict[str, Any] = {"dest": s.name, "default": default, "help": help, "metavar": metavar}
    if s.choices:
        kw.update(choices=tuple(s.choices), metavar=None)
    elif is_pair:
        kw.update(type=int, nargs=2, metavar=("C1", "C2"))
    else:
        kw["type"] = type(default) if default is not None else int
        if not fixed_by_encoder:
            kw["help"] += " (default %(default)s)"
    g.add_argument(s.flag, **kw)


def _train_flags(p: argparse.ArgumentParser, kind: str) -> None:
    """The train command's options, built from the settings schema (fmnist_core/settings.py)."""
    g = p.add_argument_group("training")
    d = TrainConfig()
    model_kind = CLI_KINDS[kind]
    for s in settings_of("train", model_kind):  # label smoothing and augmentation: classifiers only
        if s.flag:
            _add_setting(g, s, getattr(d, s.name))
    g.add_argument("--name", help="run id to save under (default: kind and time)")
    m = p.add_argument_group("model")
    defaults = MODEL_CONFIGS[model_kind]()
    for s in settings_of("model", model_kind):
        if s.flag:
            # a classifier on a pretrained encoder takes the encoder run's n and conv layers
            fixed = model_kind == "classifier" and s.name in ENCODER_ARCH
            _add_setting(m, s, getattr(defaults, s.name), fixed)


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
    _search_parser(sub)
    _report_parser(sub)
    return p


# the search's pruners (fmnist_core/search/definition.py PRUNERS; listed here so that building the parser
# does not import Optuna)
SEARCH_PRUNERS = ("median", "asha", "none")


def _search_parser(sub) -> None:
    s = sub.add_parser(
        "search",
        help="search hyperparameters with Optuna (TPE): each trial a run, poor ones pruned after an epoch",
        description="Search a model's settings: each trial is a run (search-NAME-t007) trained in a worker "
        "process and scored on the held-out split (autoencoders: loss; classifiers: accuracy). Running the "
        "same command again resumes the search (after a kill too) and spends what is left of --trials.",
    )
    _common(s)
    s.add_argument("name", nargs="?", help="the search's name (omit to list the searches)")
    s.add_argument("--model", choices=tuple(CLI_KINDS), help="the model kind (a new search needs it)")
    s.add_argument(
        "--param",
        action="append",
        metavar="NAME=RANGE|CHOICES",
        help="a setting to search, named as the train command's option without dashes: NAME=LOW:HIGH "
        "(add :log for a log scale; whole-number settings draw whole numbers, or say :int) or NAME=a,b,c; "
        "e.g. --param lr=1e-4:1e-2:log --param latent=16,32,64 --param batch-size=32:256:log",
    )
    s.add_argument("--trials", type=int, help="trials in all, finished ones of earlier runs included")
    s.add_argument("--minutes", type=float, help="no trial starts after this many minutes of this command")
    s.add_argument("--epochs", type=int, help="epochs per trial (a new search: default 10)")
    s.add_argument("--limit", type=int, help="train each trial on the first N images only (default: all)")
    s.add_argument(
        "--workers",
        type=int,
        help="trials trained side by side, one process and one torch thread each (default: one per CPU core)",
    )
    s.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="train the trials as Ray tasks on this cluster (as for ray.init), or 'local' to start one here; "
        "the runs folder and the data must be at the same paths on every node",
    )
    s.add_argument(
        "--pruner",
        choices=SEARCH_PRUNERS,
        help="median (default): stop a trial worse than the median of finished trials at the same epoch; "
        "asha: successive halving; none",
    )
    s.add_argument(
        "--pruner-startup",
        type=int,
        metavar="K",
        help="finished trials before the median pruner stops any (default 3)",
    )
    s.add_argument("--seed", type=int, help="the sampler's seed (default 0)")
    s.add_argument("--status", action="store_true", help="print the search's trials and stop")
    s.add_argument("--json", action="store_true", help="with --status: the trials as JSON")


def _report_parser(sub) -> None:
    s = sub.add_parser(
        "report",
        help="a study as one self-contained HTML file to hand in (and a PDF with --pdf)",
        description="Write a study's report: the question, the method (architectures, training, split, "
        "seeds, machine, code commit), every table and figure of its view, the reading, and each run's "
        "config and history. One HTML file that opens with no network; --pdf prints it with headless "
        "Chromium. Nothing is trained: the report shows the runs as they are.",
    )
    _common(s)
    s.add_argument(
        "name", metavar="STUDY", nargs="?", help="the study (`python -m fmnist_core study` lists them)"
    )
    s.add_argument(
        "--runs", metavar="RUN", nargs="+", help="instead of a study: these runs, compared (as on Compare)"
    )
    s.add_argument(
        "--out", metavar="FILE.html", help="the HTML file (default: report-STUDY.html, or report-runs.html)"
    )
    s.add_argument(
        "--pdf", metavar="FILE.pdf", help="also print it to this PDF (headless Chromium; or set CHROMIUM)"
    )


# the command line's names for the model kinds
def spec_from_args(a: argparse.Namespace) -> RunSpec:
    train = TrainConfig(
        **{s.name: getattr(a, s.name) for s in settings_of("train", CLI_KINDS[a.kind]) if s.flag}
    )
    # options left out are None: the config's defaults (a pretrained encoder's, see with_encoder_arch)
    choices = {s.name: getattr(a, s.name, None) for s in settings_of("model", CLI_KINDS[a.kind]) if s.flag}
    if (channels := choices.get("channels")) is not None:
        choices["channels"] = tuple(channels)
    return RunSpec(model_config(CLI_KINDS[a.kind], **choices), train, a.name)


def _arch_args(a: argparse.Namespace) -> dict:
    """The encoder architecture as given on the command line (None: left out)."""
    given = {k: getattr(a, k, None) for k in ENCODER_ARCH}
    return {**given, "channels": tuple(given["channels"]) if given["channels"] else None}


def with_encoder_arch(a: argparse.Namespace, spec: RunSpec, registry: Registry) -> RunSpec:
    """A classifier on a pretrained encoder gets the encoder run's latent size and conv layers, as on the
    Train page; an option given by hand that differs is refused in one line."""
    if not isinstance(spec.model, ClassifierConfig) or not spec.model.pretrained:
        return spec
    ae = registry.get(spec.model.encoder_run)
    if ae.kind != "conv_ae":
        return spec  # build_for_spec says why it cannot be an encoder
    ae_cfg = ae.spec().model
    assert isinstance(ae_cfg, ConvAEConfig)  # its kind is conv_ae
    flags = {k: setting("model", k).flag for k in ENCODER_ARCH}
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

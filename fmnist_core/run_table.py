"""The Compare page's table of runs as data: which runs it lists, one row per run, the column sets it
offers, and each column's header, number format and help (the app turns a Column into st.column_config).

The val columns are at the best (selected) epoch or the last, on the images of "selected on"; the test
columns are the selected epoch's weights on the test set, read once after training.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .compare import run_rows
from .config import KIND_LABELS
from .dead_classes import lost_classes_cell
from .health import NEVER_LEARNED, never_learned
from .registry import RunInfo
from .selection import selected_on_label
from .settings import LABELLED, setting
from .stats import Estimate

VAL_HELP = "On the images in 'selected on' (loss: MSE for autoencoders, cross-entropy for classifiers)."
TEST_HELP = "The kept (best-epoch) weights on the test set, read once after training (older runs: none)."
SETTINGS = ["n", "p", "encoder", "optimizer", "lr", "batch", "seed", "train images", "precision"]
SETTING_COLUMNS = {  # column -> (section, field) of the settings schema
    "n": ("model", "latent_dim"),
    "p": ("model", "dropout"),
    "encoder": ("model", "encoder_run"),
    "optimizer": ("train", "optimizer"),
    "batch": ("train", "batch_size"),
    "seed": ("train", "seed"),
    "precision": ("train", "precision"),
}
# the table's column sets: each fits beside the sidebar at 1280 px, so no number is cut at the edge
VIEWS = {
    "results": [
        "name",
        "kind",
        "status",
        "selected on",
        "best epoch",
        "best val loss",
        "best val acc %",
        "test loss",
        "test acc %",
    ],
    "last epoch and seeds": [
        "name",
        "epochs",
        "final val loss",
        "final val acc %",
        "seeds",
        "val loss over seeds",
        "val acc over seeds",
        "s / epoch",
    ],
    "settings": ["name", *SETTINGS],
    "all": [
        "name",
        "kind",
        "status",
        *SETTINGS,
        "selected on",
        "epochs",
        "best epoch",
        "best val loss",
        "final val loss",
        "best val acc %",
        "final val acc %",
        "test loss",
        "test acc %",
        "test images",
        "seeds",
        "val acc over seeds",
        "val loss over seeds",
        "s / epoch",
        "created",
        "lost classes",
        "problem",
    ],
}
FLAGS = ("lost classes", "problem")  # columns only some runs fill


@dataclass(frozen=True)
class Column:
    """How the table shows one column: kind "number", "text" or "any" (st.column_config's NumberColumn,
    TextColumn, Column); header None keeps the column's own name."""

    kind: str = "any"
    header: str | None = None
    format: str | None = None
    help: str | None = None


def columns(val: str) -> dict[str, Column]:
    """The columns that need more than their name, headed for the runs shown; val: what their val figures
    are on ("held-out", "test" or "val", from selection.val_name(short=True))."""
    best, last = f"At the best (selected) epoch. {VAL_HELP}", f"At the last epoch. {VAL_HELP}"
    over_seeds = f"Mean ± std of the last epoch's figure. {VAL_HELP}"
    return {
        # the settings' columns: their words from the settings schema
        **{
            col: Column(help=f"{setting(*where).label}: {setting(*where).help}")
            for col, where in SETTING_COLUMNS.items()
        },
        "selected on": Column(
            "text",
            help="The images that picked the epoch whose weights the run keeps: the fixed held-out split of "
            "the training set, or the test set (the reports' method, which picks the epoch on the very figure "
            "it reports). held-out (own split): a run from before the fixed split. –: the run does not say.",
        ),
        "best val loss": Column("number", f"{val} loss, best", "%.4f", best),
        "final val loss": Column("number", f"{val} loss, last", "%.4f", last),
        "best val acc %": Column("number", f"{val} acc %, best", "%.2f", best),
        "final val acc %": Column("number", f"{val} acc %, last", "%.2f", last),
        "test loss": Column("number", format="%.4f", help=TEST_HELP + " MSE or cross-entropy."),
        "test acc %": Column("number", format="%.2f", help=TEST_HELP),
        "test images": Column("number", format="localized"),
        "val loss over seeds": Column("text", f"{val} loss over seeds", help=over_seeds),
        "val acc over seeds": Column("text", f"{val} acc over seeds", help=over_seeds),
        "s / epoch": Column("number", format="%.1f"),
        "train images": Column("number", format="localized"),
        "lr": Column("number", format="%g", help=setting("train", "lr").help),
        "lost classes": Column(
            "text",
            help="Classes predicted for no held-out image from that epoch to the last (from the per-epoch "
            "counts; runs trained before they were recorded show nothing). Tick the run for why.",
        ),
    }


def listed(runs: Iterable[RunInfo], kinds: Sequence[str], text: str, hide_bad: bool) -> list[RunInfo]:
    """The runs the table lists: of the chosen kinds, with `text` in their name, and (hide_bad) neither
    damaged nor failed."""
    return [
        r
        for r in runs
        if r.kind in kinds
        and text.lower() in r.name.lower()
        and not (hide_bad and r.status in ("damaged", "failed"))
    ]


def pm(v: tuple[float, float] | None, pct: bool = False) -> str | None:
    """A seed group's mean ± std as a cell: '0.0312 ± 0.0004', or '90.12 ± 0.30%' for an accuracy."""
    if not v:
        return None
    m, s = v
    return f"{100 * m:.2f} ± {100 * s:.2f}%" if pct else f"{m:.4f} ± {s:.4f}"


def fmt_estimate(e: Estimate | None, kind: str) -> str:
    """A mean ± 95% CI over seeds as a cell: '90.12 ± 0.30%' for a labelled kind, '0.0312 ± 0.0004' else."""
    if e is None:
        return "–"
    if kind in LABELLED:
        return e.fmt(lambda v: f"{100 * v:.2f}") + "%"
    return e.fmt(lambda v: f"{v:.4f}")


def _pct(v: float | None) -> float | None:
    return None if v is None else 100 * v


def table_rows(runs: Sequence[RunInfo]) -> list[dict]:
    """One row per run, a cell for each column of VIEWS["all"]."""
    return [
        {
            "name": r["name"],
            "kind": KIND_LABELS.get(r["kind"], r["kind"]),
            "status": r["status"],
            "n": r["latent_dim"],
            "p": r["dropout"],
            "encoder": (r["encoder_run"] or "") + (" (frozen)" if r["freeze_encoder"] else ""),
            "optimizer": r["optimizer"],
            "lr": r["lr"],
            "batch": r["batch_size"],
            "seed": r["seed"],
            "train images": r["n_train"],
            "precision": r["precision"],
            "epochs": r["epochs_done"],
            "selected on": selected_on_label(info),
            "best epoch": r["best_epoch"],
            "best val loss": r["best_val_loss"],
            "final val loss": r["final_val_loss"],
            "best val acc %": _pct(r["best_val_acc"]),
            "final val acc %": _pct(r["final_val_acc"]),
            "test loss": r["test_loss"],
            "test acc %": _pct(r["test_acc"]),
            "test images": r["test_n"],
            "seeds": r["seeds_in_group"],
            "val acc over seeds": pm(r["group_val_acc"], True),
            "val loss over seeds": pm(r["group_val_loss"]),
            "s / epoch": r["seconds_per_epoch"],
            "created": r["created"],
            "lost classes": lost_classes_cell(info),
            "problem": r["damaged"] or (NEVER_LEARNED if never_learned(info.history) else None),
        }
        for r, info in zip(run_rows(runs), runs)
    ]


def shown_columns(view: str, rows: Iterable[dict]) -> list[str]:
    """The columns of a view, plus the flag columns (FLAGS) where a listed run has something to say in them."""
    rows = list(rows)
    flagged = [c for c in FLAGS if any(row[c] for row in rows)]
    return VIEWS[view] + ([] if view == "all" else flagged)

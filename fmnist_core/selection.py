"""What a run's figures are: the images that selected its saved epoch, and its headline figure, labelled.

A run keeps the weights of its best epoch, the one of lowest loss on its validation images: the fixed
held-out split of train (the default), or the test set (the reports' method, which then reports a figure it
selected on). After training it reads the test set once with those weights (summary test_loss, test_acc).
A held-out figure and a test figure do not compare, so wherever one is shown it says which it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from .config import CLASSIFIER_KINDS
from .registry import RunInfo

HOLDOUT = "holdout"  # the fixed held-out split of train (data.holdout_id), the same for every run
OWN_HOLDOUT = "own holdout"  # a run from before that split: a held-out split of its own seed's choosing
TEST = "test"  # the official test set: the reports' method

SELECTED_ON_LABELS: dict[str | None, str] = {
    HOLDOUT: "held-out",
    OWN_HOLDOUT: "held-out (own split)",
    TEST: "test (reports' method)",
}
_VAL_WORD: dict[str | None, str] = {
    HOLDOUT: "held-out",
    OWN_HOLDOUT: "held-out",
    TEST: "test",
}  # validation figures of such runs
MIXED = "validation (held-out or test, see table)"


def selected_on(info: RunInfo) -> str | None:
    """HOLDOUT, OWN_HOLDOUT or TEST: the images that selected the run's epoch; None where it does not say."""
    if info.split_id is not None:
        return TEST if info.split_id == "test" else HOLDOUT
    # before split_id: "test" meant the test set, "holdout" a split drawn with the run's own seed
    data, train = info.config.get("data"), info.config.get("train")
    validation = (data if isinstance(data, dict) else {}).get("validation") or (
        train if isinstance(train, dict) else {}
    ).get("validation")
    return {"test": TEST, "holdout": OWN_HOLDOUT}.get(validation) if isinstance(validation, str) else None


def selected_on_label(info: RunInfo) -> str:
    """selected_on() in words for a table: "held-out", "test (reports' method)", … or "–"."""
    return SELECTED_ON_LABELS.get(selected_on(info), "–")


def val_name(runs: Iterable[RunInfo], short: bool = False) -> str:
    """What these runs' validation figures (history val_*, summary best_/final_val_*) are on: "held-out" or
    "test" when they agree; else MIXED, or "val" where `short` (a column header beside a "selected on" column)."""
    words = {_VAL_WORD.get(selected_on(r)) for r in runs if not r.damaged}  # a damaged run shows no figure
    word = words.pop() if len(words) == 1 else None
    if word is not None:
        return word
    return "val" if short else MIXED


def figure_label(info: RunInfo, digits: int = 1) -> str | None:
    """The run's one figure, saying what it is: accuracy for a classifier, MSE for an autoencoder; its test
    figure where the summary has one, else its held-out (or test) figure at the selected epoch; a figure
    selected on the test set says so. None before its first epoch.

    e.g. "test acc 90.4%", "held-out MSE 0.0187", "test acc 90.3% (selected on it)"."""
    s, on = info.summary, selected_on(info)
    acc = info.kind in CLASSIFIER_KINDS
    metric, key = ("acc", "acc") if acc else ("MSE", "loss")
    if f"test_{key}" in s:
        where, value = "test", s[f"test_{key}"]
    else:
        where, value = _VAL_WORD.get(on, "val"), s.get(f"best_val_{key}")
    if value is None:
        return None
    shown = f"{100 * value:.{digits}f}%" if acc else f"{value:.4f}"
    return f"{where} {metric} {shown}" + (" (selected on it)" if on == TEST else "")


FULL_EPOCHS = 10  # the fewest epochs any report trained: a run with fewer is a quick look


def scale_tag(info: RunInfo) -> str | None:
    """'1% · 3 ep' for a run that is not full-size (a fraction or the first N of the training images, or
    fewer epochs than any report trained), so a quick run's figure is not read as a result; else None."""
    t = info.settings.get("train", {})
    parts = []
    fraction, limit, epochs = t.get("train_fraction", 1.0), t.get("limit", 0), t.get("epochs", 0)
    if isinstance(limit, int) and limit:
        parts.append(f"first {limit:,}")
    if isinstance(fraction, (int, float)) and fraction < 1:
        parts.append(f"{100 * fraction:g}%")
    if parts or (isinstance(epochs, int) and epochs < FULL_EPOCHS):
        parts.append(f"{epochs} ep")
    return " · ".join(parts) or None


def quick_note(info: RunInfo) -> str | None:
    """What to expect of a quick run's figure, or None for a full-size run."""
    tag = scale_tag(info)
    if tag is None:
        return None
    return (
        f"A quick run ({tag}): its figures show the mechanics, not what the model can do; the reports "
        f"trained on all the training images for {FULL_EPOCHS} to 40 epochs."
    )

"""Classes a classifier stopped predicting. The reports put a ReLU before the softmax: a class whose logit
it switches off for every image gets no gradient and is never chosen again (the class "died"; where all ten
logits are 0, argmax picks class 0). Training records, per epoch, how many held-out images were predicted as
each class (history's val_pred_counts); a run from before that has only its test confusion matrix.

No torch here: the Compare page lists every run without loading it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .config import ClassifierConfig
from .files import CLASS_NAMES
from .registry import RunInfo


@dataclass(frozen=True)
class ClassDeaths:
    """What a run's per-epoch held-out prediction counts say about its classes."""

    died: dict[int, int]  # class -> the epoch from which no held-out image was predicted as it, to the last
    collapsed: dict[int, tuple[int, ...]]  # class alive at the end -> the epochs it was predicted for none
    last_epoch: int  # the last epoch whose counts were read


def _counts(record: dict) -> list[int] | None:
    """An epoch's counts; None where it has none, or where a loss is not finite (a diverged epoch's
    predictions come from NaN logits and say nothing about the classes)."""
    counts = record.get("val_pred_counts") if isinstance(record, dict) else None
    if not isinstance(counts, list) or len(counts) != len(CLASS_NAMES):
        return None
    losses = (record.get("train_loss"), record.get("val_loss"))
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in losses):
        return None
    return counts


def class_deaths(history: Sequence[dict]) -> ClassDeaths | None:
    """Which classes died and from which epoch (predicted for no held-out image in that epoch and every one
    after), and which were predicted for none for a while and came back; None without counts (a run from
    before they were recorded, or no finished epoch)."""
    epochs = [(r.get("epoch", i), c) for i, r in enumerate(history, 1) if (c := _counts(r)) is not None]
    if not epochs:
        return None
    died: dict[int, int] = {}
    collapsed: dict[int, tuple[int, ...]] = {}
    for k in range(len(CLASS_NAMES)):
        if epochs[-1][1][k] == 0:
            # walk back through the zeros that reach the last epoch: the first of them is the death
            start = len(epochs) - 1
            while start > 0 and epochs[start - 1][1][k] == 0:
                start -= 1
            died[k] = epochs[start][0]
        else:
            zeros = tuple(e for e, c in epochs if c[k] == 0)
            if zeros:
                collapsed[k] = zeros
    return ClassDeaths(died, collapsed, epochs[-1][0])


def never_predicted(confusion) -> list[int]:
    """The classes a (C, C) confusion matrix (rows true, columns predicted) never predicts."""
    cm = confusion if confusion is not None else []
    return [j for j in range(len(cm)) if not any(row[j] for row in cm)]


def has_final_relu(run: RunInfo) -> bool:
    """Whether the run's network ends in a ReLU before the softmax (the reports' classifiers; not the MLP
    or the deep CNN, nor a classifier trained without it)."""
    model = run.settings.get("model", {})
    return model.get("kind") == ClassifierConfig.kind and bool(
        model.get("final_relu", ClassifierConfig.final_relu)
    )


def _names(classes: Sequence[int]) -> str:
    """'Shirt', 'Shirt and Bag', 'Coat, Shirt and Bag'."""
    names = [CLASS_NAMES[k] for k in classes]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _by_epoch(died: dict[int, int]) -> list[tuple[int, list[int]]]:
    """(epoch, classes that died at it), earliest first."""
    groups: dict[int, list[int]] = {}
    for k, e in sorted(died.items(), key=lambda item: (item[1], item[0])):
        groups.setdefault(e, []).append(k)
    return list(groups.items())


def _why(n: int) -> str:
    return f"the ReLU before the softmax switched {'its logit' if n == 1 else 'their logits'} off for every image"


def lost_class_note(run: RunInfo, test_confusion=None) -> str | None:
    """One sentence for a page on the classes a run lost: from its per-epoch held-out counts (with the epoch
    each died), else, for a run without them, from its test confusion matrix if given; None if none."""
    relu = has_final_relu(run)
    deaths = class_deaths(run.history)
    if deaths is None:
        lost = never_predicted(test_confusion)
        if not lost:
            return None
        verb = "is" if len(lost) == 1 else "are"
        why = f" ({_why(len(lost))})" if relu else ""
        return (
            f"{_names(lost)} {verb} never predicted on the test images{why}. The run was trained before "
            "per-epoch counts were recorded, so when that started is not known."
        )
    if not deaths.died:
        return None
    groups = _by_epoch(deaths.died)
    if relu:
        when = ", ".join(
            f"{_names(ks)}{' died' if i == 0 else ''} at epoch {e}" for i, (e, ks) in enumerate(groups)
        )
        note = f"{when}: never predicted on the held-out images from then on ({_why(len(deaths.died))})."
    elif len(groups) == 1:
        note = f"{_names(groups[0][1])}: never predicted on the held-out images from epoch {groups[0][0]} on."
    else:
        when = ", ".join(f"{_names(ks)} (epoch {e})" for e, ks in groups)
        note = f"Never predicted on the held-out images from these epochs on: {when}."
    kept = run.summary.get("weights_epoch")
    later = [k for k, e in deaths.died.items() if isinstance(kept, int) and 0 < kept < e]
    if later:  # the weights a page evaluates are the best epoch's, which may predate a death
        verb = "was" if len(later) == 1 else "were"
        note += f" The weights kept are from epoch {kept}, before {_names(sorted(later))} {verb} lost."
    return note


def collapse_note(run: RunInfo) -> str | None:
    """One sentence on the classes that were predicted for no held-out image for a while and came back."""
    deaths = class_deaths(run.history)
    if deaths is None or not deaths.collapsed:
        return None
    parts = [
        f"{CLASS_NAMES[k]} at epoch{'s' if len(es) > 1 else ''} {', '.join(map(str, es))}"
        for k, es in sorted(deaths.collapsed.items())
    ]
    return f"Predicted for no held-out image for a while, then again: {'; '.join(parts)}."


def lost_classes_cell(run: RunInfo) -> str | None:
    """The runs table's short form: '⚠ Sneaker (epoch 3), Bag (epoch 5)'; None if no class died (or the
    run has no per-epoch counts)."""
    deaths = class_deaths(run.history)
    if deaths is None or not deaths.died:
        return None
    return "⚠ " + ", ".join(f"{_names(ks)} (epoch {e})" for e, ks in _by_epoch(deaths.died))

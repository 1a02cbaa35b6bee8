"""The Confusion page's numbers and words: a matrix as counts or row percentages, the tables beside it
(most confused pairs, the per-class report, two runs' recalls), which test images a gallery shows and the
captions under them. ev: a classifier's summary (evalcache.summarize_test, plus "probs" and "labels")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .data import CLASS_NAMES
from .evaluate import top_k
from .metrics import normalize_rows

SHOWN = 20  # images of a confusion cell shown before "Show all"
SAMPLE = 20  # random test images in the gallery of the second tab
SHORT = {"T-shirt/top": "T-shirt", "Ankle boot": "Boot"}  # keeps three-line captions inside a thumbnail


def short(name: str) -> str:
    return SHORT.get(name, name)


def cells(confusion, percent: bool) -> np.ndarray:
    """The matrix as the page draws it: counts, or each true class's row in percent."""
    cm = torch.as_tensor(confusion)
    return (normalize_rows(cm) if percent else cm).numpy()


def confused_rows(pairs: Sequence[tuple[int, int, int]], confusion) -> list[dict]:
    """The most confused pairs (metrics.most_confused) as table rows, with their share of the true class."""
    support = np.asarray(confusion).sum(1)
    return [
        {
            "true": CLASS_NAMES[t],
            "predicted": CLASS_NAMES[p],
            "images": c,
            "% of true": 100 * c / max(support[t], 1),
        }
        for t, p, c in pairs
    ]


def report_rows(report: dict) -> list[dict]:
    """scikit-learn's classification report as rows: each class, then the macro and weighted averages."""
    return [
        {
            "class": name,
            "precision": report[name]["precision"],
            "recall": report[name]["recall"],
            "F1": report[name]["f1-score"],
            "support": int(report[name]["support"]),
        }
        for name in (*CLASS_NAMES, "macro avg", "weighted avg")
    ]


def recall_rows(ev: dict, ev_b: dict, diff: np.ndarray) -> list[dict]:
    """Each class's recall under runs A and B and the change on the diagonal of `diff` (B − A in points),
    the largest change first."""
    gains = np.diag(diff)
    return [
        {
            "class": CLASS_NAMES[c],
            "recall A": 100 * ev["report"][CLASS_NAMES[c]]["recall"],
            "recall B": 100 * ev_b["report"][CLASS_NAMES[c]]["recall"],
            "B − A": gains[c],
        }
        for c in np.argsort(-np.abs(gains))
    ]


def cell_caption(total: int, show_all: bool, correct: bool) -> str:
    """What the images under a cell are: how many, how many shown, in which order."""
    return (
        f"{total:,} test images{'' if show_all or total <= SHOWN else f', the first {SHOWN} shown'}. "
        + ("The least confident correct ones first." if correct else "The most confident mistakes first.")
        + " Each shows its test index and the model's top three classes."
    )


def top3_captions(probs: torch.Tensor, idx) -> list[str]:
    """Each image's test index and the model's three most probable classes, the first in bold."""
    return [
        f"#{int(i)}<br>"
        + "<br>".join(
            (f"<b>{short(name)} {100 * v:.0f}%</b>" if j == 0 else f"{short(name)} {100 * v:.0f}%")
            for j, (name, v) in enumerate(top_k(probs[i]))
        )
        for i in idx
    ]


def sample(
    probs: torch.Tensor, labels: torch.Tensor, seed: int
) -> tuple[torch.Tensor, list[str], torch.Tensor]:
    """SAMPLE random test images (the same for a seed): their indices, captions (true label, the answer
    ticked or crossed, its probability) and which are wrong."""
    pick = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))[:SAMPLE]
    pred = probs[pick].argmax(1)
    wrong = pred != labels[pick]
    captions = [
        f"true {short(CLASS_NAMES[int(y)])}<br>{'✗' if w else '✓'} {short(CLASS_NAMES[int(q)])} "
        f"{100 * float(probs[i, q]):.0f}%"
        for i, y, q, w in zip(pick, labels[pick], pred, wrong)
    ]
    return pick, captions, wrong

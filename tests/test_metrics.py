"""Metric functions against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from fmnist_core import CLASS_NAMES
from fmnist_core.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    most_confused,
    mse,
    mse_per_image,
    normalize_rows,
    per_class_accuracy,
    psnr,
)


def test_mse_and_psnr():
    a = torch.zeros(2, 1, 2, 2)
    b = torch.tensor([0.1, 0.1, 0.1, 0.1, 0.0, 0.0, 0.2, 0.2]).view(2, 1, 2, 2)
    # squared errors: four 0.01, two 0, two 0.04 -> mean (0.04 + 0.08) / 8 = 0.015
    assert mse(a, b) == pytest.approx(0.015)
    assert mse_per_image(a, b).tolist() == pytest.approx([0.01, 0.02])
    assert psnr(a, b) == pytest.approx(10 * math.log10(1 / 0.015))
    assert psnr(torch.zeros(4), torch.full((4,), 0.1)) == pytest.approx(20.0)  # mse 0.01 -> 20 dB
    assert psnr(torch.zeros(4), torch.full((4,), 25.5), max_value=255.0) == pytest.approx(20.0)
    assert psnr(b, b) == math.inf
    assert (
        mse(torch.tensor([0, 255], dtype=torch.uint8), torch.tensor([0, 0], dtype=torch.uint8))
        == 255.0**2 / 2
    )


def test_accuracy():
    assert accuracy(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 0])) == 0.5
    assert accuracy(torch.tensor([7]), torch.tensor([7])) == 1.0
    assert math.isnan(accuracy(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long)))


PRED = torch.tensor([0, 0, 1, 1, 2, 2, 2, 0, 1, 2])
TRUE = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])


def test_confusion_matrix_rows_true_columns_predicted():
    cm = confusion_matrix(PRED, TRUE, num_classes=3)
    # true 0: predicted 0, 0, 1; true 1: 1, 2; true 2: 2, 2, 0, 1, 2
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [1, 1, 3]]
    assert int(cm.sum()) == len(TRUE)
    full = confusion_matrix(PRED, TRUE)
    assert full.shape == (10, 10) and full[:3, :3].tolist() == cm.tolist() and int(full[3:].sum()) == 0


def test_per_class_accuracy_and_normalize_rows():
    cm = torch.tensor([[2, 1, 0], [0, 1, 1], [1, 1, 3]])
    assert per_class_accuracy(cm).tolist() == pytest.approx([2 / 3, 1 / 2, 3 / 5])
    rows = normalize_rows(cm)
    assert rows.tolist()[0] == pytest.approx([200 / 3, 100 / 3, 0.0])
    assert rows.sum(1).tolist() == pytest.approx([100.0, 100.0, 100.0])
    empty = torch.tensor([[0, 0], [3, 1]])  # a class with no samples: zeros, not NaN
    assert per_class_accuracy(empty).tolist() == [0.0, 0.25]
    assert normalize_rows(empty).tolist() == [[0.0, 0.0], [75.0, 25.0]]


def test_most_confused():
    cm = torch.tensor([[50, 3, 0, 9], [1, 40, 0, 0], [0, 7, 30, 0], [2, 0, 0, 60]])
    assert most_confused(cm, k=3) == [(0, 3, 9), (2, 1, 7), (0, 1, 3)]
    # only non-zero cells; the diagonal never counts
    assert most_confused(torch.diag(torch.tensor([5, 5, 5])), k=3) == []
    assert most_confused(cm, k=10) == [(0, 3, 9), (2, 1, 7), (0, 1, 3), (3, 0, 2), (1, 0, 1)]


def test_classification_report_matches_hand_computation():
    rep = classification_report(PRED, TRUE)
    c0, c1, c2 = (rep[CLASS_NAMES[i]] for i in range(3))
    # class 0: predicted 3 times, 2 right -> precision 2/3; 3 true, 2 found -> recall 2/3
    assert c0["precision"] == pytest.approx(2 / 3) and c0["recall"] == pytest.approx(2 / 3)
    assert c0["f1-score"] == pytest.approx(2 / 3) and c0["support"] == 3
    # class 1: predicted 3 times (true 0, 1, 2), 1 right -> 1/3; recall 1/2; f1 = 2pr/(p+r) = 0.4
    assert c1["precision"] == pytest.approx(1 / 3) and c1["recall"] == pytest.approx(1 / 2)
    assert c1["f1-score"] == pytest.approx(0.4)
    # class 2: predicted 4 times, 3 right -> 3/4; recall 3/5
    assert c2["precision"] == pytest.approx(3 / 4) and c2["recall"] == pytest.approx(3 / 5)
    assert rep[CLASS_NAMES[9]]["support"] == 0 and rep[CLASS_NAMES[9]]["precision"] == 0.0
    assert rep["accuracy"] == pytest.approx(0.6)
    # macro over all ten classes (seven absent ones count as 0), weighted by support
    assert rep["macro avg"]["recall"] == pytest.approx((2 / 3 + 1 / 2 + 3 / 5) / 10)
    assert rep["weighted avg"]["recall"] == pytest.approx(0.6)
    assert rep["weighted avg"]["support"] == 10


def test_report_from_a_confusion_matrix_matches_scikit_learn():
    from sklearn.metrics import classification_report as sk_report

    from fmnist_core.metrics import confusion_matrix, report_from_confusion

    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (500,), generator=g)
    pred = torch.where(torch.rand(500, generator=g) < 0.7, labels, torch.randint(0, 10, (500,), generator=g))
    pred[pred == 3] = 4  # a class never predicted: zero division
    ours = report_from_confusion(confusion_matrix(pred, labels))
    theirs = sk_report(
        labels.numpy(),
        pred.numpy(),
        labels=list(range(10)),
        target_names=list(CLASS_NAMES),
        output_dict=True,
        zero_division=0,
    )
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"])
    for key in (*CLASS_NAMES, "macro avg", "weighted avg"):
        for field in ("precision", "recall", "f1-score", "support"):
            assert ours[key][field] == pytest.approx(theirs[key][field], abs=1e-12), (key, field)


def test_the_stripes_are_named_only_where_the_decoder_can_make_them():
    from fmnist_core.metrics import edge_note

    assert edge_note(0.03, 0.01, can_stripe=True).endswith("(ratio 3.0): the output padding's stripes.")
    assert edge_note(0.011, 0.01, can_stripe=True).endswith("(ratio 1.1): no stripes to speak of.")
    assert edge_note(0.03, 0.01, can_stripe=False).endswith("(ratio 3.0).")  # a dense AE or kernel decoder

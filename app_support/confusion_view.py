"""The Confusion page's tabs: the matrix with the images behind a cell and the per-class report, a random
gallery with mistakes marked, and two runs side by side. Its tables and captions are fmnist_core.confusion."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from app_support.data import CLASSIFIERS, fmt_pct, load_model, run_picker, runs
from app_support.evals import classifier_summary
from fmnist_core import CLASS_NAMES
from fmnist_core.compare import partner_run
from fmnist_core.confusion import (
    SHOWN,
    cell_caption,
    cells,
    confused_rows,
    recall_rows,
    report_rows,
    sample,
    top3_captions,
)
from fmnist_core.evaluate import pair_examples
from fmnist_core.plots import confusion_figure, gallery_figure, with_cell_picker


def pick_cell() -> None:
    """A click on the matrix sets the two class selects below it."""
    points = st.session_state["cf_matrix"].selection.points
    if points and points[0].get("x") in CLASS_NAMES and points[0].get("y") in CLASS_NAMES:
        st.session_state["cf_true"], st.session_state["cf_pred"] = points[0]["y"], points[0]["x"]


def gallery(images: np.ndarray, captions: list[str], key: str, cell: int, colors: list | None = None) -> None:
    """Images (N, 28, 28) with captions, five a row, in two galleries side by side that take alternate rows:
    a wide screen reads ten a row in order, and on a phone the two stack, so captions keep room to be read."""
    cols = st.columns(2, gap="small")
    for half, col in enumerate(cols):
        idx = [i for i in range(len(images)) if i // 5 % 2 == half]
        if idx:
            col.plotly_chart(
                gallery_figure(
                    images[idx],
                    [captions[i] for i in idx],
                    cols=5,
                    cell=cell,
                    caption_colors=[colors[i] for i in idx] if colors else None,
                ),
                key=f"{key}_{half}",
            )


# -- the matrix tab -------------------------------------------------------------------------
def matrix_tab(ev: dict, percent: bool, pairs: list, test_images: torch.Tensor) -> None:
    """The clickable matrix with its headline figures, the images behind a cell, the per-class report."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.plotly_chart(
            with_cell_picker(confusion_figure(cells(ev["confusion_matrix"], percent), normalized=percent)),
            key="cf_matrix",
            on_select=pick_cell,
            selection_mode="points",
        )
        st.caption(
            "Rows: the true class; columns: what the model said. "
            + ("Each row sums to 100%. " if percent else "")
            + "Click a cell to see its images below."
        )
    with right:
        headline(ev, pairs)
    st.subheader("Images behind a cell")
    cell_images(ev, pairs, test_images)
    st.subheader("Per class")
    per_class(ev["report"])


def headline(ev: dict, pairs: list) -> None:
    """Accuracy, macro F1 and the most confused pairs."""
    m1, m2 = st.columns(2)
    m1.metric("Accuracy", fmt_pct(ev["accuracy"]), help="Share of test images whose top class is right.")
    m2.metric(
        "Macro F1", f"{ev['report']['macro avg']['f1-score']:.3f}", help="Mean F1 over the ten classes."
    )
    st.caption(f"{ev['correct']:,} of {ev['n']:,} test images right; {ev['n'] - ev['correct']:,} wrong.")
    st.markdown("**Most confused pairs**")
    st.dataframe(
        confused_rows(pairs, ev["confusion_matrix"]),
        hide_index=True,
        column_config={"% of true": st.column_config.NumberColumn(format="%.1f%%")},
    )
    st.caption("Off-diagonal cells with the most images; % of true is the share of that true class.")


def cell_images(ev: dict, pairs: list, test_images: torch.Tensor) -> None:
    """The test images of one cell (true class, predicted class), the telling ones first."""
    if "cf_true" not in st.session_state and pairs:  # start at the most confused pair
        st.session_state["cf_true"], st.session_state["cf_pred"] = (
            CLASS_NAMES[pairs[0][0]],
            CLASS_NAMES[pairs[0][1]],
        )
    s1, s2, s3 = st.columns([2, 2, 3], vertical_alignment="bottom")
    true_name = s1.selectbox("True class", CLASS_NAMES, key="cf_true")
    pred_name = s2.selectbox("Predicted as", CLASS_NAMES, key="cf_pred")
    t, p = CLASS_NAMES.index(true_name), CLASS_NAMES.index(pred_name)
    total = int(np.asarray(ev["confusion_matrix"])[t, p])
    show_all = total > SHOWN and s3.toggle(f"Show all {total:,}", key="cf_show_all")
    probs, labels = torch.as_tensor(ev["probs"]), torch.as_tensor(ev["labels"])
    idx = pair_examples(probs, labels, t, p, k=total if show_all else SHOWN)
    s3.caption(cell_caption(total, show_all, t == p))
    if len(idx) == 0:
        st.info(f"No test image of class {true_name} was predicted as {pred_name}. Pick another cell.")
    else:
        gallery(test_images[idx, 0].numpy(), top3_captions(probs, idx), key="cf_cell_gallery", cell=80)


def per_class(report: dict) -> None:
    rows = report_rows(report)
    st.caption(
        "scikit-learn's classification report: precision is how often a prediction of the class is right, "
        "recall how many of the class are found; support is the number of test images of the class."
    )
    st.dataframe(
        rows,
        hide_index=True,
        height=35 * (len(rows) + 1) + 3,
        column_config={
            c: st.column_config.ProgressColumn(c, format="%.3f", min_value=0.0, max_value=1.0)
            for c in ("precision", "recall", "F1")
        },
    )


# -- the random images tab ------------------------------------------------------------------
def random_tab(ev: dict, test_images: torch.Tensor) -> None:
    """Twenty random test images, mistakes in red, with a button for another sample."""
    seed = st.session_state.setdefault("cf_sample", 0)
    g1, g2 = st.columns([5, 1], vertical_alignment="center")
    g1.caption("Twenty random test images with their true label and the model's answer; mistakes in red.")
    if g2.button("New sample", icon=":material/shuffle:", key="cf_new"):
        st.session_state["cf_sample"] = seed + 1
        st.rerun()
    pick, captions, wrong = sample(torch.as_tensor(ev["probs"]), torch.as_tensor(ev["labels"]), seed)
    gallery(
        test_images[pick, 0].numpy(),
        captions,
        key="cf_random_gallery",
        cell=84,
        colors=["#e5484d" if w else None for w in wrong],
    )  # mistakes red, the rest the text colour
    st.caption(
        f"{int(wrong.sum())} of these 20 are wrong. Of the {ev['n']:,} test images in use, "
        f"{fmt_pct(1 - ev['accuracy'], 1)} are wrong (accuracy {fmt_pct(ev['accuracy'], 1)})."
    )


# -- the compare tab ------------------------------------------------------------------------
def compare_tab(run_id: str, ev: dict, n: int, percent: bool) -> None:
    """The run beside another classifier: both matrices, their difference and each class's recall."""
    partner = partner_run(run_id, runs(CLASSIFIERS))
    if partner is None:
        st.info(
            "Train a second classifier (for example the same one with a random-init encoder) to compare two runs."
        )
        return
    b1, b2, b3 = st.columns([3, 2, 2])
    with b1:
        # one "Compare with" box per classifier: a box kept across classifiers showed its old choice's
        # name beside the new pair's numbers; each classifier's box starts at its own partner
        run_b = run_picker(
            "Compare with",
            CLASSIFIERS,
            key=f"cf_run_b_{run_id}",
            default=partner,
            help="By default the same classifier with the other encoder init, if there is one.",
        )
    same = run_b == run_id
    if same:
        st.info("That is the run shown above; pick a different one to compare.")
    ev_b = classifier_summary(run_b, n) if not same and load_model(run_b) is not None else None
    if ev_b is None:
        return
    b2.metric(f"A · {run_id}", fmt_pct(ev["accuracy"]))
    b3.metric(
        f"B · {run_b}",
        fmt_pct(ev_b["accuracy"]),
        delta=f"{100 * (ev_b['accuracy'] - ev['accuracy']):+.2f} points vs A",
        delta_color="normal",
    )
    k1, k2 = st.columns(2)
    k1.plotly_chart(
        confusion_figure(cells(ev["confusion_matrix"], percent), normalized=percent, title=f"A · {run_id}"),
        key="cf_cmp_a",
    )
    k2.plotly_chart(
        confusion_figure(cells(ev_b["confusion_matrix"], percent), normalized=percent, title=f"B · {run_b}"),
        key="cf_cmp_b",
    )
    difference(ev, ev_b)


def difference(ev: dict, ev_b: dict) -> None:
    """B − A in points of each true class, and the recalls that moved most."""
    diff = cells(ev_b["confusion_matrix"], True) - cells(ev["confusion_matrix"], True)
    d1, d2 = st.columns([3, 2], gap="large")
    d1.plotly_chart(
        confusion_figure(
            diff, normalized=True, diverging=True, title="B − A, percentage points of each true class"
        ),
        key="cf_cmp_diff",
    )
    d2.markdown("**Reading the difference**")
    d2.caption(
        "Blue cells: B gives that answer more often than A; red: less often. On the diagonal blue "
        "means B gets the class right more often. Both runs are scored on the same test images."
    )
    d2.dataframe(
        recall_rows(ev, ev_b, diff),
        hide_index=True,
        column_config={
            k: st.column_config.NumberColumn(format="%.1f") for k in ("recall A", "recall B", "B − A")
        },
    )

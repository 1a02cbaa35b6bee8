"""Confusion & errors: a classifier's confusion matrix on the test set, the images behind any cell,
scikit-learn's per-class report, a random gallery with mistakes marked, and two runs side by side."""

import numpy as np
import streamlit as st
import torch

import app_support as ui
from fmnist_core import CLASS_NAMES
from fmnist_core.compare import partner_run
from fmnist_core.dead_classes import collapse_note, lost_class_note
from fmnist_core.evaluate import pair_examples, top_k
from fmnist_core.metrics import most_confused, normalize_rows
from fmnist_core.plots import confusion_figure, gallery_figure, with_cell_picker

ui.frame("confusion")

SIZES = [1000, 2000, 5000, 10000]
SHOWN = 20  # images of a confusion cell shown before "Show all"
SHORT = {"T-shirt/top": "T-shirt", "Ankle boot": "Boot"}  # keeps three-line captions inside a thumbnail


def short(name: str) -> str:
    return SHORT.get(name, name)


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


def matrix(ev: dict, percent: bool) -> np.ndarray:
    cm = torch.as_tensor(ev["confusion_matrix"])
    return (normalize_rows(cm) if percent else cm).numpy()


st.title("Confusion & errors")
st.caption(
    "Where a classifier goes wrong on the test set: which classes it mixes up, the images behind each "
    "mistake, and how two runs differ."
)
ui.need_runs(ui.CLASSIFIERS, "classifier runs")
ds = ui.dataset()

c1, c2, c3 = st.columns([5, 2, 3], gap="medium", vertical_alignment="bottom")
with c1:
    run_id = ui.run_picker("Classifier", ui.CLASSIFIERS, key="cf_run")
with c2:
    scale = st.segmented_control(
        "Cells show", ["counts", "row %"], default="counts", key="cf_scale", required=True
    )
with c3:
    n = st.select_slider(
        "Test images used",
        SIZES,
        value=10000,
        key="cf_n",
        format_func="{:,}".format,
        help="The first N images of the official test set (all 10,000 by default).",
    )
percent = scale == "row %"
if ui.load_model(run_id) is None:
    st.stop()
ev = ui.classifier_summary(run_id, n)
if ev is None:
    st.stop()
run = ui.registry().get(run_id)
lost = lost_class_note(run, ev["confusion_matrix"])
if lost:
    st.warning(lost, icon=":material/warning:")
collapsed = collapse_note(run)
if collapsed:
    st.caption(collapsed)
probs, labels = torch.as_tensor(ev["probs"]), torch.as_tensor(ev["labels"])
pairs = most_confused(torch.as_tensor(ev["confusion_matrix"]), k=5)

tab_matrix, tab_random, tab_compare = st.tabs(["Confusion matrix", "Random test images", "Compare two runs"])

with tab_matrix:
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.plotly_chart(
            with_cell_picker(confusion_figure(matrix(ev, percent), normalized=percent)),
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
        m1, m2 = st.columns(2)
        m1.metric(
            "Accuracy", ui.fmt_pct(ev["accuracy"]), help="Share of test images whose top class is right."
        )
        m2.metric(
            "Macro F1", f"{ev['report']['macro avg']['f1-score']:.3f}", help="Mean F1 over the ten classes."
        )
        st.caption(f"{ev['correct']:,} of {ev['n']:,} test images right; {ev['n'] - ev['correct']:,} wrong.")
        st.markdown("**Most confused pairs**")
        support = np.asarray(ev["confusion_matrix"]).sum(1)
        st.dataframe(
            [
                {
                    "true": CLASS_NAMES[t],
                    "predicted": CLASS_NAMES[p],
                    "images": c,
                    "% of true": 100 * c / max(support[t], 1),
                }
                for t, p, c in pairs
            ],
            hide_index=True,
            column_config={"% of true": st.column_config.NumberColumn(format="%.1f%%")},
        )
        st.caption("Off-diagonal cells with the most images; % of true is the share of that true class.")

    st.subheader("Images behind a cell")
    if "cf_true" not in st.session_state and pairs:
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
    idx = pair_examples(probs, labels, t, p, k=total if show_all else SHOWN)
    s3.caption(
        f"{total:,} test images{'' if show_all or total <= SHOWN else f', the first {SHOWN} shown'}. "
        + ("The least confident correct ones first." if t == p else "The most confident mistakes first.")
        + " Each shows its test index and the model's top three classes."
    )
    if len(idx) == 0:
        st.info(f"No test image of class {true_name} was predicted as {pred_name}. Pick another cell.")
    else:
        captions = [
            f"#{int(i)}<br>"
            + "<br>".join(
                (f"<b>{short(name)} {100 * v:.0f}%</b>" if j == 0 else f"{short(name)} {100 * v:.0f}%")
                for j, (name, v) in enumerate(top_k(probs[i]))
            )
            for i in idx
        ]
        gallery(ds.test_images[idx, 0].numpy(), captions, key="cf_cell_gallery", cell=80)

    st.subheader("Per class")
    rep = ev["report"]
    rows = [
        {
            "class": name,
            "precision": rep[name]["precision"],
            "recall": rep[name]["recall"],
            "F1": rep[name]["f1-score"],
            "support": int(rep[name]["support"]),
        }
        for name in (*CLASS_NAMES, "macro avg", "weighted avg")
    ]
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

with tab_random:
    seed = st.session_state.setdefault("cf_sample", 0)
    g1, g2 = st.columns([5, 1], vertical_alignment="center")
    g1.caption("Twenty random test images with their true label and the model's answer; mistakes in red.")
    if g2.button("New sample", icon=":material/shuffle:", key="cf_new"):
        st.session_state["cf_sample"] = seed + 1
        st.rerun()
    pick = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))[:20]
    pred = probs[pick].argmax(1)
    wrong = pred != labels[pick]
    captions = [
        f"true {short(CLASS_NAMES[int(y)])}<br>{'✗' if w else '✓'} {short(CLASS_NAMES[int(q)])} "
        f"{100 * float(probs[i, q]):.0f}%"
        for i, y, q, w in zip(pick, labels[pick], pred, wrong)
    ]
    gallery(
        ds.test_images[pick, 0].numpy(),
        captions,
        key="cf_random_gallery",
        cell=84,
        colors=["#e5484d" if w else None for w in wrong],
    )  # mistakes red, the rest the text colour
    st.caption(
        f"{int(wrong.sum())} of these 20 are wrong. Of the {ev['n']:,} test images in use, "
        f"{ui.fmt_pct(1 - ev['accuracy'], 1)} are wrong (accuracy {ui.fmt_pct(ev['accuracy'], 1)})."
    )

with tab_compare:
    partner = partner_run(run_id, ui.runs(ui.CLASSIFIERS))
    if partner is None:
        st.info(
            "Train a second classifier (for example the same one with a random-init encoder) to compare two runs."
        )
    else:
        b1, b2, b3 = st.columns([3, 2, 2])
        with b1:
            # one "Compare with" box per classifier: a box kept across classifiers showed its old choice's
            # name beside the new pair's numbers; each classifier's box starts at its own partner
            run_b = ui.run_picker(
                "Compare with",
                ui.CLASSIFIERS,
                key=f"cf_run_b_{run_id}",
                default=partner,
                help="By default the same classifier with the other encoder init, if there is one.",
            )
        same = run_b == run_id
        if same:
            st.info("That is the run shown above; pick a different one to compare.")
        ev_b = ui.classifier_summary(run_b, n) if not same and ui.load_model(run_b) is not None else None
        if ev_b is not None:
            b2.metric(f"A · {run_id}", ui.fmt_pct(ev["accuracy"]))
            b3.metric(
                f"B · {run_b}",
                ui.fmt_pct(ev_b["accuracy"]),
                delta=f"{100 * (ev_b['accuracy'] - ev['accuracy']):+.2f} points vs A",
                delta_color="normal",
            )
            k1, k2 = st.columns(2)
            k1.plotly_chart(
                confusion_figure(matrix(ev, percent), normalized=percent, title=f"A · {run_id}"),
                key="cf_cmp_a",
            )
            k2.plotly_chart(
                confusion_figure(matrix(ev_b, percent), normalized=percent, title=f"B · {run_b}"),
                key="cf_cmp_b",
            )
            diff = matrix(ev_b, True) - matrix(ev, True)
            d1, d2 = st.columns([3, 2], gap="large")
            d1.plotly_chart(
                confusion_figure(
                    diff, normalized=True, diverging=True, title="B − A, percentage points of each true class"
                ),
                key="cf_cmp_diff",
            )
            gains = np.diag(diff)
            d2.markdown("**Reading the difference**")
            d2.caption(
                "Blue cells: B gives that answer more often than A; red: less often. On the diagonal blue "
                "means B gets the class right more often. Both runs are scored on the same test images."
            )
            d2.dataframe(
                [
                    {
                        "class": CLASS_NAMES[c],
                        "recall A": 100 * ev["report"][CLASS_NAMES[c]]["recall"],
                        "recall B": 100 * ev_b["report"][CLASS_NAMES[c]]["recall"],
                        "B − A": gains[c],
                    }
                    for c in np.argsort(-np.abs(gains))
                ],
                hide_index=True,
                column_config={
                    k: st.column_config.NumberColumn(format="%.1f") for k in ("recall A", "recall B", "B − A")
                },
            )

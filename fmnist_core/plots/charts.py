"""Charts of numbers: training curves, seed bands, sweeps, probabilities, histograms, latent maps."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..files import CLASS_NAMES
from ..stats import t_quantile
from .style import NEUTRAL, _epoch_axis, _layout, color, log_ticks, ticks_125


def curves_figure(
    series: Sequence[dict],
    metric: str = "loss",
    log_y: bool = False,
    reference_lines: Sequence[tuple[str, float]] = (),
    title: str | None = None,
    show_train: bool = True,
    height: int = 400,
    val_label: str = "val",
) -> go.Figure:
    """Train (dashed) and validation (solid) curves, one colour per run.

    series: dicts with name, history (list of per-epoch dicts) and optional color.
    metric: "loss" or "acc"; accuracy is shown in percent.
    val_label: what the validation curves are called in the legend ("held-out", "test").
    """
    fig = go.Figure()
    scale = 100.0 if metric == "acc" else 1.0
    for i, s in enumerate(series):
        h, c = s["history"], s.get("color", color(i))
        epochs = [r["epoch"] for r in h]
        for split, dash in (("val", "solid"), ("train", "dash")):
            key = f"{split}_{metric}"
            if (split == "train" and not show_train) or not h or key not in h[0]:
                continue
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=[None if r[key] is None else r[key] * scale for r in h],  # null: a diverged epoch
                    mode="lines+markers",
                    marker=dict(size=4),
                    line=dict(color=c, dash=dash),
                    name=f"{s['name']} · {val_label if split == 'val' else split}",
                    legendgroup=s["name"],
                    hovertemplate="%{y:.4f}" if metric == "loss" else "%{y:.2f}%",
                )
            )
    for label, value in reference_lines:
        fig.add_hline(
            y=value * scale,
            line=dict(color="#6b7280", dash="dot", width=1),
            annotation_text=label,
            annotation_position="bottom right",
            annotation_font_size=10,
        )
    ylabel = "accuracy (%)" if metric == "acc" else "loss"
    _epoch_axis(fig, max((len(s["history"]) for s in series), default=1))
    fig.update_yaxes(title=ylabel, type="log" if log_y else "linear")
    if log_y:
        log_ticks(fig)
    return _layout(fig, title, height=height + 22 * len(series))


def band_figure(
    groups: Sequence[dict],
    metric: str = "val_acc",
    title: str | None = None,
    log_y: bool = False,
    ylabel: str | None = None,
) -> go.Figure:
    """Mean line with its 95% confidence band (Student's t) over runs that differ only in seed.

    groups: dicts with name and histories (list of histories); epochs beyond the shortest are dropped.
    """
    fig = go.Figure()
    scale = 100.0 if metric.endswith("acc") else 1.0
    for i, g in enumerate(groups):
        hs = [h for h in g["histories"] if h and metric in h[0]]
        if not hs:
            continue
        n = min(len(h) for h in hs)
        # (runs, epochs); a diverged epoch's null is NaN, a gap in the line
        arr = np.array([[r[metric] for r in h[:n]] for h in hs], dtype=float) * scale
        mean = arr.mean(0)
        half = t_quantile(len(hs) - 1) * arr.std(0, ddof=1) / np.sqrt(len(hs)) if len(hs) > 1 else np.zeros(n)
        x = list(range(1, n + 1))
        c = g.get("color", color(i))
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=list(mean + half) + list((mean - half)[::-1]),
                fill="toself",
                fillcolor=c,
                opacity=0.18,
                line=dict(width=0),
                hoverinfo="skip",
                showlegend=False,
                legendgroup=g["name"],
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=mean,
                mode="lines",
                line=dict(color=c),
                name=f"{g['name']} (mean ± 95% CI, {len(hs)} seeds)",
                legendgroup=g["name"],
                customdata=half,
                hovertemplate="%{y:.3f} ± %{customdata:.3f}",
            )
        )
    _epoch_axis(fig, max((min(len(h) for h in g["histories"]) for g in groups if g["histories"]), default=1))
    label = ylabel or metric.replace("_", " ")
    fig.update_yaxes(title=label + (" (%)" if scale == 100 else ""), type="log" if log_y else "linear")
    return _layout(fig, title)


def probability_bars(
    probs: Mapping[str, Sequence[float] | np.ndarray],
    names: Sequence[str] = CLASS_NAMES,
    title: str | None = None,
) -> go.Figure:
    """Horizontal bars of class probabilities, one colour per model."""
    fig = go.Figure()
    for i, (label, p) in enumerate(probs.items()):
        fig.add_trace(
            go.Bar(
                y=list(names),
                x=[100 * float(v) for v in p],
                name=label,
                orientation="h",
                marker_color=color(i),
                hovertemplate="%{y}: %{x:.1f}%<extra>" + label + "</extra>",
            )
        )
    fig.update_xaxes(title="probability (%)", range=[0, 100])
    fig.update_yaxes(autorange="reversed")
    fig = _layout(fig, title, height=360, barmode="group")
    fig.update_layout(hovermode="closest")
    return fig


def line_figure(
    x: Sequence[float],
    ys: Mapping[str, Sequence[float | None]],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    dashes: dict[str, str] | None = None,
    percent: bool = False,
    zero_line: bool = False,
) -> go.Figure:
    """Several named lines over a shared x (e.g. MSE against noise level, accuracy against label fraction);
    a None is a gap in its line (e.g. a diverged epoch)."""
    fig = go.Figure()
    for i, (name, y) in enumerate(ys.items()):
        fig.add_trace(
            go.Scatter(
                x=list(x),
                y=[100 * v if percent and v is not None else v for v in y],
                mode="lines+markers",
                name=name,
                line=dict(color=color(i), dash=(dashes or {}).get(name, "solid")),
            )
        )
    if zero_line:
        fig.add_hline(y=0, line=dict(color="#6b7280", width=1))
    fig.update_xaxes(title=xlabel)
    fig.update_yaxes(title=ylabel)
    return _layout(fig, title)


def histogram_figure(
    values: Sequence[float],
    xlabel: str,
    marker: float | None = None,
    marker_label: str = "",
    title: str | None = None,
    log_x: bool = False,
    height: int = 260,
) -> go.Figure:
    """Distribution of one figure (e.g. test images' reconstruction MSE) with a marked value."""
    v = np.asarray(values, dtype=float)
    if log_x:
        v = np.log10(np.clip(v, 1e-8, None))
    fig = go.Figure(
        go.Histogram(
            x=v,
            nbinsx=60,
            marker_color="#9ca3af",
            name="test images",
            hovertemplate="%{y} images<extra></extra>",
        )
    )
    if marker is not None:
        m = math.log10(max(marker, 1e-8)) if log_x else marker
        fig.add_vline(
            x=m,
            line=dict(color=color(1), width=2),
            annotation_text=marker_label,
            annotation_position="top right",
            annotation_font=dict(color=color(1), size=11),
        )
    if log_x:  # ticks at 1-2-5 steps, labelled with the values themselves
        shown = np.append(v, m) if marker is not None else v  # log10 of the values
        lo, hi = (float(shown.min()), float(shown.max())) if len(shown) else (-3.0, 0.0)
        ticks = ticks_125(10**lo, 10**hi)
        fig.update_xaxes(tickvals=[math.log10(t) for t in ticks], ticktext=[f"{t:g}" for t in ticks])
    fig.update_xaxes(title=f"{xlabel} (log scale)" if log_x else xlabel)
    fig.update_yaxes(title="images")
    fig = _layout(fig, title, height=height, showlegend=False)
    fig.update_layout(hovermode="closest", bargap=0.02)
    return fig


# -- studies --


def sweep_figure(
    x: Sequence,
    series: Sequence[dict],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    log_x: bool = False,
    percent: bool = False,
    categorical: bool = False,
    height: int = 380,
) -> go.Figure:
    """A metric against a swept value: ours (mean ± 95% CI over seeds), the report's points, baselines.

    x: the shared x values; categorical=True keeps them as labels in the given order (e.g. dropout p).
    series: dicts with name, y (None where there is no value), optional err (95% CI half-width per point, None allowed),
    style ("ours" | "report" | "baseline") and color.
    """
    fig = go.Figure()
    scale = 100.0 if percent else 1.0
    xs = [str(v) for v in x] if categorical else list(x)
    fmt = "%{y:.2f}%" if percent else "%{y:.4f}"
    for i, s in enumerate(series):
        style, c = s.get("style", "ours"), s.get("color")
        ys = [None if v is None else v * scale for v in s["y"]]
        if style == "report":
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="markers",
                    name=s["name"],
                    hovertemplate=fmt,
                    marker=dict(symbol="diamond-open", size=11, line=dict(width=2), color=c or NEUTRAL),
                )
            )
        elif style == "baseline":
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    name=s["name"],
                    hovertemplate=fmt,
                    line=dict(color=c or "#6b7280", dash="dot", width=2),
                )
            )
        else:
            err = s.get("err")
            error_y = (
                dict(
                    type="data",
                    array=[0 if e is None else e * scale for e in err],
                    visible=True,
                    thickness=1.2,
                    width=4,
                )
                if err and any(e for e in err)
                else None
            )
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    name=s["name"],
                    hovertemplate=fmt,
                    error_y=error_y,
                    connectgaps=True,
                    marker=dict(size=7),
                    line=dict(color=c or color(i), dash=s.get("dash", "solid")),
                )
            )
    fig.update_xaxes(title=xlabel, type="category" if categorical else ("log" if log_x else None))
    if log_x and not categorical:  # ticks at the swept values only (plotly's log ticks crowd a short range)
        fig.update_xaxes(tickvals=xs, ticktext=[f"{v:g}" for v in xs])
    fig.update_yaxes(title=ylabel + (" (%)" if percent else ""))
    fig = _layout(fig, title, height=height)
    fig.update_layout(hovermode="x unified")
    return fig


def latent_figure(
    xy: np.ndarray,
    labels: Sequence[int],
    index: Sequence[int],
    title: str | None = None,
    axes: tuple[str, str] = ("1", "2"),
    height: int = 520,
) -> go.Figure:
    """Codes mapped to 2-D, one trace (and colour) per class; hover names the test image. SVG markers, not
    WebGL: plotly fires no click on a WebGL trace in select mode, and 3,000 points draw fast either way."""
    xy, label_of, index_of = np.asarray(xy), np.asarray(labels), np.asarray(index)
    fig = go.Figure()
    for c, name in enumerate(CLASS_NAMES):
        m = label_of == c
        fig.add_trace(
            go.Scatter(
                x=xy[m, 0],
                y=xy[m, 1],
                mode="markers",
                name=name,
                customdata=index_of[m],
                marker=dict(size=5, color=color(c), opacity=0.75),
                hovertemplate=f"test #%{{customdata}} · {name}<extra></extra>",
            )
        )
    fig = _layout(fig, title, height=height)
    fig.update_layout(
        hovermode="closest",
        legend=dict(orientation="h", y=-0.12, itemsizing="constant"),
        clickmode="event+select",
    )
    fig.update_xaxes(title=axes[0], zeroline=False)
    fig.update_yaxes(title=axes[1], zeroline=False)
    return fig

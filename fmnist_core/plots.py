"""Plotly figure builders: data in, go.Figure out. No streamlit here."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sequential as _sequential
from plotly.subplots import make_subplots

from .data import CLASS_NAMES

PALETTE = (
    "#4f46e5",
    "#e11d48",
    "#059669",
    "#d97706",
    "#0891b2",
    "#7c3aed",
    "#65a30d",
    "#db2777",
    "#2563eb",
    "#ea580c",
    "#0d9488",
    "#9333ea",
)


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _layout(fig: go.Figure, title: str | None = None, height: int = 380, **kw) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
        height=height,
        margin=dict(l=10, r=10, t=36 if title else 10, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, font=dict(size=11)),
        hovermode="x unified",
        template="plotly_white",
        **kw,
    )
    return fig


def _epoch_axis(fig: go.Figure, epochs: int) -> None:
    """Whole-number epoch ticks."""
    fig.update_xaxes(title="epoch", dtick=1 if epochs <= 12 else None, tickformat="d")


def curves_figure(
    series: Sequence[dict],
    metric: str = "loss",
    log_y: bool = False,
    reference_lines: Sequence[tuple[str, float]] = (),
    title: str | None = None,
    show_train: bool = True,
    height: int = 400,
) -> go.Figure:
    """Train (dashed) and validation (solid) curves, one colour per run.

    series: dicts with name, history (list of per-epoch dicts) and optional color.
    metric: "loss" or "acc"; accuracy is shown in percent.
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
                    y=[r[key] * scale for r in h],
                    mode="lines+markers",
                    marker=dict(size=4),
                    line=dict(color=c, dash=dash),
                    name=f"{s['name']} · {split}",
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
    return _layout(fig, title, height=height + 22 * len(series))


def band_figure(
    groups: Sequence[dict], metric: str = "val_acc", title: str | None = None, log_y: bool = False
) -> go.Figure:
    """Mean line with a ± std band over runs that differ only in seed.

    groups: dicts with name and histories (list of histories); epochs beyond the shortest are dropped.
    """
    fig = go.Figure()
    scale = 100.0 if metric.endswith("acc") else 1.0
    for i, g in enumerate(groups):
        hs = [h for h in g["histories"] if h and metric in h[0]]
        if not hs:
            continue
        n = min(len(h) for h in hs)
        arr = np.array([[r[metric] for r in h[:n]] for h in hs]) * scale  # (runs, epochs)
        mean, std = arr.mean(0), arr.std(0, ddof=1) if len(hs) > 1 else np.zeros(n)
        x = list(range(1, n + 1))
        c = g.get("color", color(i))
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=list(mean + std) + list((mean - std)[::-1]),
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
                name=f"{g['name']} (mean ± std of {len(hs)})",
                legendgroup=g["name"],
                customdata=std,
                hovertemplate="%{y:.3f} ± %{customdata:.3f}",
            )
        )
    _epoch_axis(fig, max((min(len(h) for h in g["histories"]) for g in groups if g["histories"]), default=1))
    fig.update_yaxes(
        title=metric.replace("_", " ") + (" (%)" if scale == 100 else ""), type="log" if log_y else "linear"
    )
    return _layout(fig, title)


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    cols: int = 10,
    row_labels: Sequence[str] | None = None,
    title_colors: Sequence[str] | None = None,
    cell: int = 92,
    zmax: float | None = None,
) -> go.Figure:
    """A grid of grayscale 28x28 images (N, 28, 28), values in [0, 1] or uint8."""
    images = np.asarray(images, dtype=np.float32)
    if images.max(initial=0) > 1.5:
        images = images / 255.0
    n = len(images)
    rows = max(1, math.ceil(n / cols))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        horizontal_spacing=0.01,
        vertical_spacing=0.06 if titles else 0.01,
        subplot_titles=list(titles) if titles else None,
    )
    for i, img in enumerate(images):
        fig.add_trace(
            go.Heatmap(
                z=img[::-1],
                colorscale="gray",
                zmin=0,
                zmax=zmax or 1,
                showscale=False,
                hovertemplate="x %{x}, y %{y}: %{z:.2f}<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, scaleanchor="x", constrain="domain")
    for i in range(n):
        fig.update_yaxes(scaleanchor=f"x{i + 1 if i else ''}", row=i // cols + 1, col=i % cols + 1)
    if titles:
        for i, ann in enumerate(fig.layout.annotations):
            ann.font.size = 11
            if title_colors:
                ann.font.color = title_colors[i]
    if row_labels:
        for r, label in enumerate(row_labels):
            fig.add_annotation(
                text=f"<b>{label}</b>",
                xref="paper",
                yref="paper",
                x=0,
                xanchor="right",
                y=1 - (r + 0.5) / rows,
                showarrow=False,
                font=dict(size=11),
                textangle=-90,
            )
    height = rows * cell + (24 * rows if titles else 0) + 10
    fig.update_layout(
        height=height,
        margin=dict(l=24 if row_labels else 4, r=4, t=24 if titles else 4, b=4),
        template="plotly_white",
        width=None,
    )
    return fig


def confusion_figure(
    cm: np.ndarray,
    normalized: bool = False,
    title: str | None = None,
    diverging: bool = False,
    names: Sequence[str] = CLASS_NAMES,
) -> go.Figure:
    """Heatmap of a confusion matrix: rows true classes, columns predicted classes."""
    cm = np.asarray(cm, dtype=float)
    text = [
        [
            (f"{v:+.1f}" if diverging else f"{v:.1f}")
            if normalized
            else f"{v:+.0f}"
            if diverging
            else f"{v:.0f}"
            for v in row
        ]
        for row in cm
    ]
    lim = float(np.abs(cm).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=cm,
            x=list(names),
            y=list(names),
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=10),
            colorscale="RdBu" if diverging else "Blues",
            zmid=0 if diverging else None,
            zmin=-lim if diverging else 0,
            zmax=lim,
            hovertemplate="true %{y}<br>predicted %{x}<br>%{z:.2f}"
            + ("%" if normalized else "")
            + "<extra></extra>",
            colorbar=dict(title="%" if normalized else "count", thickness=12),
        )
    )
    fig.update_yaxes(autorange="reversed", title="true class")
    fig.update_xaxes(title="predicted class", tickangle=-35)
    fig = _layout(fig, title, height=470)
    fig.update_layout(hovermode="closest")
    return fig


def probability_bars(
    probs: dict[str, Sequence[float]], names: Sequence[str] = CLASS_NAMES, title: str | None = None
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
    ys: dict[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    dashes: dict[str, str] | None = None,
    percent: bool = False,
    zero_line: bool = False,
) -> go.Figure:
    """Several named lines over a shared x (e.g. MSE against noise level, accuracy against label fraction)."""
    fig = go.Figure()
    for i, (name, y) in enumerate(ys.items()):
        fig.add_trace(
            go.Scatter(
                x=list(x),
                y=[100 * v if percent else v for v in y],
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


def heatmap_figure(
    z: np.ndarray, title: str | None = None, colorbar: str = "", height: int = 300
) -> go.Figure:
    """One 28x28 map (e.g. per-pixel mean squared error), row 0 at the top.

    Inferno with its darkest stop "#000004" made pure black: Streamlit's chart theme treats that
    colour as a placeholder and would paint the lowest values pink.
    """
    stops = _sequential.Inferno
    inferno = [
        [i / (len(stops) - 1), "#000000" if c.lower() == "#000004" else c] for i, c in enumerate(stops)
    ]
    return _image_map(
        go.Heatmap(
            z=np.asarray(z),
            colorscale=inferno,
            colorbar=dict(title=colorbar, thickness=10),
            hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>",
        ),
        title,
        height,
    )


def _image_map(heatmap: go.Heatmap, title: str | None, height: int) -> go.Figure:
    """A heatmap laid out as an image: square pixels, row 0 at the top, no axes."""
    fig = go.Figure(heatmap)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(visible=False)
    fig = _layout(fig, title, height=height)
    fig.update_layout(hovermode="closest")
    return fig


def gallery_figure(
    images: np.ndarray,
    captions: Sequence[str],
    cols: int = 8,
    cell: int = 96,
    caption_colors: Sequence[str] | None = None,
    zmax: float | None = None,
) -> go.Figure:
    """Grayscale 28x28 images (N, 28, 28) with a caption of one or more lines ("<br>") above each."""
    images = np.asarray(images, dtype=np.float32)
    if images.max(initial=0) > 1.5:
        images = images / 255.0
    n = len(images)
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    lines = max([c.count("<br>") + 1 for c in captions] or [1])
    cap = 14 * lines + 8  # px of caption above each image
    top, bottom = 6, 6
    height = rows * (cell + cap) + top + bottom
    fig = go.Figure()
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        y_top = 1 - (top + r * (cell + cap) + cap) / height
        y_bot = y_top - cell / height
        ax = "" if i == 0 else str(i + 1)
        fig.add_trace(
            go.Heatmap(
                z=img[::-1],
                colorscale="gray",
                zmin=0,
                zmax=zmax or 1,
                showscale=False,
                xaxis=f"x{ax}",
                yaxis=f"y{ax}",
                hovertemplate="x %{x}, y %{y}: %{z:.2f}<extra></extra>",
            )
        )
        x0, x1 = c / cols + 0.004, (c + 1) / cols - 0.004
        fig.layout[f"xaxis{ax}"] = dict(domain=[x0, x1], visible=False, constrain="domain", anchor=f"y{ax}")
        fig.layout[f"yaxis{ax}"] = dict(
            domain=[max(y_bot, 0), y_top],
            visible=False,
            anchor=f"x{ax}",
            scaleanchor=f"x{ax}",
            constrain="domain",
            constraintoward="top",
        )
        if i < len(captions):
            fig.add_annotation(
                text=captions[i],
                xref="paper",
                yref="paper",
                x=(x0 + x1) / 2,
                y=y_top,
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                align="center",
                font=dict(size=11, color=caption_colors[i] if caption_colors else None),
            )
    fig.update_layout(
        height=height, margin=dict(l=4, r=4, t=top, b=bottom), template="plotly_white", hovermode="closest"
    )
    return fig


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
        shown = np.append(v, m) if marker is not None else v
        lo, hi = (float(shown.min()), float(shown.max())) if len(shown) else (-3.0, 0.0)
        ticks = [d * 10.0**e for e in range(math.floor(lo) - 1, math.ceil(hi) + 2) for d in (1, 2, 5)]
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
    """A metric against a swept value: ours (mean ± std over seeds), the report's points, baselines.

    x: the shared x values; categorical=True keeps them as labels in the given order (e.g. dropout p).
    series: dicts with name, y (None where there is no value), optional err (std per point, None allowed),
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
                    marker=dict(symbol="diamond-open", size=11, line=dict(width=2), color=c or "#374151"),
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


def with_cell_picker(fig: go.Figure, names: Sequence[str] = CLASS_NAMES, size: int = 28) -> go.Figure:
    """Overlay invisible square markers on a confusion heatmap so a click selects a cell.

    Plotly heatmaps emit no selection events; a scatter point per cell does (x = predicted, y = true).
    The heatmap keeps its colours; hover moves to the markers; a selected cell is tinted.
    """
    heat = fig.data[0]
    text = np.asarray(heat.text, dtype=object).flatten()
    unit = "%" if "%<extra>" in (heat.hovertemplate or "") else " images"
    xs = [x for _ in names for x in names]
    ys = [y for y in names for _ in names]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            customdata=text,
            showlegend=False,
            name="cells",
            marker=dict(symbol="square", size=size, color="rgba(0,0,0,0)"),
            selected=dict(marker=dict(color="rgba(225,29,72,0.35)")),
            unselected=dict(marker=dict(opacity=0)),
            hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata}"
            + unit
            + "<br>click to see them<extra></extra>",
        )
    )
    heat.hoverinfo = "skip"
    heat.hovertemplate = None
    return fig


def latent_figure(
    xy: np.ndarray,
    labels: Sequence[int],
    index: Sequence[int],
    title: str | None = None,
    axes: tuple[str, str] = ("1", "2"),
    height: int = 520,
) -> go.Figure:
    """Codes mapped to 2-D, one trace (and colour) per class; hover names the test image."""
    xy, labels, index = np.asarray(xy), np.asarray(labels), np.asarray(index)
    fig = go.Figure()
    for c, name in enumerate(CLASS_NAMES):
        m = labels == c
        fig.add_trace(
            go.Scattergl(
                x=xy[m, 0],
                y=xy[m, 1],
                mode="markers",
                name=name,
                customdata=index[m],
                marker=dict(size=5, color=color(c), opacity=0.75),
                hovertemplate=f"test #%{{customdata}} · {name}<extra></extra>",
            )
        )
    fig = _layout(fig, title, height=height)
    fig.update_layout(
        hovermode="closest", legend=dict(orientation="h", y=-0.12, itemsizing="constant"), dragmode="select"
    )
    fig.update_xaxes(title=axes[0], zeroline=False)
    fig.update_yaxes(title=axes[1], zeroline=False)
    return fig


def attribution_figure(a: np.ndarray, title: str | None = None, height: int = 300) -> go.Figure:
    """A (28, 28) attribution map on a diverging scale centred at 0: red for, blue against the class."""
    lim = float(np.abs(a).max()) or 1.0
    return _image_map(
        go.Heatmap(
            z=np.asarray(a),
            colorscale="RdBu_r",
            zmin=-lim,
            zmax=lim,
            zmid=0,
            colorbar=dict(thickness=10),
            hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>",
        ),
        title,
        height,
    )


def mosaic_figure(maps: np.ndarray, cols: int = 16, cell: int = 48, title: str | None = None) -> go.Figure:
    """Many small maps (N, H, W) in [0, 1] tiled into one grayscale image, a gap between tiles: one
    heatmap instead of N subplots (a layer's 32 feature maps draw in milliseconds, not a second)."""
    maps = np.asarray(maps, dtype=np.float32)
    n, h, w = maps.shape
    rows = -(-n // cols)
    tiled = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, dtype=np.float32)
    for i, m in enumerate(maps):
        r, c = divmod(i, cols)
        tiled[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = m
    fig = _image_map(
        go.Heatmap(z=tiled, colorscale="gray", zmin=0, zmax=1, showscale=False, hoverinfo="skip"),
        title,
        height=max(80, rows * cell + (36 if title else 10)),
    )
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
    return fig

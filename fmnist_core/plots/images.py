"""Figures made of images: grids and galleries of Fashion-MNIST items, the confusion matrix, heatmaps,
attribution maps and feature-map mosaics."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sequential as _sequential

from ..files import CLASS_NAMES
from .style import _layout


def _unit(images) -> np.ndarray:
    """Images as float32 in [0, 1]: uint8 values (anything above 1.5) are scaled down."""
    images = np.asarray(images, dtype=np.float32)
    return images / 255.0 if images.max(initial=0) > 1.5 else images


def _gray(img: np.ndarray, zmax: float | None, **axes) -> go.Heatmap:
    """One grayscale image as a heatmap, row 0 at the top, with its pixel values on hover."""
    hover = "x %{x}, y %{y}: %{z:.2f}<extra></extra>"
    return go.Heatmap(
        z=img[::-1], colorscale="gray", zmin=0, zmax=zmax or 1, showscale=False, hovertemplate=hover, **axes
    )


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    cols: int = 10,
    row_labels: Sequence[str] | None = None,
    title_colors: Sequence[str] | None = None,
    cell: int = 92,
    zmax: float | None = None,
) -> go.Figure:
    """A grid of grayscale 28x28 images (N, 28, 28), values in [0, 1] or uint8.

    The layout is written out in one dict, as make_subplots would lay it out: building it with
    make_subplots and per-axis updates took 60-100 ms a grid, and the Reconstructions page draws eight."""
    images = _unit(images)
    n = len(images)
    rows = max(1, math.ceil(n / cols))
    xs = _domains(cols, 0.01)
    ys = _domains(rows, 0.06 if titles else 0.01)[::-1]  # row 1 at the top
    layout: dict = {}
    annotations: list[dict] = []
    traces = []
    for i, img in enumerate(images):
        (x0, x1), (y0, y1), ax = xs[i % cols], ys[i // cols], str(i + 1) if i else ""
        layout[f"xaxis{ax}"] = dict(domain=[x0, x1], anchor=f"y{ax}", visible=False, constrain="domain")
        layout[f"yaxis{ax}"] = dict(
            domain=[y0, y1], anchor=f"x{ax}", visible=False, scaleanchor=f"x{ax}", constrain="domain"
        )
        traces.append(_gray(img, zmax, xaxis=f"x{ax}", yaxis=f"y{ax}"))
        if titles:
            font = dict(size=11, color=title_colors[i]) if title_colors else dict(size=11)
            annotations.append(
                dict(text=titles[i], x=(x0 + x1) / 2, y=y1, xref="paper", yref="paper", xanchor="center",
                     yanchor="bottom", showarrow=False, font=font)
            )  # fmt: skip
    for r, label in enumerate(row_labels or ()):
        annotations.append(
            dict(text=f"<b>{label}</b>", xref="paper", yref="paper", x=0, xanchor="right",
                 y=1 - (r + 0.5) / rows, showarrow=False, font=dict(size=11), textangle=-90)
        )  # fmt: skip
    height = rows * cell + (24 * rows if titles else 0) + 10
    margin = dict(l=24 if row_labels else 4, r=4, t=24 if titles else 4, b=4)
    return go.Figure(
        data=traces,
        layout=dict(layout, annotations=annotations, height=height, margin=margin),
    )


def _domains(k: int, spacing: float) -> list[tuple[float, float]]:
    """k equal cells across [0, 1] with `spacing` between them (make_subplots' arithmetic)."""
    width = (1 - spacing * (k - 1)) / k
    return [(j * (width + spacing), j * (width + spacing) + width) for j in range(k)]


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


def _image_map(heatmap: go.Heatmap | list[go.Heatmap], title: str | None, height: int) -> go.Figure:
    """A heatmap (or several, drawn in order) laid out as an image: square pixels, row 0 at the top, no axes."""
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
    images = _unit(images)
    n = len(images)
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    lines = max([c.count("<br>") + 1 for c in captions] or [1])
    cap = 14 * lines + 8  # px of caption above each image
    top, bottom = 6, 6
    height = rows * (cell + cap) + top + bottom
    layout: dict = {}
    annotations: list[dict] = []
    traces = []
    for i, img in enumerate(images):  # one layout dict, not per-trace updates (as in image_grid)
        r, c = divmod(i, cols)
        y_top = 1 - (top + r * (cell + cap) + cap) / height
        y_bot = y_top - cell / height
        ax = "" if i == 0 else str(i + 1)
        traces.append(_gray(img, zmax, xaxis=f"x{ax}", yaxis=f"y{ax}"))
        x0, x1 = c / cols + 0.004, (c + 1) / cols - 0.004
        layout[f"xaxis{ax}"] = dict(domain=[x0, x1], visible=False, constrain="domain", anchor=f"y{ax}")
        layout[f"yaxis{ax}"] = dict(
            domain=[max(y_bot, 0), y_top],
            visible=False,
            anchor=f"x{ax}",
            scaleanchor=f"x{ax}",
            constrain="domain",
            constraintoward="top",
        )
        if i < len(captions):
            annotations.append(
                dict(
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
            )
    margin = dict(l=4, r=4, t=top, b=bottom)
    layout.update(annotations=annotations, height=height, margin=margin, hovermode="closest")
    return go.Figure(data=traces, layout=layout)


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


# red for the class, blue against, see-through where the evidence is ~0 so the image shows beneath
_ATTRIBUTION_SCALE = [
    [0.0, "rgba(33,102,172,0.95)"],
    [0.5, "rgba(247,247,247,0)"],
    [1.0, "rgba(178,24,43,0.95)"],
]


def attribution_figure(
    a: np.ndarray, title: str | None = None, height: int = 300, image: np.ndarray | None = None
) -> go.Figure:
    """A (28, 28) attribution map on a diverging scale centred at 0, laid over the (28, 28) input image
    in gray when one is given: red for, blue against the class."""
    lim = float(np.abs(a).max()) or 1.0
    attribution = go.Heatmap(
        z=np.asarray(a),
        colorscale=_ATTRIBUTION_SCALE if image is not None else "RdBu_r",
        zmin=-lim,
        zmax=lim,
        zmid=0,
        colorbar=dict(thickness=10),
        hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>",
    )
    if image is None:
        return _image_map(attribution, title, height)
    under = go.Heatmap(z=_unit(image), colorscale="gray", zmin=0, zmax=1, showscale=False, hoverinfo="skip")
    return _image_map([under, attribution], title, height)  # the image first: drawn beneath the map


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

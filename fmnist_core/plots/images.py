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


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    cols: int = 10,
    cell: int = 92,
    zmax: float | None = None,
) -> go.Figure:
    """A grid of grayscale 28x28 images (N, 28, 28), values in [0, 1] or uint8, each `cell` px tall, with an
    optional title above each. A last row (or a grid) with fewer than `cols` images is left-aligned, so
    that two grids of the same `cols` line up column by column."""
    images = _unit(images)
    rows = max(1, math.ceil(len(images) / cols))
    top = round(24 * 28 / cell) if titles else 0  # 24 px of title, in image pixels
    fig, corners = _mosaic(images, cols, top, zmax)
    fig.update_layout(
        annotations=_captions(titles or (), corners),
        height=rows * cell + (24 * rows if titles else 0) + 10,
        margin=dict(l=4, r=4, t=4, b=4),
    )
    return fig


def _captions(texts: Sequence[str], corners: list[tuple[int, int]], colors: Sequence[str] | None = None):
    """A caption centred above each tile of a mosaic (one or more lines, "<br>" between them)."""
    return [
        dict(
            text=t, xref="x", yref="y", x=x + 13.5, y=y - 0.5, xanchor="center", yanchor="bottom",
            showarrow=False, align="center", font=dict(size=11, color=colors[i] if colors else None),
        )
        for i, (t, (x, y)) in enumerate(zip(texts, corners))
    ]  # fmt: skip


def _mosaic(
    images: np.ndarray, cols: int, top: int, zmax: float | None, gap: int = 2
) -> tuple[go.Figure, list[tuple[int, int]]]:
    """The images (N, 28, 28) in [0, 1] tiled `cols` a row into one heatmap, `top` image pixels above each
    row (for its captions) and `gap` between tiles left empty; the figure and each tile's top-left (x, y).

    One heatmap, not one subplot per image: the browser draws a page of ten-image rows several times
    faster, and building the figure costs a few milliseconds instead of 60-100."""
    n = len(images)
    rows = max(1, math.ceil(n / cols))
    step_x, step_y = 28 + gap, top + 28 + gap
    canvas = np.full((rows * step_y - gap, cols * step_x - gap), np.nan, dtype=np.float32)
    corners = [((i % cols) * step_x, (i // cols) * step_y + top) for i in range(n)]
    for img, (x, y) in zip(images, corners):
        canvas[y : y + 28, x : x + 28] = img
    heat = go.Heatmap(
        z=canvas,
        colorscale="gray",
        zmin=0,
        zmax=zmax or 1,
        showscale=False,
        hoverongaps=False,
        hovertemplate="%{z:.2f}<extra></extra>",
    )
    axis = dict(visible=False, constrain="domain")
    layout = dict(
        xaxis=dict(axis, range=[-0.5, canvas.shape[1] - 0.5], constraintoward="left"),
        yaxis=dict(axis, range=[canvas.shape[0] - 0.5, -0.5], scaleanchor="x", constraintoward="top"),
    )
    return go.Figure(data=[heat], layout=layout), corners


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
    fig, corners = _mosaic(images, cols, round(cap * 28 / cell), zmax)
    fig.update_layout(
        annotations=_captions(captions, corners, caption_colors),
        height=rows * (cell + cap) + 12,
        margin=dict(l=4, r=4, t=6, b=6),
        hovermode="closest",
    )
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

"""Plotly figure builders: data in, go.Figure out. No streamlit here.

style.py: the colours and layout every figure shares; charts.py: figures of numbers (curves, sweeps,
histograms, maps); images.py: figures made of images (grids, galleries, the confusion matrix, heatmaps).
"""

from .charts import (
    band_figure,
    curves_figure,
    histogram_figure,
    latent_figure,
    line_figure,
    probability_bars,
    sweep_figure,
)
from .images import (
    attribution_figure,
    confusion_figure,
    gallery_figure,
    heatmap_figure,
    image_grid,
    mosaic_figure,
    with_cell_picker,
)
from .style import NEUTRAL, PALETTE, color, log_ticks

__all__ = [
    "NEUTRAL",
    "log_ticks",
    "PALETTE",
    "attribution_figure",
    "band_figure",
    "color",
    "confusion_figure",
    "curves_figure",
    "gallery_figure",
    "heatmap_figure",
    "histogram_figure",
    "image_grid",
    "latent_figure",
    "line_figure",
    "mosaic_figure",
    "probability_bars",
    "sweep_figure",
    "with_cell_picker",
]

"""The look every figure shares: the run colours and the layout (title, margins, legend)."""

from __future__ import annotations

import math

import plotly.graph_objects as go

# a line or point that is no run's (noisy input, a difference, a report's own figure): grey, readable on
# light and dark backgrounds
NEUTRAL = "#8b8f98"

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


# No figure names a template: on a page, Streamlit's own (plotly's default once streamlit is imported)
# styles it for the light or dark theme, and naming one cost about 10 ms a figure (plotly copies and
# validates the whole template); a report, drawn without Streamlit, names REPORT_TEMPLATE.
REPORT_TEMPLATE = "plotly_white"


def _layout(fig: go.Figure, title: str | None = None, height: int = 380, **kw) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
        height=height,
        margin=dict(l=10, r=10, t=36 if title else 10, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, font=dict(size=11)),
        hovermode="x unified",
        **kw,
    )
    return fig


def _epoch_axis(fig: go.Figure, epochs: int) -> None:
    """Whole-number epoch ticks."""
    fig.update_xaxes(title="epoch", dtick=1 if epochs <= 12 else None, tickformat="d")


def log_ticks(fig: go.Figure) -> None:
    """Labelled ticks at 1-2-5 steps over the plotted values of a log-scale y axis (plotly labels only
    the powers of ten when the range is short, so a loss between 0.007 and 0.04 had no labels)."""
    ys = [y for t in fig.data for y in (t.y or ()) if y is not None and y > 0]
    if ys:
        ticks = ticks_125(min(ys), max(ys))
        fig.update_yaxes(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def ticks_125(lo: float, hi: float) -> list[float]:
    """Tick values at 1-2-5 steps (..., 0.01, 0.02, 0.05, 0.1, ...) from about lo/2 to hi*2 (both > 0)."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    return [d * 10.0**e for e in decades for d in (1, 2, 5) if lo / 2 <= d * 10.0**e <= hi * 2]

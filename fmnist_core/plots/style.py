"""The look every figure shares: the run colours and the layout (title, margins, legend)."""

from __future__ import annotations

import plotly.graph_objects as go

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

"""Charts as HTML fragments with plotly; its JavaScript comes from the Python package itself.

The page inlines ``plotly.js`` once (:func:`plotly_js`) and each chart is a ``<div>`` with a
small script that draws it, so the file opens offline: no CDN, no server.
"""

from __future__ import annotations

import functools

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from etl.report.model import Chart

HEIGHT = 300
COLORS = {
    "raised": "#d9534f",
    "resolved": "#2e8b57",
    "success": "#2e8b57",
    "warning": "#e0a800",
    "failure": "#d9534f",
}
# Status bars: green for the state wanted, red for the worst, amber between.
STATUS_COLORS = {
    "FullyPatched": "#2e8b57",
    "RunningAndUpToDate": "#2e8b57",
    "ApprovedPending": "#e0a800",
    "RebootRequired": "#e0a800",
    "RunningAndNotUpToDate": "#e0a800",
    "InstallError": "#d9534f",
    "NotRunning": "#d9534f",
    "NotDetected": "#d9534f",
}
NEUTRAL = "#8a9bb0"
# Static images need no toolbar and must never reach for plotly's servers.
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["toImage"]}


@functools.cache
def plotly_js() -> str:
    """The minified plotly.js bundled in the ``plotly`` package (read once per process)."""
    return get_plotlyjs()


def figure(chart: Chart) -> go.Figure:
    """A plotly figure for ``chart``, built from plain lists."""
    fig = go.Figure()
    for s in chart.series:
        color = COLORS.get(s.name)
        if chart.kind == "line":
            fig.add_trace(
                go.Scatter(x=s.x, y=s.y, name=s.name, mode="lines+markers", connectgaps=False,
                           line={"color": color} if color else None)
            )  # fmt: skip
        else:
            if chart.key in ("patch", "antivirus"):
                color = [STATUS_COLORS.get(x, NEUTRAL) for x in s.x]  # type: ignore[assignment]
            fig.add_trace(
                go.Bar(x=s.x, y=s.y, name=s.name, marker={"color": color} if color else None)
            )
    fig.update_layout(
        template="plotly_white",
        height=HEIGHT,
        margin={"l": 50, "r": 20, "t": 10, "b": 40},
        barmode="stack" if chart.kind == "stacked" else "group",
        legend={"orientation": "h", "y": 1.12, "x": 0},
        yaxis={"title": {"text": chart.y_title}, "rangemode": "tozero"},
        showlegend=len(chart.series) > 1,
    )
    if chart.key == "compliance":
        fig.update_yaxes(range=[0, 100])
    return fig


def to_div(chart: Chart) -> str:
    """The ``<div>`` and drawing script of one chart (plotly.js not included)."""
    return pio.to_html(
        figure(chart),
        include_plotlyjs=False,
        full_html=False,
        div_id=f"chart-{chart.key}",
        config=CONFIG,
        default_height=HEIGHT,
    )

"""Chart geometry for server-rendered SVG: Python computes boxes, the template draws them.

No JavaScript and no inline styles (the CSP allows neither); colours come from classes in
app.css. Text goes through Jinja's autoescaping like any other value. Each chart has a table
next to it on the page, so the SVG itself is decorative for screen readers (``aria-hidden``
with a title for those who hover).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 320
LABEL_W = 96
VALUE_W = 44
ROW_H = 26
BAR_H = 16


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    x: float
    y: float
    width: float
    height: float
    css: str
    text_y: float


@dataclass
class BarChart:
    title: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    label_x: int = 0
    value_x: int = 0
    track_width: int = 0


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float | None, str]],
    *,
    scale_max: float | None = None,
    css: Sequence[str] | str = "bar",
    digits: int = 0,
) -> BarChart:
    """Horizontal bars, one row per (label, value, value text); ``None`` draws no bar."""
    values = [v for _, v, _ in items if v is not None]
    top = scale_max if scale_max is not None else max(values, default=0.0)
    span = WIDTH - LABEL_W - VALUE_W
    chart = BarChart(
        title=title,
        width=WIDTH,
        height=max(ROW_H * len(items), ROW_H),
        label_x=LABEL_W - 6,
        value_x=LABEL_W + span + 6,
        track_width=span,
    )
    for n, (label, value, text) in enumerate(items):
        w = 0.0 if not value or top <= 0 else min(value / top, 1.0) * span
        y = n * ROW_H + (ROW_H - BAR_H) / 2
        cls = css if isinstance(css, str) else css[n % len(css)]
        chart.bars.append(Bar(label, text, LABEL_W, y, round(w, 1), BAR_H, cls, y + BAR_H - 3))
    return chart


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    css: str
    letter: str


@dataclass
class Gauge:
    title: str
    width: int
    height: int
    bands: list[Band]
    marker_x: float | None
    value_text: str
    ticks: list[tuple[float, str, str]]  # x, text, text-anchor


def ikm_gauge(title: str, ikm: float | None, value_text: str) -> Gauge:
    """A 0-100 strip with the four grade bands and a marker at the index."""
    left, right = 8, WIDTH - 8
    span = right - left

    def at(v: float) -> float:
        return round(left + span * v / 100, 1)

    edges = [(0.0, 25.0, "band-none", ""), (25.0, 65.0, "band-d", "D")]
    edges += [(65.0, 76.61, "band-c", "C"), (76.61, 88.31, "band-b", "B")]
    edges += [(88.31, 100.0, "band-a", "A")]
    bands = [Band(at(lo), round(at(hi) - at(lo), 1), css, letter) for lo, hi, css, letter in edges]
    # 76.61 and 88.31 sit too close to 100 to label on a phone; the band letters say it
    ticks = [(at(v), f"{v:g}", "middle") for v in (25, 65)]
    ticks = [(at(0), "0", "start"), *ticks, (at(100), "100", "end")]
    marker = at(max(0.0, min(ikm, 100.0))) if ikm is not None else None
    return Gauge(title, WIDTH, 64, bands, marker, value_text, ticks)

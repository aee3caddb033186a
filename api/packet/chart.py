"""One objective's scores in the period as a vector chart for the PDF.

The same picture as the review page's SVG chart (``plantrail.api.rendering.charts``): scores over
time, the baseline and the target as lines, and each review held in the period as a mark. It
is drawn with reportlab's own graphics, so it stays vector and needs nothing but reportlab. The
numbers are also in the table printed under it, which is what a text extractor or a screen
reader finds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String

from plantrail.api.packet.styles import ACCENT, BOLD, FONT, INK, MUTED, REMOVED, RULE

__all__ = ["HEIGHT", "score_chart"]

HEIGHT = 130
_LEFT, _RIGHT, _TOP, _BOTTOM = 34.0, 70.0, 14.0, 22.0


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    step = max(1.0, round(raw / magnitude) * magnitude) if raw >= 1 else round(raw, 2) or 0.5
    first = (low // step) * step
    out = []
    value = first
    while value <= high + 1e-9:
        if value >= low - 1e-9:
            out.append(value)
        value += step
    return out


def _num(value: float) -> str:
    return f"{value:g}"


def score_chart(chart: Mapping[str, Any], start: date, end: date, width: float) -> Drawing:
    """The chart of one ``reviews.charts`` entry of a packet over the period ``start``–``end``."""
    scores: Sequence[Mapping[str, Any]] = chart["scores"]
    measure = chart.get("measure") or {}
    values = [float(s["score"]) for s in scores]
    lines = [
        (name, float(measure[name]))
        for name in ("baseline", "target")
        if measure.get(name) is not None
    ]
    pool = values + [v for _, v in lines]
    low, high = (min(pool), max(pool)) if pool else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = max(0.0, low - pad) if low >= 0 else low - pad, high + pad

    drawing = Drawing(width, HEIGHT)
    plot_w = width - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    days = max(1, (end - start).days)

    def x(day: date) -> float:
        return _LEFT + plot_w * min(max((day - start).days, 0), days) / days

    def y(value: float) -> float:
        return _BOTTOM + plot_h * (value - low) / (high - low)

    for tick in _ticks(low, high):
        drawing.add(
            Line(_LEFT, y(tick), _LEFT + plot_w, y(tick), strokeColor=RULE, strokeWidth=0.4)
        )
        drawing.add(
            String(
                _LEFT - 4,
                y(tick) - 2.5,
                _num(tick),
                fontName=FONT,
                fontSize=6.5,
                fillColor=MUTED,
                textAnchor="end",
            )
        )
    drawing.add(Line(_LEFT, _BOTTOM, _LEFT + plot_w, _BOTTOM, strokeColor=MUTED, strokeWidth=0.6))
    # Month ticks along the time axis (first of each month in the period).
    month = date(start.year, start.month, 1)
    step_months = max(1, round(days / 30 / 8))
    while month <= end:
        if month >= start:
            drawing.add(Line(x(month), _BOTTOM, x(month), _BOTTOM - 3, strokeColor=MUTED))
            drawing.add(
                String(
                    x(month),
                    _BOTTOM - 11,
                    month.strftime("%b %Y"),
                    fontName=FONT,
                    fontSize=6.3,
                    fillColor=MUTED,
                    textAnchor="middle",
                )
            )
        total = month.year * 12 + month.month - 1 + step_months
        month = date(total // 12, total % 12 + 1, 1)
    for review in chart.get("reviews", []):
        day = date.fromisoformat(review["date"])
        drawing.add(
            Line(
                x(day),
                _BOTTOM,
                x(day),
                _BOTTOM + plot_h,
                strokeColor=MUTED,
                strokeWidth=0.5,
                strokeDashArray=[1, 2],
            )
        )
        drawing.add(
            String(
                x(day),
                _BOTTOM + plot_h + 3,
                "review",
                fontName=FONT,
                fontSize=6,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
    for name, value in lines:
        colour = REMOVED if name == "target" else MUTED
        drawing.add(
            Line(
                _LEFT,
                y(value),
                _LEFT + plot_w,
                y(value),
                strokeColor=colour,
                strokeWidth=0.8,
                strokeDashArray=[4, 2] if name == "target" else [1, 1.5],
            )
        )
        drawing.add(
            String(
                _LEFT + plot_w + 4,
                y(value) - 2.5,
                f"{name} {_num(value)}",
                fontName=FONT,
                fontSize=6.5,
                fillColor=colour,
            )
        )
    points = [(x(date.fromisoformat(s["administered_on"])), y(float(s["score"]))) for s in scores]
    if len(points) > 1:
        flat = [c for point in points for c in point]
        drawing.add(PolyLine(flat, strokeColor=ACCENT, strokeWidth=1.2))
    for (px, py), score in zip(points, scores, strict=True):
        drawing.add(Circle(px, py, 2.2, fillColor=ACCENT, strokeColor=ACCENT))
        drawing.add(
            String(
                px,
                py + 4,
                _num(float(score["score"])),
                fontName=BOLD,
                fontSize=6.3,
                fillColor=INK,
                textAnchor="middle",
            )
        )
    if not points:
        drawing.add(
            String(
                _LEFT + plot_w / 2,
                _BOTTOM + plot_h / 2,
                "no score in the period",
                fontName=FONT,
                fontSize=7.5,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
    return drawing

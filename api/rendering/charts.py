"""One objective's instrument scores over time as an inline SVG chart for the review page.

The chart is drawn on the server so it needs no JavaScript, and it uses SVG presentation
attributes rather than ``style=`` because the pages' Content-Security-Policy
(``default-src 'none'; style-src 'self'``) blocks inline styles. Everything taken from the plan
is escaped: statements, instruments and labels are free text typed by clinicians. The output is
well-formed XML as well as HTML, and the same input always gives the same string, so pages can
be compared byte for byte and tested by parsing.

A screen reader gets the chart's gist from its ``<desc>`` sentence and every score from a
visually hidden table next to it; sighted readers get the same numbers from the axes and from
each point's tooltip.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

__all__ = ["measure_chart"]

# The page palette (plantrail.css); each colour has at least 4.5:1 contrast on white.
_INK = "#1b1f24"
_LINE = "#0b5cad"
_TARGET = "#a4161a"
_MUTED = "#4a5260"
# Grid lines only help the eye along a value, so they may be lighter than text.
_GRID = "#e3e6ea"
_FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
_FONT_SIZE = 12
# A generous guess at one character's width, used only to keep labels apart.
_CHAR_WIDTH = 0.62 * _FONT_SIZE
_ROW = 15  # height of one row of marker labels above the plot

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF): one stray
# control character pasted into a statement would otherwise make the page ill-formed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class _Score:
    day: date
    value: float


@dataclass(frozen=True)
class _Measure:
    instrument: str | None
    baseline: float | None
    target: float | None
    direction: str | None
    unit: str | None
    keep: str | None = None
    """For a maintain measure: ``at_most`` or ``at_least`` its threshold (held in ``target``)."""

    def breaches(self, value: float) -> bool:
        if self.keep is None or self.target is None:
            return False
        return value > self.target if self.keep == "at_most" else value < self.target


@dataclass(frozen=True)
class _Frame:
    """Where the plot area sits in the SVG, and how dates and scores map onto it."""

    left: float
    right: float
    top: float
    bottom: float
    first_day: date
    last_day: date
    low: float
    high: float

    def x(self, day: date) -> float:
        span = (self.last_day - self.first_day).days
        return self.left + (day - self.first_day).days / span * (self.right - self.left)

    def y(self, value: float) -> float:
        # The SVG y axis points down, so higher scores sit nearer the top.
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)


def measure_chart(
    objective: Mapping[str, Any],
    measurements: Sequence[Mapping[str, Any]],
    review_dates: Sequence[tuple[str, str]] = (),
    *,
    width: int = 640,
    height: int = 240,
) -> Markup:
    """A ``<figure class="measure-chart">`` charting ``objective``'s scores by date.

    ``objective`` and ``measurements`` are items of the plan document's ``objectives`` and
    ``measurements`` lists. A measurement counts when it is linked to the objective, or, having
    no objective, records the objective's instrument; voided ones never count. ``review_dates``
    are ``(label, "YYYY-MM-DD")`` pairs drawn as labelled vertical lines. With no score the
    figure holds a one-line notice instead of an empty chart.
    """
    measure = _measure(objective.get("measure"))
    label = str(objective.get("label") or "this objective")
    base_id = _element_id(objective)
    caption = _figcaption(label, objective.get("statement"))
    scores = _scores(objective, measure, measurements)
    if not scores:
        notice = _el("p", {}, f"No score recorded for {label} yet.")
        return _el("figure", {"class": "measure-chart", "id": base_id}, notice, caption, sep="\n")
    what = f"{measure.instrument} scores" if measure.instrument else "Scores"
    title = f"{what} for {label}"
    target_day = _day(objective.get("target_date"))
    reviews = [(str(text), day) for text, raw in review_dates if (day := _day(raw)) is not None]
    desc = _describe(scores, measure, target_day)
    svg = _svg(base_id, title, desc, scores, measure, reviews, target_day, width, height)
    table = _table(title, scores, measure)
    return _el("figure", {"class": "measure-chart", "id": base_id}, svg, table, caption, sep="\n")


# --- reading the plan document ------------------------------------------------------------


def _measure(raw: object) -> _Measure:
    if not isinstance(raw, Mapping):
        return _Measure(None, None, None, None, None)
    direction = raw.get("direction")
    keep = raw.get("keep")
    threshold = _number(raw.get("threshold"))
    if direction == "maintain" and keep in ("at_most", "at_least") and threshold is not None:
        # A maintain objective is held to its threshold: drawn where a target line would be,
        # and every score on the wrong side of it is a breach.
        return _Measure(
            instrument=str(raw["instrument"]) if raw.get("instrument") else None,
            baseline=_number(raw.get("baseline")),
            target=threshold,
            direction="decrease" if keep == "at_most" else "increase",
            unit=str(raw["unit"]) if raw.get("unit") else None,
            keep=str(keep),
        )
    return _Measure(
        instrument=str(raw["instrument"]) if raw.get("instrument") else None,
        baseline=_number(raw.get("baseline")),
        target=_number(raw.get("target")),
        # Anything but the two known directions means "don't judge whether the target is met".
        direction=direction if direction in ("decrease", "increase") else None,
        unit=str(raw["unit"]) if raw.get("unit") else None,
    )


def _scores(
    objective: Mapping[str, Any], measure: _Measure, measurements: Sequence[Mapping[str, Any]]
) -> list[_Score]:
    objective_id = objective.get("id")
    rows: list[tuple[date, str, str, float]] = []
    for m in measurements:
        if m.get("voided"):
            continue
        linked = m.get("objective_id")
        if linked:
            if objective_id is None or linked != objective_id:
                continue
        elif measure.instrument is None or m.get("instrument") != measure.instrument:
            continue
        day, value = _day(m.get("administered_on")), _number(m.get("score"))
        # The document is validated upstream; a row that still can't be placed is left off
        # rather than failing the whole review page.
        if day is None or value is None:
            continue
        rows.append((day, str(m.get("recorded_at") or ""), str(m.get("label") or ""), value))
    # Same-day scores keep the order they were recorded in, so the line is stable.
    rows.sort(key=lambda row: row[:3])
    return [_Score(day, value) for day, _, _, value in rows]


def _day(raw: object) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            return None
    return None


def _number(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _element_id(objective: Mapping[str, Any]) -> str:
    """An id prefix unique to the objective, so several charts can share one page."""
    raw = str(objective.get("id") or objective.get("label") or "")
    safe = _NOT_ID.sub("-", raw)
    if safe != raw or not safe:
        # Replacing characters could make two ids collide; a digest of the original can't.
        safe = f"{safe}-{hashlib.sha256(raw.encode()).hexdigest()[:8]}"
    return f"mc-{safe}"


# --- text ---------------------------------------------------------------------------------


def _num(value: float) -> str:
    """At most one decimal, no trailing ".0", never "-0": the same everywhere in the chart."""
    rounded = round(value, 1)
    if rounded == 0:
        rounded = 0.0
    text = f"{rounded:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _with_unit(value: float, unit: str | None) -> str:
    return f"{_num(value)} {unit}" if unit else _num(value)


def _describe(scores: Sequence[_Score], measure: _Measure, target_day: date | None) -> str:
    unit = measure.unit
    what = f"{measure.instrument} " if measure.instrument else ""
    first, latest = scores[0], scores[-1]
    if len(scores) == 1:
        parts = [f"1 {what}score recorded: {_with_unit(first.value, unit)} on {first.day}."]
    else:
        parts = [
            f"{len(scores)} {what}scores recorded from {first.day} to {latest.day}.",
            f"First score {_with_unit(first.value, unit)} on {first.day};"
            f" latest score {_with_unit(latest.value, unit)} on {latest.day}.",
        ]
    if measure.baseline is not None:
        change = latest.value - measure.baseline
        if _num(change) == "0":
            relation = "equal to the baseline"
        else:
            relation = f"{_num(abs(change))} {'below' if change < 0 else 'above'} the baseline"
        parts.append(f"Baseline {_with_unit(measure.baseline, unit)}; latest score is {relation}.")
    if measure.keep is not None and measure.target is not None:
        side = "at most" if measure.keep == "at_most" else "at least"
        goal = f"Keep {side} {_with_unit(measure.target, unit)}"
        breached = [s for s in scores if measure.breaches(s.value)]
        if breached:
            days = ", ".join(str(s.day) for s in breached)
            goal += f": {len(breached)} of {len(scores)} scores breached the threshold ({days})"
            goal += "; latest score " + (
                "breaches it" if measure.breaches(latest.value) else "is within the range"
            )
        else:
            goal += ": every score is within the range"
        parts.append(goal + ".")
    elif measure.target is not None:
        goal = f"Target {_with_unit(measure.target, unit)}"
        if measure.direction == "decrease":
            goal += " or lower"
        elif measure.direction == "increase":
            goal += " or higher"
        if target_day is not None:
            goal += f" by {target_day}"
        if measure.direction is not None:
            reached = (
                latest.value <= measure.target
                if measure.direction == "decrease"
                else latest.value >= measure.target
            )
            goal += ": target reached" if reached else ": target not yet reached"
        parts.append(goal + ".")
    return " ".join(parts)


# --- markup -------------------------------------------------------------------------------


def _text(value: object) -> Markup:
    # str() first so that even a Markup value from the plan is escaped, never trusted.
    return escape(_NOT_XML.sub("", str(value)))


def _el(tag: str, attrs: Mapping[str, object], *children: str, sep: str = "") -> Markup:
    """``<tag attrs>children</tag>``; plain ``str`` children are escaped, ``Markup`` ones kept."""
    rendered = "".join(
        f' {name}="{_text(_num(value) if isinstance(value, int | float) else value)}"'
        for name, value in attrs.items()
    )
    if not children:
        return Markup(f"<{tag}{rendered}/>")
    inner = sep.join(c if isinstance(c, Markup) else _text(c) for c in children)
    return Markup(f"<{tag}{rendered}>{sep}{inner}{sep}</{tag}>")


def _figcaption(label: str, statement: object) -> Markup:
    if not statement:
        return _el("figcaption", {}, _el("strong", {}, label))
    return _el("figcaption", {}, _el("strong", {}, label), f" — {statement}")


def _table(title: str, scores: Sequence[_Score], measure: _Measure) -> Markup:
    heading = f"Score ({measure.unit})" if measure.unit else "Score"
    head = _el("tr", {}, _el("th", {"scope": "col"}, "Date"), _el("th", {"scope": "col"}, heading))
    rows = [
        _el(
            "tr",
            {},
            _el("td", {}, s.day.isoformat()),
            _el("td", {}, _num(s.value) + (" (breach)" if measure.breaches(s.value) else "")),
        )
        for s in scores
    ]
    return _el(
        "table",
        {"class": "visually-hidden"},
        _el("caption", {}, title),
        _el("thead", {}, head),
        _el("tbody", {}, *rows, sep="\n"),
        sep="\n",
    )


def _text_width(text: str) -> float:
    return len(text) * _CHAR_WIDTH


# --- geometry -----------------------------------------------------------------------------


def _value_ticks(values: Sequence[float]) -> list[float]:
    """Round tick values covering every value, a little beyond the extremes."""
    low, high = min(values), max(values)
    span = high - low
    # Equal values would give a zero-height range (and a division by zero); pad it instead.
    pad = max(1.0, abs(high) * 0.1) if span == 0 else span * 0.05
    bottom, top = low - pad, high + pad
    if low >= 0:
        bottom = max(bottom, 0.0)  # instrument scores are rarely negative; don't invent a -5
    raw_step = (top - bottom) / 5
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step * (1 - 1e-9))
    # Labels show one decimal, so a finer step would print the same label twice.
    step = max(step, 0.1)
    first, last = math.floor(bottom / step + 1e-9), math.ceil(top / step - 1e-9)
    return [k * step for k in range(first, last + 1)]


def _day_ticks(first: date, last: date, room: float) -> list[tuple[date, str]]:
    """A few readable date ticks: month starts ("Mar 2026") for long spans, else days."""
    most = max(2, min(6, int(room // 100) + 1))
    total = (last - first).days
    if total >= 60:
        months: list[date] = []
        cursor = date(first.year, first.month, 1)
        while cursor <= last:
            if cursor >= first:
                months.append(cursor)
            cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        for every in (1, 2, 3, 6, 12, 24, 60, 120):
            picked = [d for d in months if (d.year * 12 + d.month - 1) % every == 0]
            if len(picked) <= most:
                break
        if len(picked) >= 2:
            return [(d, f"{_MONTHS[d.month - 1]} {d.year}") for d in picked]
    # A regular step (every day, 2 days, 3 days, a week…) reads better than equal fractions.
    step = next(n for n in (1, 2, 3, 7, 14, 21, 28, 35, 42, 49, 56) if total // n + 1 <= most)
    return [
        (d, d.isoformat())
        for d in (first + timedelta(days=k * step) for k in range(total // step + 1))
    ]


def _stack_labels(spans: Sequence[tuple[float, float]]) -> list[int]:
    """The row (0 = nearest the plot) for each label so that no two overlap horizontally."""
    row_ends: list[float] = []
    rows: list[int] = []
    for start, end in spans:
        for row, row_end in enumerate(row_ends):
            if start > row_end + 6:
                row_ends[row] = end
                rows.append(row)
                break
        else:
            row_ends.append(end)
            rows.append(len(row_ends) - 1)
    return rows


def _svg(
    base_id: str,
    title: str,
    desc: str,
    scores: Sequence[_Score],
    measure: _Measure,
    reviews: Sequence[tuple[str, date]],
    target_day: date | None,
    width: int,
    height: int,
) -> Markup:
    values = [s.value for s in scores]
    values += [v for v in (measure.baseline, measure.target) if v is not None]
    ticks = _value_ticks(values)

    # Reviews widen the date range: a review after the latest score still belongs on the chart.
    days = [s.day for s in scores] + [day for _, day in reviews]
    first_day, last_day = min(days), max(days)
    if first_day == last_day:
        first_day, last_day = first_day - timedelta(days=1), last_day + timedelta(days=1)
    show_target_day = target_day is not None and first_day <= target_day <= last_day

    lines = [
        (colour, f"{name} {_num(value)}", value, f"mc-{name}")
        for colour, name, value in (
            (_MUTED, "baseline", measure.baseline),
            (_TARGET, "threshold" if measure.keep else "target", measure.target),
        )
        if value is not None
    ]

    axis_title = f"{measure.instrument} ({measure.unit})" if measure.unit else measure.instrument
    axis_title = axis_title or "Score"
    left = 22 + max(_text_width(_num(t)) for t in ticks) + 8
    # Room for the baseline and target labels, and at least for half of a date tick label.
    right = width - max(36.0, 10 + max((_text_width(text) for _, text, _, _ in lines), default=0))
    # Plot a few pixels inside the axes so the first and last points don't sit on them.
    inset = 8.0

    markers: list[tuple[str, date, str, str]] = [
        ("mc-review", day, text, _MUTED) for text, day in reviews
    ]
    if show_target_day and target_day is not None:
        markers.append(("mc-target-date", target_day, "target date", _TARGET))
    markers.sort(key=lambda m: m[1])
    rough = _Frame(left + inset, right - inset, 0, 1, first_day, last_day, 0, 1)
    placed = [_marker_label(rough.x(day), text, width) for _, day, text, _ in markers]
    rows = _stack_labels([(start, end) for start, end, _, _ in placed])
    top = 12 + _ROW * (max(rows, default=-1) + 1)
    bottom = height - 28
    frame = _Frame(
        left + inset, right - inset, top, bottom, first_day, last_day, ticks[0], ticks[-1]
    )

    parts: list[str] = [
        _el("title", {"id": f"{base_id}-title"}, title),
        _el("desc", {"id": f"{base_id}-desc"}, desc),
    ]
    y_ticks = [
        _el(
            "g",
            {"class": "mc-ytick"},
            _line(left, frame.y(t), right, frame.y(t), _GRID),
            _label(left - 6, frame.y(t) + 4, _num(t), _MUTED, "end"),
        )
        for t in ticks
    ]
    parts.append(_el("g", {"class": "mc-yaxis"}, *y_ticks, sep="\n"))
    middle = (top + bottom) / 2
    # Rotated along the y axis, where it costs the least width.
    turn = {"class": "mc-axis-title", "transform": f"rotate(-90 14 {_num(middle)})"}
    parts.append(_label(14, middle, axis_title, _INK, "middle", turn))
    x_ticks = [
        _el(
            "g",
            {"class": "mc-xtick"},
            _line(frame.x(d), bottom, frame.x(d), bottom + 5, _MUTED),
            _label(frame.x(d), bottom + 18, text, _MUTED, "middle"),
        )
        for d, text in _day_ticks(first_day, last_day, frame.right - frame.left)
    ]
    parts.append(_el("g", {"class": "mc-xaxis"}, *x_ticks, sep="\n"))
    axes = f"M{_num(left)} {_num(top)}V{_num(bottom)}H{_num(right)}"
    parts.append(_el("path", {"d": axes, "fill": "none", "stroke": _MUTED, "stroke-width": 1}))

    for (cls, day, text, colour), (_, _, x, anchor), row in zip(markers, placed, rows, strict=True):
        dash = "4 3" if cls == "mc-review" else "2 3"
        line = _line(frame.x(day), top, frame.x(day), bottom, colour, dash=dash)
        label = _label(x, top - 4 - row * _ROW, text, colour, anchor)
        parts.append(_el("g", {"class": cls}, line, label))

    label_ys = _spread([frame.y(v) for _, _, v, _ in lines])
    for (colour, text, value, cls), label_y in zip(lines, label_ys, strict=True):
        dash = "6 4" if cls == "mc-baseline" else "10 3"
        line = _line(left, frame.y(value), right, frame.y(value), colour, 1.5, dash)
        parts.append(_el("g", {"class": cls}, line, _label(right + 6, label_y + 4, text, colour)))

    points = [(frame.x(s.day), frame.y(s.value)) for s in scores]
    if len(points) > 1:
        polyline = {
            "class": "mc-scores",
            "points": " ".join(f"{_num(x)},{_num(y)}" for x, y in points),
            "fill": "none",
            "stroke": _LINE,
            "stroke-width": 2.5,
            "stroke-linejoin": "round",
        }
        parts.append(_el("polyline", polyline))
    circles = [
        _el(
            "circle",
            {
                "class": "mc-point mc-breach" if measure.breaches(s.value) else "mc-point",
                "cx": x,
                "cy": y,
                "r": 4.5,
                "fill": _TARGET if measure.breaches(s.value) else "#ffffff",
                "stroke": _TARGET if measure.breaches(s.value) else _LINE,
                "stroke-width": 2.5,
            },
            _el(
                "title",
                {},
                f"{s.day}: {_with_unit(s.value, measure.unit)}"
                + (" (breaches the threshold)" if measure.breaches(s.value) else ""),
            ),
        )
        for s, (x, y) in zip(scores, points, strict=True)
    ]
    parts.append(_el("g", {"class": "mc-points"}, *circles, sep="\n"))

    return _el(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "role": "img",
            "aria-labelledby": f"{base_id}-title",
            "aria-describedby": f"{base_id}-desc",
            "width": width,
            "height": height,
            "viewBox": f"0 0 {width} {height}",
            "font-family": _FONT,
            "font-size": _FONT_SIZE,
        },
        *parts,
        sep="\n",
    )


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    stroke: str,
    stroke_width: float = 1,
    dash: str | None = None,
) -> Markup:
    attrs: dict[str, object] = {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": stroke}
    attrs["stroke-width"] = stroke_width
    if dash:
        attrs["stroke-dasharray"] = dash
    return _el("line", attrs)


def _label(
    x: float,
    y: float,
    text: str,
    fill: str,
    anchor: str = "start",
    extra: Mapping[str, object] | None = None,
) -> Markup:
    attrs: dict[str, object] = {**(extra or {}), "x": x, "y": y, "fill": fill}
    if anchor != "start":
        attrs["text-anchor"] = anchor
    return _el("text", attrs, text)


def _marker_label(x: float, text: str, width: int) -> tuple[float, float, float, str]:
    """Horizontal extent, anchor x and anchor of a marker's label: to the right of its line,
    or to the left when it would run off the chart."""
    w = _text_width(text)
    if x + 3 + w <= width - 2:
        return x + 3, x + 3 + w, x + 3, "start"
    return x - 3 - w, x - 3, x - 3, "end"


def _spread(ys: Sequence[float], gap: float = 14) -> list[float]:
    """The baseline and target labels' y, moved apart when their lines are close together."""
    if len(ys) != 2 or abs(ys[0] - ys[1]) >= gap:
        return list(ys)
    middle = (ys[0] + ys[1]) / 2
    upper, lower = middle - gap / 2, middle + gap / 2
    return [upper, lower] if ys[0] <= ys[1] else [lower, upper]

"""The review page's score chart: what a reader sees and what a screen reader hears."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pytest
from markupsafe import Markup

from plantrail.api.rendering.charts import measure_chart

SVG = "{http://www.w3.org/2000/svg}"
OID = "568560d7-0000-4000-8000-000000000001"
OTHER = "9d1c0e2a-0000-4000-8000-000000000002"
REVIEWS = (("Review 1", "2026-05-17"), ("Review 2", "2026-08-15"), ("Review 3", "2026-11-13"))
DEMO = (("2026-02-16", 52.0), ("2026-03-30", 44.0), ("2026-06-26", 41.0), ("2026-09-24", 34.0))


def objective(**measure: Any) -> dict[str, Any]:
    base = {"instrument": "PCL-5", "baseline": 52.0, "target": 32.0, "direction": "decrease"}
    return {
        "id": OID,
        "label": "Objective 1.1",
        "statement": "Lower PCL-5 from 52 to under 33.",
        "measure": {**base, "unit": None, **measure},
        "target_date": "2026-10-14",
        "status": "partially_met",
    }


def measurement(
    day: str,
    score: float,
    *,
    objective_id: str | None = OID,
    instrument: str = "PCL-5",
    voided: bool = False,
    n: int = 1,
) -> dict[str, Any]:
    return {
        "id": f"m-{day}-{n}",
        "label": f"Measurement {n}",
        "instrument": instrument,
        "score": score,
        "administered_on": day,
        "objective_id": objective_id,
        "recorded_at": f"{day}T09:48:{n:02d}Z",
        "voided": voided,
    }


def demo(rows: Sequence[tuple[str, float]] = DEMO) -> list[dict[str, Any]]:
    return [measurement(day, score, n=i) for i, (day, score) in enumerate(rows, 1)]


def parse(chart: Markup) -> ET.Element:
    assert isinstance(chart, Markup)
    return ET.fromstring(str(chart))


def svg_of(figure: ET.Element) -> ET.Element:
    svg = figure.find(f"{SVG}svg")
    assert svg is not None
    return svg


def groups(svg: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if g.get("class") == cls]


def only(svg: ET.Element, cls: str) -> ET.Element:
    found = groups(svg, cls)
    assert len(found) == 1, cls
    return found[0]


def line_of(group: ET.Element) -> ET.Element:
    line = group.find(f"{SVG}line")
    assert line is not None
    return line


def text_of(group: ET.Element) -> str:
    text = group.find(f"{SVG}text")
    assert text is not None
    return text.text or ""


def label_y(group: ET.Element) -> float:
    text = group.find(f"{SVG}text")
    assert text is not None
    return float(text.get("y", "nan"))


def caption_of(figure: ET.Element) -> str:
    caption = figure.find("figcaption")
    assert caption is not None
    return "".join(caption.itertext())


def points(svg: ET.Element) -> list[tuple[float, float, str]]:
    out = []
    for c in svg.iter(f"{SVG}circle"):
        title = c.find(f"{SVG}title")
        assert title is not None
        out.append((float(c.get("cx", "nan")), float(c.get("cy", "nan")), title.text or ""))
    return out


def y_scale(svg: ET.Element) -> tuple[float, float, float, float]:
    """(slope, intercept) of value -> y read off the y-axis ticks, plus the axis' top and
    bottom y, so the tests check positions against what the reader sees on the axis."""
    ticks = [
        (float(text_of(g)), float(line_of(g).get("y1", "nan"))) for g in groups(svg, "mc-ytick")
    ]
    assert len(ticks) >= 2
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    slope = (y1 - y0) / (v1 - v0)
    ys = [y for _, y in ticks]
    return slope, y0 - slope * v0, min(ys), max(ys)


def at(scale: tuple[float, float, float, float], value: float) -> float:
    return scale[0] * value + scale[1]


def x_of_day(svg: ET.Element, day: str) -> float:
    """Where ``day`` falls, interpolated from the first and last plotted points' dates."""
    pts = points(svg)
    (xa, _, ta), (xb, _, tb) = pts[0], pts[-1]
    da, db = date.fromisoformat(ta[:10]), date.fromisoformat(tb[:10])
    per_day = (xb - xa) / (db - da).days
    return xa + (date.fromisoformat(day) - da).days * per_day


# --- what is plotted ----------------------------------------------------------------------


def test_points_are_in_date_order_and_higher_scores_sit_higher() -> None:
    shuffled = [demo()[i] for i in (2, 0, 3, 1)]
    svg = svg_of(parse(measure_chart(objective(), shuffled, REVIEWS)))
    pts = points(svg)
    assert [t for _, _, t in pts] == [
        "2026-02-16: 52",
        "2026-03-30: 44",
        "2026-06-26: 41",
        "2026-09-24: 34",
    ]
    xs = [x for x, _, _ in pts]
    assert xs == sorted(xs)
    assert len(set(xs)) == 4
    scale = y_scale(svg)
    assert scale[0] < 0  # the SVG y axis points down: a higher score has a smaller y
    for (_, y, _), (_, score) in zip(pts, DEMO, strict=True):
        assert y == pytest.approx(at(scale, score), abs=0.15)
    # Time is to scale: 42 days then 88 days apart.
    assert (xs[1] - xs[0]) / (xs[2] - xs[1]) == pytest.approx(42 / 88, rel=0.01)
    polyline = svg.find(f"{SVG}polyline")
    assert polyline is not None
    drawn = [tuple(map(float, p.split(","))) for p in polyline.get("points", "").split()]
    assert drawn == [(x, y) for x, y, _ in pts]


def test_baseline_and_target_lines_sit_at_their_scores_and_are_labelled() -> None:
    svg = svg_of(parse(measure_chart(objective(), demo(), REVIEWS)))
    scale = y_scale(svg)
    for cls, value, label in (("mc-baseline", 52, "baseline 52"), ("mc-target", 32, "target 32")):
        group = only(svg, cls)
        line = line_of(group)
        assert line.get("y1") == line.get("y2")
        assert float(line.get("y1", "nan")) == pytest.approx(at(scale, value), abs=0.15)
        assert line.get("stroke-dasharray")
        assert text_of(group) == label
    # The first score equals the baseline, so it sits on the baseline.
    assert points(svg)[0][1] == float(line_of(only(svg, "mc-baseline")).get("y1", "nan"))


def test_voided_scores_and_other_objectives_scores_are_left_out() -> None:
    rows = [
        *demo(),
        measurement("2026-04-10", 70.0, voided=True, n=5),
        measurement("2026-04-11", 10.0, objective_id=OTHER, n=6),
        # Unlinked: counted only when it records this objective's instrument.
        measurement("2026-04-12", 47.0, objective_id=None, n=7),
        measurement("2026-04-13", 12.0, objective_id=None, instrument="PHQ-9", n=8),
    ]
    figure = parse(measure_chart(objective(), rows))
    titles = [t for _, _, t in points(svg_of(figure))]
    assert titles == [
        "2026-02-16: 52",
        "2026-03-30: 44",
        "2026-04-12: 47",
        "2026-06-26: 41",
        "2026-09-24: 34",
    ]
    cells = [[td.text for td in tr.iter("td")] for tr in figure.iter("tr")][1:]
    assert cells == [[t[:10], t[12:]] for t in titles]


def test_review_dates_are_labelled_vertical_lines_at_their_dates() -> None:
    svg = svg_of(parse(measure_chart(objective(), demo(), REVIEWS)))
    reviews = groups(svg, "mc-review")
    assert [text_of(g) for g in reviews] == ["Review 1", "Review 2", "Review 3"]
    _, _, top, bottom = y_scale(svg)
    for group, (_, day) in zip(reviews, REVIEWS, strict=True):
        line = line_of(group)
        assert line.get("x1") == line.get("x2")
        assert line.get("stroke-dasharray")
        assert float(line.get("x1", "nan")) == pytest.approx(x_of_day(svg, day), abs=0.2)
        assert (float(line.get("y1", "nan")), float(line.get("y2", "nan"))) == (top, bottom)
    # The target date falls inside the charted span, so it is marked too.
    marker = only(svg, "mc-target-date")
    assert text_of(marker) == "target date"
    assert float(line_of(marker).get("x1", "nan")) == pytest.approx(
        x_of_day(svg, "2026-10-14"), abs=0.2
    )


def test_a_target_date_outside_the_charted_span_is_not_marked() -> None:
    svg = svg_of(parse(measure_chart(objective(), demo())))  # no reviews: span ends 2026-09-24
    assert groups(svg, "mc-target-date") == []
    assert groups(svg, "mc-review") == []


def test_labels_of_close_markers_and_close_lines_do_not_overlap() -> None:
    close = (("Review 1", "2026-05-17"), ("Review 2", "2026-05-20"))
    svg = svg_of(parse(measure_chart(objective(baseline=40.0, target=39.0), demo(), close)))
    ys = [label_y(g) for g in groups(svg, "mc-review")]
    assert abs(ys[0] - ys[1]) >= 12
    label_ys = [label_y(only(svg, cls)) for cls in ("mc-baseline", "mc-target")]
    assert label_ys[1] - label_ys[0] >= 12  # baseline (higher score) label stays above


def test_every_label_stays_inside_the_chart() -> None:
    svg = svg_of(parse(measure_chart(objective(), demo(), REVIEWS)))
    width = float(svg.get("width", "nan"))
    assert svg.get("viewBox") == f"0 0 {svg.get('width')} {svg.get('height')}"
    for text in svg.iter(f"{SVG}text"):
        x, y = float(text.get("x", "nan")), float(text.get("y", "nan"))
        assert 0 <= x <= width
        assert 0 < y <= float(svg.get("height", "nan"))


# --- what a screen reader hears ------------------------------------------------------------


def test_title_and_description_sum_up_the_scores() -> None:
    figure = parse(measure_chart(objective(), demo(), REVIEWS))
    svg = svg_of(figure)
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert title.text == "PCL-5 scores for Objective 1.1"
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == title.get("id")
    assert svg.get("aria-describedby") == desc.get("id")
    assert desc.text == (
        "4 PCL-5 scores recorded from 2026-02-16 to 2026-09-24. First score 52 on 2026-02-16;"
        " latest score 34 on 2026-09-24. Baseline 52; latest score is 18 below the baseline."
        " Target 32 or lower by 2026-10-14: target not yet reached."
    )
    table = figure.find("table")
    assert table is not None
    assert table.get("class") == "visually-hidden"
    assert [child.tag for child in figure] == [f"{SVG}svg", "table", "figcaption"]
    assert caption_of(figure) == "Objective 1.1 — Lower PCL-5 from 52 to under 33."


@pytest.mark.parametrize(
    ("direction", "latest", "verdict"),
    [
        ("decrease", 32.0, "target reached"),  # at the target counts
        ("decrease", 30.0, "target reached"),
        ("decrease", 32.5, "target not yet reached"),
        ("increase", 32.0, "target reached"),
        ("increase", 31.9, "target not yet reached"),
    ],
)
def test_description_says_whether_the_target_is_reached(
    direction: str, latest: float, verdict: str
) -> None:
    rows = demo((("2026-02-16", 52.0), ("2026-09-24", latest)))
    desc = svg_of(parse(measure_chart(objective(direction=direction), rows))).find(f"{SVG}desc")
    assert desc is not None
    assert desc.text is not None
    assert desc.text.endswith(f": {verdict}.")
    assert ("or lower" if direction == "decrease" else "or higher") in desc.text


def test_units_are_read_out_with_scores() -> None:
    svg = svg_of(parse(measure_chart(objective(unit="points"), demo())))
    desc = svg.find(f"{SVG}desc")
    assert desc is not None
    assert "latest score 34 points on 2026-09-24" in (desc.text or "")
    assert points(svg)[0][2] == "2026-02-16: 52 points"


# --- safety and determinism ----------------------------------------------------------------


def test_text_from_the_plan_is_escaped_and_the_figure_is_well_formed_xml() -> None:
    evil = '<script>alert("x")</script> & "quoted"'
    obj = objective(instrument=evil, unit=evil)
    obj.update(label=f"Objective {evil}", statement=evil, id=f'{OID}"><script>')
    rows = [measurement("2026-02-16", 52.0, objective_id=obj["id"], instrument=evil)]
    rows.append(measurement("2026-03-01", 50.0, objective_id=obj["id"], n=2))
    chart = measure_chart(obj, rows, [(evil, "2026-02-20")])
    assert "<script" not in chart
    assert "style=" not in chart
    figure = parse(chart)  # raises on anything ill-formed
    svg = svg_of(figure)
    title = svg.find(f"{SVG}title")
    assert title is not None
    assert title.text == f"{evil} scores for Objective {evil}"
    assert text_of(only(svg, "mc-review")) == evil
    assert caption_of(figure).endswith(evil)
    assert re.fullmatch(r"mc-[A-Za-z0-9_-]+", figure.get("id", ""))


def test_the_empty_notice_is_escaped_too() -> None:
    obj = {**objective(), "label": "<script>x</script>"}
    chart = measure_chart(obj, [])
    assert "<script" not in chart
    paragraph = parse(chart).find("p")
    assert paragraph is not None
    assert paragraph.text == "No score recorded for <script>x</script> yet."


def test_characters_xml_forbids_are_dropped() -> None:
    obj = {**objective(), "statement": "before\x00\x0b\x1fafter\ufffe"}
    figure = parse(measure_chart(obj, demo()))
    assert caption_of(figure).endswith("beforeafter")


def test_output_is_deterministic_with_at_most_one_decimal_and_no_inline_style() -> None:
    rows = demo((("2026-02-16", 52.123), ("2026-03-30", 44.0 / 3), ("2026-06-26", 41.05)))
    first = measure_chart(objective(baseline=51.77, target=12.34), rows, REVIEWS)
    assert first == measure_chart(objective(baseline=51.77, target=12.34), rows, REVIEWS)
    assert "style=" not in first
    assert "<script" not in first
    assert not re.search(r"\d\.\d\d", first)
    assert "-0," not in first
    assert '"-0"' not in first


def test_each_objective_gets_its_own_element_ids() -> None:
    other = {**objective(), "id": OTHER, "label": "Objective 1.2"}
    linked = [{**m, "objective_id": OTHER} for m in demo()]
    page = f"<div>{measure_chart(objective(), demo())}{measure_chart(other, linked)}</div>"
    ids = [e.get("id", "") for e in ET.fromstring(page).iter() if e.get("id")]
    assert len(ids) == len(set(ids)) == 6  # figure, title and desc of each chart
    assert all(OID in i for i in ids[:3])
    assert all(OTHER in i for i in ids[3:])


# --- edge cases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [measurement("2026-02-16", 52.0, voided=True)],
        [measurement("2026-02-16", 5.0, objective_id=OTHER)],
    ],
)
def test_no_score_gives_a_short_notice_instead_of_a_chart(rows: list[Mapping[str, Any]]) -> None:
    figure = parse(measure_chart(objective(), rows, REVIEWS))
    assert figure.tag == "figure"
    assert figure.get("class") == "measure-chart"
    assert figure.find(f"{SVG}svg") is None
    assert figure.find("table") is None
    paragraph = figure.find("p")
    assert paragraph is not None
    assert paragraph.text == "No score recorded for Objective 1.1 yet."


def test_one_score_is_a_single_point_without_a_line() -> None:
    svg = svg_of(parse(measure_chart(objective(), demo(DEMO[:1]))))
    assert [t for _, _, t in points(svg)] == ["2026-02-16: 52"]
    assert svg.find(f"{SVG}polyline") is None
    desc = svg.find(f"{SVG}desc")
    assert desc is not None
    assert (desc.text or "").startswith("1 PCL-5 score recorded: 52 on 2026-02-16.")


def test_equal_scores_without_baseline_or_target_get_a_padded_range() -> None:
    rows = demo((("2026-02-16", 40.0), ("2026-03-30", 40.0), ("2026-06-26", 40.0)))
    svg = svg_of(parse(measure_chart(objective(baseline=None, target=None), rows)))
    assert groups(svg, "mc-baseline") == []
    assert groups(svg, "mc-target") == []
    scale = y_scale(svg)
    _, _, top, bottom = scale
    ys = {y for _, y, _ in points(svg)}
    assert len(ys) == 1
    (y,) = ys
    assert top < y < bottom
    assert y == pytest.approx(at(scale, 40), abs=0.15)
    desc = svg.find(f"{SVG}desc")
    assert desc is not None
    assert "Baseline" not in (desc.text or "")
    assert "Target" not in (desc.text or "")


def test_only_a_target_draws_only_the_target_line() -> None:
    svg = svg_of(parse(measure_chart(objective(baseline=None), demo())))
    assert groups(svg, "mc-baseline") == []
    assert text_of(only(svg, "mc-target")) == "target 32"


def test_the_value_axis_covers_scores_baseline_and_target() -> None:
    rows = demo((("2026-02-16", 60.0), ("2026-03-30", 20.0), ("2026-04-30", 70.5)))
    svg = svg_of(parse(measure_chart(objective(baseline=52.0, target=32.0), rows)))
    values = [float(text_of(g)) for g in groups(svg, "mc-ytick")]
    assert min(values) <= 20
    assert max(values) >= 70.5
    _, _, top, bottom = y_scale(svg)
    for _, y, _ in points(svg):
        assert top <= y <= bottom
    values = [float(text_of(g)) for g in groups(svg, "mc-ytick")]
    svg = svg_of(parse(measure_chart(objective(baseline=90.0, target=5.0), rows)))
    values = [float(text_of(g)) for g in groups(svg, "mc-ytick")]
    assert min(values) <= 5
    assert max(values) >= 90


def test_scores_all_on_one_day_still_get_a_date_axis() -> None:
    rows = [measurement("2026-03-30", s, n=i) for i, s in enumerate((44.0, 41.0, 47.0), 1)]
    svg = svg_of(parse(measure_chart(objective(), rows)))
    pts = points(svg)
    # Same-day scores keep the order they were recorded in.
    assert [t for _, _, t in pts] == ["2026-03-30: 44", "2026-03-30: 41", "2026-03-30: 47"]
    xs = {x for x, _, _ in pts}
    assert len(xs) == 1
    tick_xs = [float(line_of(g).get("x1", "nan")) for g in groups(svg, "mc-xtick")]
    assert min(tick_xs) < next(iter(xs)) < max(tick_xs)
    assert "2026-03-30" in [text_of(g) for g in groups(svg, "mc-xtick")]


def test_date_ticks_are_few_and_readable() -> None:
    svg = svg_of(parse(measure_chart(objective(), demo(), REVIEWS)))
    labels = [text_of(g) for g in groups(svg, "mc-xtick")]
    assert 2 <= len(labels) <= 6
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", label) for label in labels)
    short = svg_of(parse(measure_chart(objective(), demo(DEMO[:2]))))  # 42 days
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", text_of(g)) for g in groups(short, "mc-xtick"))


def test_without_a_measure_the_chart_uses_linked_scores_and_the_label() -> None:
    obj = {**objective(), "measure": None}
    rows = [*demo(), measurement("2026-04-01", 12.0, objective_id=None, n=9)]
    svg = svg_of(parse(measure_chart(obj, rows, REVIEWS)))
    title = svg.find(f"{SVG}title")
    assert title is not None
    assert title.text == "Scores for Objective 1.1"
    assert len(points(svg)) == 4
    assert groups(svg, "mc-baseline") == []
    assert groups(svg, "mc-target") == []
    desc = svg.find(f"{SVG}desc")
    assert desc is not None
    assert (desc.text or "").startswith("4 scores recorded from 2026-02-16")


def test_unreadable_review_dates_are_skipped() -> None:
    svg = svg_of(parse(measure_chart(objective(), demo(), [("Review 1", "soon"), *REVIEWS[:1]])))
    assert [text_of(g) for g in groups(svg, "mc-review")] == ["Review 1"]

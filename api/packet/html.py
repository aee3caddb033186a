"""The packet as a page (``GET /plans/{id}/packet?format=html``): the same parts as the PDF,
laid out with the web pages' stylesheet, word-level diff and score charts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plantrail.api.rendering.charts import measure_chart
from plantrail.api.rendering.templating import ENVIRONMENT
from plantrail.api.rendering.word_diff import word_diff
from plantrail.projections.diff import fmt
from plantrail.projections.packet import PARTS, Packet

__all__ = ["render_html"]


def _sides(change: Mapping[str, Any]) -> dict[str, Any]:
    was, now = change["before"], change["after"]
    if change["kind"] == "changed" and isinstance(was, str) and isinstance(now, str):
        left, right = word_diff(was, now)
        return {"pieces": (left, right)}
    if change["kind"] == "added":
        return {"shown": ("", change["summary"])}
    if change["kind"] == "removed":
        return {"shown": (change["summary"], "")}
    return {"shown": (fmt(was) if was is not None else "", fmt(now) if now is not None else "")}


def _chart(chart: Mapping[str, Any]) -> str:
    objective = {k: chart[k] for k in ("label", "statement", "measure", "target_date")}
    objective["id"] = chart["objective_id"]
    scores = [{**s, "objective_id": chart["objective_id"]} for s in chart["scores"]]
    marks = [(r["label"], r["date"]) for r in chart["reviews"]]
    return str(measure_chart(objective, scores, marks))


def render_html(packet: Packet, *, checkpoint: Mapping[str, Any] | None = None) -> str:
    p = packet.parts
    revisions = [
        {**entry, "changes": [{**c, **_sides(c)} for c in entry["changes"]]}
        for entry in p["revisions"]
    ]
    return ENVIRONMENT.get_template("packet.html").render(
        packet=packet,
        parts=p,
        titles=PARTS,
        numbers={name: i for i, name in enumerate(PARTS)},
        revisions=revisions,
        charts=[_chart(c) for c in p["reviews"]["charts"]],
        checkpoint=checkpoint,
    )

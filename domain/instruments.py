"""The instrument catalogue: the standard measures plantrail knows by name, with each one's score
range, which way is better, and its published clinical cut-offs (docs/glossary.md, "Instrument").

The range is a rule (a score or target outside it is refused); the direction is the default an
objective's measure takes; the cut-offs are what the authoring pages show beside a baseline or
target, so that "PHQ-9 from 18 to 9" reads "moderately severe to mild". A measure of another
instrument is a *custom* measure, which states its own range and unit (``Measure.scale_min``,
``scale_max``, ``unit``).
"""

from __future__ import annotations

from dataclasses import dataclass

from plantrail.domain.values import Direction


@dataclass(frozen=True)
class Cutoff:
    """From ``score`` up (to the next cut-off), the instrument's band is ``band``."""

    score: int
    band: str


@dataclass(frozen=True)
class Instrument:
    name: str
    """The canonical name stored in events: ``PHQ-9``."""
    title: str
    low: int
    high: int
    direction: Direction
    """Which way is better for the usual objective; ``decrease``: lower scores are better."""
    cutoffs: tuple[Cutoff, ...]
    """Ascending; below the first cut-off the band is the instrument's ``floor``."""
    floor: str
    population: str
    """Who the instrument is validated for."""

    def band(self, score: float) -> str:
        """The clinical band a score falls in."""
        found = self.floor
        for cutoff in self.cutoffs:
            if score >= cutoff.score:
                found = cutoff.band
        return found


def _bands(floor: str, *pairs: tuple[int, str]) -> tuple[str, tuple[Cutoff, ...]]:
    return floor, tuple(Cutoff(score, band) for score, band in pairs)


def _instrument(
    name: str,
    title: str,
    low: int,
    high: int,
    population: str,
    bands: tuple[str, tuple[Cutoff, ...]],
) -> Instrument:
    floor, cutoffs = bands
    return Instrument(name, title, low, high, "decrease", cutoffs, floor, population)


_SEVERITY = _bands(
    "minimal", (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")
)

CATALOGUE: dict[str, Instrument] = {
    i.name: i
    for i in (
        # Kroenke, Spitzer & Williams 2001.
        _instrument("PHQ-9", "Patient Health Questionnaire-9 (depression)", 0, 27, "adults",
                    _SEVERITY),
        # Johnson et al. 2002: the PHQ-9 modified for adolescents, same scoring.
        _instrument("PHQ-A", "PHQ-9 modified for adolescents (depression)", 0, 27,
                    "adolescents 11–17", _SEVERITY),
        # Spitzer et al. 2006.
        _instrument("GAD-7", "Generalized Anxiety Disorder-7", 0, 21, "adults and adolescents",
                    _bands("minimal", (5, "mild"), (10, "moderate"), (15, "severe"))),
        # National Center for PTSD: 31–33 suggests probable PTSD.
        _instrument("PCL-5", "PTSD Checklist for DSM-5", 0, 80, "adults",
                    _bands("below the PTSD cut-off", (31, "probable PTSD"))),
        # WHO AUDIT manual (Babor et al. 2001), zones II–IV.
        _instrument("AUDIT", "Alcohol Use Disorders Identification Test", 0, 40, "adults",
                    _bands("low risk", (8, "hazardous use"), (16, "harmful use"),
                           (20, "possible dependence"))),
        # Skinner 1982.
        _instrument("DAST-10", "Drug Abuse Screening Test-10", 0, 10, "adults",
                    _bands("no problems reported", (1, "low"), (3, "moderate"), (6, "substantial"),
                           (9, "severe"))),
        # Columbia Suicide Severity Rating Scale, screen version: items answered yes (0–6); a yes
        # to item 3 or above calls for a same-day safety assessment.
        _instrument("C-SSRS", "Columbia Suicide Severity Rating Scale (screen: items answered "
                    "yes)", 0, 6, "all ages", _bands("no ideation reported", (1, "ideation: "
                    "assess risk"), (3, "ideation with method or intent: same-day safety "
                    "assessment"))),
    )
}  # fmt: skip
"""The instruments plantrail knows by name, by canonical name."""

INSTRUMENT_RANGES: dict[str, tuple[int, int]] = {
    i.name: (i.low, i.high) for i in CATALOGUE.values()
}
"""Score ranges of the standard instruments plantrail knows by name."""


def canonical_instrument(name: str) -> str:
    """Map 'phq9', 'PHQ 9', 'Phq-9' to the canonical 'PHQ-9'; unknown names pass unchanged."""
    squashed = "".join(ch for ch in name.upper() if ch.isalnum())
    for known in CATALOGUE:
        if squashed == "".join(ch for ch in known if ch.isalnum()):
            return known
    return name


def instrument_of(name: str) -> Instrument | None:
    """The catalogue's entry for ``name`` (in any spelling ``canonical_instrument`` knows)."""
    return CATALOGUE.get(canonical_instrument(name))

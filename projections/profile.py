"""The rule profile: the thresholds of the audit findings, configurable by a practice.

Defaults follow the domain contract (docs/domain.md) and the payers it cites: a review every 90
days (the plan's own interval unless the practice sets one), a late entry after 7 days, a plan
older than 365 days. A practice loads its own profile from JSON
(``RuleProfile.model_validate_json``); unknown keys are refused so a misspelt threshold never
silently falls back to the default.

The copy-forward detector is part of the profile: version 1 says ``copied_forward`` only when the
plan language is identical after normalisation; version 2 (the default) also says
``nearly_copied_forward`` when every change is a small textual edit that moves nothing clinically
meaningful, and reports how closely each progress summary repeats the previous one. A packet or
period finding records the profile it was computed with, so an answer given under version 1 is
computed again under version 1 (``RuleProfile.recorded``). The thresholds' justification and the
labelled corpus they were calibrated on: docs/projections.md, "Nearly copied forward".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RuleProfile", "Severity"]

Severity = Literal["error", "warning", "info"]


class RuleProfile(BaseModel):
    """Thresholds and switches of ``plantrail.projections.findings``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    review_interval_days: Annotated[int, Field(ge=7, le=365)] | None = None
    """Longest time between reviews; None uses each plan's own review interval."""
    review_grace_days: Annotated[int, Field(ge=0, le=90)] = 0
    """Days a review may run past its due date before it is reported overdue."""
    late_entry_days: Annotated[int, Field(ge=0, le=365)] = 7
    """An entry effective more than this many days before it was recorded is a late entry."""
    plan_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 365
    """An active plan whose effective date is older than this needs a new plan."""
    copy_forward_streak_threshold: Annotated[int, Field(ge=1, le=100)] = 1
    """Report copy-forward once this many consecutive latest reviews were copied forward."""
    stalled_reviews: Annotated[int, Field(ge=2, le=20)] = 2
    """An objective ``not_met`` at this many consecutive reviews without a revision is stalled."""
    measurement_grace_days: Annotated[int, Field(ge=0, le=365)] = 30
    """Days after the last review (or the first signature) before a missing score is reported,
    so that a plan reviewed yesterday is not flagged for not having been measured since."""
    copy_forward_detector: Literal[1, 2] = 2
    """1: identical plan language only; 2: also near copies (small edits of statements)."""
    near_copy_max_words: Annotated[int, Field(ge=0, le=20)] = 3
    """Detector 2: a statement edit of at most this many words (and at least
    ``near_copy_min_similarity`` alike) is a small edit."""
    near_copy_min_similarity: Annotated[float, Field(ge=0, le=1)] = 0.5
    """Detector 2: the word similarity a small edit of a few words must still reach, so that a
    short statement with its subject swapped ("reduce panic attacks" → "reduce alcohol use") is
    an update."""
    near_copy_similarity: Annotated[float, Field(ge=0, le=1)] = 0.9
    """Detector 2: a statement edit whose word similarity reaches this is a small edit however
    many words moved (a long statement with a clause retouched)."""
    summary_nearly_repeated: Annotated[float, Field(ge=0, le=1)] = 0.8
    """Detector 2: a progress summary at least this similar to the previous one (sentence word
    and word-pair Dice) is reported as nearly repeated."""
    unsigned_change_grace_days: Annotated[int, Field(ge=0, le=90)] = 0
    """Days a change to the plan may be in effect before the clinician's signature must cover
    it (``UNSIGNED_CHANGES``). 0, the default, is the strict reading: a change nobody has
    attested is unattested from the day it takes effect (docs/audits.md, Signature coverage)."""
    disabled: frozenset[str] = frozenset()
    """Finding codes this practice does not want reported."""
    severities: dict[str, Severity] = {}
    """Per-code severity overrides (for example ``{"LATE_ENTRY": "warning"}``)."""

    @classmethod
    def recorded(cls, data: Mapping[str, Any] | None) -> RuleProfile:
        """The profile as written into a packet or an answer: one recorded before the detector
        was a setting was computed by detector 1, and is computed again by it."""
        values = dict(data or {})
        values.setdefault("copy_forward_detector", 1)
        return cls.model_validate(values)

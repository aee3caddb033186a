"""Diagnoses, picked by searching the ICD-10-CM code set offline (``projections.icd10``): the
clinician types words or a code, the form lists the billable codes found (as they type, with
``code-search.js``; on "Search" without script), and the diagnosis is recorded with the code
set's own description, never a typed one."""

from __future__ import annotations

from typing import Any

from plantrail.api.web.authoring.fields import Field, Section, Values
from plantrail.api.web.authoring.specs import FormSpec, register
from plantrail.domain import commands as cmd
from plantrail.domain.errors import InvalidInput
from plantrail.projections import icd10

SEARCH_LIMIT = 20


def code_options(values: Values) -> list[tuple[str, str]]:
    """The codes the typed search finds, and the code already chosen (kept after an error)."""
    query = (values.get("code_search") or [""])[0].strip()
    chosen = (values.get("code") or [""])[0].strip()
    found = [(m.code, f"{m.code} {m.description}") for m in icd10.search(query, SEARCH_LIMIT)]
    if chosen and chosen not in {code for code, _ in found}:
        described = icd10.describe(chosen)
        if described is not None:
            found.insert(0, (chosen, f"{chosen} {described}"))
    if not found:
        prompt = "no billable code found: try other words" if query else "search first"
        return [("", f"— {prompt} —")]
    return found


def build_diagnosis(data: dict[str, Any], values: Values) -> dict[str, Any]:
    data.pop("code_search", None)
    code = str(data.get("code", "")).strip().upper()
    if not code:
        raise InvalidInput.on("code", "choose a code: search by words or code, then pick one")
    description = icd10.describe(code)
    if description is None:
        raise InvalidInput.on("code", f"{code} is not a billable ICD-10-CM code")
    return {**data, "code": code, "description": description}


register(
    FormSpec(
        key="add-diagnosis",
        title="Add a diagnosis",
        command=cmd.AddDiagnosis,
        anchor="h-dx",
        build=build_diagnosis,
        extra={"code_search": True},
        sections=lambda state, _: (
            Section("ICD-10-CM code", (
                Field("code_search", "Search codes and descriptions", "text",
                      "Words such as “generalized anxiety”, or a code such as F41.1. "
                      "Billable codes only.",
                      attrs={"data-code-search": "", "autocomplete": "off",
                             "spellcheck": "false"}),
                Field("code", "Code", "select", required=True,
                      attrs={"data-code-results": ""}),
                Field("primary", "The primary diagnosis", "checkbox"),
            )),
        ),
    )
)  # fmt: skip

register(
    FormSpec(
        key="remove-diagnosis",
        title="Remove a diagnosis",
        command=cmd.RemoveDiagnosis,
        anchor="h-dx",
        item="code",
        revision=True,
        submit="Remove the diagnosis",
        intro="The diagnosis stays in the plan's history; from the effective date on it is no "
        "longer on the plan.",
        sections=lambda state, _: (Section(None, ()),),
    )
)

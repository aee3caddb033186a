"""Code sets a plan is written with, searched as the user types: ICD-10-CM diagnoses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from plantrail.api.routing.access import READ_PLANS
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import problem_responses
from plantrail.api.routing.schemas import CodeSearch, SearchLimit, SearchText
from plantrail.projections.access.policy import Principal

router = APIRouter(prefix="/vocabulary", tags=["vocabulary"])


@router.get(
    "/icd-10-cm",
    summary="Billable ICD-10-CM codes by code prefix or description words, best first",
    responses=problem_responses(401, 403, 422),
)
def search_icd10(
    request: Request,
    _: Annotated[Principal, Depends(READ_PLANS)],
    q: Annotated[
        SearchText,
        Query(
            description="A code or its start (F41, f41.1, F411), or words of the description "
            "(generalized anx); under two characters finds nothing",
            examples=["generalized anxiety"],
        ),
    ],
    limit: Annotated[SearchLimit, Query(description="At most this many codes")] = 20,
) -> CodeSearch:
    access_entry(request).action = "vocabulary:icd-10-cm"
    return CodeSearch.of(q, limit)  # a plain def: the first search loads the code set (seconds)

"""The pages' copy of ``GET /vocabulary/icd-10-cm``, for ``static/code-search.js``.

The JSON routes take a bearer token only; the pages sign in with a session cookie, which the
middleware reads under ``/web`` alone. So the script that fills the diagnosis picker asks this
route, which answers the same JSON to the same readers. Bad input is the pages' 422 page (the
script shows no codes then); without JavaScript the diagnosis form works on its own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from plantrail.api.routing.access import READ_PLANS
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.schemas import CodeSearch, SearchLimit, SearchText
from plantrail.projections.access.policy import Principal

router = APIRouter(include_in_schema=False)


@router.get("/vocabulary/icd-10-cm", name="web_icd10_search")
def search_icd10(
    request: Request,
    _: Annotated[Principal, Depends(READ_PLANS)],
    q: Annotated[SearchText, Query()],
    limit: Annotated[SearchLimit, Query()] = 20,
) -> CodeSearch:
    access_entry(request).action = "vocabulary:icd-10-cm"
    return CodeSearch.of(q, limit)

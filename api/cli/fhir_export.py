"""``plantrail export --fhir DIR``: the store as FHIR Bulk Data files.

One NDJSON file per resource type (``CarePlan.ndjson``, ``Goal.ndjson``, …), a resource a line,
as a FHIR Bulk Data ``$export`` writes them; ``manifest.json`` is the Bulk Data completion
manifest (https://hl7.org/fhir/uv/bulkdata/export.html): ``transactionTime``, ``request`` (the
URL of the equivalent system-level ``$export`` request on ``base_url``), ``requiresAccessToken``
and each file's absolute URL (``file://``) and count. A patient or practitioner who appears on
several plans is written once per file. With ``bundles``, ``Bundle.ndjson`` adds one
collection Bundle per plan (every resource of the plan again, references resolved inside it),
which Bulk Data does not define: it is for systems that load one plan at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import orjson

from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import fold
from plantrail.projections.fhir import collection, plan_resources
from plantrail.projections.store.files import open_output, private_folder


def write_fhir_export(
    events_of: Callable[[UUID], list[PlanEvent]],
    plan_ids: Iterable[UUID],
    out: Path,
    *,
    now: datetime,
    base_url: str,
    plan_id: UUID | None = None,
    bundles: bool = False,
    progress: Callable[[int], None] = lambda _: None,
    force: bool = False,
) -> dict[str, int]:
    """Write the files into ``out`` (created 0700 if missing; each file 0600, an existing one
    only with ``force``); returns the count per file. ``plan_id``: the one plan exported
    (``--plan``), named in the manifest's request."""
    private_folder(out)
    handles: dict[str, Any] = {}
    seen: set[tuple[str, str]] = set()
    counts: dict[str, int] = {}

    def write(kind: str, resource: dict[str, Any]) -> None:
        if kind not in handles:
            handles[kind] = open_output(out / f"{kind}.ndjson", force=force)
            counts[kind] = 0
        handles[kind].write(orjson.dumps(resource) + b"\n")
        counts[kind] += 1

    try:
        for each in plan_ids:
            events = events_of(each)
            state = fold(events)
            if state is None:
                continue
            for resource in plan_resources(state, events):
                key = (str(resource["resourceType"]), str(resource["id"]))
                if key in seen:
                    continue
                seen.add(key)
                write(key[0], resource)
            if bundles:
                write("Bundle", collection(state, events))
            progress(1)
    finally:
        for handle in handles.values():
            handle.close()
    request = f"{base_url.rstrip('/')}/$export"
    if plan_id is not None:
        request += "?_typeFilter=" + quote(f"CarePlan?_id={plan_id}", safe="")
    folder = out.resolve().as_uri()
    manifest = {
        "transactionTime": now.isoformat().replace("+00:00", "Z"),
        "request": request,
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": f"{folder}/{kind}.ndjson", "count": counts[kind]}
            for kind in sorted(counts)
        ],
        "error": [],
    }
    with open_output(out / "manifest.json", force=force) as handle:
        handle.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return counts

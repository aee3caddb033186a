"""What a FHIR client relies on, checked the same way by every FHIR test: each resource parses
with the R4B models (fhir.resources), each id is a FHIR id and each reference in a Bundle
resolves to one of its entries."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_RELATIVE = re.compile(r"(?P<type>[A-Z][A-Za-z]+)/(?P<id>[^/]+)(?:/_history/(?P<version>\d+))?")


def validate(resource: dict[str, Any]) -> None:
    """Parse ``resource`` with its R4B model (raises on any invalid or unknown element)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    assert FHIR_ID.fullmatch(resource["id"]), resource["id"]


def references(value: Any) -> Iterator[str]:
    """Every literal ``reference`` anywhere inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def unresolved(bundle: dict[str, Any]) -> list[str]:
    """References in ``bundle`` that name no entry of it (relative ones against the entry's
    base; version-specific ones must name a version the Bundle's resource has reached)."""
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    # Only the CarePlan's versionId is a number (the plan version) that version-specific
    # references name; the other types' versionIds are content digests.
    versions = {
        entry["fullUrl"]: int(version) if (version := _version_of(entry)).isdigit() else 0
        for entry in bundle["entry"]
    }
    missing = []
    for entry in bundle["entry"]:
        base = entry["fullUrl"].rsplit("/", 2)[0] if not entry["fullUrl"].startswith("urn:") else ""
        for ref in references(entry["resource"]):
            match = _RELATIVE.fullmatch(ref)
            target = f"{base}/{match['type']}/{match['id']}" if match and base else ref
            version = int(match["version"] or 0) if match else 0
            if target not in full_urls or version > versions[target]:
                missing.append(ref)
    return missing


def _version_of(entry: dict[str, Any]) -> str:
    return str(entry["resource"].get("meta", {}).get("versionId", "0"))


def counts(resources: list[dict[str, Any]]) -> Counter[str]:
    return Counter(resource["resourceType"] for resource in resources)

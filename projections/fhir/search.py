"""FHIR R4 search (https://hl7.org/fhir/R4/search.html) over the resources of a plan: which
parameters each type supports, how a query string is parsed, and how a resource matches.

``PARAMS`` is the one table: the CapabilityStatement is generated from it, the routes apply
exactly what it declares, and a parameter it does not declare is left out of the self link
(or refused, with ``Prefer: handling=strict``). Pure: no store, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from plantrail.domain.errors import InvalidInput
from plantrail.projections.fhir import codes
from plantrail.projections.fhir.codes import PLANTRAIL

__all__ = [
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "PARAMS",
    "SEARCHABLE_TYPES",
    "Param",
    "Query",
    "matches",
    "parse",
    "search_bundle",
]

Kind = Literal["token", "reference", "date", "special"]
Token = tuple[str | None, str]
Span = tuple[datetime, datetime]

DEFAULT_COUNT = 50
MAX_COUNT = 500
HL7 = "http://hl7.org/fhir/SearchParameter"
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Param:
    """One search parameter of one type: its name, FHIR type, definition and what it reads."""

    name: str
    kind: Kind
    definition: str
    documentation: str
    values: Callable[[dict[str, Any]], list[Any]] = field(default=lambda _: [], compare=False)
    target: str | None = None
    """For a reference parameter: the one type it refers to (``patient`` → Patient)."""


# --------------------------------------------------------------------------- extractors
def _tokens(*paths: str, system: str | None = None) -> Callable[[dict[str, Any]], list[Token]]:
    """Tokens at ``paths`` (dotted; a list is walked): a code (with ``system``), a Coding, a
    CodeableConcept or an Identifier."""

    def read(resource: dict[str, Any]) -> list[Token]:
        out: list[Token] = []
        for value in _walk(resource, paths):
            if isinstance(value, str):
                out.append((system, value))
            elif isinstance(value, dict):
                for coding in value.get("coding", [value]):
                    code = coding.get("code", coding.get("value"))
                    if isinstance(code, str):
                        out.append((coding.get("system"), code))
        return out

    return read


def _references(*paths: str) -> Callable[[dict[str, Any]], list[str]]:
    def read(resource: dict[str, Any]) -> list[str]:
        return [
            v["reference"]
            for v in _walk(resource, paths)
            if isinstance(v, dict) and isinstance(v.get("reference"), str)
        ]

    return read


def _dates(*paths: str) -> Callable[[dict[str, Any]], list[Span]]:
    def read(resource: dict[str, Any]) -> list[Span]:
        out: list[Span] = []
        for value in _walk(resource, paths):
            if isinstance(value, str):
                out.append(_span(value))
            elif isinstance(value, dict):  # a Period: open ends reach to the ends of time
                start = _span(value["start"])[0] if "start" in value else _EARLIEST
                end = _span(value["end"])[1] if "end" in value else _LATEST
                out.append((start, end))
        return out

    return read


def _walk(resource: dict[str, Any], paths: Iterable[str]) -> Iterable[Any]:
    for path in paths:
        level: list[Any] = [resource]
        for step in path.split("."):
            level = [
                item
                for node in level
                if isinstance(node, dict) and step in node
                for item in (node[step] if isinstance(node[step], list) else [node[step]])
            ]
        yield from level


def _id(resource: dict[str, Any]) -> list[Token]:
    return [(None, resource["id"])]


def _last_updated(resource: dict[str, Any]) -> list[Span]:
    stamp = resource.get("meta", {}).get("lastUpdated")
    return [_span(stamp)] if stamp else []


# ------------------------------------------------------------------------------- table
_COMMON = [
    Param("_id", "token", f"{HL7}/Resource-id", "The resource's id.", _id),
    Param(
        "_lastUpdated",
        "date",
        f"{HL7}/Resource-lastUpdated",
        "meta.lastUpdated: when the resource last changed (recorded time).",
        _last_updated,
    ),
]


def _patient(resource_type: str, path: str) -> list[Param]:
    """``patient`` and ``subject`` (with its ``:Patient`` type modifier) on ``path``."""
    return [
        Param(
            "patient",
            "reference",
            f"{HL7}/clinical-patient" if resource_type != "Task" else f"{HL7}/Task-patient",
            "The client: Patient/{id} or {id} (the MRN, made FHIR-id-safe).",
            _references(path),
            target="Patient",
        ),
        Param(
            "subject",
            "reference",
            f"{HL7}/{resource_type}-subject",
            "The client: Patient/{id}; subject:Patient={id}.",
            _references(path),
        ),
    ]


PARAMS: dict[str, list[Param]] = {
    "CarePlan": [
        *_COMMON,
        *_patient("CarePlan", "subject"),
        Param(
            "status",
            "token",
            f"{HL7}/CarePlan-status",
            "draft, active or completed (a discharged plan).",
            _tokens("status", system="http://hl7.org/fhir/request-status"),
        ),
        Param(
            "category",
            "token",
            f"{HL7}/CarePlan-category",
            f"{codes.US_CORE_CAREPLAN_CATEGORY}|assess-plan (US Core).",
            _tokens("category"),
        ),
        Param(
            "date",
            "date",
            f"{HL7}/clinical-date",
            "The plan's period (effective date to discharge or end date).",
            _dates("period"),
        ),
        Param(
            "_at",
            "special",
            f"{PLANTRAIL}/SearchParameter/CarePlan-at",
            "plantrail: each plan as the chart stood at this instant (recorded time); plans "
            "not yet opened then are absent.",
        ),
        Param(
            "effective-on",
            "special",
            f"{PLANTRAIL}/SearchParameter/CarePlan-effective-on",
            "plantrail: each plan as in clinical effect on this date (effective dates, late "
            "entries included), which FHIR's history cannot rebuild; plans not yet in effect "
            "are absent.",
        ),
    ],
    "Condition": [
        *_COMMON,
        *_patient("Condition", "subject"),
        Param(
            "clinical-status",
            "token",
            f"{HL7}/Condition-clinical-status",
            "active, inactive or resolved.",
            _tokens("clinicalStatus"),
        ),
        Param(
            "category",
            "token",
            f"{HL7}/Condition-category",
            "encounter-diagnosis (a diagnosis) or problem-list-item (a problem).",
            _tokens("category"),
        ),
        Param("code", "token", f"{HL7}/clinical-code", "The ICD-10-CM code.", _tokens("code")),
        Param(
            "onset-date",
            "date",
            f"{HL7}/Condition-onset-date",
            "The effective date of the entry.",
            _dates("onsetDateTime"),
        ),
    ],
    "Goal": [
        *_COMMON,
        *_patient("Goal", "subject"),
        Param(
            "lifecycle-status",
            "token",
            f"{HL7}/Goal-lifecycle-status",
            "active, completed or cancelled.",
            _tokens("lifecycleStatus", system="http://hl7.org/fhir/goal-status"),
        ),
        Param(
            "achievement-status",
            "token",
            f"{HL7}/Goal-achievement-status",
            "in-progress, improving, not-achieved or achieved.",
            _tokens("achievementStatus"),
        ),
        Param(
            "start-date",
            "date",
            f"{HL7}/Goal-start-date",
            "The effective date of the goal or objective.",
            _dates("startDate"),
        ),
        Param(
            "target-date",
            "date",
            f"{HL7}/Goal-target-date",
            "An objective's target date.",
            _dates("target.dueDate"),
        ),
    ],
    "Observation": [
        *_COMMON,
        *_patient("Observation", "subject"),
        Param(
            "status",
            "token",
            f"{HL7}/Observation-status",
            "final, or entered-in-error once voided.",
            _tokens("status", system="http://hl7.org/fhir/observation-status"),
        ),
        Param(
            "category",
            "token",
            f"{HL7}/Observation-category",
            "survey (every score).",
            _tokens("category"),
        ),
        Param(
            "code",
            "token",
            f"{HL7}/clinical-code",
            "The instrument's LOINC code, where it has one.",
            _tokens("code"),
        ),
        Param(
            "date",
            "date",
            f"{HL7}/clinical-date",
            "The day the instrument was administered.",
            _dates("effectiveDateTime"),
        ),
    ],
    "Task": [
        *_COMMON,
        *_patient("Task", "for"),
        Param(
            "status",
            "token",
            f"{HL7}/Task-status",
            "received, completed or rejected.",
            _tokens("status", system="http://hl7.org/fhir/task-status"),
        ),
        Param(
            "focus",
            "reference",
            f"{HL7}/Task-focus",
            "The CarePlan the amendment request concerns.",
            _references("focus"),
        ),
        Param(
            "authored-on",
            "date",
            f"{HL7}/Task-authored-on",
            "The day the written request was received.",
            _dates("authoredOn"),
        ),
    ],
    "Provenance": [
        *_COMMON,
        Param(
            "target",
            "reference",
            f"{HL7}/Provenance-target",
            "What it records: CarePlan/{id} (any version) or CarePlan/{id}/_history/{v}, a "
            "Goal, Condition or Observation.",
            _references("target"),
        ),
        Param(
            "recorded",
            "date",
            f"{HL7}/Provenance-recorded",
            "When it was recorded.",
            _dates("recorded"),
        ),
    ],
    "Patient": [
        *_COMMON,
        Param(
            "identifier",
            "token",
            f"{HL7}/Patient-identifier",
            f"{codes.CLIENT_ID_SYSTEM}|{{MRN}}.",
            _tokens("identifier"),
        ),
    ],
    "Practitioner": [
        *_COMMON,
        Param(
            "identifier",
            "token",
            f"{HL7}/Practitioner-identifier",
            f"{codes.USER_ID_SYSTEM}|{{user id}} or the license number.",
            _tokens("identifier"),
        ),
    ],
}
SEARCHABLE_TYPES = tuple(PARAMS)

_RESULT_PARAMS = ("_count", "_offset", "_summary", "_sort", "_format")
"""Parameters that shape the result rather than select resources (``_offset`` is this
server's page cursor in the paging links)."""
_SORTS = ("_lastUpdated", "-_lastUpdated")
_JSON_FORMATS = ("json", "application/json", "application/fhir+json")


# --------------------------------------------------------------------------------- query
@dataclass
class Criterion:
    param: Param
    modifier: str | None
    alternatives: list[Any]
    """The comma-separated values, any of which matches (FHIR's OR)."""


@dataclass
class Query:
    """A parsed search: criteria (all must match: FHIR's AND), the plantrail time points, the
    result parameters, and the (name, value) pairs applied, in the order given."""

    resource_type: str
    criteria: list[Criterion] = field(default_factory=list)
    at: datetime | None = None
    effective_on: date | None = None
    count: int = DEFAULT_COUNT
    offset: int = 0
    summary_count: bool = False
    descending: bool | None = None
    applied: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def link(self, base_url: str, **overrides: int) -> str:
        pairs = [(k, v) for k, v in self.applied if k not in overrides]
        pairs += [(k, str(v)) for k, v in overrides.items()]
        query = urlencode(pairs)
        return f"{base_url.rstrip('/')}/{self.resource_type}" + (f"?{query}" if query else "")


_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def parse(resource_type: str, items: Sequence[tuple[str, str]], *, strict: bool) -> Query:
    """The query string's ``items`` as a ``Query``. A malformed value of a supported parameter
    is ``InvalidInput`` (400); an unknown or unsupported parameter is left out, or with
    ``strict`` (``Prefer: handling=strict``) ``InvalidInput`` too."""
    table = {p.name: p for p in PARAMS[resource_type]}
    query = Query(resource_type)

    def unsupported(name: str, why: str) -> None:
        if strict:
            raise InvalidInput.on(name, why)
        query.ignored.append(name)

    for raw_name, value in items:
        if _BAD_TEXT.search(raw_name) or _BAD_TEXT.search(value):
            raise InvalidInput.on("query", "control characters and lone surrogates are refused")
        if len(value) > 400:
            raise InvalidInput.on(raw_name[:40], "is longer than 400 characters")
        name, _, modifier = raw_name.partition(":")
        if name in _RESULT_PARAMS:
            if modifier:
                unsupported(raw_name, "takes no modifier")
            elif _result(query, name, value, unsupported):
                query.applied.append((name, value))
            continue
        param = table.get(name)
        if param is None:
            unsupported(raw_name, f"is not a search parameter of {resource_type} on this server")
            continue
        if modifier and not (
            param.kind == "reference" and param.target is None and modifier == "Patient"
        ):
            unsupported(raw_name, f"the modifier :{modifier} is not supported")
            continue
        if param.kind == "special":
            _special(query, name, value)
        else:
            parts = [part for part in value.split(",") if part]
            if not parts:
                raise InvalidInput.on(raw_name, "needs a value")
            parsed = [_value(param, raw_name, part, modifier) for part in parts]
            query.criteria.append(Criterion(param, modifier or None, parsed))
        query.applied.append((raw_name, value))
    return query


def _result(query: Query, name: str, value: str, unsupported: Callable[[str, str], None]) -> bool:
    """Apply one result parameter; False when it was left out."""
    if name == "_format":
        # A request for XML never gets here: the routes answer it 406 first.
        return False
    if name in ("_count", "_offset"):
        if not re.fullmatch(r"\d{1,6}", value):
            raise InvalidInput.on(name, "is a whole number")
        number = int(value)
        if name == "_count":
            query.count = min(number, MAX_COUNT)
        else:
            query.offset = number
        return True
    if name == "_summary":
        if value == "count":
            query.summary_count = True
            return True
        if value == "false":
            return True
        unsupported(name, "only _summary=count (and false) are supported")
        return False
    if value not in _SORTS:
        unsupported(name, "only _sort=_lastUpdated and _sort=-_lastUpdated are supported")
        return False
    query.descending = value.startswith("-")
    return True


def _special(query: Query, name: str, value: str) -> None:
    try:
        if name == "_at":
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError
            query.at = moment
        else:
            query.effective_on = date.fromisoformat(value)
    except ValueError:
        what = "an instant with its offset (RFC 3339)" if name == "_at" else "a date (YYYY-MM-DD)"
        raise InvalidInput.on(name, f"{value!r} is not {what}") from None


_DATE = re.compile(
    r"(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb)?"
    r"(?P<value>\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?)"
)


def _span(value: str) -> Span:
    """The instants a FHIR date, dateTime or instant covers (its precision decides)."""
    if "T" in value:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError(value)
        return moment, moment
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        start = date(parts[0], 1, 1)
        end = date(parts[0], 12, 31)
    elif len(parts) == 2:
        start = date(parts[0], parts[1], 1)
        following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        end = following - timedelta(days=1)
    else:
        start = end = date(parts[0], parts[1], parts[2])
    return datetime.combine(start, time.min, UTC), datetime.combine(end, time.max, UTC)


def _value(param: Param, raw_name: str, value: str, modifier: str) -> Any:
    if param.kind == "token":
        if "|" in value:
            system, _, code = value.partition("|")
            return (system or "", code)  # "" is FHIR's |code: a code with no system
        return (None, value)
    if param.kind == "reference":
        wanted = param.target or (modifier or None)
        found = re.fullmatch(
            r"(?:[a-z][a-z0-9+.-]*://[^?#]*?/)?(?:(?P<type>[A-Z][A-Za-z]+)/)?"
            r"(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/(?P<version>\d+))?",
            value,
        )
        if found is None:
            raise InvalidInput.on(raw_name, f"{value!r} is not a reference (Type/id or id)")
        kind = found["type"]
        if wanted and kind and kind != wanted:
            raise InvalidInput.on(raw_name, f"refers to {wanted} resources only")
        version = f"/_history/{found['version']}" if found["version"] else ""
        return (kind or wanted, found["id"] + version)
    found = _DATE.fullmatch(value)
    if found is None:
        raise InvalidInput.on(
            raw_name, f"{value!r} is not a FHIR date or instant with a prefix (ge2026-01-01)"
        )
    try:
        return (found["prefix"] or "eq", *_span(found["value"]))
    except ValueError:
        raise InvalidInput.on(raw_name, f"{value!r} is not a valid date or instant") from None


# ------------------------------------------------------------------------------ matching
def _token_matches(have: list[Token], wanted: Token) -> bool:
    system, code = wanted
    for own_system, own_code in have:
        if own_code != code and not (code == "" and system):
            continue
        if system is None or (system == "" and own_system is None) or system == own_system:
            return True
    return False


def _reference_matches(have: list[str], wanted: tuple[str | None, str]) -> bool:
    kind, ident = wanted
    for ref in have:
        own_type, _, rest = ref.partition("/")
        if kind is not None and own_type != kind:
            continue
        # A reference without a version matches every version of the resource.
        if rest == ident or ("/_history/" not in ident and rest.split("/_history/")[0] == ident):
            return True
    return False


def _date_matches(have: list[Span], wanted: tuple[str, datetime, datetime]) -> bool:
    prefix, start, end = wanted
    for low, high in have:
        inside = start <= low and high <= end
        hit = {
            "eq": inside,
            "ne": not inside,
            "gt": high > end,
            "lt": low < start,
            "ge": high > end or inside,
            "le": low < start or inside,
            "sa": low > end,
            "eb": high < start,
        }[prefix]
        if hit:
            return True
    return False


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "token": _token_matches,
    "reference": _reference_matches,
    "date": _date_matches,
}


def matches(resource: dict[str, Any], query: Query) -> bool:
    """Does ``resource`` meet every criterion of ``query`` (any alternative of each)?"""
    for criterion in query.criteria:
        param = criterion.param
        have = param.values(resource)
        test = _TESTS[param.kind]
        if not any(test(have, wanted) for wanted in criterion.alternatives):
            return False
    return True


def _full_url(base_url: str, resource: dict[str, Any]) -> str:
    return f"{base_url.rstrip('/')}/{resource['resourceType']}/{resource['id']}"


def search_bundle(found: list[dict[str, Any]], query: Query, *, base_url: str) -> dict[str, Any]:
    """A searchset of the matches: sorted, one page of ``query.count`` from ``query.offset``,
    ``total`` all matches; links ``self`` (exactly the parameters applied), ``first``,
    ``previous``, ``next`` and ``last``. ``_summary=count`` gives the total alone."""
    if query.descending is not None:
        found = sorted(
            found,
            key=lambda x: _last_updated(x)[0][0] if _last_updated(x) else _EARLIEST,
            reverse=query.descending,
        )
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(found)}
    links = [{"relation": "self", "url": query.link(base_url)}]
    if query.summary_count:
        bundle["link"] = links
        return bundle
    count, offset = query.count, query.offset
    page = found[offset : offset + count] if count else []
    if count:
        last = max(0, (len(found) - 1) // count * count)
        links.append({"relation": "first", "url": query.link(base_url, _count=count, _offset=0)})
        if offset > 0:
            previous = max(0, offset - count)
            links.append(
                {
                    "relation": "previous",
                    "url": query.link(base_url, _count=count, _offset=previous),
                }
            )
        if offset + count < len(found):
            links.append(
                {
                    "relation": "next",
                    "url": query.link(base_url, _count=count, _offset=offset + count),
                }
            )
        links.append({"relation": "last", "url": query.link(base_url, _count=count, _offset=last)})
    bundle["link"] = links
    bundle["entry"] = [
        {"fullUrl": _full_url(base_url, x), "resource": x, "search": {"mode": "match"}}
        for x in page
    ]
    return bundle

"""The one error root of plantrail and its user-facing branches.

    PlantrailError                      root: everything plantrail raises on purpose
    ├── InvalidInput                    a field is malformed or breaks a rule (422)
    │   └── RuleViolation               the input is well-formed but a plan rule refuses it (422)
    ├── NotFound                        unknown plan or item (404)
    │   ├── PlanNotFound
    │   └── ItemNotFound
    ├── PlanDischargedError             only reads are allowed on a discharged plan (422)
    ├── StaleVersion                    the caller named a version that is no longer current (412)
    ├── ConcurrentWrite                 another write committed the same version first (409)
    ├── CommandReused                   a command id came back with a different payload (422)
    ├── AccessDenied                    the caller's role may not make this write (403)
    ├── StorageError                    the store refused the write (disk full, locked) (503)
    └── IntegrityFailure                verify found tampering; raised only where reading must stop

Every error carries a one-line ``message`` fit for a clinician's screen and, for input
errors, the fields at fault, so the CLI and HTTP layers render them without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class FieldProblem:
    """One field at fault and why, in words a user can act on."""

    field: str
    message: str


class PlantrailError(Exception):
    """Root of every error plantrail raises on purpose."""

    title = "plantrail error"

    def __init__(self, message: str, *, errors: tuple[FieldProblem, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class InvalidInput(PlantrailError):
    """A field is malformed, out of range or missing."""

    title = "Invalid input"

    @classmethod
    def on(cls, field: str, message: str) -> Self:
        return cls(f"{field}: {message}", errors=(FieldProblem(field, message),))


class RuleViolation(InvalidInput):
    """Well-formed input that a treatment-plan rule refuses."""

    title = "Plan rule violated"


class NotFound(PlantrailError):
    title = "Not found"


class PlanNotFound(NotFound):
    def __init__(self, plan_id: object) -> None:
        super().__init__(f"no plan {plan_id}")


class ItemNotFound(NotFound):
    def __init__(self, kind: str, item_id: object, field: str | None = None) -> None:
        message = f"no {kind} {item_id} in this plan"
        super().__init__(message, errors=(FieldProblem(field, message),) if field else ())
        self.kind = kind


class PlanDischargedError(PlantrailError):
    title = "Plan discharged"

    def __init__(self) -> None:
        super().__init__("the plan is discharged: it can be read but no longer changed")


class StaleVersion(PlantrailError):
    title = "Stale version"

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"the plan is at version {current}, not {expected}: reload it and make the change again"
        )
        self.expected = expected
        self.current = current


class ConcurrentWrite(PlantrailError):
    title = "Concurrent write"

    def __init__(self, version: int) -> None:
        super().__init__(
            f"another change was saved as version {version} at the same moment: reload and retry"
        )
        self.version = version


class CommandReused(PlantrailError):
    title = "Command id reused"

    def __init__(self, command_id: str) -> None:
        super().__init__(
            f"command id {command_id!r} was already used for a different request; "
            "use a new id for a new change"
        )


class AccessDenied(PlantrailError):
    title = "Forbidden"


class StorageError(PlantrailError):
    title = "Storage unavailable"


class IntegrityFailure(PlantrailError):
    title = "Integrity check failed"

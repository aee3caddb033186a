"""Signature status (docs/domain.md, Projections 7): every signature and open co-signature
request.

A signature is ``current`` while the plan content equals what was signed, ``superseded`` after a
later change (naming the version that superseded it) and ``revoked`` after ``SignatureRevoked``;
a co-signature request nobody has given yet is ``pending``. 21 CFR 11.50 wants the signer's
name, the time and the meaning on every rendering of a signature, so each row carries them, and a
ready-made ``manifestation`` line for screens and printouts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from plantrail.domain.plan import PlanState, Signature, SignatureRequest

__all__ = ["request_row", "rfc3339", "signature_status", "signer_text"]


def rfc3339(moment: datetime) -> str:
    """``2026-03-14T09:30:00Z``: UTC, with ``Z`` (microseconds only when there are some)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def signer_text(name: str, credentials: str | None) -> str:
    """'Dana Reyes, LCSW', or the bare name when no credentials were given."""
    return f"{name}, {credentials}" if credentials else name


def _manifestation(signature: Signature) -> str:
    text = (
        f"{signer_text(signature.signer_name, signature.signer_credentials)} "
        f"({signature.role}, {signature.meaning}) signed {rfc3339(signature.signed_at)}"
    )
    if signature.revoked_version is not None:
        return f"{text}; revoked at version {signature.revoked_version}"
    if signature.superseded_by_version is not None:
        return f"{text}; superseded by version {signature.superseded_by_version}"
    return text


def signature_row(signature: Signature) -> dict[str, Any]:
    """One captured signature with its current status."""
    return {
        "id": signature.id,
        "role": signature.role,
        "meaning": signature.meaning,
        "signer_name": signature.signer_name,
        "signer_credentials": signature.signer_credentials,
        "signer_id": signature.signer_id,
        "signed_at": rfc3339(signature.signed_at),
        "signed_version": signature.signed_version,
        "content_hash": signature.content_hash,
        "status": signature.status,
        "superseded_by_version": signature.superseded_by_version,
        "revoked_version": signature.revoked_version,
        "request_id": signature.request_id,
        "manifestation": _manifestation(signature),
    }


def request_row(state: PlanState, request: SignatureRequest) -> dict[str, Any]:
    """One co-signature request: ``pending`` until the named user signs, then ``fulfilled``."""
    signature = state.signatures.get(request.signature_id) if request.signature_id else None
    return {
        "id": request.id,
        "role": request.role,
        "meaning": request.meaning,
        "signer_id": request.signer_id,
        "signer_name": request.signer_name,
        "requested_by": request.requested_by,
        "requested_on": request.effective_date.isoformat(),
        "requested_version": request.added_version,
        "status": "pending" if request.signature_id is None else "fulfilled",
        "signature_id": request.signature_id,
        "signed_at": rfc3339(signature.signed_at) if signature else None,
    }


def signature_status(state: PlanState) -> list[dict[str, Any]]:
    """Every signature (current, superseded or revoked) in the order given, then every pending
    co-signature request, each with name, credentials, time and meaning."""
    rows = [signature_row(s) for s in state.signatures.values()]
    for request in state.signature_requests.values():
        if request.signature_id is not None:
            continue  # fulfilled: the signature itself is listed above
        rows.append(
            {
                "id": request.id,
                "role": request.role,
                "meaning": request.meaning,
                "signer_name": request.signer_name,
                # Not known until the person signs; shown as such rather than left out.
                "signer_credentials": None,
                "signer_id": request.signer_id,
                "signed_at": None,
                "requested_on": request.effective_date.isoformat(),
                "requested_by": request.requested_by,
                "signed_version": None,
                "content_hash": None,
                "status": "pending",
                "superseded_by_version": None,
                "revoked_version": None,
                "request_id": request.id,
                "manifestation": (
                    f"{request.signer_name} ({request.role}, {request.meaning}) pending since "
                    f"{request.effective_date.isoformat()}, requested by {request.requested_by}"
                ),
            }
        )
    return rows

"""Signature requests, signatures and revocations: a request is pending once per signer,
role and meaning; a signature names a real, unsigned request or none; a revocation names a
signature that is not already revoked."""

from __future__ import annotations

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from tests.support.decider import active_plan
from tests.unit.domain.refusals import not_found, refused


def _request() -> c.RequestSignature:
    return c.RequestSignature(
        role="supervisor", meaning="approved", signer_id="sam", signer_name="Sam Okafor"
    )


def test_a_pending_request_is_not_made_twice() -> None:
    plan, *_ = active_plan()
    plan.add(_request())
    refused(plan, _request(), "signer_id", "Sam Okafor already has this request pending")
    # once signed, the same request may be made again (for a later version)
    plan.sign("supervisor")
    again = plan.add(_request())
    assert isinstance(again, ev.SignatureRequested)


def test_a_signature_names_a_request_that_exists_and_is_still_pending() -> None:
    plan, *_ = active_plan()
    not_found(
        plan,
        c.CaptureSignature(
            role="supervisor", meaning="approved", signer_name="Sam Okafor", request_id="q-404"
        ),
        "signature request",
        "request_id",
        "q-404",
    )
    requested = plan.add(_request())
    assert isinstance(requested, ev.SignatureRequested)
    plan.sign("supervisor", request_id=requested.request_id)
    refused(
        plan,
        c.CaptureSignature(
            role="supervisor",
            meaning="approved",
            signer_name="Sam Okafor",
            signer_id="sam",
            request_id=requested.request_id,
        ),
        "request_id",
        "this signature request was already signed",
    )


def test_a_signature_without_a_signer_id_fulfils_no_request() -> None:
    plan, *_ = active_plan()
    requested = plan.add(_request())
    assert isinstance(requested, ev.SignatureRequested)
    anonymous = plan.add(
        c.CaptureSignature(role="supervisor", meaning="approved", signer_name="Sam Okafor")
    )
    assert isinstance(anonymous, ev.SignatureCaptured)
    assert anonymous.request_id is None
    assert plan.state.signature_requests[requested.request_id].signature_id is None


def test_a_revocation_names_a_signature_that_is_not_revoked() -> None:
    plan, *_ = active_plan()
    why = {"rationale": "Signed the wrong version"}
    not_found(plan, c.RevokeSignature(signature_id="s-404"), "signature", "signature_id", "s-404")
    signature = plan.sign("client")
    plan.run(c.RevokeSignature(signature_id=signature.signature_id), **why)
    refused(
        plan,
        c.RevokeSignature(signature_id=signature.signature_id),
        "signature_id",
        "this signature is already revoked",
        **why,
    )

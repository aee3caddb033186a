"""Signature status: current, superseded by a later change (naming its version), revoked,
pending."""

from __future__ import annotations

from plantrail.domain import commands as c
from plantrail.projections.signatures import signature_status
from tests.support.histories import depression_plan


def _by_status(rows: list[dict[str, object]]) -> dict[object, list[object]]:
    out: dict[object, list[object]] = {}
    for row in rows:
        out.setdefault(row["status"], []).append(row["signer_name"])
    return out


def test_signatures_are_current_while_the_content_is_what_was_signed() -> None:
    b, _ = depression_plan()
    b.advance(days=7)
    # A new score is an observation, not plan language: it must not invalidate the client's
    # signature.
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=17, administered_on=b.today))
    assert _by_status(signature_status(b.state)) == {"current": ["Dana Reyes", "Jordan Ellis"]}


def test_a_later_change_supersedes_every_signature_and_names_its_version() -> None:
    b, ids = depression_plan()
    b.advance(days=7)
    [revision] = b.run(
        c.ReviseObjective(
            objective_id=ids["objective12"], statement="Three planned activities a week."
        ),
        rationale="Four was too many while working shifts",
    )
    b.advance(days=1)
    b.run(
        c.ReviseObjective(
            objective_id=ids["objective12"], statement="Three planned activities weekly."
        ),
        rationale="Wording",
    )
    rows = signature_status(b.state)
    assert _by_status(rows) == {"superseded": ["Dana Reyes", "Jordan Ellis"]}
    # The first change after the signature is the one that superseded it, not the latest.
    assert {row["superseded_by_version"] for row in rows} == {revision.originator_version}
    client = next(row for row in rows if row["role"] == "client")
    assert client["manifestation"] == (
        f"Jordan Ellis (client, agreed) signed 2026-01-05T09:00:00Z; "
        f"superseded by version {revision.originator_version}"
    )


def test_a_new_signature_after_the_change_is_current_beside_the_superseded_one() -> None:
    b, ids = depression_plan()
    b.run(
        c.ReviseProblem(problem_id=ids["problem1"], statement="Low mood; PHQ-9 of 19."),
        rationale="Shorter",
    )
    b.run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"))
    statuses = [(row["signer_name"], row["status"]) for row in signature_status(b.state)]
    assert statuses == [
        ("Dana Reyes", "superseded"),
        ("Jordan Ellis", "superseded"),
        ("Jordan Ellis", "current"),
    ]


def test_revoked_signature_and_pending_request_carry_name_credentials_time_and_meaning() -> None:
    b, ids = depression_plan()
    b.run(
        c.RevokeSignature(signature_id=ids["client_signature"]),
        rationale="Client signed the wrong plan",
    )
    b.run(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id="sam", signer_name="Sam Okafor"
        )
    )
    rows = signature_status(b.state)
    revoked = next(row for row in rows if row["status"] == "revoked")
    assert (revoked["signer_name"], revoked["meaning"], revoked["signed_at"]) == (
        "Jordan Ellis",
        "agreed",
        "2026-01-05T09:00:00Z",
    )
    assert revoked["revoked_version"] == b.state.version - 1
    pending = next(row for row in rows if row["status"] == "pending")
    assert pending["signer_name"] == "Sam Okafor"
    assert (pending["role"], pending["meaning"]) == ("supervisor", "approved")
    assert pending["signer_credentials"] is None  # unknown until given, and said so
    assert pending["requested_on"] == "2026-01-05"
    clinician = next(row for row in rows if row["role"] == "clinician")
    assert (clinician["signer_credentials"], clinician["status"]) == ("LCSW", "current")

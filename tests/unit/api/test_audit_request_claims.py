"""Reading an audit request's claims (``api/packet/audit_request.parse_claims``): the header is
optional, a bad row is a claim with its reason, and only a file that is not CSV or holds no
readable claim is refused."""

from __future__ import annotations

from datetime import date

import pytest

from plantrail.api.packet.audit_request import MAX_CLAIMS, parse_claims, summary_csv
from plantrail.domain.errors import InvalidInput


def test_header_is_optional_and_codes_may_be_several() -> None:
    with_header = parse_claims("mrn,date,cpt\nMRN-1,2026-03-04,90837 90785\n")
    without = parse_claims("MRN-1,2026-03-04,90837;90785\n")
    for claims in (with_header, without):
        assert len(claims) == 1
        assert claims[0].mrn == "MRN-1"
        assert claims[0].day == date(2026, 3, 4)
        assert claims[0].cpt_codes == ("90837", "90785")
        assert claims[0].problem is None
    assert with_header[0].row == 2
    assert without[0].row == 1


def test_cpt_may_be_left_out_and_blank_lines_are_skipped() -> None:
    claims = parse_claims("MRN-1,2026-03-04\n\nMRN-2,2026-03-05,\n")
    assert [(c.mrn, c.cpt_codes, c.row) for c in claims] == [
        ("MRN-1", (), 1),
        ("MRN-2", (), 3),
    ]


def test_bad_rows_are_claims_with_their_reason() -> None:
    claims = parse_claims(
        "mrn,date,cpt\n"
        "MRN-1,2026-03-04,90837\n"
        "MRN-1,04/03/2026,90837\n"
        "MRN-1,2026-03-05,90X\n"
        ",2026-03-05,90837\n"
        "MRN-1\n"
        "MRN-1,2026-03-05,90837,extra\n"
    )
    problems = {c.row: c.problem for c in claims}
    assert problems[2] is None
    assert "is not a date" in (problems[3] or "")
    assert "is not a CPT code" in (problems[4] or "")
    assert problems[5] == "no MRN"
    assert "expected 2 or 3 columns" in (problems[6] or "")
    assert "expected 2 or 3 columns" in (problems[7] or "")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "mrn,date,cpt\n",
        "this is a letter, not a list\nof claims\n",
        "\x00\x01binary",
        'MRN-1,"2026-03-04\n',
    ],
)
def test_a_file_without_a_readable_claim_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_claims(text)


def test_too_many_rows_are_refused() -> None:
    rows = "".join(f"MRN-{n},2026-03-04,90837\n" for n in range(MAX_CLAIMS + 1))
    with pytest.raises(InvalidInput, match="at most"):
        parse_claims(rows)


def test_a_quoted_cell_over_two_lines_names_the_line_the_row_ends_on() -> None:
    claims = parse_claims('MRN-1,2026-03-04,90837\n"MRN\n2",2026-03-05,90837\n')
    assert [c.row for c in claims] == [1, 3]


def test_the_summary_never_starts_a_cell_like_a_formula() -> None:
    line = {"row": "2", "mrn": "=HYPERLINK(1)", "date": "2026-03-04", "cpt": "",
            "verdict": "NOT CHECKED", "plan_id": "", "plan_version": "", "packet": "",
            "reason": "no client with this MRN is in your reach"}  # fmt: skip
    assert b",'=HYPERLINK(1)," in summary_csv([line])

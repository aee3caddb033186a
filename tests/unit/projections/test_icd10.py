"""The ICD-10-CM code set: search by code or words, billable codes only, and describe.

The first call loads the code set from ``simple-icd-10-cm`` (seconds, once per process); with
the suite's ``filterwarnings = error`` that load must raise no warning either."""

from __future__ import annotations

import pytest

from plantrail.projections import icd10
from plantrail.projections.icd10 import CodeMatch


def codes(query: str, limit: int = 20) -> list[str]:
    return [match.code for match in icd10.search(query, limit)]


@pytest.mark.parametrize("query", ["F41", "f41", " F41 "])
def test_a_category_finds_its_billable_codes_but_not_itself(query: str) -> None:
    found = codes(query)
    assert "F41" not in found  # a category is not billable: not a pick
    assert {"F41.0", "F41.1", "F41.9"} <= set(found)
    assert all(code.startswith("F41.") for code in found)


@pytest.mark.parametrize("query", ["F41.1", "f41.1", "F411", "f411"])
def test_a_code_in_any_spelling_finds_that_code_first(query: str) -> None:
    found = icd10.search(query)
    assert found[0] == CodeMatch("F41.1", "Generalized anxiety disorder", billable=True)


def test_the_exact_code_comes_before_the_codes_it_starts() -> None:
    found = codes("F32.8")  # not billable itself: its children are
    assert "F32.8" not in found
    assert found[:2] == ["F32.81", "F32.89"]
    assert codes("F43.2")[0] == "F43.20"
    assert codes("F43.21")[0] == "F43.21"


def test_every_word_of_the_description_at_the_start_of_a_word() -> None:
    assert codes("generalized anx") == ["F41.1"]
    assert codes("Generalized  ANXIETY") == ["F41.1"]
    assert codes("anxiety generalized") == ["F41.1"]  # in any order
    assert "F41.1" not in codes("eneralized anxiety")  # the start of a word, not its middle
    assert codes("generalized panic") == []  # every word must be there


def test_a_description_search_puts_mental_and_behavioural_codes_first() -> None:
    found = icd10.search("anxiety", limit=50)
    assert found[0].code.startswith("F")
    chapters = [m.code[0] for m in found]
    assert chapters == sorted(chapters, key=lambda c: c != "F")  # all F codes before others
    f_lengths = [len(m.description) for m in found if m.code.startswith("F")]
    assert f_lengths == sorted(f_lengths)  # shorter descriptions first


def test_apostrophes_and_punctuation_do_not_stop_a_match() -> None:
    assert any(m.code.startswith("G30") for m in icd10.search("alzheimers disease", limit=50))
    assert any(m.code.startswith("G30") for m in icd10.search("alzheimer's", limit=50))
    assert codes("disorder, unspecified anxiety")[0] == "F41.9"  # the shortest such


def test_results_are_billable_described_and_limited() -> None:
    found = icd10.search("disorder", limit=7)
    assert len(found) == 7
    for match in found:
        assert match.billable
        assert icd10.is_billable(match.code)
        assert icd10.describe(match.code) == match.description
    assert codes("S72", limit=3) == codes("S72")[:3]


@pytest.mark.parametrize("query", ["", " ", "F", "a", " x "])
def test_a_query_under_two_characters_finds_nothing(query: str) -> None:
    assert icd10.search(query) == []


@pytest.mark.parametrize("query", ["zzqx", "qqq plorbant", "F99.99", "Z999", "!!", "--"])
def test_an_unknown_query_finds_nothing(query: str) -> None:
    assert icd10.search(query) == []


def test_a_limit_below_one_finds_nothing() -> None:
    assert icd10.search("anxiety", limit=0) == []


def test_describe_and_is_billable() -> None:
    assert icd10.describe("F41.1") == "Generalized anxiety disorder"
    assert icd10.describe("f411") == "Generalized anxiety disorder"
    assert icd10.describe("F32.A") == "Depression, unspecified"
    assert icd10.describe("F41") is None  # a category
    assert icd10.describe("F00-F99") is None
    assert icd10.describe("nothing") is None
    assert icd10.is_billable("F43.10")
    assert not icd10.is_billable("F43.1")
    assert not icd10.is_billable("")


def test_the_code_set_is_the_whole_billable_release() -> None:
    assert len(icd10._loaded().codes) > 70_000

"""Word-level highlights inside a changed statement."""

from __future__ import annotations

from plantrail.api.rendering.word_diff import word_diff


def test_only_the_changed_words_are_marked() -> None:
    before, after = word_diff("Lower PHQ-9 from 17 to under 10.", "Lower PHQ-9 from 17 to under 8.")
    assert before == [("same", "Lower PHQ-9 from 17 to under "), ("removed", "10.")]
    assert after == [("same", "Lower PHQ-9 from 17 to under "), ("added", "8.")]


def test_each_side_reads_back_as_written() -> None:
    old, new = "Attend two groups a week.", "Attend four planned social groups each week."
    before, after = word_diff(old, new)
    assert "".join(text for _, text in before) == old
    assert "".join(text for _, text in after) == new
    assert ("added", "each") in after


def test_identical_statements_have_no_marks() -> None:
    before, after = word_diff("Same.", "Same.")
    assert before == after == [("same", "Same.")]

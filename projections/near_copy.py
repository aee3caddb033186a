"""Near copies: how far one statement or progress summary moved from the previous one, word by
word (docs/domain.md, Projections 6; docs/projections.md, "Nearly copied forward").

Payers call documentation cloned when it is "worded exactly like **or similar to** previous
entries" (NGS Medicare), and the clinical-informatics literature measures redundancy by word
alignment (Wrenn 2010) and word shingles (Thornton 2013), not by equality. Two measures here:

- ``statement_edit``: a word-level alignment (``difflib``) of two versions of one statement,
  after the copy-forward normalisation (case, punctuation, dates). It gives the words added,
  removed and replaced, the word similarity (Ratcliff-Obershelp ratio over words) and whether
  the edit touched a word that carries clinical meaning however small the edit: a number, a
  negation, a direction ("increase", "at most") or an existing frequency ("weekly" → "daily").
- ``summary_similarity``: a Dice coefficient over the words and the word pairs of each sentence,
  so that reordered sentences, other punctuation and a few inserted words keep a high score
  while a newly written summary does not.

Both are pure and cached by their inputs: the same pair of texts is compared whenever a plan's
history is read.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import pairwise

from plantrail.projections.normalise import normalise_text

__all__ = ["StatementEdit", "statement_edit", "summary_similarity"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NUMBER_WORDS = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty hundred "
    "once twice thrice half quarter double triple percent"
)
_NEGATIONS = _words(
    "not no never none nor without cannot cant dont doesnt didnt wont isnt arent wasnt "
    "neither nobody nothing"
)
_DIRECTIONS = _words(
    "increase increases increased decrease decreases decreased reduce reduces reduced raise "
    "raises lower lowers improve improves worsen worsens more less fewer greater higher "
    "above below under over least most maximum minimum max min exceed exceeds within "
    "outside maintain maintains eliminate eliminates"
)
_FREQUENCIES = _words(
    "daily weekly monthly nightly hourly yearly annually biweekly fortnightly quarterly "
    "every each always usually often sometimes occasionally rarely morning evening night"
)


_FUNCTION_WORDS = _words(
    "a an the and or but of to in on at for with by from as into about than then so that "
    "which who this these those it its is are was were be been being has have had do does "
    "will would shall should can could may might must her his their our my your she he they "
    "we i you him them us me"
)
"""Words that carry grammar, not content: an edit of only these ("the client", "most of the
nights") changes no words that count (the stop-word removal of Zhang et al., AMIA 2011)."""


def _protected(word: str) -> str | None:
    """The kind of meaning ``word`` carries on its own, or None for an ordinary word."""
    if any(ch.isdigit() for ch in word) or word in _NUMBER_WORDS:
        return "number"
    if word in _NEGATIONS:
        return "negation"
    if word in _DIRECTIONS:
        return "direction"
    if word in _FREQUENCIES:
        return "frequency"
    return None


@dataclass(frozen=True)
class StatementEdit:
    """How one statement moved between two versions, word by word (after normalisation)."""

    added: tuple[str, ...]
    """Words inserted, as normalised."""
    removed: tuple[str, ...]
    """Words deleted, as normalised."""
    replaced: tuple[tuple[str, str], ...]
    """(before, after) runs of words replaced by other words."""
    similarity: float
    """Ratcliff-Obershelp ratio over the words: 2 × matched words ÷ all words of both."""
    words_changed: int
    """Content words (not function words such as "the", "of") of the longer side of every
    added, removed or replaced run."""
    meaningful: str | None
    """Why the edit is clinically meaningful however small ("a number changed: 3 → 5"), or
    None when only ordinary words moved."""

    def describe(self) -> str:
        """The edit in a supervisor's words: "one word added: *daily*"."""
        parts: list[str] = []
        if self.replaced:
            shown = "; ".join(f"*{b}* → *{a}*" for b, a in self.replaced)
            count = sum(max(len(b.split()), len(a.split())) for b, a in self.replaced)
            parts.append(f"{_count(count)} replaced: {shown}")
        if self.added:
            parts.append(f"{_count(len(self.added))} added: *{' '.join(self.added)}*")
        if self.removed:
            parts.append(f"{_count(len(self.removed))} removed: *{' '.join(self.removed)}*")
        return "; ".join(parts) or "no words changed"


_SMALL = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(n: int) -> str:
    return f"{_SMALL[n] if n < len(_SMALL) else n} word{'' if n == 1 else 's'}"


def _meaningful(
    before: list[str], after: list[str], removed: list[str], added: list[str]
) -> str | None:
    """Whether the words that moved carry meaning of their own. Numbers, negations and
    directions count when added, removed or replaced; a frequency counts when an existing one is
    removed or replaced ("weekly" → "daily"), not when one is added to a statement that had
    none ("use coping skills" → "use coping skills daily"): the plan's frequencies are the
    interventions' and the timeline's fields, which are always a genuine update."""
    kinds_out = Counter(k for w in removed if (k := _protected(w)))
    kinds_in = Counter(k for w in added if (k := _protected(w)))
    for kind in ("number", "negation", "direction"):
        if kinds_out[kind] or kinds_in[kind]:
            gone = [w for w in removed if _protected(w) == kind]
            new = [w for w in added if _protected(w) == kind]
            return f"a {kind} changed: {' '.join(gone) or '—'} → {' '.join(new) or '—'}"
    if kinds_out["frequency"]:
        gone = [w for w in removed if _protected(w) == "frequency"]
        new = [w for w in added if _protected(w) == "frequency"]
        return f"a frequency changed: {' '.join(gone)} → {' '.join(new) or '—'}"
    del before, after
    return None


def _content(words: list[str]) -> int:
    return sum(1 for word in words if word not in _FUNCTION_WORDS)


@lru_cache(maxsize=8_192)
def statement_edit(before: str, after: str) -> StatementEdit:
    """The word-level edit from ``before`` to ``after`` (both as written)."""
    old, new = normalise_text(before).split(), normalise_text(after).split()
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    added: list[str] = []
    removed: list[str] = []
    replaced: list[tuple[str, str]] = []
    changed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":
            added.extend(new[j1:j2])
        elif tag == "delete":
            removed.extend(old[i1:i2])
        else:
            replaced.append((" ".join(old[i1:i2]), " ".join(new[j1:j2])))
        changed += max(_content(old[i1:i2]), _content(new[j1:j2]))
    out_words = removed + [w for b, _ in replaced for w in b.split()]
    in_words = added + [w for _, a in replaced for w in a.split()]
    total = len(old) + len(new)
    similarity = 2 * sum(b.size for b in matcher.get_matching_blocks()) / total if total else 1.0
    return StatementEdit(
        added=tuple(added),
        removed=tuple(removed),
        replaced=tuple(replaced),
        similarity=round(similarity, 4),
        words_changed=changed,
        meaningful=_meaningful(old, new, out_words, in_words),
    )


_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def _shingles(text: str) -> Counter[str]:
    """The words and the pairs of adjacent words of each sentence of ``text`` (normalised)."""
    bag: Counter[str] = Counter()
    for sentence in _SENTENCE.split(text):
        words = normalise_text(sentence).split()
        bag.update(words)
        bag.update(f"{a} {b}" for a, b in pairwise(words))
    return bag


@lru_cache(maxsize=4_096)
def summary_similarity(previous: str, current: str) -> float:
    """How much of ``current`` repeats ``previous`` (0–1): the Dice coefficient of their
    sentence-level word and word-pair multisets. Reordering sentences leaves it at 1; one word
    inserted into a 15-word summary leaves it near 0.9; a newly written summary about the same
    client, which shares its vocabulary but not its phrasing, stays well under 0.8."""
    a, b = _shingles(previous), _shingles(current)
    total = sum(a.values()) + sum(b.values())
    if not total:
        return 1.0
    return round(2 * sum((a & b).values()) / total, 4)

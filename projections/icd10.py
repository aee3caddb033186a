"""The ICD-10-CM code set, offline: search the billable codes by code or by words, and describe one.

The codes and their descriptions come from ``simple-icd-10-cm`` (the CDC's public-domain
ICD-10-CM release, packaged). Importing it parses the whole tabular list (seconds, and ~175 MB
of objects), so it happens once, on the first call, behind a lock. Only what a search needs is
kept: the billable (leaf) codes with their descriptions, lowercased once, in ranked order. The
library's own tree is then dropped from ``sys.modules`` so that its memory can be freed; this
module is the only one that imports it.

A word search scans one precomputed string of every description with ``str.find`` (at most a
few milliseconds on ~74,700 codes); a code prefix is found by bisection.
"""

from __future__ import annotations

import gc
import re
import sys
import threading
import warnings
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

__all__ = ["CodeMatch", "describe", "is_billable", "search"]

MIN_QUERY = 2
"""Shorter queries match too much to be useful: they find nothing."""

_LIBRARY = "simple_icd_10_cm"

_CODE_LIKE = re.compile(r"[A-Z][0-9][0-9A-Z]{0,5}")
"""A query that can be (the start of) a code once upper-cased and without its dot."""

_APOSTROPHES = re.compile(r"['’]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """One code found: ``code`` in dotted form (``F41.1``)."""

    code: str
    description: str
    billable: bool


@dataclass(frozen=True, slots=True)
class _Index:
    codes: tuple[str, ...]
    """Dotted codes in ranked order: chapter F first, then shorter descriptions, then code."""
    descriptions: tuple[str, ...]
    text: str
    """Every description as searchable words (``_words``: lowercased, punctuation as spaces,
    each with a leading space), one row a line: a query word ``w`` starts a word of a
    description when ``" " + w`` occurs in its line, which ``str.find`` finds at C speed."""
    starts: tuple[int, ...]
    """Where each row's line begins in ``text``, and where the text ends (one more)."""
    keys: tuple[str, ...]
    """The codes without their dots, sorted (bisection finds a prefix's range)."""
    key_rows: tuple[int, ...]
    """For each entry of ``keys``, its row in ``codes``."""
    by_key: dict[str, int]


_index: _Index | None = None
_lock = threading.Lock()


def _key(code: str) -> str:
    return code.strip().upper().replace(".", "")


def _words(text: str) -> str:
    """``text`` as searchable words: lowercase, apostrophes dropped (``alzheimers`` finds
    "Alzheimer's"), anything else but letters and digits a space; with a leading space."""
    return " " + _NOT_WORD.sub(" ", _APOSTROPHES.sub("", text.casefold())).strip()


def _billable_codes() -> list[tuple[str, str]]:
    """(dotted code, description) of every billable code, read from the library, which is then
    released. Importing it calls ``importlib.resources.read_text`` and ``open_text``, deprecated
    on Python 3.11 (the suite turns warnings into errors): that one warning is silenced here.
    ``catch_warnings`` changes the process's filters for the import's few seconds; it runs once,
    under the lock."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            category=DeprecationWarning,
            message=r"\w+ is deprecated\. Use files\(\) instead",
        )
        import simple_icd_10_cm as cm

    rows = [
        (code, cm.get_description(code))
        for code in cm.get_all_codes(True)
        if cm.is_category_or_subcategory(code) and cm.is_leaf(code)
    ]
    # Copy the text out of the library's objects (one string, split again), so that none of
    # them stays alive through a shared string and the tree can be freed as a whole.
    blob = "\n".join(f"{code}\t{description}" for code, description in rows)
    del rows, cm
    for name in [n for n in sys.modules if n.partition(".")[0] == _LIBRARY]:
        del sys.modules[name]
    gc.collect()
    return [(line.partition("\t")[0], line.partition("\t")[2]) for line in blob.split("\n")]


def _build(rows: list[tuple[str, str]]) -> _Index:
    rows.sort(key=lambda r: (not r[0].startswith("F"), len(r[1]), r[0]))
    codes = tuple(code for code, _ in rows)
    keys = sorted((code.replace(".", ""), row) for row, code in enumerate(codes))
    words = tuple(_words(description) for _, description in rows)
    starts, at = [], 0
    for line in words:
        starts.append(at)
        at += len(line) + 1
    starts.append(at)
    return _Index(
        codes=codes,
        descriptions=tuple(description for _, description in rows),
        text="\n".join(words),
        starts=tuple(starts),
        keys=tuple(key for key, _ in keys),
        key_rows=tuple(row for _, row in keys),
        by_key=dict(keys),
    )


def _loaded() -> _Index:
    global _index
    index = _index
    if index is None:
        with _lock:
            if _index is None:
                _index = _build(_billable_codes())
            index = _index
    return index


def search(query: str, limit: int = 20) -> list[CodeMatch]:
    """At most ``limit`` billable codes for ``query``: the code itself, codes starting with it
    (``F41``, ``f41.1``, ``F411``), then codes whose description has every word of the query
    at the start of one of its words (``generalized anx`` finds F41.1), mental and behavioural
    codes (chapter F) and shorter descriptions first. A query under two characters finds
    nothing."""
    text = query.strip()
    if len(text) < MIN_QUERY or limit < 1:
        return []
    index = _loaded()
    found: list[int] = []
    key = _key(text)
    if _CODE_LIKE.fullmatch(key):
        exact = index.by_key.get(key)
        if exact is not None:
            found.append(exact)
        at = bisect_left(index.keys, key)
        while len(found) < limit and at < len(index.keys) and index.keys[at].startswith(key):
            if index.keys[at] != key:
                found.append(index.key_rows[at])
            at += 1
    if not found:  # a query that starts codes ("F41") is not also searched as words
        wanted = sorted({" " + w for w in _words(text).split()}, key=len, reverse=True)
        if wanted:
            first, rest = wanted[0], wanted[1:]
            # Rows are in ranked order, so the first ``limit`` rows found are the best ones.
            at = index.text.find(first)
            while at >= 0:
                row = bisect_right(index.starts, at) - 1
                end = index.starts[row + 1]
                line = index.text[index.starts[row] : end]
                if all(w in line for w in rest):
                    found.append(row)
                    if len(found) >= limit:
                        break
                at = index.text.find(first, end)
    return [CodeMatch(index.codes[r], index.descriptions[r], billable=True) for r in found]


def describe(code: str) -> str | None:
    """The description of a billable code (``F41.1``, ``f411``); None for a code that is not
    billable (a category such as ``F41``) or not a code at all."""
    index = _loaded()
    row = index.by_key.get(_key(code))
    return None if row is None else index.descriptions[row]


def is_billable(code: str) -> bool:
    """Whether ``code`` (dotted or not, any case) is a billable ICD-10-CM code."""
    return _key(code) in _loaded().by_key

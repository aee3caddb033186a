"""Word-level differences inside a changed statement, for the diff page: which words were
removed and which added, so a supervisor sees "under 10" become "under 8" at a glance instead
of re-reading two sentences."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal

Piece = tuple[Literal["same", "removed", "added"], str]

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(before: str, after: str) -> tuple[list[Piece], list[Piece]]:
    """``before`` and ``after`` as pieces: unchanged text, and the words removed from
    ``before`` or added in ``after`` (whitespace kept, so each side reads as written)."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    left: list[Piece] = []
    right: list[Piece] = []
    matcher = SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(("same", "".join(old[i1:i2])))
            right.append(("same", "".join(new[j1:j2])))
            continue
        if i2 > i1:
            left.append(("removed", "".join(old[i1:i2])))
        if j2 > j1:
            right.append(("added", "".join(new[j1:j2])))
    return _merged(left), _merged(right)


def _merged(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for kind, text in pieces:
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + text)
        elif text:
            out.append((kind, text))
    return out

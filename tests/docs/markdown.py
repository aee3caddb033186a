"""Just enough Markdown reading for the documentation tests: headings, sections and tables."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def sections(text: str, level: int) -> list[tuple[str, str]]:
    """``(heading, body)`` for every heading of exactly ``level`` in document order; a body runs
    to the next heading of the same or a higher level. Fenced code blocks are skipped."""
    marker = "#" * level + " "
    found: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("#"):
            hashes = len(line) - len(line.lstrip("#"))
            if hashes <= level:
                if line.startswith(marker):
                    found.append((line[len(marker) :].strip(), []))
                    continue
                found.append(("", []))  # a higher heading closes the section
                continue
        if found:
            found[-1][1].append(line)
    return [(heading, "\n".join(body)) for heading, body in found if heading]


def table_rows(body: str) -> list[list[str]]:
    """The data rows of every pipe table in ``body`` (header and separator rows dropped), each
    cell stripped and unescaped."""
    rows: list[list[str]] = []
    lines = [line.strip() for line in body.splitlines()]
    for index, line in enumerate(lines):
        if not line.startswith("|"):
            continue
        if re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", following):
            continue  # a header row
        cells = _CELL_SPLIT.split(line.strip("|"))
        rows.append([cell.strip().replace("\\|", "|") for cell in cells])
    return rows


def code(cell: str) -> str:
    """The text of a cell written as inline code (`` `x` `` → ``x``)."""
    return cell.strip().strip("`")


def words(text: str) -> str:
    """``text`` with Markdown line breaks folded into single spaces."""
    return " ".join(text.split())

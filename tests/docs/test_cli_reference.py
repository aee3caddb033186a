"""docs/cli.md is the command-line reference generated from the Typer app, and it is current.

The reference must read the same on every machine (no terminal width, home or working directory,
environment variable or colour in it), and the README's "The command line" section must list
every command it documents, one line each, and nothing that is not a command.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from plantrail.api.cli.reference import REGENERATE, command_paths, load_app, reference_markdown
from tests.docs.markdown import DOCS, read, sections

APP = load_app()
GENERATED = reference_markdown(APP)
CLI_MD = DOCS / "cli.md"
README = (DOCS.parent / "README.md").read_text(encoding="utf-8")
HEADING = re.compile(r"^#{2,6} (plantrail(?: [\w-]+)+)$", re.MULTILINE)


def readme_command_lines() -> list[str]:
    """The lines of the README's "The command line" section that start with ``plantrail``."""
    found = [body for heading, body in sections(README, 2) if heading == "The command line"]
    assert found, 'README.md has no "## The command line" section'
    return [line.strip() for line in found[0].splitlines() if line.startswith("plantrail ")]


def names(line: str, command: str) -> bool:
    return re.match(re.escape(command) + r"(\s|$)", line) is not None


def test_docs_cli_md_is_current() -> None:
    current = CLI_MD.read_text(encoding="utf-8") if CLI_MD.exists() else ""
    if current != GENERATED:
        diff = difflib.unified_diff(
            current.splitlines(), GENERATED.splitlines(), "docs/cli.md", "generated", lineterm=""
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(f"docs/cli.md is not current; regenerate it with\n\n  {REGENERATE}\n\n{shown}")


def test_regenerate_command_is_at_the_top_of_the_reference() -> None:
    assert REGENERATE in read("cli.md").splitlines()[0]


def test_reference_documents_every_command() -> None:
    headings = set(HEADING.findall(GENERATED))
    paths = command_paths(APP)
    assert len(paths) >= 40  # every command module registered, not an empty app
    assert {"plantrail " + " ".join(path) for path in paths} <= headings


def test_reference_is_the_same_on_every_machine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("PLANTRAIL_DATABASE_URL", "postgresql+psycopg://someone@elsewhere/db")
    monkeypatch.setenv("PLANTRAIL_KEY_DIR", str(tmp_path / "keys"))
    elsewhere = reference_markdown(APP)
    assert elsewhere == GENERATED
    assert "\x1b" not in GENERATED
    assert str(tmp_path) not in elsewhere


def test_readme_lists_every_command_of_the_reference() -> None:
    lines = readme_command_lines()
    missing = [c for c in HEADING.findall(GENERATED) if not any(names(x, c) for x in lines)]
    assert not missing, (
        'README.md "The command line" has no line for: '
        + ", ".join(missing)
        + " (one line each, starting with the command)"
    )


def test_readme_lists_only_commands() -> None:
    commands = ["plantrail " + " ".join(path) for path in command_paths(APP)]
    unknown = [line for line in readme_command_lines() if not any(names(line, c) for c in commands)]
    assert not unknown, f"README.md lists commands that do not exist: {unknown}"


def test_readme_points_to_the_reference() -> None:
    section = dict(sections(README, 2))["The command line"]
    assert "docs/cli.md" in section

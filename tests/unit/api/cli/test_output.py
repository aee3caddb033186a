"""The console the command line prints through: stored text recorded before control characters
were refused (an ESC sequence in a client's words) is shown as visible escapes, never acted on
by the terminal, in Rich output and in JSON."""

from __future__ import annotations

import io
import json

import pytest
from rich.table import Table

from plantrail.api.cli import output
from plantrail.api.cli.output import SafeConsole, neutralise

FORGED = "\x1b[2J\x1b[Hplantrail verify: OK\x9b31m\x07"


def test_neutralise_shows_control_characters_but_keeps_newline_and_tab() -> None:
    assert neutralise(FORGED) == "\\x1b[2J\\x1b[Hplantrail verify: OK\\x9b31m\\x07"
    assert neutralise("a\n\tb") == "a\n\tb"


def test_a_table_of_stored_text_prints_no_control_character() -> None:
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=True, width=200, highlight=False)
    table = Table("request")
    table.add_row(FORGED)
    console.print(table)
    console.print(FORGED, style="bold")
    printed = buffer.getvalue()
    for char in "\x07\x9b":
        assert char not in printed
    assert "\x1b[2J" not in printed
    assert "\x1b[H" not in printed
    assert "\\x1b[2J" in printed
    assert "\x1b[1m" in printed, "the console's own styling still reaches the terminal"


def test_json_output_escapes_the_c1_range(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_json({"requested_change": FORGED})
    printed = capsys.readouterr().out
    assert "\x1b" not in printed
    assert "\x9b" not in printed
    assert "\x07" not in printed
    assert json.loads(printed) == {"requested_change": FORGED}

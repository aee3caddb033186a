"""Console output: Rich for people, plain JSON for machines, one line for errors.

Every character the command line prints of stored text passes ``neutralise``: commands refuse
control characters (``domain/validation.py``), but events recorded before that rule may hold
them, and an ESC sequence in a client's words must not clear a clinician's screen or print a
forged result. ``SafeConsole`` applies it to every text segment Rich renders (its own styling
is added after, so colours stay), and ``print_json`` escapes the C1 range that JSON leaves raw.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NoReturn
from uuid import UUID

from rich.console import Console
from rich.segment import Segment

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def neutralise(text: str) -> str:
    """``text`` with every control character but newline and tab shown as its escape
    (``\\x1b``), so it prints as visible characters and never acts on the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SafeConsole(Console):
    """A Rich console that neutralises the text it prints (never its own control codes)."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(neutralise(segment.text), segment.style)
            for segment in buffer
        )


console = SafeConsole(highlight=False)
errors = SafeConsole(stderr=True, highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(data: Any) -> None:
    # json escapes C0 itself; the C1 range (U+0080-U+009F, CSI among them) it writes raw
    text = json.dumps(data, default=_default, indent=2, ensure_ascii=False)
    sys.stdout.write(re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one readable error line and exit non-zero."""
    errors.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise SystemExit(code)

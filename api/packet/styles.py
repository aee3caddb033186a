"""Fonts and paragraph styles of the packet.

The font is Bitstream Vera, which ships inside reportlab: embedded (subset) in every PDF, so the
packet prints the same on any reader and needs no system font, and it covers the Latin letters
clinicians' names and statements use. reportlab's built-in Helvetica would not be embedded.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import reportlab
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "Vera"
BOLD = "Vera-Bold"
ITALIC = "Vera-Italic"

INK = colors.HexColor("#1b1f24")
MUTED = colors.HexColor("#4a5260")
RULE = colors.HexColor("#c9ced6")
SHADE = colors.HexColor("#eef1f4")
ADDED = colors.HexColor("#0b6b2e")
REMOVED = colors.HexColor("#a4161a")
ACCENT = colors.HexColor("#0b5cad")


def register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(reportlab.__file__).parent / "fonts"
    for name, file in (
        (FONT, "Vera.ttf"),
        (BOLD, "VeraBd.ttf"),
        (ITALIC, "VeraIt.ttf"),
        ("Vera-BoldItalic", "VeraBI.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic="Vera-BoldItalic"
    )


def _style(name: str, size: float, **extra: object) -> ParagraphStyle:
    settings: dict[str, object] = {"fontName": FONT, "leading": size * 1.3, "textColor": INK}
    return ParagraphStyle(name, fontSize=size, **{**settings, **extra})


BODY = _style("body", 8.5, spaceAfter=3)
SMALL = _style("small", 7.2, textColor=MUTED)
CELL = _style("cell", 7.8)
CELL_SMALL = _style("cell-small", 6.6)
HASH = _style("hash", 6.2, textColor=MUTED, wordWrap="CJK")
"""Hashes have no spaces: CJK wrapping lets them break anywhere instead of overflowing."""
TITLE = _style("title", 20, fontName=BOLD, spaceAfter=6, leading=24)
SUBTITLE = _style("subtitle", 11, textColor=MUTED, spaceAfter=10)
H1 = _style("h1", 14, fontName=BOLD, spaceBefore=4, spaceAfter=6, textColor=ACCENT)
H2 = _style("h2", 10.5, fontName=BOLD, spaceBefore=8, spaceAfter=3)
H3 = _style("h3", 9, fontName=BOLD, spaceBefore=5, spaceAfter=2)


def text(value: object) -> str:
    """Free text from the record, safe inside a reportlab paragraph (its markup is XML-like:
    a clinician's "<" or "&" must print as typed, never be read as a tag)."""
    if value is None:
        return ""
    shown = value if isinstance(value, str) else str(value)
    return escape(shown, quote=False).replace("\n", "<br/>")

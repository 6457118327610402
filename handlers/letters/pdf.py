"""Render a letter to PDF (fpdf2): the agency's letterhead, then the body written in a small
line-based markup that letter templates produce.

Markup, one instruction per line (templates are Jinja2 text, so analysts can reword them):

=================  ==========================================================================
``# text``         title: bold, centred, underlined
``## text``        centred line (e.g. ``Nomor: ...`` under a title)
``|label|value``   a row of a two-column table (label, colon, value wrapping in its column)
``> text``         a line of the signature block (right half); ``>`` alone is an empty line
``~ text``         a monospaced, bold line (user names and passwords: no 0/O, 1/l confusion)
``[ ] text``       a check box and its text (disposition sheet)
``---``            a horizontal rule
empty line         vertical space
anything else      a justified paragraph
=================  ==========================================================================

The built-in PDF fonts know Latin-1 only; text outside it is transliterated (curly quotes,
dashes) or replaced. Set ``LETTER_FONT`` (and ``LETTER_FONT_BOLD``) to a TrueType font file, e.g.
DejaVuSans, for full Unicode.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from engine.queries.recipients import AgencyInfo

from ..agency_settings import setting

_LEVEL = re.compile(r"\b(Kabupaten|Kota|Provinsi)\b.*", re.IGNORECASE)
_TRANSLIT = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u2022": "-",
        "\u00a0": " ",
    }
)


@dataclass(frozen=True)
class Letterhead:
    government: str
    office: str
    address: str
    contact: str
    city: str
    signatory_title: str
    signatory_name: str
    signatory_id: str


def letterhead_for(settings: Mapping[str, Any] | None, agency: AgencyInfo) -> Letterhead:
    """From ``agency.settings["letter"]`` (``government``, ``office``, ``address``, ``phone``,
    ``email``, ``website``, ``city``, ``signatory_title``, ``signatory_name``, ``signatory_nip``),
    with defaults derived from the agency's name and parent domain."""

    def get(key: str, default: str = "") -> str:
        return str(setting(settings, agency, "letter", key, default) or default)

    level = _LEVEL.search(agency.name)
    government = get("government", f"PEMERINTAH {level.group(0).upper()}" if level else "")
    city_default = ""
    if level:
        words = level.group(0).split(None, 1)
        city_default = words[1] if len(words) > 1 else ""
    contact = [f"Laman: https://{get('website', agency.parent_domain)}"]
    if get("email"):
        contact.append(f"Pos-el: {get('email')}")
    if get("phone"):
        contact.append(f"Telepon: {get('phone')}")
    return Letterhead(
        government=government,
        office=get("office", agency.name.upper()),
        address=get("address", "Alamat kantor belum diatur (pengaturan instansi: letter.address)"),
        contact="  |  ".join(contact),
        city=get("city", city_default),
        signatory_title=get("signatory_title", f"Kepala {agency.name}"),
        signatory_name=get("signatory_name", "(..........................................)"),
        signatory_id=get("signatory_nip", "NIP. ...................................."),
    )


class LetterPdf:
    def __init__(self, font: str | None = None, bold_font: str | None = None) -> None:
        self.font_path = font
        self.bold_font_path = bold_font or font

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> LetterPdf:
        font = setting(settings, None, "letter", "font")
        bold = setting(settings, None, "letter", "font_bold")
        return cls(str(font) if font else None, str(bold) if bold else None)

    def _text(self, text: str) -> str:
        if self.font_path:
            return text
        text = unicodedata.normalize("NFKC", text).translate(_TRANSLIT)
        return text.encode("latin-1", "replace").decode("latin-1")

    def render(
        self,
        head: Letterhead,
        markup: str,
        *,
        title: str,
        subject: str,
        author: str,
        created: datetime,
    ) -> bytes:
        pdf = FPDF(format="A4", unit="mm")
        pdf.set_margins(22, 15, 20)
        pdf.set_auto_page_break(True, margin=20)
        pdf.set_creation_date(created)
        pdf.set_title(self._text(title))
        pdf.set_subject(self._text(subject))
        pdf.set_author(self._text(author))
        pdf.set_creator("sopflow")
        if self.font_path:
            pdf.add_font("body", "", self.font_path)
            pdf.add_font("body", "B", self.bold_font_path or self.font_path)
            pdf.add_font("body", "U", self.font_path)
            pdf.add_font("body", "BU", self.bold_font_path or self.font_path)
            body, mono = "body", "body"
        else:
            body, mono = "Helvetica", "Courier"
        pdf.add_page()
        self._letterhead(pdf, head, body)
        width = pdf.w - pdf.l_margin - pdf.r_margin
        for raw in markup.splitlines():
            line = raw.rstrip()
            stripped = line.strip()
            pdf.set_x(pdf.l_margin)
            if not stripped:
                pdf.ln(3)
            elif stripped.startswith("## "):
                pdf.set_font(body, "", 11)
                pdf.cell(
                    width,
                    6,
                    self._text(stripped[3:]),
                    align="C",
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
            elif stripped.startswith("# "):
                pdf.set_font(body, "BU", 12)
                pdf.cell(
                    width,
                    7,
                    self._text(stripped[2:]),
                    align="C",
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
            elif stripped.startswith("|"):
                parts = stripped.strip("|").split("|", 1)
                label, value = (parts + [""])[:2]
                pdf.set_font(body, "", 11)
                pdf.cell(48, 6, self._text(label.strip()))
                pdf.cell(4, 6, ":")
                pdf.multi_cell(
                    width - 52,
                    6,
                    self._text(value.strip()),
                    align="L",
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
            elif stripped == ">" or stripped.startswith("> "):
                pdf.set_font(body, "", 11)
                pdf.set_x(pdf.l_margin + width * 0.55)
                pdf.multi_cell(
                    width * 0.45,
                    6,
                    self._text(stripped[2:]),
                    align="L",
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
            elif stripped.startswith("~ "):
                pdf.set_font(mono, "B", 13)
                pdf.set_x(pdf.l_margin + 10)
                pdf.multi_cell(
                    width - 10,
                    8,
                    self._text(stripped[2:]),
                    align="L",
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
            elif stripped.startswith("[ ]"):
                pdf.set_font(body, "", 11)
                x, y = pdf.l_margin + 4, pdf.get_y() + 1.2
                pdf.rect(x, y, 3.6, 3.6)
                pdf.set_x(x + 6)
                pdf.multi_cell(
                    width - 10,
                    6,
                    self._text(stripped[3:].strip()),
                    align="L",
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
            elif stripped == "---":
                y = pdf.get_y() + 1.5
                pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
                pdf.ln(3)
            else:
                pdf.set_font(body, "", 11)
                pdf.multi_cell(
                    width, 6, self._text(stripped), align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
        return bytes(pdf.output())

    def _letterhead(self, pdf: FPDF, head: Letterhead, body: str) -> None:
        width = pdf.w - pdf.l_margin - pdf.r_margin
        if head.government:
            pdf.set_font(body, "B", 13)
            pdf.cell(
                width,
                6,
                self._text(head.government),
                align="C",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
        pdf.set_font(body, "B", 15)
        pdf.multi_cell(
            width, 7, self._text(head.office), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.set_font(body, "", 9)
        pdf.multi_cell(
            width, 4.5, self._text(head.address), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.multi_cell(
            width, 4.5, self._text(head.contact), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        y = pdf.get_y() + 2
        pdf.set_line_width(0.8)
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.set_line_width(0.2)
        pdf.line(pdf.l_margin, y + 1.2, pdf.w - pdf.r_margin, y + 1.2)
        pdf.set_y(y + 5)

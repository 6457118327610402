"""Letter numbers: one gap-free series per agency, kind of series and year.

:func:`next_number` takes the next number in the caller's transaction (one conditional UPDATE
on ``letter_sequence``; PostgreSQL holds the row lock and SQLite the write lock until commit,
so concurrent letters queue and numbers have no duplicates); :func:`format_number` writes it
the way the agency's letters show it (``LETTER_NUMBER_FORMAT``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.queries.recipients import AgencyInfo

from ..agency_settings import checked_format, setting
from .errors import LetterNumberUnavailable
from .models import LetterSequence

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
NUMBER_FIELDS = {"seq", "year", "month", "roman_month", "unit", "agency"}
DEFAULT_FORMATS = {"surat": "B/{seq:06d}/{unit}/{year}", "agenda": "{seq:06d}/AGENDA/{unit}/{year}"}


def number_format(settings: Mapping[str, Any] | None, agency: AgencyInfo, series: str) -> str:
    key = "number_format" if series == "surat" else f"{series}_number_format"
    default = DEFAULT_FORMATS.get(series, "{seq:06d}/" + series.upper() + "/{unit}/{year}")
    fmt = str(setting(settings, agency, "letter", key, default))
    return checked_format(fmt, NUMBER_FIELDS, f"LETTER_{key.upper()}")


def unit_code(settings: Mapping[str, Any] | None, agency: AgencyInfo) -> str:
    default = (agency.name.split() or [agency.code])[0].upper()
    return str(setting(settings, agency, "letter", "unit", default))


def next_number(s: Session, agency_id: int, series: str, year: int) -> int:
    """The next number of the series in the caller's transaction (no gaps: it rolls back with
    the caller)."""
    for _ in range(5):
        value = s.execute(
            update(LetterSequence)
            .where(
                LetterSequence.agency_id == agency_id,
                LetterSequence.series == series,
                LetterSequence.year == year,
            )
            .values(last_value=LetterSequence.last_value + 1)
            .returning(LetterSequence.last_value)
        ).scalar()
        if value is not None:
            return int(value)
        try:
            with s.begin_nested():
                s.add(LetterSequence(agency_id=agency_id, series=series, year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created the row first: increment it
    raise LetterNumberUnavailable(
        "Could not allocate a letter number",
        "Gagal membuat nomor surat",
        record=f"{series}/{year}",
    )


def format_number(
    settings: Mapping[str, Any] | None, agency: AgencyInfo, series: str, seq: int, moment: datetime
) -> str:
    return number_format(settings, agency, series).format(
        seq=seq,
        year=moment.year,
        month=moment.month,
        roman_month=ROMAN[moment.month - 1],
        unit=unit_code(settings, agency),
        agency=agency.code.upper(),
    )

"""Generated business keys, ``<CODE>/<YYYY>/<NNNNNN>``: one counter per agency and year."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..business_keys import generated_key
from ..context import Context
from ..errors import Conflict
from ..models import BusinessKeySequence, ProcessInstance


def next_business_key(ctx: Context, agency_code: str) -> str:
    """The next generated key of the agency.

    The number is taken and committed in its own short transaction, which the caller must
    not be inside of (on SQLite the start's transaction would hold the single write lock):
    a start that fails afterwards (a bad form, a conflict) cannot roll it back, so no number
    is ever handed out twice and numbers only grow; a failed start leaves a gap. A number
    whose key a request of the agency already has (a key chosen before chosen keys were
    refused the generated shape) is skipped."""
    with ctx.sessions.begin() as s:
        agency = ctx.agency(s, agency_code)
        year = ctx.calendar(s, agency).local_date(ctx.now()).year
        for _ in range(100):
            number = _next_sequence_value(s, agency.id, year)
            key = generated_key(agency.code, year, number)
            taken = s.scalar(
                select(ProcessInstance.id)
                .where(
                    ProcessInstance.agency_id == agency.id,
                    ProcessInstance.business_key == key,
                )
                .limit(1)
            )
            if taken is None:
                return key
    raise Conflict(
        "Could not allocate a business key",
        "Gagal membuat nomor permohonan",
        agency=agency_code,
    )


def _next_sequence_value(s: Session, agency_id: int, year: int) -> int:
    for _ in range(5):
        res = s.execute(
            update(BusinessKeySequence)
            .where(BusinessKeySequence.agency_id == agency_id, BusinessKeySequence.year == year)
            .values(last_value=BusinessKeySequence.last_value + 1)
            .returning(BusinessKeySequence.last_value)
        ).scalar()
        if res is not None:
            return int(res)
        try:
            with s.begin_nested():
                s.add(BusinessKeySequence(agency_id=agency_id, year=year, last_value=0))
        except IntegrityError:
            pass  # another start created the row first: increment it
    raise Conflict("Could not allocate a business key", "Gagal membuat nomor permohonan")

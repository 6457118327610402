"""The agency's working calendar: its overrides of the national calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..actors import Actor
from ..context import Context
from ..errors import PermissionDenied
from ..models import CalendarOverride


def calendar_overrides(ctx: Context, actor: Actor) -> list[CalendarOverride]:
    with ctx.sessions() as s:
        agency = ctx.agency(s, actor.agency)
        return list(
            s.scalars(
                select(CalendarOverride)
                .where(CalendarOverride.agency_id == agency.id)
                .order_by(CalendarOverride.day)
            )
        )


def set_calendar_override(
    ctx: Context, actor: Actor, day: date, working: bool | None, note: str | None = None
) -> CalendarOverride | None:
    """Make ``day`` a working day (True), a day off (False), or follow the national
    calendar again (None). Deadlines already set keep their value; new ones use it."""
    if not actor.is_admin:
        raise PermissionDenied(
            "Only administrators change the calendar",
            "Hanya administrator yang dapat mengubah kalender",
        )
    with ctx.sessions.begin() as s:
        agency = ctx.agency(s, actor.agency)
        row = s.scalar(
            select(CalendarOverride).where(
                CalendarOverride.agency_id == agency.id, CalendarOverride.day == day
            )
        )
        if working is None:
            if row is not None:
                s.delete(row)
        elif row is None:
            row = CalendarOverride(agency_id=agency.id, day=day, working=working, note=note)
            s.add(row)
        else:
            row.working, row.note = working, note
        ctx.history(
            s,
            agency.id,
            "calendar_changed",
            actor.username,
            data={"day": day, "working": working, "note": note},
        )
    ctx.invalidate_calendars()
    return row

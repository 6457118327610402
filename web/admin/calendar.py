"""Holiday overrides: the days the agency makes working or non-working against the national
calendar (cuti bersama announced or moved mid-year), and the next weeks as deadlines see them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import holidays
from flask import flash, g, redirect, render_template, request, url_for

from engine.errors import SopflowError

from ..i18n import current_language, error_text, gettext
from . import bp
from .common import admin_required, engine

DAYS_SHOWN = 31
WEEKDAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
STATES = {"kerja": True, "libur": False, "nasional": None}
# what engine.calendar counts as a national day off: public holidays and cuti bersama
CATEGORIES = ("public", "government")


def national_holidays(years: set[int], country: str) -> dict[date, str]:
    """The holiday names in the reader's language (the engine only needs the dates)."""
    language = "en_US" if current_language() == "en" else "id"
    try:
        table = holidays.country_holidays(
            country, years=sorted(years), categories=CATEGORIES, language=language
        )
    except NotImplementedError:
        return {}
    return dict(table)


def upcoming(days: int = DAYS_SHOWN) -> list[dict[str, Any]]:
    """From today (the agency's local date) on: working or not, the national holiday, and the
    agency's override of the day."""
    e = engine()
    overrides = {o.day: o for o in e.calendar_overrides(g.actor)}
    with e.sessions() as s:
        agency = e.agency(s, g.actor.agency)
        cal = e.calendar(s, agency)
    today = cal.local_date(e.now())
    last = today + timedelta(days=days - 1)
    national = national_holidays({today.year, last.year}, cal.country)
    out = []
    for n in range(days):
        d = today + timedelta(days=n)
        out.append(
            {
                "day": d,
                "weekday": WEEKDAYS[d.weekday()],
                "working": cal.is_working_day(d),
                "weekend": d.weekday() in cal.weekend,
                "holiday": national.get(d),
                "override": overrides.get(d),
            }
        )
    return out


@bp.get("/hari-libur")
@admin_required
def calendar() -> str:
    return render_template(
        "admin/calendar.html",
        overrides=engine().calendar_overrides(g.actor),
        days=upcoming(),
    )


@bp.post("/hari-libur")
@admin_required
def set_override() -> Any:
    raw_day = request.form.get("day", "").strip()
    state = request.form.get("state", "")
    note = request.form.get("note", "").strip()[:200] or None
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        flash(gettext("Tanggal tidak sah (gunakan TTTT-BB-HH)."), "error")
        return redirect(url_for("admin.calendar"))
    if state not in STATES:
        flash(gettext("Pilih jenis hari."), "error")
        return redirect(url_for("admin.calendar"))
    working = STATES[state]
    try:
        engine().set_calendar_override(g.actor, day, working, note)
    except SopflowError as e:
        flash(error_text(e), "error")
    else:
        shown = day.strftime("%d-%m-%Y")
        if working is None:
            flash(gettext("%(day)s kembali mengikuti kalender nasional.", day=shown), "ok")
        elif working:
            flash(gettext("%(day)s ditetapkan sebagai hari kerja.", day=shown), "ok")
        else:
            flash(gettext("%(day)s ditetapkan sebagai hari libur.", day=shown), "ok")
    return redirect(url_for("admin.calendar"))

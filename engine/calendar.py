"""The Indonesian working-day calendar that SLA deadlines (``workdays(n)``) are counted on.

A day off is a weekend day, a national holiday, or a *cuti bersama* (joint leave, which the
``holidays`` package files under its "government" category); an agency's overrides win over
both, because the government announces extra joint leave or swaps mid-year. Days are counted in
the agency's own time zone: the same instant can be Friday in WIB and Saturday in WITA.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from .errors import ConfigurationError

_CATEGORIES = ("public", "government")
_MAX_GAP = 370  # no run of days off is this long; a longer search means a broken configuration


class WorkingCalendar:
    def __init__(
        self,
        tz: str = "Asia/Jakarta",
        country: str = "ID",
        overrides: Mapping[date, bool] | None = None,
        weekend: tuple[int, ...] = (5, 6),
    ) -> None:
        try:
            self.tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"Unknown time zone '{tz}'", f"Zona waktu '{tz}' tidak dikenal", tz=tz
            )
        if set(weekend) >= set(range(7)):
            raise ConfigurationError(
                "A week needs at least one working day",
                "Seminggu butuh paling sedikit satu hari kerja",
            )
        self.country = country
        self.weekend = frozenset(weekend)
        self._overrides = dict(overrides or {})
        self._years: dict[int, dict[date, str]] = {}
        self._holidays(date.today().year)  # an unsupported country fails here, at start-up

    def _holidays(self, year: int) -> dict[date, str]:
        # Filled lazily; two threads may both build a year, and both results are equal.
        found = self._years.get(year)
        if found is None:
            try:
                table = holidays.country_holidays(self.country, years=year, categories=_CATEGORIES)
            except NotImplementedError:
                raise ConfigurationError(
                    f"No holiday calendar for country '{self.country}'",
                    f"Tidak ada kalender libur untuk negara '{self.country}'",
                    country=self.country,
                )
            found = self._years.setdefault(year, dict(table))
        return found

    def holiday_name(self, d: date) -> str | None:
        """Why d is a day off other than a weekend: the holiday's name, or "override"."""
        d = _plain_date(d)
        if d in self._overrides:
            return None if self._overrides[d] else "override"
        return self._holidays(d.year).get(d)

    def is_working_day(self, d: date) -> bool:
        d = _plain_date(d)
        if d in self._overrides:
            return self._overrides[d]
        return d.weekday() not in self.weekend and d not in self._holidays(d.year)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after d."""
        d = _plain_date(d)
        for _ in range(_MAX_GAP):
            d += timedelta(days=1)
            if self.is_working_day(d):
                return d
        raise ConfigurationError(
            f"No working day within {_MAX_GAP} days after {d}",
            f"Tidak ada hari kerja dalam {_MAX_GAP} hari setelah {d}",
        )

    def local_date(self, moment: datetime) -> date:
        return self._local(moment).date()

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The SLA deadline n working days after start, as an aware UTC datetime.

        The rule: take start in the agency's local time. If that day is not a working day, the
        clock starts at 00:00 local on the next working day (a request filed on Saturday is
        counted from Monday morning). The deadline is the same local time of day on the n-th
        following working day, skipping weekends, holidays and cuti bersama and honouring
        overrides: Monday 10:00 + 3 is Thursday 10:00; Saturday 09:00 + 3 is Thursday 00:00,
        i.e. the end of Wednesday. n == 0 gives the (adjusted) start.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        day, clock = self._working_position(start)
        for _ in range(n):
            day = self.next_working_day(day)
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Whole working days from start to end (negative if end is earlier), truncated to zero.

        It is the inverse of :meth:`add_working_days`: for n >= 0,
        ``working_days_between(s, add_working_days(s, n)) == n``.
        """
        (d1, t1), (d2, t2) = self._working_position(start), self._working_position(end)
        sign = 1
        if (d2, t2) < (d1, t1):
            (d1, t1), (d2, t2), sign = (d2, t2), (d1, t1), -1
        count, day = 0, d1
        while day < d2:
            day = self.next_working_day(day)
            count += 1
        if t2 < t1:
            count -= 1  # the last day has begun but not yet run to start's time of day
        return sign * count

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a timezone-aware datetime is required")
        return moment.astimezone(self.tz)

    def _working_position(self, moment: datetime) -> tuple[date, time]:
        """Where moment falls on the working-day clock: a working day and a local time of day."""
        local = self._local(moment)
        if self.is_working_day(local.date()):
            return local.date(), local.time()
        return self.next_working_day(local.date()), time()


def _plain_date(d: date) -> date:
    if isinstance(d, datetime):
        # a datetime's date depends on its zone; make the caller say which via local_date()
        raise TypeError("pass a date; use local_date() to turn a datetime into one")
    return d

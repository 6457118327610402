from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import WorkingCalendar
from engine.errors import ConfigurationError

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def local(cal: WorkingCalendar, moment: datetime) -> datetime:
    return moment.astimezone(cal.tz)


# --------------------------------------------------------------------------- days off


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 3, 18),  # Nyepi joint holiday
        date(2026, 3, 19),  # Nyepi
        date(2026, 3, 20),  # Eid al-Fitr joint holiday (cuti bersama)
        date(2026, 3, 23),  # Eid al-Fitr joint holiday
        date(2026, 3, 24),  # Eid al-Fitr joint holiday
        date(2026, 8, 17),  # Independence Day
        date(2026, 12, 24),  # Christmas joint holiday
        date(2026, 12, 25),  # Christmas
        date(2026, 11, 28),  # Saturday
        date(2026, 11, 29),  # Sunday
    ],
)
def test_days_off(cal: WorkingCalendar, day: date) -> None:
    assert not cal.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 3, 17), date(2026, 3, 25), date(2026, 12, 23)])
def test_working_days(cal: WorkingCalendar, day: date) -> None:
    assert cal.is_working_day(day)


def test_holiday_names_include_cuti_bersama(cal: WorkingCalendar) -> None:
    assert cal.holiday_name(date(2026, 3, 20)) == "Eid al-Fitr Joint Holiday"
    assert cal.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert cal.holiday_name(date(2026, 3, 25)) is None
    assert cal.holiday_name(date(2026, 11, 28)) is None  # a weekend is not a holiday


def test_next_working_day_jumps_the_eid_break(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(date(2026, 3, 17)) == date(2026, 3, 25)
    assert cal.next_working_day(date(2026, 11, 27)) == date(2026, 11, 30)  # Friday -> Monday
    assert cal.next_working_day(date(2026, 11, 28)) == date(2026, 11, 30)  # strictly after


def test_dates_only_not_datetimes(cal: WorkingCalendar) -> None:
    with pytest.raises(TypeError, match="local_date"):
        cal.is_working_day(wib(2026, 3, 20, 10))


# --------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (wib(2026, 11, 23, 10), 3, wib(2026, 11, 26, 10)),  # Monday 10:00 + 3 -> Thursday
        (wib(2026, 11, 28, 9), 3, wib(2026, 12, 3, 0)),  # Saturday -> Thursday 00:00
        (wib(2026, 11, 27, 15), 1, wib(2026, 11, 30, 15)),  # Friday -> Monday
        (wib(2026, 11, 27, 15), 0, wib(2026, 11, 27, 15)),
        (wib(2026, 11, 28, 15), 0, wib(2026, 11, 30, 0)),  # n == 0 still adjusts
        (wib(2026, 3, 17, 10), 1, wib(2026, 3, 25, 10)),  # across Nyepi, Eid and cuti bersama
        (wib(2026, 3, 16, 8, 30), 3, wib(2026, 3, 26, 8, 30)),
        (wib(2026, 3, 20, 10), 1, wib(2026, 3, 26, 0)),  # filed on cuti bersama
        (wib(2026, 12, 23, 10), 1, wib(2026, 12, 28, 10)),  # across Christmas
        (wib(2026, 12, 22, 10), 3, wib(2026, 12, 29, 10)),
    ],
)
def test_add_working_days(
    cal: WorkingCalendar, start: datetime, n: int, expected: datetime
) -> None:
    result = cal.add_working_days(start, n)
    assert result == expected
    assert result.tzinfo is UTC


def test_add_working_days_refusals(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="n must be"):
        cal.add_working_days(wib(2026, 11, 23, 10), -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_days(datetime(2026, 11, 23, 10), 1)


def test_utc_start_is_converted_to_local_first(cal: WorkingCalendar) -> None:
    # Sunday 20:00 UTC is Monday 03:00 WIB: a working day, so no reset to midnight
    start = datetime(2026, 11, 22, 20, tzinfo=UTC)
    assert local(cal, cal.add_working_days(start, 1)) == wib(2026, 11, 24, 3)


# --------------------------------------------------------------------------- overrides


def test_override_adds_a_day_off() -> None:
    cal = WorkingCalendar(overrides={date(2026, 11, 24): False})  # extra cuti bersama
    assert not cal.is_working_day(date(2026, 11, 24))
    assert cal.holiday_name(date(2026, 11, 24)) == "override"
    assert cal.add_working_days(wib(2026, 11, 23, 10), 1) == wib(2026, 11, 25, 10)


def test_override_makes_a_working_day() -> None:
    cal = WorkingCalendar(overrides={date(2026, 11, 28): True, date(2026, 3, 20): True})
    assert cal.is_working_day(date(2026, 11, 28))  # a Saturday made a working day
    assert cal.is_working_day(date(2026, 3, 20))  # a cuti bersama cancelled
    assert cal.holiday_name(date(2026, 3, 20)) is None
    assert cal.add_working_days(wib(2026, 11, 27, 10), 1) == wib(2026, 11, 28, 10)
    assert cal.add_working_days(wib(2026, 3, 17, 10), 1) == wib(2026, 3, 20, 10)


def test_custom_weekend() -> None:
    cal = WorkingCalendar(weekend=(4, 5))  # Friday and Saturday off
    assert cal.is_working_day(date(2026, 11, 29))  # Sunday
    assert not cal.is_working_day(date(2026, 11, 27))


def test_bad_configuration_fails_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="time zone"):
        WorkingCalendar(tz="Asia/Atlantis")
    with pytest.raises(ConfigurationError, match="country"):
        WorkingCalendar(country="XX")
    with pytest.raises(ConfigurationError, match="working day"):
        WorkingCalendar(weekend=tuple(range(7)))


# --------------------------------------------------------------------------- time zones


def test_same_instant_on_different_local_dates() -> None:
    instant = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # a Friday in UTC
    jakarta = WorkingCalendar(tz="Asia/Jakarta")
    pontianak = WorkingCalendar(tz="Asia/Pontianak")
    makassar = WorkingCalendar(tz="Asia/Makassar")
    assert jakarta.local_date(instant) == date(2026, 11, 27)  # Friday 23:30 WIB
    assert pontianak.local_date(instant) == date(2026, 11, 27)  # WIB too
    assert makassar.local_date(instant) == date(2026, 11, 28)  # Saturday 00:30 WITA
    # so the same request is due at different moments
    assert jakarta.add_working_days(instant, 1) == wib(2026, 11, 30, 23, 30)
    assert makassar.add_working_days(instant, 1) == datetime(2026, 12, 1, 0, 0, tzinfo=WITA)


def test_local_date_needs_an_aware_datetime(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.local_date(datetime(2026, 1, 1))


# --------------------------------------------------------------------------- counting


def test_working_days_between_examples(cal: WorkingCalendar) -> None:
    monday = wib(2026, 11, 23, 10)
    assert cal.working_days_between(monday, wib(2026, 11, 26, 10)) == 3
    assert cal.working_days_between(monday, wib(2026, 11, 26, 9, 59)) == 2  # not quite
    assert cal.working_days_between(monday, wib(2026, 11, 23, 17)) == 0
    assert (
        cal.working_days_between(monday, wib(2026, 11, 28, 12)) == 4
    )  # Saturday counts as Monday 00:00
    assert cal.working_days_between(wib(2026, 11, 26, 10), monday) == -3
    assert cal.working_days_between(wib(2026, 3, 17, 10), wib(2026, 3, 25, 10)) == 1


def test_round_trip_over_a_year(cal: WorkingCalendar) -> None:
    """Every 7 hours through 2026, in two zones: counting undoes adding, both ways."""
    for calendar in (cal, WorkingCalendar(tz="Asia/Makassar")):
        moment = datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
        while moment.year == 2026:
            for n in (0, 1, 2, 5, 12):
                due = calendar.add_working_days(moment, n)
                assert calendar.working_days_between(moment, due) == n, (moment, n)
                assert calendar.working_days_between(due, moment) == -n, (moment, n)
                assert calendar.is_working_day(calendar.local_date(due))
            moment += timedelta(hours=7)


def test_deadlines_across_the_year_boundary(cal: WorkingCalendar) -> None:
    # 31 Dec 2026 is a Thursday; 1 Jan 2027 is New Year's Day
    assert cal.add_working_days(wib(2026, 12, 31, 10), 1) == wib(2027, 1, 4, 10)

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pytest

from engine.errors import TimerError
from engine.timers import (
    Cycle,
    Duration,
    parse_cycle,
    parse_datetime,
    parse_duration,
    resolve_due,
)

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P3D", Duration(days=3)),
        ("PT15M", Duration(minutes=15)),
        ("P1Y2M10DT2H30M", Duration(years=1, months=2, days=10, hours=2, minutes=30)),
        ("P2W", Duration(weeks=2)),
        ("PT1.5S", Duration(seconds=1.5)),
        ("PT0,5S", Duration(seconds=0.5)),
        ("p3d", Duration(days=3)),
        ("pt1h", Duration(hours=1)),
        ("  P7D\n", Duration(days=7)),
        ("P1DT12H", Duration(days=1, hours=12)),
        ("P0D", Duration()),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["P", "PT", "P1H", "3D", "garbage", "-P1D", "P-1D", "P1DT", "P1.5D", "PT1H2", "", "R/P1D"],
)
def test_parse_duration_refusals(text: str) -> None:
    with pytest.raises(TimerError) as info:
        parse_duration(text)
    assert f"'{text}'" in info.value.text("en")
    assert "Bukan durasi ISO 8601" in info.value.text("id")
    assert info.value.context["timer"] == text


def test_duration_cannot_be_negative() -> None:
    with pytest.raises(TimerError, match="negative"):
        Duration(days=-1)


def test_duration_isoformat_round_trips() -> None:
    for text in ("P1Y2M10DT2H30M", "P2W", "PT1.5S", "P3D", "PT15M"):
        assert parse_duration(text).isoformat() == text
    assert Duration().isoformat() == "PT0S"


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (datetime(2026, 1, 31, 10), "P1M", datetime(2026, 2, 28, 10)),
        (datetime(2028, 1, 31, 10), "P1M", datetime(2028, 2, 29, 10)),
        (datetime(2026, 3, 31), "P1M", datetime(2026, 4, 30)),
        (datetime(2026, 12, 15), "P1M", datetime(2027, 1, 15)),
        (datetime(2026, 11, 30), "P3M", datetime(2027, 2, 28)),
        (datetime(2028, 2, 29), "P1Y", datetime(2029, 2, 28)),
        (datetime(2026, 1, 31), "P1M1D", datetime(2026, 3, 1)),
        (datetime(2026, 12, 31, 23, 30), "PT45M", datetime(2027, 1, 1, 0, 15)),
        (datetime(2026, 3, 1), "P2W", datetime(2026, 3, 15)),
        (datetime(2026, 3, 1), "PT1.5S", datetime(2026, 3, 1, 0, 0, 1, 500_000)),
    ],
)
def test_add_to_is_calendar_aware(start: datetime, duration: str, expected: datetime) -> None:
    assert parse_duration(duration).add_to(start) == expected
    aware = parse_duration(duration).add_to(start.replace(tzinfo=WIB))
    assert aware == expected.replace(tzinfo=WIB)
    assert aware.tzinfo is WIB


def test_add_to_keeps_wall_clock_days_but_elapsed_hours_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    before = datetime(2026, 3, 28, 12, tzinfo=berlin)  # DST starts on 29 March
    assert parse_duration("P1D").add_to(before) == datetime(2026, 3, 29, 12, tzinfo=berlin)
    assert parse_duration("PT24H").add_to(before) == datetime(2026, 3, 29, 13, tzinfo=berlin)


def test_add_to_out_of_range_is_a_timer_error() -> None:
    with pytest.raises(TimerError, match="out of range"):
        parse_duration("P99999Y").add_to(datetime(2026, 1, 1))


# --------------------------------------------------------------------------- date-times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T08:00:00", datetime(2026, 12, 1, 1, 0, tzinfo=UTC)),
        ("2026-12-01T08:00", datetime(2026, 12, 1, 1, 0, tzinfo=UTC)),
        ("2026-12-01T08:00:00Z", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
        ("2026-12-01t08:00:00z", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
        ("2026-12-01T08:00:00+08:00", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 11, 30, 17, 0, tzinfo=UTC)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    result = parse_datetime(text, WIB)
    assert result == expected
    assert result.tzinfo is UTC


def test_parse_datetime_naive_follows_the_agency_zone() -> None:
    assert parse_datetime("2026-12-01", WITA) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "tomorrow", "2026-13-01", "01/12/2026", "P3D"])
def test_parse_datetime_refusals(text: str) -> None:
    with pytest.raises(TimerError, match="Not an ISO 8601 date-time"):
        parse_datetime(text, WIB)


# --------------------------------------------------------------------------- cycles


def test_parse_cycle_forms() -> None:
    assert parse_cycle("R/P1D", WIB) == Cycle(None, Duration(days=1), tz=WIB)
    assert parse_cycle("R6/P1D", WIB).repetitions == 6
    assert parse_cycle("r3/pt10m", WIB) == Cycle(3, Duration(minutes=10), tz=WIB)
    started = parse_cycle("R3/2026-12-01T08:00:00/P1D", WIB)
    assert started.start == datetime(2026, 12, 1, 1, tzinfo=UTC)
    assert started.end is None
    ending = parse_cycle("R3/P1D/2026-12-31T00:00:00", WIB)
    assert ending.end == datetime(2026, 12, 30, 17, tzinfo=UTC)
    assert ending.start is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0 0/5 * * * ?", "Cron expressions are not supported"),
        ("0 0 12 * * MON-FRI", "Cron expressions are not supported"),
        ("P1D", "Not an ISO 8601 repeating interval"),
        ("R3", "Not an ISO 8601 repeating interval"),
        ("R3/P1D/2026-12-31/x", "Not an ISO 8601 repeating interval"),
        ("Rx/P1D", "Not an ISO 8601 repeating interval"),
        ("R0/P1D", "R0 never fires"),
        ("R/PT0S", "longer than zero"),
        ("R/P1H", "Not an ISO 8601 duration"),
        ("R3/2026-12-01/2026-12-05", "not R3/<start>/<end>"),
        ("R3/P1D/someday", "Not an ISO 8601 date-time"),
    ],
)
def test_parse_cycle_refusals(text: str, fragment: str) -> None:
    with pytest.raises(TimerError) as info:
        parse_cycle(text, WIB)
    assert fragment in info.value.text("en")


def test_cron_refusal_is_bilingual_and_points_to_iso() -> None:
    with pytest.raises(TimerError) as info:
        parse_cycle("0 0/5 * * * ?", WIB)
    assert "R/P" in info.value.text("en")
    assert "cron tidak didukung" in info.value.text("id")


def test_unanchored_cycle_follows_now() -> None:
    cycle = parse_cycle("R3/PT10M", WIB)
    first = cycle.first_due(NOW)
    assert first == NOW + timedelta(minutes=10)
    assert cycle.next_due(first) == NOW + timedelta(minutes=20)


def test_started_cycle_waits_for_its_start() -> None:
    cycle = parse_cycle("R3/2026-12-01T08:00:00/P1D", WIB)
    start = datetime(2026, 12, 1, 1, tzinfo=UTC)
    assert cycle.first_due(NOW) == start
    assert cycle.next_due(start) == start + timedelta(days=1)
    assert cycle.next_due(NOW) == start  # before the start, the start comes next


def test_started_cycle_skips_missed_moments_and_runs_out() -> None:
    cycle = parse_cycle("R3/2026-12-01T08:00:00/P1D", WIB)
    start = datetime(2026, 12, 1, 1, tzinfo=UTC)
    assert cycle.first_due(start) == start  # at the moment itself: due now
    assert cycle.first_due(start + timedelta(hours=1)) == start + timedelta(days=1)
    assert cycle.first_due(start + timedelta(days=2)) == start + timedelta(days=2)
    with pytest.raises(TimerError, match="no due moment left"):
        cycle.first_due(start + timedelta(days=2, seconds=1))


def test_unbounded_started_cycle_far_in_the_past_is_computed_not_looped() -> None:
    cycle = parse_cycle("R/2020-01-01T00:00:00/PT1M", WIB)
    now = datetime(2026, 6, 1, 12, 0, 30, tzinfo=UTC)
    assert cycle.first_due(now) == datetime(2026, 6, 1, 12, 1, tzinfo=UTC)


def test_monthly_cycle_does_not_drift_at_month_ends() -> None:
    cycle = parse_cycle("R/2026-01-31T08:00:00/P1M", WIB)
    due = cycle.first_due(datetime(2026, 1, 1, tzinfo=UTC))
    seen = []
    for _ in range(5):
        seen.append(due.astimezone(WIB).date())
        due = cycle.next_due(due)
    assert seen == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    later = cycle.first_due(datetime(2030, 5, 1, tzinfo=UTC))
    assert later == datetime(2030, 5, 31, 1, tzinfo=UTC)


def test_monthly_cycle_counts_months_in_local_time() -> None:
    # 03:00 WIB on 1 March is still 28 February in UTC; months must follow the local date
    cycle = parse_cycle("R/2026-03-01T03:00:00/P1M", WIB)
    second = cycle.next_due(cycle.first_due(datetime(2026, 2, 1, tzinfo=UTC)))
    assert second.astimezone(WIB) == datetime(2026, 4, 1, 3, tzinfo=WIB)


def test_cycle_with_end_counts_back_from_the_end() -> None:
    cycle = parse_cycle("R3/P1D/2026-12-31T00:00:00", WIB)
    due = cycle.first_due(NOW)
    moments = [due]
    for _ in range(2):
        moments.append(cycle.next_due(moments[-1]))
    assert [m.astimezone(WIB).date() for m in moments] == [
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
    ]
    assert all(m.astimezone(WIB).hour == 0 for m in moments)
    near_end = datetime(2026, 12, 30, 12, tzinfo=UTC)
    assert cycle.first_due(near_end) == datetime(2026, 12, 30, 17, tzinfo=UTC)  # 31 Dec 00:00 WIB
    with pytest.raises(TimerError, match="no due moment left"):
        cycle.first_due(datetime(2027, 1, 1, tzinfo=UTC))


def test_cycle_needs_aware_moments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_cycle("R/P1D", WIB).first_due(datetime(2026, 1, 1))


def test_cycle_results_are_utc() -> None:
    cycle = parse_cycle("R/P1D", WIB)
    assert cycle.first_due(NOW.astimezone(WITA)).tzinfo is UTC
    assert cycle.next_due(NOW.astimezone(WITA)) == NOW + timedelta(days=1)


# --------------------------------------------------------------------------- resolve_due


def test_resolve_due_from_text() -> None:
    assert resolve_due("duration", "P3D", NOW, WIB) == NOW + timedelta(days=3)
    assert resolve_due("duration", "PT15M", NOW, WIB) == NOW + timedelta(minutes=15)
    assert resolve_due("date", "2026-12-01T08:00:00", NOW, WIB) == datetime(
        2026, 12, 1, 1, tzinfo=UTC
    )
    assert resolve_due("cycle", "R/PT10M", NOW, WIB) == NOW + timedelta(minutes=10)


def test_resolve_due_month_from_local_month_end() -> None:
    now = datetime(2026, 1, 31, 1, tzinfo=UTC)  # 31 Jan 08:00 WIB
    assert resolve_due("duration", "P1M", now, WIB) == datetime(2026, 2, 28, 1, tzinfo=UTC)


def test_resolve_due_takes_an_evaluated_datetime_as_is() -> None:
    due = datetime(2026, 11, 26, 9, tzinfo=WIB)  # e.g. what workdays(3) returned
    kinds: tuple[Literal["date", "duration", "cycle"], ...] = ("date", "duration", "cycle")
    for kind in kinds:
        result = resolve_due(kind, due, NOW, WIB)
        assert result == due
        assert result.tzinfo is UTC
    assert resolve_due("date", datetime(2026, 12, 1, 8), NOW, WITA) == datetime(
        2026, 12, 1, 0, tzinfo=UTC
    )
    assert resolve_due("date", date(2026, 12, 1), NOW, WIB) == datetime(
        2026, 11, 30, 17, tzinfo=UTC
    )


def test_resolve_due_refusals() -> None:
    with pytest.raises(TimerError, match="Not an ISO 8601 duration"):
        resolve_due("duration", "3 days", NOW, WIB)
    with pytest.raises(TimerError, match="needs text or a date-time"):
        resolve_due("duration", 3, NOW, WIB)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timer kind"):
        resolve_due("weekly", "P1D", NOW, WIB)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve_due("duration", "P1D", datetime(2026, 1, 1), WIB)

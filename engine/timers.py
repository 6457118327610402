"""ISO 8601 timers exactly as Camunda Modeler writes them: ``P3D``, ``R3/P1D``, dates.

Calendar parts of a duration (years, months, weeks, days) are added in the agency's local wall
time, so ``P1D`` keeps the time of day and ``P1M`` from 31 January lands on the last day of
February; clock parts (hours, minutes, seconds) are added as elapsed time. Every moment leaving
this module is an aware UTC datetime, which is what the job tables store and compare.
"""

from __future__ import annotations

import math
import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .errors import TimerError

_DURATION = re.compile(
    r"P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?"
)
_DAY_SECONDS = 86_400


def _error(en: str, id_: str, text: object) -> TimerError:
    return TimerError(en, id_, timer=str(text))


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: float = 0

    def __post_init__(self) -> None:
        if min(self._fields()) < 0:
            raise _error(
                "A duration cannot be negative", "Durasi tidak boleh negatif", self.isoformat()
            )

    def _fields(self) -> tuple[float, ...]:
        return (
            self.years,
            self.months,
            self.weeks,
            self.days,
            self.hours,
            self.minutes,
            self.seconds,
        )

    @property
    def is_zero(self) -> bool:
        return not any(self._fields())

    def isoformat(self) -> str:
        units = (
            (self.years, "Y"),
            (self.months, "M"),
            (self.weeks, "W"),
            (self.days, "D"),
        )
        clock = ((self.hours, "H"), (self.minutes, "M"), (f"{self.seconds:g}", "S"))
        date_part = "".join(f"{v}{u}" for v, u in units if v)
        time_part = "".join(f"{v}{u}" for v, u in clock if v and v != "0")
        if not date_part and not time_part:
            return "PT0S"
        return "P" + date_part + (f"T{time_part}" if time_part else "")

    def times(self, n: int) -> Duration:
        """n intervals as one duration, so the k-th repetition does not drift at month ends."""
        return Duration(
            self.years * n,
            self.months * n,
            self.weeks * n,
            self.days * n,
            self.hours * n,
            self.minutes * n,
            self.seconds * n,
        )

    def approx_seconds(self) -> float:
        """Only for estimating how many intervals fit in a span; never for a due moment."""
        days = self.years * 365.2425 + self.months * 30.436875 + self.weeks * 7 + self.days
        return days * _DAY_SECONDS + self.hours * 3600 + self.minutes * 60 + self.seconds

    def add_to(self, start: datetime) -> datetime:
        return self._shift(start, 1)

    def subtract_from(self, start: datetime) -> datetime:
        return self._shift(start, -1)

    def _shift(self, start: datetime, sign: int) -> datetime:
        try:
            moment = _add_months(start, sign * (self.years * 12 + self.months))
            # wall-clock days: P1D is "same time tomorrow" even across a DST change
            moment += sign * timedelta(weeks=self.weeks, days=self.days)
            clock = sign * timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)
            if moment.tzinfo is None or not clock:
                return moment + clock
            return (moment.astimezone(UTC) + clock).astimezone(moment.tzinfo)
        except (OverflowError, ValueError):
            raise _error(
                f"Timer moment out of range: {start.isoformat()} + {self.isoformat()}",
                f"Waktu timer di luar jangkauan: {start.isoformat()} + {self.isoformat()}",
                self.isoformat(),
            )


def _add_months(moment: datetime, months: int) -> datetime:
    if not months:
        return moment
    year, month0 = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    day = min(moment.day, monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def parse_duration(text: str) -> Duration:
    """``P3D``, ``PT15M``, ``P1Y2M10DT2H30M``, ``P2W``, ``PT1.5S``; a fraction only on seconds."""
    cleaned = text.strip().upper() if isinstance(text, str) else ""
    m = _DURATION.fullmatch(cleaned)
    if m is None:
        raise _error(
            f"Not an ISO 8601 duration: '{text}' (examples: P3D, PT15M, P1DT12H)",
            f"Bukan durasi ISO 8601: '{text}' (contoh: P3D, PT15M, P1DT12H)",
            text,
        )
    y, mo, w, d, h, mi, s = m.groups()
    return Duration(
        years=int(y or 0),
        months=int(mo or 0),
        weeks=int(w or 0),
        days=int(d or 0),
        hours=int(h or 0),
        minutes=int(mi or 0),
        seconds=float(s.replace(",", ".")) if s else 0,
    )


def parse_datetime(text: str, tz: ZoneInfo) -> datetime:
    """An ISO date-time; without an offset it is the agency's local time, a bare date is 00:00."""
    try:
        moment = datetime.fromisoformat(text.strip().upper())
    except (AttributeError, ValueError):
        raise _error(
            f"Not an ISO 8601 date-time: '{text}' (example: 2026-12-01T08:00:00)",
            f"Bukan tanggal-waktu ISO 8601: '{text}' (contoh: 2026-12-01T08:00:00)",
            text,
        )
    return _to_utc(moment, tz)


def _to_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")


@dataclass(frozen=True)
class Cycle:
    """A repeating timer. It knows where due moments fall; the caller counts how many fired.

    With ``start`` the moments are start, start + interval, ...; with ``end`` (Camunda's
    ``R3/P1D/<end>``) they count back from end, the last being end itself; with neither they
    follow on from the moment asked about. Moments are computed from the anchor as k intervals,
    so a monthly cycle that starts on the 31st comes back to the 31st whenever the month has one.
    """

    repetitions: int | None
    interval: Duration
    start: datetime | None = None
    end: datetime | None = None
    tz: ZoneInfo | None = None  # the wall clock that calendar parts of the interval follow

    def __post_init__(self) -> None:
        if self.interval.is_zero:
            raise _error(
                "A cycle needs an interval longer than zero",
                "Siklus butuh interval lebih dari nol",
                self.interval.isoformat(),
            )
        if self.start is not None and self.end is not None:
            raise _error(
                "A cycle has a start or an end, not both",
                "Siklus punya awal atau akhir, tidak keduanya",
                self.interval.isoformat(),
            )
        for moment in (self.start, self.end):
            if moment is not None:
                _require_aware(moment, "Cycle start/end")

    def first_due(self, now: datetime) -> datetime:
        """The first moment at or after now; TimerError if the cycle has already run out."""
        _require_aware(now, "now")
        if self.start is not None:
            k = max(0, self._index(now, strict=False))
            if self.repetitions is not None and k >= self.repetitions:
                raise self._over(now)
            return self._point(k)
        if self.end is not None:
            k = self._index(now, strict=False)
            if k > 0:
                raise self._over(now)
            if self.repetitions is not None:
                k = max(k, 1 - self.repetitions)
            return self._point(k)
        return self.interval.add_to(self._local(now)).astimezone(UTC)

    def next_due(self, previous_due: datetime) -> datetime:
        """The moment after previous_due. Stopping after ``repetitions`` is the caller's job."""
        _require_aware(previous_due, "previous_due")
        if self.start is not None:
            return self._point(max(0, self._index(previous_due, strict=True)))
        if self.end is not None:
            return self._point(self._index(previous_due, strict=True))
        return self.interval.add_to(self._local(previous_due)).astimezone(UTC)

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz) if self.tz is not None else moment

    def _anchor(self) -> datetime:
        anchor = self.start if self.start is not None else self.end
        assert anchor is not None
        return self._local(anchor)

    def _point(self, k: int) -> datetime:
        """The anchor shifted by k intervals (k < 0 goes back)."""
        span = self.interval.times(abs(k))
        anchor = self._anchor()
        moment = span.add_to(anchor) if k >= 0 else span.subtract_from(anchor)
        return moment.astimezone(UTC)

    def _index(self, target: datetime, strict: bool) -> int:
        """The smallest k whose point is at (strict: after) target; estimated, then stepped."""
        elapsed = (target - self._anchor()).total_seconds()
        k = math.floor(elapsed / self.interval.approx_seconds())

        def before(point: datetime) -> bool:
            return point <= target if strict else point < target

        while not before(self._point(k - 1)):
            k -= 1
        while before(self._point(k)):
            k += 1
        return k

    def _over(self, now: datetime) -> TimerError:
        return _error(
            f"The timer cycle has no due moment left after {now.isoformat()}",
            f"Siklus timer tidak punya jadwal lagi setelah {now.isoformat()}",
            self.interval.isoformat(),
        )


def parse_cycle(text: str, tz: ZoneInfo) -> Cycle:
    """``R/P1D``, ``R3/PT10M``, ``R3/<start>/P1D``, ``R3/P1D/<end>``; cron is refused."""
    cleaned = text.strip() if isinstance(text, str) else ""
    parts = cleaned.split("/")
    head = re.fullmatch(r"[Rr](\d*)", parts[0])
    if head is None or len(parts) not in (2, 3):
        if len(cleaned.split()) >= 5 or any(c in cleaned for c in "*?"):
            raise _error(
                f"Cron expressions are not supported: '{text}'; use ISO 8601 such as R/P1D "
                "or R3/2026-12-01T08:00:00/P1D",
                f"Ekspresi cron tidak didukung: '{text}'; pakai ISO 8601 seperti R/P1D "
                "atau R3/2026-12-01T08:00:00/P1D",
                text,
            )
        raise _error(
            f"Not an ISO 8601 repeating interval: '{text}' (examples: R/P1D, R3/PT10M, "
            "R3/2026-12-01T08:00:00/P1D)",
            f"Bukan interval berulang ISO 8601: '{text}' (contoh: R/P1D, R3/PT10M, "
            "R3/2026-12-01T08:00:00/P1D)",
            text,
        )
    repetitions = int(head.group(1)) if head.group(1) else None
    if repetitions == 0:
        raise _error(f"R0 never fires: '{text}'", f"R0 tidak pernah berjalan: '{text}'", text)
    rest = parts[1:]
    start = end = None
    if len(rest) == 1:
        interval = parse_duration(rest[0])
    elif rest[1].strip().upper().startswith("P"):
        start, interval = parse_datetime(rest[0], tz), parse_duration(rest[1])
    elif rest[0].strip().upper().startswith("P"):
        interval, end = parse_duration(rest[0]), parse_datetime(rest[1], tz)
    else:
        raise _error(
            f"Give the cycle a duration: '{text}' (R3/<start>/P1D, not R3/<start>/<end>)",
            f"Siklus butuh durasi: '{text}' (R3/<awal>/P1D, bukan R3/<awal>/<akhir>)",
            text,
        )
    try:
        return Cycle(repetitions, interval, start, end, tz)
    except TimerError as e:
        raise _error(f"{e.message_en}: '{text}'", f"{e.message_id}: '{text}'", text)


def resolve_due(
    kind: Literal["date", "duration", "cycle"],
    value: str | date,
    now: datetime,
    tz: ZoneInfo,
) -> datetime:
    """The aware UTC due moment of a timer whose expression evaluated to ``value``.

    A datetime (``workdays(3)``) is the due moment itself and a date is its local midnight;
    text is read per kind: a date-time, a duration from now, or a cycle's first moment.
    """
    _require_aware(now, "now")
    if kind not in ("date", "duration", "cycle"):
        raise ValueError(f"unknown timer kind {kind!r}")
    if isinstance(value, datetime):
        return _to_utc(value, tz)
    if isinstance(value, date):
        return _to_utc(datetime.combine(value, time()), tz)
    if not isinstance(value, str):
        raise _error(
            f"A {kind} timer needs text or a date-time, got {type(value).__name__}",
            f"Timer {kind} butuh teks atau tanggal-waktu, bukan {type(value).__name__}",
            value,
        )
    if kind == "date":
        return parse_datetime(value, tz)
    if kind == "duration":
        return parse_duration(value).add_to(now.astimezone(tz)).astimezone(UTC)
    return parse_cycle(value, tz).first_due(now)

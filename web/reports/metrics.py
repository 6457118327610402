"""The numbers of the reports page: pure functions over plain rows, plus the two queries that
fetch those rows for one agency and period.

Definitions (also in the page's notes):

* **on time**: the SLA-governed work stopped (``sla_stopped_at``) without a breach; **late**:
  the deadline was breached (``sla_breached_at``), whether the request is still running or
  not. Requests without a deadline, still running within it, or cancelled before any breach
  count neither way: they say nothing about keeping the SLA.
* **lead time**: ``started_at`` -> ``ended_at`` of completed requests, in calendar days and in
  whole working days on the agency's calendar; the median resists the odd forgotten request.
* **IKM** (Permenpan RB No. 14/2017): NRR per element = mean of its answers (1-4); weighted
  NRR = NRR x 1/9; IKM = sum of weighted NRRs x 25 (= mean of the NRRs x 25), rounded to two
  decimals before grading, so that the published bands (88.31-100 A, 76.61-88.30 B,
  65.00-76.60 C, 25.00-64.99 D) leave no gaps.

Nothing here divides by zero: an empty group gives ``None``, shown as "-".
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access
from engine.actors import Actor
from engine.models import ProcessDefinition, ProcessInstance
from engine.states import InstanceState

from ..survey.models import SurveyResponse
from ..survey.questions import CODES

STATES = (InstanceState.RUNNING, InstanceState.COMPLETED, InstanceState.CANCELLED)
WEIGHT = 1 / len(CODES)
# (lowest IKM of the band, grade, performance) from the best band down
GRADES = (
    (88.31, "A", "Sangat Baik"),
    (76.61, "B", "Baik"),
    (65.00, "C", "Kurang Baik"),
    (25.00, "D", "Tidak Baik"),
)


@dataclass(frozen=True)
class InstanceRow:
    id: str
    business_key: str
    process_key: str
    process_name: str
    state: str
    started_by: str | None
    started_at: datetime
    ended_at: datetime | None
    sla_due_at: datetime | None
    sla_breached_at: datetime | None
    sla_stopped_at: datetime | None


@dataclass(frozen=True)
class SurveyRow:
    process_key: str
    answers: tuple[int, ...]
    submitted_at: datetime


@dataclass
class Summary:
    """The numbers of one SOP (``key``) or of all of them (``key`` None)."""

    key: str | None
    name: str
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    on_time: int = 0
    late: int = 0
    on_time_rate: float | None = None  # 0..100
    median_days: float | None = None
    median_working_days: float | None = None
    respondents: int = 0
    nrr: list[float | None] = field(default_factory=list)
    ikm: float | None = None
    grade: str | None = None
    performance: str | None = None


# ---------------------------------------------------------------- pure math
def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def median(values: Iterable[float]) -> float | None:
    data = list(values)
    return float(statistics.median(data)) if data else None


def element_nrr(answers: Sequence[Sequence[int]]) -> list[float | None]:
    """Mean answer per element over all answer sheets (``None`` for all when there are none)."""
    return [mean([a[i] for a in answers]) for i in range(len(CODES))]


def ikm_index(nrr: Sequence[float | None]) -> float | None:
    """Sum of the weighted NRRs (NRR x 1/9) x 25, rounded to two decimals."""
    if not nrr or any(v is None for v in nrr):
        return None
    return round(sum(float(v) * WEIGHT for v in nrr if v is not None) * 25, 2)


def grade(ikm: float | None) -> tuple[str, str] | None:
    """(letter, performance) of an IKM value; ``None`` without a value."""
    if ikm is None:
        return None
    value = round(ikm, 2)
    for low, letter, label in GRADES:
        if value >= low:
            return letter, label
    return "D", "Tidak Baik"  # below the scale's floor of 25 only by bad data; still the worst


def sla_outcome(row: InstanceRow) -> str | None:
    """'on_time', 'late' or None (no verdict yet, no deadline, or cancelled before a breach)."""
    if row.sla_breached_at is not None:
        return "late"
    if row.sla_stopped_at is not None and row.state != InstanceState.CANCELLED:
        return "on_time"
    return None


def rate(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def lead_days(row: InstanceRow) -> float | None:
    if row.state != InstanceState.COMPLETED or row.ended_at is None:
        return None
    return (row.ended_at - row.started_at).total_seconds() / 86400


def summarize(
    key: str | None,
    name: str,
    instances: Sequence[InstanceRow],
    surveys: Sequence[SurveyRow],
    working_days: Callable[[datetime, datetime], int] | None = None,
) -> Summary:
    out = Summary(key=key, name=name, total=len(instances))
    out.by_state = {st: sum(1 for i in instances if i.state == st) for st in STATES}
    outcomes = [sla_outcome(i) for i in instances]
    out.on_time = outcomes.count("on_time")
    out.late = outcomes.count("late")
    out.on_time_rate = rate(out.on_time, out.on_time + out.late)
    done = [i for i in instances if lead_days(i) is not None]
    out.median_days = median(d for i in done if (d := lead_days(i)) is not None)
    if working_days is not None:
        out.median_working_days = median(
            working_days(i.started_at, i.ended_at) for i in done if i.ended_at is not None
        )
    out.respondents = len(surveys)
    out.nrr = element_nrr([s.answers for s in surveys])
    out.ikm = ikm_index(out.nrr)
    g = grade(out.ikm)
    if g is not None:
        out.grade, out.performance = g
    return out


def report(
    instances: Sequence[InstanceRow],
    surveys: Sequence[SurveyRow],
    working_days: Callable[[datetime, datetime], int] | None = None,
) -> tuple[Summary, list[Summary]]:
    """The overall summary and one per process key (sorted by key)."""
    names: dict[str, str] = {}
    for i in instances:
        names.setdefault(i.process_key, i.process_name or i.process_key)
    for s in surveys:
        names.setdefault(s.process_key, s.process_key)
    per_key = [
        summarize(
            k,
            names[k],
            [i for i in instances if i.process_key == k],
            [s for s in surveys if s.process_key == k],
            working_days,
        )
        for k in sorted(names)
    ]
    return summarize(None, "", instances, surveys, working_days), per_key


# ---------------------------------------------------------------- formatting
def show(value: Any, digits: int = 2) -> str:
    """A cell as text: "-" for no value, fixed decimals for floats."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


# ---------------------------------------------------------------- period and queries
def period_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """[start 00:00, day after end 00:00) in the agency's zone: ``end`` is inclusive."""
    zone = ZoneInfo(tz)
    return (
        datetime.combine(start, time(), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=zone),
    )


def load_instances(
    s: Session,
    agency_id: int,
    since: datetime,
    until: datetime,
    key: str | None = None,
    *,
    actor: Actor,
) -> list[InstanceRow]:
    """The agency's requests filed in [since, until) that ``actor`` may read (engine/access.py:
    an administrator's report covers the agency, an officer's the requests of its groups)."""
    q = (
        select(ProcessInstance, ProcessDefinition.key, ProcessDefinition.name)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(
            access.instance_filter(actor),
            ProcessInstance.agency_id == agency_id,
            ProcessInstance.started_at >= since,
            ProcessInstance.started_at < until,
        )
        .order_by(ProcessInstance.started_at)
    )
    if key:
        q = q.where(ProcessDefinition.key == key)
    return [
        InstanceRow(
            id=i.id,
            business_key=i.business_key,
            process_key=k,
            process_name=n or k,
            state=i.state,
            started_by=i.started_by,
            started_at=i.started_at,
            ended_at=i.ended_at,
            sla_due_at=i.sla_due_at,
            sla_breached_at=i.sla_breached_at,
            sla_stopped_at=i.sla_stopped_at,
        )
        for i, k, n in s.execute(q).all()
    ]


def load_surveys(
    s: Session, agency_id: int, since: datetime, until: datetime, key: str | None = None
) -> list[SurveyRow]:
    """The agency's answer sheets submitted in [since, until): the IKM of a period is the
    opinion given in it, whenever the request was filed."""
    q = select(SurveyResponse).where(
        SurveyResponse.agency_id == agency_id,
        SurveyResponse.submitted_at >= since,
        SurveyResponse.submitted_at < until,
    )
    if key:
        q = q.where(SurveyResponse.process_key == key)
    return [
        SurveyRow(r.process_key, tuple(r.answers()), r.submitted_at)
        for r in s.scalars(q.order_by(SurveyResponse.submitted_at))
    ]

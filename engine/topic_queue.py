"""The job queue per topic, as an administrator needs it to see that an integration is stuck:
how many jobs wait, since when the oldest, and when a worker last asked for them.

"Last asked" comes from ``topic_fetch``, written by :class:`FetchRecorder` from fetchAndLock. A
worker long-polls every few seconds, and several of them may poll one topic: writing a row per
poll would turn reads into a write load, so each process writes a topic's row at most once per
``interval_s`` (a page that shows minutes and hours loses nothing by that).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import access
from .access import Permission
from .actors import Actor
from .models import ExternalTask, ProcessDefinition, TopicFetch
from .states import JobState

FETCH_RECORD_INTERVAL_S = 5.0
MAX_REMEMBERED = 10_000  # (agency, topic) pairs the throttle remembers


class FetchRecorder:
    """Throttled upserts of ``topic_fetch``; the memory of what it wrote is per process."""

    def __init__(self, interval_s: float = FETCH_RECORD_INTERVAL_S) -> None:
        self.interval = timedelta(seconds=interval_s)
        self._written: dict[tuple[int, str], datetime] = {}
        self._lock = threading.Lock()

    def due(self, agency_id: int, topics: Iterable[str], now: datetime) -> list[str]:
        """The topics whose row is older than the interval, marked as written from now on."""
        out = []
        with self._lock:
            for topic in sorted(set(topics)):  # one order everywhere: no upsert deadlocks
                last = self._written.get((agency_id, topic))
                if last is None or now - last >= self.interval or now < last:
                    self._written[(agency_id, topic)] = now
                    out.append(topic)
        return out

    def record(
        self, s: Session, agency_id: int, topics: Iterable[str], worker_id: str, now: datetime
    ) -> None:
        """Only topics a deployed version of the agency names get a row: a worker asking for
        made-up names must not grow the table (or this memory, cleared when it gets large)."""
        due = self.due(agency_id, topics, now)
        if not due:
            return
        named = _named_topics(s, agency_id)
        for topic in due:
            if topic in named:
                s.execute(_upsert(s, agency_id, topic, worker_id[:200], now))
        with self._lock:
            if len(self._written) > MAX_REMEMBERED:
                self._written.clear()


def _named_topics(s: Session, agency_id: int) -> set[str]:
    rows = s.scalars(
        select(ProcessDefinition.topics).where(ProcessDefinition.agency_id == agency_id)
    )
    return {t for topics in rows for t in topics or ()}


def _upsert(s: Session, agency_id: int, topic: str, worker_id: str, now: datetime) -> Any:
    insert: Callable[..., Any] = (
        pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    stmt = insert(TopicFetch).values(
        agency_id=agency_id, topic=topic, last_fetch_at=now, worker_id=worker_id
    )
    return stmt.on_conflict_do_update(
        index_elements=["agency_id", "topic"],
        set_={"last_fetch_at": stmt.excluded.last_fetch_at, "worker_id": stmt.excluded.worker_id},
    )


@dataclass(frozen=True)
class TopicQueue:
    """One topic of an agency's queue (jobs in an incident are on the incidents page)."""

    topic: str
    builtin: bool  # worked in-process: no REST worker ever fetches it
    waiting: int  # available, or locked by a worker whose lock has expired
    locked: int  # held by a worker right now
    oldest_created_at: datetime | None  # of the waiting jobs
    oldest_age: timedelta | None
    last_fetch_at: datetime | None
    last_fetch_age: timedelta | None
    last_worker_id: str | None


def topic_queues(engine: Any, actor: Actor) -> list[TopicQueue]:
    """Every topic of the actor's agency with a job or a recorded fetch, by name; only
    administrators (``MANAGE_JOBS``) see it, and only their own agency's."""
    access.require(actor, Permission.MANAGE_JOBS)
    now: datetime = engine.now()
    expired = (ExternalTask.state == JobState.LOCKED) & (ExternalTask.lock_expires_at <= now)
    waiting = (ExternalTask.state == JobState.AVAILABLE) | expired
    held = (ExternalTask.state == JobState.LOCKED) & ~expired
    with engine.sessions() as s:
        agency_id = engine.agency(s, actor.agency).id
        jobs = {
            r.topic: r
            for r in s.execute(
                select(
                    ExternalTask.topic,
                    func.count().filter(waiting).label("waiting"),
                    func.count().filter(held).label("locked"),
                    func.min(ExternalTask.created_at).filter(waiting).label("oldest"),
                )
                .where(ExternalTask.agency_id == agency_id, ExternalTask.state != JobState.INCIDENT)
                .group_by(ExternalTask.topic)
            )
        }
        fetches = {
            f.topic: f
            for f in s.scalars(select(TopicFetch).where(TopicFetch.agency_id == agency_id))
        }
    out = []
    for topic in sorted(set(jobs) | set(fetches)):
        row, fetch = jobs.get(topic), fetches.get(topic)
        oldest = _aware(row.oldest) if row is not None else None
        last = fetch.last_fetch_at if fetch is not None else None
        out.append(
            TopicQueue(
                topic=topic,
                builtin=topic in engine.builtin_topics,
                waiting=int(row.waiting) if row is not None else 0,
                locked=int(row.locked) if row is not None else 0,
                oldest_created_at=oldest,
                oldest_age=max(now - oldest, timedelta(0)) if oldest else None,
                last_fetch_at=last,
                last_fetch_age=max(now - last, timedelta(0)) if last else None,
                last_worker_id=fetch.worker_id if fetch is not None else None,
            )
        )
    return out


def _aware(value: datetime | None) -> datetime | None:
    """An aggregate skips the column's type on some drivers: SQLite's MIN comes back a string
    or a naive datetime, where the column itself gives aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)

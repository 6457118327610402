"""What every command and query shares: the sessions, the clock, the serializer, the settings,
the per-process caches of agency rows, calendars and definition metadata, and the one writer of
history rows. Built once by :class:`engine.runtime.Engine`; holds no request state."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from .calendar import WorkingCalendar
from .clock import Clock
from .errors import NotFound
from .models import Agency, CalendarOverride, HistoryEvent, HumanTask, ProcessDefinition
from .spiff.scripting import SafeScriptEngine
from .spiff.serializer import Serializer
from .variables import plain


@dataclass
class EngineSettings:
    default_retries: int = 3
    retry_backoff_s: tuple[int, ...] = (10, 60, 300)
    calendar_ttl_s: float = 60.0
    conflict_retries: int = 5
    workflow_cache: int = 256  # live workflows kept between steps (0: always deserialize)


class Context:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        serializer: Serializer,
        settings: EngineSettings,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.serializer = serializer
        self.settings = settings
        self._lock = threading.Lock()
        self._calendars: dict[int, tuple[float, WorkingCalendar]] = {}
        self._agencies: dict[str, tuple[float, Agency]] = {}
        self._definitions: dict[str, dict[str, Any]] = {}  # id -> key/properties (immutable)

    def now(self) -> datetime:
        return self.clock.now()

    @staticmethod
    def is_pg(s: Session) -> bool:
        return s.get_bind().dialect.name == "postgresql"

    # ------------------------------------------------------------------ agencies, calendars
    def agency(self, s: Session, code: str) -> Agency:
        """The agency row by code; cached (detached, fully loaded) for ``calendar_ttl_s``."""
        with self._lock:
            hit = self._agencies.get(code)
        if hit is not None and time.monotonic() - hit[0] < self.settings.calendar_ttl_s:
            return hit[1]
        ag = s.scalar(select(Agency).where(Agency.code == code))
        if ag is None:
            raise NotFound(
                f"Unknown agency '{code}'", f"Instansi '{code}' tidak dikenal", agency=code
            )
        # detached at once: left in this session, a rollback (a lost race, a refused form)
        # would expire the cached row and every later request would fail until the TTL ends
        s.expunge(ag)
        with self._lock:
            self._agencies[code] = (time.monotonic(), ag)
        return ag

    def calendar(self, s: Session, agency: Agency) -> WorkingCalendar:
        with self._lock:
            hit = self._calendars.get(agency.id)
            if hit and time.monotonic() - hit[0] < self.settings.calendar_ttl_s:
                return hit[1]
        rows = s.scalars(
            select(CalendarOverride).where(
                or_(CalendarOverride.agency_id.is_(None), CalendarOverride.agency_id == agency.id)
            )
        ).all()
        overrides: dict[Any, bool] = {r.day: r.working for r in rows if r.agency_id is None}
        overrides.update({r.day: r.working for r in rows if r.agency_id is not None})
        cal = WorkingCalendar(agency.timezone, overrides=overrides)
        with self._lock:
            self._calendars[agency.id] = (time.monotonic(), cal)
        return cal

    def invalidate_calendars(self) -> None:
        with self._lock:
            self._calendars.clear()
            self._agencies.clear()

    def script_engine(self, s: Session, agency: Agency) -> SafeScriptEngine:
        return SafeScriptEngine(self.clock, self.calendar(s, agency))

    # ------------------------------------------------------------------ definitions
    @staticmethod
    def definition_row(s: Session, definition_id: str) -> ProcessDefinition:
        d = s.get(ProcessDefinition, definition_id)
        assert d is not None
        return d

    def spec(self, s: Session, definition_id: str) -> tuple[Any, Any]:
        """The parsed spec of a definition (the serializer caches it by id)."""
        return self.serializer.load_spec(
            definition_id, lambda: self.definition_row(s, definition_id).spec_json
        )

    def meta(self, s: Session, definition_id: str) -> dict[str, Any]:
        """Key and properties of a definition: immutable once deployed, so cached forever."""
        meta = self._definitions.get(definition_id)
        if meta is None:
            d = self.definition_row(s, definition_id)
            meta = {
                "key": d.key,
                "properties": dict(d.properties or {}),
                "topics": list(d.topics or []),
            }
            self._definitions[definition_id] = meta
        return meta

    # ------------------------------------------------------------------ history
    def history(
        self,
        s: Session,
        agency_id: int,
        kind: str,
        actor: str | None,
        *,
        instance_id: str | None = None,
        element_id: str | None = None,
        task_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        s.add(
            HistoryEvent(
                agency_id=agency_id,
                instance_id=instance_id,
                at=self.now(),
                actor=actor,
                kind=kind,
                element_id=element_id,
                task_id=task_id,
                data=plain(dict(data or {})),
            )
        )

    def task_history(
        self,
        s: Session,
        t: HumanTask,
        kind: str,
        actor: str | None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """A history event about one human task: its request, element and id go with it."""
        self.history(
            s,
            t.agency_id,
            kind,
            actor,
            instance_id=t.instance_id,
            element_id=t.element_id,
            task_id=t.id,
            data=data,
        )


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE/DELETE (the typed Result hides CursorResult.rowcount)."""
    return int(getattr(result, "rowcount", 0) or 0)

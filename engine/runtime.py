"""The engine's public API: deploy versions, start instances, complete tasks, fire timers, run jobs.

:class:`Engine` is the facade: it wires the parts together and hands each call to the module
that owns it. The rooms behind it:

- :mod:`engine.unit_of_work`: the one transaction skeleton of every change to an instance
  (lock, load, act, advance, project, save, retry on a lost race, keep the live workflow);
- :mod:`engine.projection`: the workflow onto inbox, job queue, timer and SLA columns;
- :mod:`engine.commands`: the write side per area (deploy, instances, tasks, jobs, incidents,
  messages, timers, calendar);
- :mod:`engine.queries`: the read side, each query filtered by :mod:`engine.access`;
- :mod:`engine.spiff`: the only code that knows SpiffWorkflow.

The engine takes its parser policy (topic checker), serializer, clock and live-workflow cache
as arguments and knows nothing of Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from . import access
from .access import Permission
from .actors import Actor
from .bpmn.diagram import ParsedDiagram, parse_diagram
from .calendar import WorkingCalendar
from .clock import Clock, SystemClock
from .commands import calendar as calendar_cmd
from .commands import deploy as deploy_cmd
from .commands import incidents as incident_cmd
from .commands import instances as instance_cmd
from .commands import messages as message_cmd
from .commands import tasks as task_cmd
from .commands import timers as timer_cmd
from .commands.deploy import DeployResult
from .commands.jobs import Jobs
from .context import Context, EngineSettings
from .external import LockedTask, TopicRequest
from .models import (
    Agency,
    CalendarOverride,
    ExternalTask,
    HistoryEvent,
    HumanTask,
    Incident,
    ProcessDefinition,
    ProcessInstance,
)
from .projection import Projection
from .queries import definitions as definition_q
from .queries import history as history_q
from .queries import incidents as incident_q
from .queries import instances as instance_q
from .queries import jobs as job_q
from .queries import tasks as task_q
from .spiff.scripting import SafeScriptEngine
from .spiff.serializer import Serializer
from .topic_queue import FetchRecorder
from .topics import TopicPolicy
from .unit_of_work import LiveWorkflows, UnitOfWork

__all__ = [
    "DeployResult",
    "Engine",
    "EngineSettings",
    "LockedTask",
    "TopicRequest",
    "topics_policy",
]

T = TypeVar("T")


class Engine:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Clock | None = None,
        topics: TopicPolicy | None = None,
        serializer: Serializer | None = None,
        settings: EngineSettings | None = None,
        builtin_topics: Iterable[str] = (),
        strict_topics: bool = True,
        workflows: LiveWorkflows | None = None,
    ) -> None:
        self.sessions = sessions
        # False: a topic ``topics`` does not know is deployed as external, with a warning
        self.strict_topics = strict_topics
        self.fetches = FetchRecorder()  # when REST workers last fetched each topic
        # topics the in-process handlers work: never handed to a REST worker
        self.builtin_topics = frozenset(builtin_topics)
        self.clock = clock or SystemClock()
        self.topics: TopicPolicy = topics or (lambda _t: False)
        self.serializer = serializer or Serializer()
        self.settings = settings or EngineSettings()
        self.ctx = Context(sessions, self.clock, self.serializer, self.settings)
        live = workflows or LiveWorkflows(self.settings.workflow_cache)
        self.uow = UnitOfWork(self.ctx, Projection(self.ctx), live)
        self.jobs = Jobs(self.uow, self.builtin_topics, self.fetches)

    def _read(
        self, query: Callable[..., T], actor: Actor, *args: Any, need: Any = None, **kw: Any
    ) -> T:
        """A query in a read session, given the actor's agency (``need``: a permission first)."""
        if need is not None:
            access.require(actor, need)
        with self.sessions() as s:
            return query(s, actor, self.ctx.agency(s, actor.agency), *args, **kw)

    # ------------------------------------------------------------------ shared services
    def now(self) -> datetime:
        return self.ctx.now()

    def agency(self, s: Session, code: str) -> Agency:
        return self.ctx.agency(s, code)

    def calendar(self, s: Session, agency: Agency) -> WorkingCalendar:
        return self.ctx.calendar(s, agency)

    def invalidate_calendars(self) -> None:
        self.ctx.invalidate_calendars()

    def script_engine(self, s: Session, agency: Agency) -> SafeScriptEngine:
        return self.ctx.script_engine(s, agency)

    # ------------------------------------------------------------------ deployments
    def parse(self, filename: str, data: bytes) -> ParsedDiagram:
        return parse_diagram(data, filename, self.topics, strict=self.strict_topics)

    def deploy(
        self,
        actor: Actor,
        files: Sequence[tuple[str, bytes]],
        *,
        name: str | None = None,
        source: str | None = None,
        version_tag: str | None = None,
        note: str | None = None,
        duplicate_filtering: bool = True,
    ) -> DeployResult:
        """Deploy every process of every file, or nothing: a bad file refuses the whole batch."""
        return deploy_cmd.deploy(
            self.ctx,
            self.parse,
            actor,
            files,
            name=name,
            source=source,
            version_tag=version_tag,
            note=note,
            duplicate_filtering=duplicate_filtering,
        )

    def activate(self, actor: Actor, definition_id: str) -> ProcessDefinition:
        return deploy_cmd.activate(self.ctx, actor, definition_id)

    def definitions(self, actor: Actor, key: str | None = None) -> list[ProcessDefinition]:
        return self._read(definition_q.definitions, actor, key, need=Permission.READ_DEFINITIONS)

    def current_definition(self, actor: Actor, key: str) -> ProcessDefinition:
        need = Permission.READ_DEFINITIONS
        return self._read(definition_q.current_definition, actor, key, need=need)

    def get_definition(self, actor: Actor, definition_id: str) -> ProcessDefinition:
        need = Permission.READ_DEFINITIONS
        return self._read(definition_q.get_definition, actor, definition_id, need=need)

    def element_names(self, actor: Actor, definition_id: str) -> dict[str, str]:
        need = Permission.READ_DEFINITIONS
        return self._read(definition_q.element_names, actor, self.ctx, definition_id, need=need)

    # ------------------------------------------------------------------ instances
    def start(
        self,
        actor: Actor,
        key: str | None = None,
        *,
        definition_id: str | None = None,
        values: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        message: str | None = None,
    ) -> ProcessInstance:
        """Start an instance (the rules: :func:`.commands.instances.start`)."""
        return instance_cmd.start(
            self.uow,
            actor,
            key,
            definition_id=definition_id,
            values=values,
            variables=variables,
            business_key=business_key,
            message=message,
        )

    def cancel(self, actor: Actor, instance_id: str, reason: str | None = None) -> ProcessInstance:
        return instance_cmd.cancel(self.uow, actor, instance_id, reason)

    def set_variables(
        self,
        actor: Actor,
        instance_id: str,
        modifications: Mapping[str, Any] | None = None,
        deletions: Iterable[str] = (),
        *,
        task_id: str | None = None,
    ) -> ProcessInstance:
        return instance_cmd.set_variables(
            self.uow, actor, instance_id, modifications, deletions, task_id=task_id
        )

    def get_instance(self, actor: Actor, instance_id: str) -> ProcessInstance:
        return self._read(instance_q.get_instance, actor, instance_id)

    def instance_by_business_key(self, actor: Actor, business_key: str) -> ProcessInstance:
        return self._read(instance_q.by_business_key, actor, business_key)

    def instances(
        self,
        actor: Actor,
        *,
        state: str | None = None,
        key: str | None = None,
        limit: int = 200,
        mine: bool = False,
    ) -> list[ProcessInstance]:
        """The requests ``actor`` may read, newest first; ``mine``: only those it answers for."""
        return self._read(instance_q.instances, actor, state=state, key=key, limit=limit, mine=mine)

    def all_instances(self, *, limit: int = 500) -> list[tuple[str, ProcessInstance]]:
        with self.sessions() as s:
            return instance_q.all_instances(s, limit=limit)

    def overdue_instances(self, actor: Actor) -> list[ProcessInstance]:
        return self._read(instance_q.overdue, actor, self.now())

    def counts(self, actor: Actor) -> dict[str, int]:
        return self._read(instance_q.counts, actor)

    def history(self, actor: Actor, instance_id: str) -> list[HistoryEvent]:
        return self._read(history_q.history, actor, instance_id)

    def element_states(self, actor: Actor, instance_id: str) -> tuple[set[str], set[str]]:
        return self._read(instance_q.element_states, actor, self.ctx, instance_id)

    # ------------------------------------------------------------------ human tasks
    def inbox(
        self,
        actor: Actor,
        *,
        overdue: bool = False,
        include_assigned_to_others: bool = False,
        instance_id: str | None = None,
    ) -> list[HumanTask]:
        """Open tasks the actor may work on: assigned to them, or unassigned in their groups."""
        return self._read(
            task_q.inbox,
            actor,
            self.now(),
            overdue=overdue,
            include_assigned_to_others=include_assigned_to_others,
            instance_id=instance_id,
        )

    def get_task(self, actor: Actor, task_id: str) -> HumanTask:
        return self._read(task_q.get_task, actor, task_id)

    def claim(self, actor: Actor, task_id: str, user: str | None = None) -> HumanTask:
        return task_cmd.claim(self.uow, actor, task_id, user)

    def unclaim(self, actor: Actor, task_id: str) -> HumanTask:
        return task_cmd.unclaim(self.uow, actor, task_id)

    def complete_task(
        self,
        actor: Actor,
        task_id: str,
        values: Mapping[str, Any] | None = None,
        *,
        allow_unknown: bool = False,
    ) -> ProcessInstance:
        return task_cmd.complete_task(self.uow, actor, task_id, values, allow_unknown=allow_unknown)

    # ------------------------------------------------------------------ timers
    def fire_due_timers(self, limit: int = 100) -> int:
        return timer_cmd.fire_due_timers(self.uow, limit)

    # ------------------------------------------------------------------ external tasks
    def fetch_and_lock(
        self,
        worker_id: str,
        topics: Sequence[TopicRequest],
        max_tasks: int = 1,
        *,
        agency: str | None = None,
        business_key: str | None = None,
        use_priority: bool = True,
        newest_first: bool = False,
        actor: Actor | None = None,
    ) -> list[LockedTask]:
        """Claim up to ``max_tasks`` jobs (see :meth:`.commands.jobs.Jobs.fetch_and_lock`)."""
        return self.jobs.fetch_and_lock(
            worker_id,
            topics,
            max_tasks,
            agency=agency,
            business_key=business_key,
            use_priority=use_priority,
            newest_first=newest_first,
            actor=actor,
        )

    def complete_external(
        self,
        worker_id: str,
        task_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        self.jobs.complete(worker_id, task_id, variables, agency=agency, actor=actor)

    def fail_external(
        self,
        worker_id: str,
        task_id: str,
        message: str,
        *,
        details: str | None = None,
        retries: int | None = None,
        retry_timeout_ms: int = 0,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> ExternalTask:
        return self.jobs.fail(
            worker_id,
            task_id,
            message,
            details=details,
            retries=retries,
            retry_timeout_ms=retry_timeout_ms,
            agency=agency,
            actor=actor,
        )

    def bpmn_error_external(
        self,
        worker_id: str,
        task_id: str,
        code: str,
        message: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> bool:
        return self.jobs.bpmn_error(
            worker_id, task_id, code, message, variables, agency=agency, actor=actor
        )

    def extend_lock(
        self,
        worker_id: str,
        task_id: str,
        new_duration_ms: int,
        *,
        agency: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        self.jobs.extend_lock(worker_id, task_id, new_duration_ms, agency=agency, actor=actor)

    def unlock(
        self, task_id: str, *, agency: str | None = None, actor: Actor | None = None
    ) -> None:
        self.jobs.unlock(task_id, agency=agency, actor=actor)

    def set_job_retries(self, actor: Actor, task_id: str, retries: int) -> ExternalTask:
        return self.jobs.set_retries(actor, task_id, retries)

    def external_tasks(
        self, actor: Actor, *, topic: str | None = None, instance_id: str | None = None
    ) -> list[ExternalTask]:
        topics = self.builtin_topics
        return self._read(job_q.external_tasks, actor, topics, topic=topic, instance_id=instance_id)

    # ------------------------------------------------------------------ incidents
    def incidents(self, actor: Actor, *, open_only: bool = True) -> list[Incident]:
        need = Permission.MANAGE_JOBS
        return self._read(incident_q.incidents, actor, open_only=open_only, need=need)

    def retry_incident(
        self, actor: Actor, incident_id: str, retries: int | None = None
    ) -> Incident:
        return incident_cmd.retry_incident(self.ctx, actor, incident_id, retries)

    # ------------------------------------------------------------------ messages
    def correlate_message(
        self,
        actor: Actor,
        name: str,
        *,
        business_key: str | None = None,
        process_instance_id: str | None = None,
        variables: Mapping[str, Any] | None = None,
        all: bool = False,  # noqa: A002 - Camunda's parameter name
    ) -> list[ProcessInstance]:
        """Correlate a message as Camunda does (:func:`.commands.messages.correlate_message`)."""
        return message_cmd.correlate_message(
            self.uow,
            actor,
            name,
            business_key=business_key,
            process_instance_id=process_instance_id,
            variables=variables,
            all=all,
        )

    # ------------------------------------------------------------------ calendar
    def calendar_overrides(self, actor: Actor) -> list[CalendarOverride]:
        return calendar_cmd.calendar_overrides(self.ctx, actor)

    def set_calendar_override(
        self, actor: Actor, day: date, working: bool | None, note: str | None = None
    ) -> CalendarOverride | None:
        return calendar_cmd.set_calendar_override(self.ctx, actor, day, working, note)


def topics_policy(known: Iterable[str], external: Iterable[str] = ()) -> TopicPolicy:
    """Topics with a built-in handler, plus declared external ones (``erp.*`` wildcards)."""
    known_set = set(known)
    patterns = [p.strip() for p in external if p.strip()]

    def check(topic: str) -> bool:
        if topic in known_set:
            return True
        return any(topic == p or (p.endswith("*") and topic.startswith(p[:-1])) for p in patterns)

    return check

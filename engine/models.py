"""Tables of the engine. Every row that belongs to an agency carries ``agency_id`` so that every
query can (and must) filter on it; the web and REST layers never see a row of another agency."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .states import CandidateKind, InstanceState, JobState, TaskState


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, and mixing both is a bug farm."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Agency(Base):
    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_domain: Mapped[str] = mapped_column(String(253))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class WorkUnit(Base):
    """A work unit (OPD / Perangkat Daerah) of an agency: the SOPs' applicant is a unit, not a
    person, so a request belongs to its applicant's unit and every member answers for it."""

    __tablename__ = "work_unit"
    __table_args__ = (UniqueConstraint("agency_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    work_unit_id: Mapped[int | None] = mapped_column(ForeignKey("work_unit.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    groups: Mapped[list[UserGroup]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserGroup.group"
    )
    agency: Mapped[Agency] = relationship(lazy="joined")


class UserGroup(Base):
    __tablename__ = "user_group"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    group: Mapped[str] = mapped_column(String(64), primary_key=True)


class Deployment(Base):
    __tablename__ = "deployment"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    deployed_by: Mapped[str | None] = mapped_column(String(64))
    deployed_at: Mapped[datetime]


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("agency_id", "key", "version"),
        Index("ix_definition_current", "agency_id", "key", "activation"),
    )
    id: Mapped[str] = mapped_column(String(160), primary_key=True)  # key:version:uuid
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployment.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    version_tag: Mapped[str | None] = mapped_column(String(100))
    resource_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    # large and rarely needed: loaded on access (the spec is cached per process once parsed)
    xml: Mapped[str] = mapped_column(Text, deferred=True)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    forms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    start_form: Mapped[dict[str, Any]] = mapped_column(default=dict)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    history_ttl: Mapped[int | None] = mapped_column(Integer)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    # Highest wins: new instances start on it. Deploying or re-activating (rollback) takes the
    # next number, so "which version is current" never depends on two clocks agreeing.
    activation: Mapped[int] = mapped_column(Integer, default=0)
    activated_at: Mapped[datetime]
    created_at: Mapped[datetime]


class BusinessKeySequence(Base):
    """The last generated business-key number per agency and year; a number is taken in its own
    transaction (Engine._next_business_key), so it is never handed out twice."""

    __tablename__ = "business_key_sequence"
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_instance_timer", "state", "next_timer_at"),
        Index("ix_instance_agency_state", "agency_id", "state"),
        Index("ix_instance_unit", "agency_id", "work_unit_id"),
        # per agency, never across agencies (issue 11): what one agency files can neither block
        # nor reveal another's; also the index of instance_by_business_key
        UniqueConstraint("agency_id", "business_key", name="uq_instance_agency_business_key"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definition.id"), index=True)
    business_key: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default=InstanceState.RUNNING)  # InstanceState
    state_json: Mapped[str] = mapped_column(Text, deferred=True)  # read only to run a step
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    current_step: Mapped[str | None] = mapped_column(String(500))
    # ",name1,name2,": messages a catch event or receive task waits for (correlation by query)
    waiting_messages: Mapped[str | None] = mapped_column(String(1000))
    started_by: Mapped[str | None] = mapped_column(String(64))
    # the applicant's work unit when it was filed: its members see and answer the request
    work_unit_id: Mapped[int | None] = mapped_column(ForeignKey("work_unit.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    next_timer_at: Mapped[datetime | None]
    sla_due_at: Mapped[datetime | None]
    sla_breached_at: Mapped[datetime | None]
    sla_stopped_at: Mapped[datetime | None]  # the SLA-governed work ended (on time or late)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    definition: Mapped[ProcessDefinition] = relationship(lazy="select")

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """The inbox projection: one row per user task instance, kept after completion as history."""

    __tablename__ = "human_task"
    __table_args__ = (Index("ix_human_task_inbox", "agency_id", "state", "due_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default=TaskState.OPEN)  # TaskState
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    form: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    follow_up_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(64))
    candidates: Mapped[list[TaskCandidate]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    instance: Mapped[ProcessInstance] = relationship(lazy="select")

    @property
    def candidate_groups(self) -> list[str]:
        return sorted(c.value for c in self.candidates if c.kind == CandidateKind.GROUP)

    @property
    def candidate_users(self) -> list[str]:
        return sorted(c.value for c in self.candidates if c.kind == CandidateKind.USER)


class TaskCandidate(Base):
    __tablename__ = "human_task_candidate"
    __table_args__ = (Index("ix_candidate_lookup", "kind", "value"),)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # CandidateKind
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class ExternalTask(Base):
    """The job queue: service tasks waiting for a worker (built-in or over REST)."""

    __tablename__ = "external_task"
    __table_args__ = (Index("ix_external_fetch", "topic", "state", "available_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default=JobState.AVAILABLE)  # JobState
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    lock_expires_at: Mapped[datetime | None]
    available_at: Mapped[datetime]
    retries: Mapped[int | None] = mapped_column(Integer)
    # from camunda:failedJobRetryTimeCycle (R3/PT5M): the interval built-in workers wait
    retry_interval: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]


class Incident(Base):
    __tablename__ = "incident"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    external_task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))  # IncidentKind
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))


class HistoryEvent(Base):
    """Append-only: rows are inserted, never updated or deleted by the application."""

    __tablename__ = "history_event"
    __table_args__ = (Index("ix_history_instance", "instance_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    instance_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))  # HistoryKind
    element_id: Mapped[str | None] = mapped_column(String(100))
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CalendarOverride(Base):
    """A day made working or non-working against the national calendar (cuti bersama changes)."""

    __tablename__ = "calendar_override"
    __table_args__ = (UniqueConstraint("agency_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))  # None: every agency
    day: Mapped[date] = mapped_column(Date)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))


class TopicFetch(Base):
    """When a REST worker last asked for jobs of a topic, per agency: the admin's queue page
    tells "no worker is polling" apart from "the worker is polling but failing". Written at most
    once per few seconds per topic (engine/topic_queue.py), so busy polling stays read-only."""

    __tablename__ = "topic_fetch"
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_fetch_at: Mapped[datetime]
    worker_id: Mapped[str | None] = mapped_column(String(200))

"""Requests (process instances): one by id or business key, lists, overdue ones, counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from .. import access
from ..actors import Actor
from ..context import Context
from ..errors import NotFound
from ..models import Agency, ProcessDefinition, ProcessInstance
from ..spiff import tree

# instances handed out of the engine carry their definition (without its XML and spec)
WITH_DEFINITION = joinedload(ProcessInstance.definition)


def find_instance(
    s: Session,
    agency_id: int | None,
    instance_id: str,
    lock: bool = False,
    *,
    actor: Actor | None = None,
) -> ProcessInstance:
    """The instance of the agency; with ``actor``, only if that actor may read it (the same
    404 as for an id that does not exist, so nothing tells the two apart)."""
    q = select(ProcessInstance).where(ProcessInstance.id == instance_id)
    if actor is not None and not actor.is_admin:
        q = q.where(access.instance_filter(actor))
    if lock and Context.is_pg(s):
        q = q.with_for_update(of=ProcessInstance)
    inst = s.scalar(q)
    if inst is None or (agency_id is not None and inst.agency_id != agency_id):
        raise NotFound(
            f"Process instance '{instance_id}' not found",
            f"Instance proses '{instance_id}' tidak ditemukan",
        )
    return inst


def get_instance(s: Session, actor: Actor, agency: Agency, instance_id: str) -> ProcessInstance:
    inst = find_instance(s, agency.id, instance_id, actor=actor)
    inst.definition  # noqa: B018 - loaded now: callers read it after the session
    inst.state_json  # noqa: B018
    return inst


def by_business_key(s: Session, actor: Actor, agency: Agency, business_key: str) -> ProcessInstance:
    inst = s.scalar(
        select(ProcessInstance)
        .options(WITH_DEFINITION)
        .where(
            ProcessInstance.business_key == business_key,
            ProcessInstance.agency_id == agency.id,
            access.instance_filter(actor),
        )
    )
    if inst is None:
        raise NotFound(
            f"Request '{business_key}' not found",
            f"Permohonan '{business_key}' tidak ditemukan",
        )
    return inst


def instances(
    s: Session,
    actor: Actor,
    agency: Agency,
    *,
    state: str | None = None,
    key: str | None = None,
    limit: int = 200,
    mine: bool = False,
) -> list[ProcessInstance]:
    """The requests ``actor`` may read, newest first; ``mine``: only those it answers for
    (filed by it or, for an applicant, by its work unit)."""
    q = (
        select(ProcessInstance)
        .options(WITH_DEFINITION)
        .where(ProcessInstance.agency_id == agency.id, access.instance_filter(actor))
    )
    if mine:
        q = q.where(access.own_requests(actor))
    if state:
        q = q.where(ProcessInstance.state == state)
    if key:
        q = q.join(ProcessDefinition).where(ProcessDefinition.key == key)
    return list(s.scalars(q.order_by(ProcessInstance.started_at.desc()).limit(limit)))


def all_instances(s: Session, *, limit: int = 500) -> list[tuple[str, ProcessInstance]]:
    """Every agency's instances, for the operator's command line (``sopflow instances``)."""
    rows = s.execute(
        select(Agency.code, ProcessInstance)
        .options(WITH_DEFINITION)
        .join(ProcessInstance, ProcessInstance.agency_id == Agency.id)
        .order_by(ProcessInstance.started_at.desc())
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def overdue(s: Session, actor: Actor, agency: Agency, now: datetime) -> list[ProcessInstance]:
    return list(
        s.scalars(
            select(ProcessInstance)
            .options(WITH_DEFINITION)
            .where(
                ProcessInstance.agency_id == agency.id,
                access.instance_filter(actor),
                ProcessInstance.state == "running",
                ProcessInstance.sla_due_at < now,
                ProcessInstance.sla_stopped_at.is_(None),
            )
            .order_by(ProcessInstance.sla_due_at)
        )
    )


def counts(s: Session, actor: Actor, agency: Agency) -> dict[str, int]:
    rows = s.execute(
        select(ProcessInstance.state, func.count())
        .where(ProcessInstance.agency_id == agency.id, access.instance_filter(actor))
        .group_by(ProcessInstance.state)
    ).all()
    return {r[0]: r[1] for r in rows}


def element_states(
    s: Session, actor: Actor, agency: Agency, ctx: Context, instance_id: str
) -> tuple[set[str], set[str]]:
    """Element ids the instance has passed and those waiting now (user tasks, jobs, armed
    timers, awaited messages), read from its workflow state: the history names tasks and
    jobs only, not the gateways, events and end event a diagram should also mark."""
    inst = find_instance(s, agency.id, instance_id, actor=actor)
    spec, subs = ctx.spec(s, inst.definition_id)
    # a fresh copy, never the live object a step may be using
    wf = ctx.serializer.load_state(inst.state_json, spec, subs)
    return tree.element_states(wf)

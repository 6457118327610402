"""Human tasks: the inbox and one task."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from .. import access
from ..actors import Actor
from ..errors import NotFound
from ..models import Agency, HumanTask, ProcessInstance


def find_task(s: Session, agency_id: int, task_id: str, *, actor: Actor | None = None) -> HumanTask:
    """The task of the agency; with ``actor``, only if that actor may see it (else 404)."""
    q = select(HumanTask).options(joinedload(HumanTask.candidates))
    q = q.where(HumanTask.id == task_id, HumanTask.agency_id == agency_id)
    if actor is not None and not actor.is_admin:
        q = q.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
            access.task_filter(actor)
        )
    t = s.scalars(q).unique().one_or_none()
    if t is None:
        raise NotFound(f"Task '{task_id}' not found", f"Tugas '{task_id}' tidak ditemukan")
    return t


def get_task(s: Session, actor: Actor, agency: Agency, task_id: str) -> HumanTask:
    return find_task(s, agency.id, task_id, actor=actor)


def inbox(
    s: Session,
    actor: Actor,
    agency: Agency,
    now: datetime,
    *,
    overdue: bool = False,
    include_assigned_to_others: bool = False,
    instance_id: str | None = None,
) -> list[HumanTask]:
    """Open tasks the actor may work on: assigned to them, or unassigned in their groups."""
    q = (
        select(HumanTask)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.agency_id == agency.id,
            HumanTask.state == "open",
            access.task_filter(actor),
        )
    )
    if instance_id:
        q = q.where(HumanTask.instance_id == instance_id)
    if not actor.is_admin and not include_assigned_to_others:
        # a colleague's claimed task is theirs; a task returned to the unit is the unit's
        q = q.where(
            or_(
                HumanTask.assignee.is_(None),
                HumanTask.assignee == actor.username,
                access.unit_task_condition(actor),
            )
        )
    if overdue:
        q = q.where(HumanTask.due_at < now)
    return list(
        s.scalars(q.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at))
    )

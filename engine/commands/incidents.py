"""Incidents: a failed timer becomes one; an administrator retries it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..actors import Actor
from ..context import Context
from ..errors import Conflict, NotFound, PermissionDenied, SopflowError
from ..models import ExternalTask, Incident, ProcessInstance


def requeue(job: ExternalTask, now: datetime) -> None:
    """Back in the queue for any worker, at once."""
    job.state = "available"
    job.available_at = now
    job.worker_id = None
    job.lock_expires_at = None


def retry_incident(
    ctx: Context, actor: Actor, incident_id: str, retries: int | None = None
) -> Incident:
    if not actor.is_admin:
        raise PermissionDenied(
            "Only administrators retry incidents",
            "Hanya administrator yang dapat mengulang insiden",
        )
    with ctx.sessions.begin() as s:
        agency = ctx.agency(s, actor.agency)
        inc = s.get(Incident, incident_id)
        if inc is None or inc.agency_id != agency.id:
            raise NotFound("Incident not found", "Insiden tidak ditemukan")
        if inc.resolved_at is not None:
            raise Conflict("Incident is already resolved", "Insiden sudah diselesaikan")
        now = ctx.now()
        if inc.external_task_id:
            job = s.get(ExternalTask, inc.external_task_id)
            if job is not None:
                job.retries = retries if retries is not None else ctx.settings.default_retries
                requeue(job, now)
        else:
            s.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id == inc.instance_id)
                .values(next_timer_at=now, lock_version=ProcessInstance.lock_version + 1)
            )
        resolve(ctx, s, inc, actor, now)
        return inc


def resolve(ctx: Context, s: Session, inc: Incident, actor: Actor, now: datetime) -> None:
    inc.resolved_at = now
    inc.resolved_by = actor.username
    ctx.history(
        s,
        inc.agency_id,
        "incident_retried",
        actor.username,
        instance_id=inc.instance_id,
        element_id=inc.element_id,
        data={"incident_id": inc.id, "message": inc.message},
    )


def timer_incident(ctx: Context, instance_id: str, err: SopflowError) -> None:
    """A timer whose step failed: stop polling the instance until an administrator retries."""
    with ctx.sessions.begin() as s:
        inst = s.get(ProcessInstance, instance_id)
        if inst is None:
            return
        inst.next_timer_at = None
        s.add(
            Incident(
                agency_id=inst.agency_id,
                instance_id=inst.id,
                kind="failedTimer",
                element_id=err.context.get("element_id"),
                message=str(err),
                created_at=ctx.now(),
            )
        )
        ctx.history(
            s,
            inst.agency_id,
            "incident_created",
            "timer",
            instance_id=inst.id,
            data={"message": str(err)},
        )

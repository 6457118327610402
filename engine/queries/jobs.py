"""The job queue (external tasks) as administrators, workers and readers of a request see it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import access
from ..access import Permission
from ..actors import Actor
from ..models import Agency, ExternalTask
from .instances import find_instance


def external_tasks(
    s: Session,
    actor: Actor,
    agency: Agency,
    builtin_topics: Iterable[str],
    *,
    topic: str | None = None,
    instance_id: str | None = None,
) -> list[ExternalTask]:
    """The agency's job queue for administrators; a worker sees the jobs of the topics it
    may work; a person who may read a request sees its jobs (``instance_id``)."""
    q = select(ExternalTask).where(ExternalTask.agency_id == agency.id)
    if instance_id and not access.allowed(actor, Permission.READ_JOBS):
        find_instance(s, agency.id, instance_id, actor=actor)
    else:
        access.require(actor, Permission.READ_JOBS)
    if not actor.is_admin and access.allowed(actor, Permission.WORK_JOBS):
        q = q.where(ExternalTask.topic.not_in(sorted(builtin_topics)))
    if topic:
        q = q.where(ExternalTask.topic == topic)
    if instance_id:
        q = q.where(ExternalTask.instance_id == instance_id)
    return list(s.scalars(q.order_by(ExternalTask.created_at)))

"""Incidents of the agency: failed jobs and timers an administrator retries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..models import Agency, Incident


def incidents(
    s: Session, actor: Actor, agency: Agency, *, open_only: bool = True
) -> list[Incident]:
    q = select(Incident).where(Incident.agency_id == agency.id)
    if open_only:
        q = q.where(Incident.resolved_at.is_(None))
    return list(s.scalars(q.order_by(Incident.created_at)))
